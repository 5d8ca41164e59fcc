"""Subscription feed rendering: tasks as a published calendar strict clients accept (pure).

Outlook and Google drop VTODO from subscriptions, so the default profile turns each task into
a VEVENT on its due day. Output rules from ``shared/interop-notes.md``: ``METHOD:PUBLISH``;
date-only values are ``VALUE=DATE`` with an exclusive end; timed values are UTC, so no TZID and
no floating times; VALARM after the properties; UIDs stable and different for a task's VTODO
and VEVENT; ``SEQUENCE`` from the task's version, so it rises on every change.

A feed holds thousands of items and every value in it is ours, so the lines are written
directly (:mod:`sync.ical_text`) rather than through icalendar objects, which cost more than
ten times as much. Properties come in the order icalendar writes them (VCALENDAR and VEVENT:
its canonical order, then alphabetical; VTODO and VALARM: alphabetical), so the bytes did not
change when the writer did (but for a literal ``\\N``, see :mod:`sync.ical_text`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sync import ical
from sync.colours import hex_colour, nearest_css_colour
from sync.ical_text import CRLF, date, duration, fold, raw, text, utc

BUSY = {"pl": "Zajęty", "en": "Busy"}
TIMED_EVENT = dt.timedelta(minutes=30)
ALARM_BEFORE = dt.timedelta(minutes=-15)
UID_DOMAIN = "hermes-groupware"

_Dates = tuple[dt.date | dt.datetime, dt.date | dt.datetime]


@dataclass(frozen=True)
class FeedMeta:
    """The calendar-level properties of a feed."""

    name: str
    description: str
    time_zone: str
    ttl_minutes: int
    profile: str
    colour: str | None = None
    alarms: bool = False


@dataclass(frozen=True)
class FeedItem:
    """One task as the feed's owner may show it: ``redaction`` is full, no-notes or busy."""

    task: ical.TaskData
    version: int
    redaction: str
    locale: str = "pl"
    notes: tuple[str, ...] = field(default_factory=tuple)


def render_feed(meta: FeedMeta, items: Iterable[FeedItem]) -> bytes:
    """The whole ``.ics`` body (CRLF, folded before 75 octets)."""
    return feed_body(meta, [item_text(meta, item) for item in items])


def feed_body(meta: FeedMeta, texts: Iterable[bytes]) -> bytes:
    """The calendar around the items' texts (:func:`item_text`, possibly from a cache)."""
    head = CRLF.join(_calendar_head(meta)).encode()
    return b"\r\n".join([head, *filter(None, texts), b"END:VCALENDAR\r\n"])


def item_text(meta: FeedMeta, item: FeedItem) -> bytes:
    """The item's components as UTF-8 (no final CRLF); empty when the profile shows nothing
    of it (an event profile and a task without dates). Depends on nothing but the item and
    the feed's profile, alarms and time zone."""
    events = meta.profile in ("event-due", "both", "event-span")
    dates = _event_dates(meta.profile, item.task, ZoneInfo(meta.time_zone)) if events else None
    todo = meta.profile in ("vtodo", "both")
    if not todo and dates is None:
        return b""
    return _item_text(item, todo, dates, meta.alarms).encode()


class ItemTextCache:
    """Items' texts by everything that went into them, least recently used out first.

    A key must hold every input of :func:`item_text` (the task's values, the notes, the
    redaction, the locale and the feed's meta), never just an id and a version: then an
    entry is right in any process, whatever changed in the database, and a stale one is
    merely never asked for again. Thread-safe (waitress serves with threads).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._texts: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._texts)

    def get(self, key: Hashable) -> bytes | None:
        """The text stored under ``key``, or None."""
        with self._lock:
            text = self._texts.get(key)
            if text is not None:
                self._texts.move_to_end(key)
            return text

    def put(self, key: Hashable, text: bytes) -> None:
        """Store a text, dropping the least recently used beyond the capacity."""
        with self._lock:
            self._texts[key] = text
            if len(self._texts) > self.capacity:
                self._texts.popitem(last=False)

    def clear(self) -> None:
        """Forget every text (benchmarks measure a cold render with it)."""
        with self._lock:
            self._texts.clear()


def _calendar_head(meta: FeedMeta) -> list[str]:
    ttl = duration(dt.timedelta(minutes=meta.ttl_minutes))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        fold(f"PRODID:{text(ical.PRODID)}"),
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        # icalendar writes X- properties verbatim (no TEXT escaping); so do we
        fold(f"X-WR-CALDESC:{raw(meta.description)}"),
        fold(f"X-WR-CALNAME:{raw(meta.name)}"),
    ]
    colour = hex_colour(meta.colour)
    css_name = nearest_css_colour(colour)
    if css_name is not None:
        lines.append(fold(f"COLOR:{text(css_name)}"))
    lines.append(f"REFRESH-INTERVAL;VALUE=DURATION:{ttl}")
    if colour is not None:
        lines.append(fold(f"X-APPLE-CALENDAR-COLOR:{raw(colour)}"))
    lines.append(f"X-PUBLISHED-TTL:{ttl}")
    lines.append(fold(f"X-WR-TIMEZONE:{raw(meta.time_zone)}"))
    return lines


def _event_dates(profile: str, task: ical.TaskData, zone: ZoneInfo) -> _Dates | None:
    """The event's start and end for the profile, or None when the task gets no event."""
    if profile in ("event-due", "both"):
        return _due_dates(task) if task.due is not None else None
    if profile == "event-span" and (task.due or task.planned_start):
        return _span_dates(task, zone)
    return None


class _Common(NamedTuple):
    """What a task's VTODO and VEVENT share, formatted once (lines end with CRLF, except the
    summary line)."""

    busy: bool
    stamp: str
    uid: str
    sequence: str
    summary: str
    summary_line: str
    categories: str
    description: str


def _item_text(item: FeedItem, todo: bool, dates: _Dates | None, alarms: bool) -> str:
    """The item's VTODO and/or VEVENT, without the final CRLF. Components are built as whole
    strings, not a list entry per line: this runs for every item of every render."""
    task = item.task
    busy = item.redaction == "busy"
    categories = description = ""
    if busy:
        summary = text(BUSY.get(item.locale, BUSY["en"]))
    else:
        summary = text(f"[{task.register_code}] {task.subject}")
        names = [text(task.register_name), *map(text, task.categories)]
        categories = fold("CATEGORIES:" + ",".join(names)) + CRLF
        if item.redaction == "full":
            description = fold(f"DESCRIPTION:{text(_full_description(item))}") + CRLF
    common = _Common(
        busy=busy,
        stamp=utc(task.updated_at),
        uid=f"UID:hermes-{task.task_id}-feed-",
        sequence=f"SEQUENCE:{max(item.version - 1, 0)}\r\n",
        summary=summary,
        summary_line=fold(f"SUMMARY:{summary}"),
        categories=categories,
        description=description,
    )
    components = [_todo_text(task, common)] if todo else []
    if dates is not None:
        components.append(_event_text(task, common, dates, alarms))
    return CRLF.join(components)


def _todo_text(task: ical.TaskData, common: _Common) -> str:
    """A VTODO, its properties in alphabetical order (as icalendar writes them)."""
    done = not common.busy and task.status == "done"
    lines = ["BEGIN:VTODO\r\n", common.categories]
    if done and task.completed_at:
        lines.append(f"COMPLETED:{utc(task.completed_at)}\r\n")
    lines.append(f"{common.description}DTSTAMP:{common.stamp}\r\n")
    lines += [f"{name}{_date_value(value)}\r\n" for name, value in ical.todo_dates(task)]
    lines.append(f"LAST-MODIFIED:{common.stamp}\r\n")
    if done:
        lines.append("PERCENT-COMPLETE:100\r\n")
    if not common.busy:
        lines.append(f"PRIORITY:{ical.PRIORITY_OUT.get(task.priority, 5)}\r\n")
    lines.append(common.sequence)
    if not common.busy:
        lines.append(f"STATUS:{ical.todo_status(task.status)}\r\n")
    lines.append(f"{common.summary_line}\r\n{common.uid}todo@{UID_DOMAIN}\r\nEND:VTODO")
    return "".join(lines)


def _event_text(task: ical.TaskData, common: _Common, dates: _Dates, alarms: bool) -> str:
    """A VEVENT: icalendar's canonical order (summary, dates, stamp, UID, sequence), then
    alphabetical; the VALARM after the properties."""
    start, end = dates
    status = ""
    if not common.busy:
        status = "STATUS:CANCELLED\r\n" if task.status == "cancelled" else "STATUS:CONFIRMED\r\n"
    alarm = ""
    if alarms and not common.busy and isinstance(start, dt.datetime):
        alarm = (
            f"BEGIN:VALARM\r\nACTION:DISPLAY\r\n{fold(f'DESCRIPTION:{common.summary}')}\r\n"
            f"TRIGGER:{duration(ALARM_BEFORE)}\r\nEND:VALARM\r\n"
        )
    return (
        f"BEGIN:VEVENT\r\n{common.summary_line}\r\n"
        f"DTSTART{_date_value(start)}\r\nDTEND{_date_value(end)}\r\n"
        f"DTSTAMP:{common.stamp}\r\n{common.uid}event@{UID_DOMAIN}\r\n{common.sequence}"
        f"{common.categories}{common.description}LAST-MODIFIED:{common.stamp}\r\n"
        f"{status}TRANSP:TRANSPARENT\r\n{alarm}END:VEVENT"
    )


def _date_value(value: dt.date | dt.datetime) -> str:
    """``:<UTC date-time>`` or ``;VALUE=DATE:<date>``, after the property's name."""
    if isinstance(value, dt.datetime):
        return f":{utc(value)}"
    return f";VALUE=DATE:{date(value)}"


def _full_description(item: FeedItem) -> str:
    task = item.task
    parts = [task.description.strip()] if task.description.strip() else []
    parts += [f"— {note.strip()}" for note in item.notes if note.strip()]
    footer = [f"{task.number} ({task.register_name})"]
    if task.customer:
        footer.append(task.customer)
    if task.contact:
        footer.append(task.contact)
    return "\n\n".join([*parts, "\n".join(footer)])


def _due_dates(task: ical.TaskData) -> _Dates:
    """The due day as an all-day event, or a short event ending at a timed due."""
    assert task.due is not None
    if task.all_day:
        return task.due.date(), ical.shifted(task.due.date(), ical.ONE_DAY)
    due = task.due.astimezone(dt.UTC)
    return ical.shifted(due, -TIMED_EVENT), due


def _span_dates(task: ical.TaskData, zone: ZoneInfo) -> tuple[dt.date, dt.date]:
    """All days from the planned start to the due date, in the feed's time zone."""
    first = task.planned_start or task.due
    last = task.due or task.planned_start
    assert first is not None
    assert last is not None

    def day(value: dt.datetime) -> dt.date:
        return value.date() if task.all_day else value.astimezone(zone).date()

    start, end = day(first), day(last)
    return start, ical.shifted(max(end, start), ical.ONE_DAY)
