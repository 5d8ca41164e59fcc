"""Keyset paging: the cursor is an opaque, URL-safe base64 of the last row's sort key and id.

Lists are ordered by id (ids only grow), so a row inserted between two page requests shows
up on a later page and nothing is skipped or repeated, unlike offset paging.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, Field

from hermes_groupware.errors import InvalidInput
from hermes_groupware.http.api.fields import MAX_ID, Text

ItemT = TypeVar("ItemT")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageQuery(BaseModel):
    """``limit`` and ``cursor``, shared by every paged list."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: Annotated[Text, Field(max_length=200)] | None = None


class Page(BaseModel, Generic[ItemT]):
    """One page; ``next`` is the cursor of the following page, null on the last."""

    items: list[ItemT]
    next: str | None


def encode(last_id: int) -> str:
    """The cursor after the row with ``last_id``."""
    raw = json.dumps(["id", last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> int | None:
    """The id after which the page starts, or InvalidInput naming ``cursor``."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, last_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidInput("cursor", "not a cursor from this API") from exc
    if key != "id" or not isinstance(last_id, int) or not 0 <= last_id <= MAX_ID:
        raise InvalidInput("cursor", "not a cursor from this API")
    return last_id


def next_cursor(ids: list[int], limit: int) -> str | None:
    """A cursor when the page is full (there may be more), else None."""
    return encode(ids[-1]) if len(ids) == limit and ids else None
