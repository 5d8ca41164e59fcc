"""Tasks as calendar objects: the stored rendering each collection serves, and its counters.

Written only by ``sync.projection`` in the same transaction as the change that caused it (or by
its catch-up from the change journal, for writes that bypassed our code), so that reads never
render or parse.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bigintpk, bool_false
from hermes_groupware.db.types import UTCDateTime
from hermes_groupware.models.journal import seq_type


class CalendarObject(Base):
    """One task in one collection (or the tombstone it left there).

    ``collection`` is a key such as ``jkowalski/tasks``, ``register:REK`` or ``group:serwis``;
    ``modseq`` orders changes within the projection, so a sync token is "changes after modseq".
    """

    __tablename__ = "calendar_objects"
    __table_args__ = (
        UniqueConstraint("collection", "href"),
        Index("ix_calendar_objects_collection_modseq", "collection", "modseq"),
        Index(
            "uq_calendar_objects_live_uid",
            "collection",
            "uid",
            unique=True,
            sqlite_where=text("deleted = 0"),  # how SQLAlchemy writes NOT deleted there
            postgresql_where=text("NOT deleted"),
        ),
    )

    id: Mapped[bigintpk]
    collection: Mapped[str] = mapped_column(String(150))
    href: Mapped[str] = mapped_column(String(255))
    uid: Mapped[str] = mapped_column(String(255))
    task_id: Mapped[int | None] = mapped_column(Integer, index=True)
    component: Mapped[str] = mapped_column(String(8))
    body: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(80))
    modseq: Mapped[int] = mapped_column(seq_type)
    start_ts: Mapped[int | None] = mapped_column(BigInteger)
    end_ts: Mapped[int | None] = mapped_column(BigInteger)
    completed: Mapped[bool_false]
    deleted: Mapped[bool_false]
    last_modified: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CalendarState(Base):
    """One row: how far the projection has applied the journal, and its own change counter.

    ``epoch`` changes when the projection is rebuilt, which invalidates every sync token.
    """

    __tablename__ = "calendar_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applied_seq: Mapped[int] = mapped_column(seq_type)
    last_modseq: Mapped[int] = mapped_column(seq_type)
    epoch: Mapped[str] = mapped_column(String(16))
    directory_version: Mapped[int] = mapped_column(Integer)
    #: a directory change re-renders every task, a chunk per transaction: for which
    #: directory version, and up to which task id
    rerender_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rerender_cursor: Mapped[int] = mapped_column(seq_type, default=0, server_default="0")


class LoginFailure(Base):
    """Failed logins per key (``login:<name>`` or ``addr:<ip>``), for back-off across processes."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
