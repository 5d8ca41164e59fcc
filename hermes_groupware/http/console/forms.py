"""Reading form fields into typed values; a bad one is InvalidInput naming the field."""

from __future__ import annotations

import enum
from typing import TypeVar

from flask import request

from hermes_groupware.errors import InvalidInput

E = TypeVar("E", bound=enum.StrEnum)


def text(name: str, *, limit: int = 200, required: bool = False) -> str:
    """A one-line text field, whitespace collapsed."""
    value = " ".join(request.form.get(name, "").split())
    if required and not value:
        raise InvalidInput(name, "required")
    if len(value) > limit:
        raise InvalidInput(name, f"at most {limit} characters")
    return value


def optional(name: str, *, limit: int = 200) -> str | None:
    """A text field that may be left empty."""
    return text(name, limit=limit) or None


def number(name: str, *, low: int, high: int, default: int | None = None) -> int:
    """A whole number within ``low``..``high``."""
    raw = request.form.get(name, "").strip()
    if not raw and default is not None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInput(name, "expected a whole number") from exc
    if not low <= value <= high:
        raise InvalidInput(name, f"expected {low}..{high}")
    return value


def choice(name: str, kind: type[E], default: E) -> E:
    """One value of an enum."""
    raw = request.form.get(name, "") or default.value
    try:
        return kind(raw)
    except ValueError as exc:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(name, f"expected one of {allowed}") from exc


def words(name: str, *, limit: int = 50) -> list[str]:
    """A list typed with commas or spaces (register codes, logins)."""
    items = [w for w in request.form.get(name, "").replace(",", " ").split() if w]
    if len(items) > limit:
        raise InvalidInput(name, f"at most {limit} entries")
    return items
