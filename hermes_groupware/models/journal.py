"""The change journal and task history, both written only by database triggers.

Triggers (``hermes_groupware/db/triggers.py``) see every write, including plain SQL from the
desktop application, which is why no Python code inserts into these tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bigintpk
from hermes_groupware.db.types import UTCDateTime

seq_type = BigInteger().with_variant(Integer, "sqlite")


class JournalCounter(Base):
    """One row; each writer bumps it, and the row lock orders sequence numbers by commit."""

    __tablename__ = "journal_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(seq_type)
    #: Bumped by changes that are not task rows but change how tasks are shown (a register's
    #: name or colour, group membership); the calendar projection re-renders when it moves.
    directory_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ChangeJournal(Base):
    """One entry per inserted/updated/deleted task, task item or custom field value.

    ``register_id``/``responsible_id`` are the values after the change, ``old_*`` before it, so a
    consumer can tell which collections a task entered and left without reading the task.
    """

    __tablename__ = "change_journal"

    seq: Mapped[int] = mapped_column(seq_type, primary_key=True, autoincrement=False)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    task_id: Mapped[int] = mapped_column(Integer, index=True)
    op: Mapped[str] = mapped_column(String(6))
    register_id: Mapped[int | None] = mapped_column(Integer)
    old_register_id: Mapped[int | None] = mapped_column(Integer)
    responsible_id: Mapped[int | None] = mapped_column(Integer)
    old_responsible_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TaskHistory(Base):
    """Who changed which field of a task, when, from where, old -> new (values as text)."""

    __tablename__ = "task_history"

    id: Mapped[bigintpk]
    seq: Mapped[int] = mapped_column(seq_type)
    task_id: Mapped[int] = mapped_column(Integer, index=True)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChangeContext(Base):
    """SQLite only: who is writing in the current transaction (PostgreSQL uses ``set_config``).

    The unit of work inserts the row after ``BEGIN IMMEDIATE`` and deletes it before ``COMMIT``,
    so no other connection ever sees it and plain SQL writes get source ``database``.
    """

    __tablename__ = "change_context"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[str] = mapped_column(String(40))
