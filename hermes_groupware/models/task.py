"""Tasks (zadania, document type KO): the table the desktop application also writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bool_false, intpk, utc_now
from hermes_groupware.db.types import UTCDateTime, text_enum
from hermes_groupware.models.enums import Priority, TaskStatus, Visibility


class Task(Base):
    """A task; ``version`` is bumped on every update (by the ORM, or by a trigger for plain SQL).

    ``all_day`` means ``planned_start`` and ``due`` carry dates only (stored at 00:00 UTC).
    """

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(
            "opportunity_probability IS NULL OR "
            "(opportunity_probability >= 0 AND opportunity_probability <= 100)",
            name="probability_range",
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        Index("ix_tasks_open_due", "status", "due"),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[TaskStatus] = mapped_column(
        text_enum(TaskStatus), default=TaskStatus.NEW, server_default=TaskStatus.NEW.value
    )
    priority: Mapped[Priority] = mapped_column(
        text_enum(Priority, 8), default=Priority.NORMAL, server_default=Priority.NORMAL.value
    )
    planned_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    all_day: Mapped[bool_false]
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    responsible_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact_persons.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    visibility: Mapped[Visibility] = mapped_column(
        text_enum(Visibility, 8), default=Visibility.NORMAL, server_default=Visibility.NORMAL.value
    )
    recurrence: Mapped[str | None] = mapped_column(String(500))
    #: Comma-separated keywords (iCalendar CATEGORIES), as calendar clients edit them.
    categories: Mapped[str] = mapped_column(String(500), default="", server_default="")
    opportunity_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    opportunity_probability: Mapped[int | None] = mapped_column(Integer)
    opportunity_stage: Mapped[str | None] = mapped_column(String(50))
    opportunity_expected_close: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[utc_now]
    updated_at: Mapped[utc_now]
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def is_closed(self) -> bool:
        """Done or cancelled."""
        return self.status.is_closed

    def is_overdue(self, now: dt.datetime) -> bool:
        """Due has passed and the task is still open (shown in red everywhere)."""
        if self.due is None or self.is_closed:
            return False
        if self.all_day:
            return self.due.date() < now.astimezone(dt.UTC).date()
        return self.due < now
