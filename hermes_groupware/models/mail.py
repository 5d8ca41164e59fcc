"""E-mail: the raw inbound store, the Message-ID thread index, the outbox and bounce state.

The raw message is the source of truth: it is committed before anything is derived from it,
and everything derived (a note, a task, a quarantine entry) points back at it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from hermes_groupware.db.base import Base, bool_false, intpk, utc_now
from hermes_groupware.db.types import UTCDateTime, text_enum
from hermes_groupware.models.enums import InboundStatus, MailChannel, MailDirection, OutboundStatus


class InboundMessage(Base):
    """One accepted delivery, stored raw; ``trail`` records every routing decision."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid"),
        Index("ix_inbound_messages_status_received", "status", "received_at"),
        Index("ix_inbound_messages_sender_received", "sender_address", "received_at"),
    )

    id: Mapped[intpk]
    received_at: Mapped[utc_now]
    channel: Mapped[MailChannel] = mapped_column(text_enum(MailChannel, 8))
    envelope_from: Mapped[str | None] = mapped_column(String(320))
    recipients: Mapped[str] = mapped_column(Text, default="", server_default="")
    mailbox: Mapped[str | None] = mapped_column(String(400))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    raw_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    subject: Mapped[str | None] = mapped_column(String(998))
    sender_address: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[InboundStatus] = mapped_column(
        text_enum(InboundStatus, 12), default=InboundStatus.RECEIVED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reason: Mapped[str | None] = mapped_column(Text)
    route: Mapped[str | None] = mapped_column(String(20))
    trail: Mapped[list[Any]] = mapped_column(JSON, default=list)
    stripped_text: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL"), index=True
    )
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class MailThreadEntry(Base):
    """A Message-ID we sent or received for a task: replies are routed by looking it up."""

    __tablename__ = "mail_thread_entries"
    __table_args__ = (UniqueConstraint("message_id", "task_id"),)

    id: Mapped[intpk]
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    direction: Mapped[MailDirection] = mapped_column(text_enum(MailDirection, 8))
    recipient: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[utc_now]


class MailAcknowledgement(Base):
    """At most one automatic acknowledgement per sender and day, across all instances."""

    __tablename__ = "mail_acknowledgements"
    __table_args__ = (UniqueConstraint("address", "day"),)

    id: Mapped[intpk]
    address: Mapped[str] = mapped_column(String(320))
    day: Mapped[dt.date] = mapped_column(Date)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))


class MailAddressState(Base):
    """Addresses that bounced: not mailed again until an admin or a new reply clears them."""

    __tablename__ = "mail_address_states"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    bouncing: Mapped[bool_false]
    bounced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class OutboundMessage(Base):
    """A rendered mail waiting for the relay; the Message-ID is fixed so retries are idempotent."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[intpk]
    created_at: Mapped[utc_now]
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(8), default="email", server_default="email")
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(40))
    raw: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    status: Mapped[OutboundStatus] = mapped_column(
        text_enum(OutboundStatus, 8), default=OutboundStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
