"""Employees, groups and the app passwords employees use for CalDAV."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, bool_false, bool_true, intpk, utc_now
from hermes_groupware.db.types import UTCDateTime, text_enum
from hermes_groupware.models.enums import Locale

group_members = Table(
    "group_members",
    Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("employee_id", ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True),
)


class Employee(Base):
    """A pracownik; ``login`` is the CalDAV user name and never changes."""

    __tablename__ = "employees"

    id: Mapped[intpk]
    login: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[Locale] = mapped_column(
        text_enum(Locale, 2), default=Locale.PL, server_default=Locale.PL.value
    )
    time_zone: Mapped[str] = mapped_column(
        String(64), default="Europe/Warsaw", server_default="Europe/Warsaw"
    )
    is_active: Mapped[bool_true]
    is_admin: Mapped[bool_false]
    substitute_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[utc_now]

    @property
    def full_name(self) -> str:
        """First and last name, as people are addressed in Polish offices."""
        return f"{self.first_name} {self.last_name}"


class Group(Base):
    """A team with a shared calendar."""

    __tablename__ = "groups"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class AppPassword(Base):
    """A per-device password; only its Argon2 hash is stored."""

    __tablename__ = "app_passwords"

    id: Mapped[intpk]
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[utc_now]
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
