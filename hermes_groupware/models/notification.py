"""Notification rules, the journal cursor of their evaluator, and what has fired.

A rule says: on this event, in this scope, tell these recipients by this channel. The
evaluator reads the change journal from ``notification_cursor`` and writes the outbox in the
same transaction that moves the cursor, so every change is evaluated exactly once; time-based
events claim a ``notification_firings`` row keyed by (rule, task, occurrence).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bool_false, bool_true, intpk, utc_now
from hermes_groupware.db.types import text_enum
from hermes_groupware.models.enums import NotificationChannel, NotificationEvent, Priority
from hermes_groupware.models.journal import seq_type


class NotificationRule(Base):
    """On ``event`` within the scope, tell ``recipients`` (comma-separated recipient specs)."""

    __tablename__ = "notification_rules"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200))
    event: Mapped[NotificationEvent] = mapped_column(text_enum(NotificationEvent, 20))
    register_id: Mapped[int | None] = mapped_column(
        ForeignKey("registers.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    priority: Mapped[Priority | None] = mapped_column(text_enum(Priority, 8))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    lead_minutes: Mapped[int | None] = mapped_column(Integer)
    # scope on a custom field (cecha) of the task: its key and the value it must have
    field_key: Mapped[str | None] = mapped_column(String(64))
    field_value: Mapped[str | None] = mapped_column(String(200))
    at_local_time: Mapped[str | None] = mapped_column(String(5))
    recipients: Mapped[str] = mapped_column(String(2000))
    channel: Mapped[NotificationChannel] = mapped_column(text_enum(NotificationChannel, 8))
    notify_actor: Mapped[bool_false]
    is_active: Mapped[bool_true]
    created_at: Mapped[utc_now]


class NotificationCursor(Base):
    """How far the evaluator has read the change journal (one row, locked while evaluating)."""

    __tablename__ = "notification_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(seq_type, default=0)
    #: the rules of ``[notifications] default_rules`` are installed once, never re-created
    defaults_installed: Mapped[bool_false]


class NotificationFiring(Base):
    """A time-based rule fired for a task and occurrence (a due time, a local day): once."""

    __tablename__ = "notification_firings"
    __table_args__ = (UniqueConstraint("rule_id", "task_id", "occurrence"),)

    id: Mapped[intpk]
    rule_id: Mapped[int] = mapped_column(ForeignKey("notification_rules.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    occurrence: Mapped[str] = mapped_column(String(40))
    fired_at: Mapped[utc_now]


class EmployeeAbsence(Base):
    """While an employee is away, their notifications go to the substitute."""

    __tablename__ = "employee_absences"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[intpk]
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    substitute_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    notify_absentee: Mapped[bool_false]
    created_at: Mapped[utc_now]
