"""API tokens for scripts and other systems (issue 9): only a SHA-256 hash is stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, intpk, utc_now
from hermes_groupware.db.types import UTCDateTime


class ApiToken(Base):
    """A bearer token that acts as its owner with at most its ``scopes`` until it expires.

    ``token_hash`` is the hex SHA-256 of the whole token; a token has 256 random bits, so a
    fast hash is enough (no Argon2 on every request). ``hint`` keeps the first characters so
    people can tell their tokens apart.
    """

    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    #: comma list of ``read``, ``write``, ``admin``
    scopes: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[utc_now]
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
