"""Subscription feeds: read-only ``.ics`` links that admins give out, and their tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bool_false, intpk, utc_now
from hermes_groupware.db.types import Colour, UTCDateTime, text_enum
from hermes_groupware.models.enums import FeedProfile, FeedScope, Redaction

feed_registers = Table(
    "feed_registers",
    Base.metadata,
    Column("feed_id", ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True),
    Column("register_id", ForeignKey("registers.id", ondelete="CASCADE"), primary_key=True),
)


class Feed(Base):
    """What a feed shows and how; every render is checked against the owner's current rights.

    ``version`` rises on every change of the definition and is part of the feed's ETag.
    """

    __tablename__ = "feeds"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    scope: Mapped[FeedScope] = mapped_column(text_enum(FeedScope, 12))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    view_id: Mapped[int | None] = mapped_column(ForeignKey("saved_views.id"))
    statuses: Mapped[str] = mapped_column(String(100), default="", server_default="")
    priorities: Mapped[str] = mapped_column(String(50), default="", server_default="")
    include_completed: Mapped[bool_false]
    days_back: Mapped[int] = mapped_column(Integer, default=90, server_default="90")
    days_ahead: Mapped[int] = mapped_column(Integer, default=365, server_default="365")
    max_items: Mapped[int] = mapped_column(Integer, default=2000, server_default="2000")
    profile: Mapped[FeedProfile] = mapped_column(
        text_enum(FeedProfile, 12),
        default=FeedProfile.EVENT_DUE,
        server_default=FeedProfile.EVENT_DUE.value,
    )
    redaction: Mapped[Redaction] = mapped_column(
        text_enum(Redaction, 10), default=Redaction.FULL, server_default=Redaction.FULL.value
    )
    time_zone: Mapped[str] = mapped_column(
        String(64), default="Europe/Warsaw", server_default="Europe/Warsaw"
    )
    ttl_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    colour: Mapped[str | None] = mapped_column(Colour)
    alarms: Mapped[bool_false]
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[utc_now]
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_user_agent: Mapped[str | None] = mapped_column(String(300))


class FeedToken(Base):
    """A secret link of a feed. The token is HMAC(secret_key, nonce): the database holds only
    the nonce and the token's SHA-256, so a copy of the database alone reveals no link, while
    ``feed show`` can print the links again. A rotated link may live on for a grace period
    (``valid_until``). Fetches are counted per minute for the rate limit."""

    __tablename__ = "feed_tokens"

    id: Mapped[intpk]
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[utc_now]
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    window_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
