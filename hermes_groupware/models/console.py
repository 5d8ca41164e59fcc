"""Web console logins (issue 9): a console password per employee and server-side sessions."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, intpk, utc_now, utc_time


class ConsolePassword(Base):
    """The password an employee types into the console; only its Argon2 hash is stored.

    Separate from app passwords: those are per device and live in calendar clients, this one
    is typed by a person into a browser.
    """

    __tablename__ = "console_passwords"

    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[utc_now]


class ConsoleSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    copy of the database does not let anyone in."""

    __tablename__ = "console_sessions"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[utc_time]
    last_seen_at: Mapped[utc_time]
    expires_at: Mapped[utc_time]
