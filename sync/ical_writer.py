"""A new calendar object's text, written directly instead of through icalendar objects.

Every task a CalDAV client creates is rendered into each collection that shows it (its list,
the owner's plan, a team calendar): through icalendar that is about 2 ms a rendering, the
largest part of a PUT. A fresh rendering holds only our own values, so it is written with the
helpers of :mod:`sync.ical_text`, byte for byte as icalendar writes it (VCALENDAR and VEVENT
properties in icalendar's canonical order, then alphabetical; VTODO alphabetical), apart from
icalendar's reading of a literal ``\\N`` as a line break. ``tests/sync/test_ical_writer.py``
holds the two writers to the same bytes. Texts that a client wrote, and our VALARMs, still go
through icalendar (:func:`sync.ical.render`), which keeps what it does not know.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sync.ical_text import CRLF, date, fold, raw, text, utc

#: what icalendar writes first, in this order (``Component.canonical_order``)
_CANONICAL = {
    "VCALENDAR": ("VERSION", "PRODID", "CALSCALE", "METHOD"),
    "VEVENT": (
        "SUMMARY",
        "DTSTART",
        "DTEND",
        "DURATION",
        "DTSTAMP",
        "UID",
        "RECURRENCE-ID",
        "SEQUENCE",
        "RRULE",
        "RDATE",
        "EXDATE",
    ),
}


def calendar_text(prodid: str, component: str, properties: Sequence[tuple[str, Any]]) -> str:
    """A VCALENDAR with one ``component`` holding ``properties`` (each name once; values as
    :func:`sync.ical.render` adds them: str, int, UTC datetime, date, or a list of
    categories)."""
    head = [("VERSION", "2.0"), ("PRODID", prodid)]
    return (
        "BEGIN:VCALENDAR\r\n"
        + _lines("VCALENDAR", head)
        + f"BEGIN:{component}\r\n"
        + _lines(component, properties)
        + f"END:{component}\r\nEND:VCALENDAR\r\n"
    )


def _lines(component: str, properties: Sequence[tuple[str, Any]]) -> str:
    first = _CANONICAL.get(component, ())
    rank = {name: position for position, name in enumerate(first)}
    ordered = sorted(properties, key=lambda p: (rank.get(p[0], len(first)), p[0]))
    return "".join(fold(_line(name, value)) + CRLF for name, value in ordered)


def _line(name: str, value: Any) -> str:
    """One unfolded content line, typed as icalendar types it."""
    if isinstance(value, dt.datetime):
        return f"{name}:{utc(value)}"
    if isinstance(value, dt.date):
        return f"{name};VALUE=DATE:{date(value)}"
    if isinstance(value, int):
        return f"{name}:{value}"
    return f"{name}{_PARAMETERS.get(name, ':')}{_text_value(name, value)}"


#: the parameters we write, with the colon that ends them
_PARAMETERS = {"RELATED-TO": ";RELTYPE=PARENT:"}


def _text_value(name: str, value: Any) -> str:
    if name == "CATEGORIES":
        return ",".join(text(category) for category in value if category)
    if name == "URL" or name.startswith("X-"):  # URIs and X- properties: written verbatim
        return raw(value)
    return text(value)
