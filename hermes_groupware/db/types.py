"""Column types shared by the models."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import DateTime, Enum, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC, returns aware datetimes.

    SQLite has no time zone type, and the desktop application may write naive values; naive
    values read back are taken as UTC, aware values are converted before they are stored.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Refuse naive datetimes from our own code; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return an aware UTC datetime whatever was stored."""
        if value is None:
            return None
        when: dt.datetime = (
            dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        )  # text written by another application is accepted too
        if when.tzinfo is None:
            return when.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC)


def text_enum(enum_cls: type[enum.Enum], length: int = 16) -> Enum:
    """An enum stored as its text value with a CHECK constraint, readable by plain SQL."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        name=enum_cls.__name__.lower(),
    )


class Colour(TypeDecorator[str]):
    """``#RRGGBB``; validation lives in the services, this only normalises case."""

    impl = String(7)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Store upper-case hex."""
        return value.upper() if value else value
