"""Saved views, report schedules, their recipients and runs.

A saved view is a named filter over tasks; whoever runs it sees only what they may see. A
schedule sends one or more reports, together in one mail, on a cron expression in a time zone;
each occurrence is one ``report_runs`` row, unique per (schedule, local wall-clock time),
claimed atomically, so N instances send it once and the autumn DST hour cannot fire it twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bool_false, bool_true, intpk, utc_now
from hermes_groupware.db.types import UTCDateTime, text_enum
from hermes_groupware.models.enums import Locale, ReportRunStatus, ViewAudience

saved_view_groups = Table(
    "saved_view_groups",
    Base.metadata,
    Column("view_id", ForeignKey("saved_views.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class SavedView(Base):
    """A named task filter (``definition``: JSON), with columns and sort order.

    ``audience`` says who besides the owner may use it; with ``groups`` the members of the
    groups in ``saved_view_groups``.
    """

    __tablename__ = "saved_views"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    audience: Mapped[ViewAudience] = mapped_column(
        text_enum(ViewAudience, 10),
        default=ViewAudience.PRIVATE,
        server_default=ViewAudience.PRIVATE.value,
    )
    definition: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    columns: Mapped[str] = mapped_column(String(500), default="", server_default="")
    sort: Mapped[str] = mapped_column(String(200), default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[utc_now]
    updated_at: Mapped[utc_now]


class ReportSchedule(Base):
    """Send ``reports`` in one mail on ``cron`` in ``time_zone`` to the recipients.

    ``reports`` is a comma list of distinct ReportKind values in the mail's order
    (``overdue,pipeline``): a director's Monday reports are one schedule and one mail.
    ``params`` is a JSON object keyed by kind, every kind present (``{}`` when none).
    ``next_fire_at`` (UTC) is recomputed whenever the schedule is saved and after every
    materialised occurrence, so an admin's edit takes effect on the next tick of any instance.
    ``grace_minutes`` overrides ``[reports] grace_minutes`` for catching up missed runs.
    """

    __tablename__ = "report_schedules"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    reports: Mapped[str] = mapped_column(String(100))
    params: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    cron: Mapped[str] = mapped_column(String(100))
    time_zone: Mapped[str] = mapped_column(
        String(64), default="Europe/Warsaw", server_default="Europe/Warsaw"
    )
    owner_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    formats: Mapped[str] = mapped_column(String(40), default="html", server_default="html")
    #: language of mails to outside addresses (employees get their own)
    locale: Mapped[Locale] = mapped_column(
        text_enum(Locale, 2), default=Locale.PL, server_default=Locale.PL.value
    )
    skip_if_empty: Mapped[bool_false]
    enabled: Mapped[bool_true]
    grace_minutes: Mapped[int | None] = mapped_column(Integer)
    next_fire_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[utc_now]
    updated_at: Mapped[utc_now]


class ReportRecipient(Base):
    """One recipient of a schedule: an employee, every member of a group, or an address."""

    __tablename__ = "report_recipients"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN employee_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN group_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN address IS NULL THEN 0 ELSE 1 END) = 1",
            name="exactly_one_target",
        ),
    )

    id: Mapped[intpk]
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("report_schedules.id", ondelete="CASCADE"), index=True
    )
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    address: Mapped[str | None] = mapped_column(String(254))


class ReportUnsubscription(Base):
    """An address that clicked "unsubscribe" on one schedule's mail (RFC 8058 one-click)."""

    __tablename__ = "report_unsubscriptions"

    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("report_schedules.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(254), primary_key=True)
    unsubscribed_at: Mapped[utc_now]


class ReportRun(Base):
    """One occurrence of a schedule (or a ``run-now``), and what became of it.

    ``occurrence_local`` is the wall-clock time in the schedule's zone (``2026-10-25T02:30``),
    or ``manual:<UTC timestamp>`` for ``run-now``; its uniqueness is the exactly-once guarantee.
    A run being rendered holds a lease (``claimed_by``/``lease_until``): if its instance dies,
    another one takes it over when the lease expires.
    """

    __tablename__ = "report_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "occurrence_local"),
        Index("ix_report_runs_status_lease", "status", "lease_until"),
    )

    id: Mapped[intpk]
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("report_schedules.id", ondelete="CASCADE"), index=True
    )
    occurrence_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    occurrence_local: Mapped[str] = mapped_column(String(40))
    status: Mapped[ReportRunStatus] = mapped_column(
        text_enum(ReportRunStatus, 10),
        default=ReportRunStatus.QUEUED,
        server_default=ReportRunStatus.QUEUED.value,
    )
    late: Mapped[bool_false]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[utc_now]
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
