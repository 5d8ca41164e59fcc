"""Individual reminders on a task, and the record of which e-mail/SMS reminders have fired.

A reminder reminds one employee of one task, at an absolute time or at an offset from the
task's due date or planned start (so it follows the task when its dates move). Pop-up
reminders travel to the employee's own calendars as VALARMs; ``acknowledged_at`` and
``snoozed_until`` keep what the calendar client said about them (Thunderbird's
``X-MOZ-LASTACK`` / ``X-MOZ-SNOOZE-TIME``), so a dismissed alarm does not pop up again on
another device. E-mail and SMS reminders claim a ``task_reminder_firings`` row per occurrence
(the trigger time), so each occurrence is sent once, however many instances run.

Reminder rows are journaled (entity ``reminder``), so a reminder written by any writer reaches
the calendars through the projection like every other task change.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, intpk, utc_now
from hermes_groupware.db.types import UTCDateTime, text_enum


class ReminderChannel(enum.StrEnum):
    """How a reminder reaches its employee: a calendar alarm, an e-mail or an SMS."""

    POPUP = "popup"
    EMAIL = "email"
    SMS = "sms"


class ReminderAnchor(enum.StrEnum):
    """The task date a relative reminder is counted from."""

    DUE = "due"
    PLANNED_START = "planned_start"


class TaskReminder(Base):
    """Remind ``employee_id`` of the task at ``remind_at``, or ``offset_minutes`` from the
    task's ``relative_to`` date (negative: before it)."""

    __tablename__ = "task_reminders"
    __table_args__ = (
        CheckConstraint(
            "(remind_at IS NOT NULL AND relative_to IS NULL AND offset_minutes IS NULL) OR "
            "(remind_at IS NULL AND relative_to IS NOT NULL AND offset_minutes IS NOT NULL)",
            name="one_time_form",
        ),
    )

    id: Mapped[intpk]
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    remind_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    relative_to: Mapped[ReminderAnchor | None] = mapped_column(text_enum(ReminderAnchor, 16))
    offset_minutes: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[ReminderChannel] = mapped_column(
        text_enum(ReminderChannel, 8),
        default=ReminderChannel.POPUP,
        server_default=ReminderChannel.POPUP.value,
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    created_at: Mapped[utc_now]
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TaskReminderFiring(Base):
    """An e-mail/SMS reminder was sent for one occurrence (its trigger time): once."""

    __tablename__ = "task_reminder_firings"
    __table_args__ = (UniqueConstraint("reminder_id", "occurrence"),)

    id: Mapped[intpk]
    reminder_id: Mapped[int] = mapped_column(ForeignKey("task_reminders.id", ondelete="CASCADE"))
    occurrence: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[utc_now]
