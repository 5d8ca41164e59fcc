"""calendar-query filters that SQL answers exactly (so Radicale parses nothing).

Radicale hands ``get_filtered`` the raw ``C:filter`` elements. Two shapes cover what clients
send most: a component with at most one time range (every client's date-range query), and
"open tasks" (``COMPLETED`` is-not-defined, optionally with ``STATUS`` not COMPLETED/CANCELLED;
Thunderbird and DAVx5). Anything else gets a superset marked as not matched, and Radicale checks
it item by item.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

from radicale import xmlutils
from radicale.item import filter as radicale_filter

_COMP = xmlutils.make_clark("C:comp-filter")
_PROP = xmlutils.make_clark("C:prop-filter")
_NOT_DEFINED = xmlutils.make_clark("C:is-not-defined")
_TIME_RANGE = xmlutils.make_clark("C:time-range")
_TEXT_MATCH = xmlutils.make_clark("C:text-match")


@dataclass(frozen=True)
class Query:
    """What SQL can select: component, time window, only open tasks; ``exact`` if complete."""

    component: str | None
    start: int
    end: int
    open_only: bool
    exact: bool


def translate(filters: Iterable[ET.Element]) -> Query:
    """The SQL-able part of a calendar-query filter."""
    filters = list(filters)
    tag, start, end, simple = radicale_filter.simplify_prefilters(filters, "VCALENDAR")
    if simple:
        return Query(tag, start, end, open_only=False, exact=True)
    open_only = _is_open_tasks(filters)
    return Query(tag or ("VTODO" if open_only else None), start, end, open_only, exact=open_only)


def _is_open_tasks(filters: list[ET.Element]) -> bool:
    """VCALENDAR > VTODO > COMPLETED is-not-defined [+ STATUS negated text-match] only."""
    if len(filters) != 1 or len(filters[0]) != 1:
        return False
    calendar = filters[0][0]
    named = calendar.get("name", "").upper() == "VCALENDAR"
    if calendar.tag != _COMP or not named or len(calendar) != 1:
        return False
    todo = calendar[0]
    if todo.tag != _COMP or todo.get("name", "").upper() != "VTODO":
        return False
    seen_completed = False
    for prop in todo:
        name = prop.get("name", "").upper()
        if prop.tag == _PROP and name == "COMPLETED" and _only(prop, _NOT_DEFINED):
            seen_completed = True
        elif not (prop.tag == _PROP and name == "STATUS" and _negated_status(prop)):
            return False
    return seen_completed


def _only(element: ET.Element, child_tag: str) -> bool:
    return len(element) == 1 and element[0].tag == child_tag


def _negated_status(prop: ET.Element) -> bool:
    if not _only(prop, _TEXT_MATCH):
        return False
    match = prop[0]
    negated = match.get("negate-condition", "no").lower() == "yes"
    return negated and (match.text or "").strip().upper() in ("COMPLETED", "CANCELLED")
