"""Declarative base with a naming convention, so Alembic names every constraint on both dialects."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from sqlalchemy import BigInteger, Integer, MetaData, func, sql
from sqlalchemy.orm import DeclarativeBase, mapped_column

from hermes_groupware.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
bigintpk = Annotated[
    int, mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
]
bool_true = Annotated[bool, mapped_column(server_default=sql.true(), default=True)]
bool_false = Annotated[bool, mapped_column(server_default=sql.false(), default=False)]


def now_utc() -> dt.datetime:
    """The Python-side default for timestamps (freezegun patches this clock in tests)."""
    return dt.datetime.now(dt.UTC)


utc_now = Annotated[
    dt.datetime,
    mapped_column(UTCDateTime, default=now_utc, server_default=func.current_timestamp()),
]
utc_time = Annotated[dt.datetime, mapped_column(UTCDateTime)]


class Base(DeclarativeBase):
    """All Hermes tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
