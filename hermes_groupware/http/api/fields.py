"""Input types shared by the request models: text the database accepts, ids it can hold,
times it can store. Each failure is a 422 naming the field, never a database error."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field

from hermes_groupware.errors import InvalidInput

MAX_ID = 2**31 - 1


def _clean(value: str) -> str:
    """PostgreSQL refuses NUL in text, and lone surrogates cannot be encoded as UTF-8."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


def _clean_tree(value: Any) -> Any:
    """Every text in a JSON value, keys too, checked like :data:`Text`."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return {_clean(k): _clean_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_tree(v) for v in value]
    return value


def _utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as exc:
        raise ValueError("out of range") from exc


Text = Annotated[str, AfterValidator(_clean)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_clean_tree)]
When = Annotated[AwareDatetime, AfterValidator(_utc)]


def refuse_nulls(given: dict[str, object], *, allowed: frozenset[str] = frozenset()) -> None:
    """A PATCH: a field left out is kept; null is no value (except where ``allowed``)."""
    nulls = sorted(key for key, value in given.items() if value is None and key not in allowed)
    if nulls:
        raise InvalidInput(nulls[0], "leave it out to keep it; null is no value")
