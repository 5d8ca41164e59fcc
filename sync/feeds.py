"""Subscription feed rendering: tasks as a published calendar strict clients accept (pure).

Outlook and Google drop VTODO from subscriptions, so the default profile turns each task into
a VEVENT on its due day. Output rules from ``shared/interop-notes.md``: ``METHOD:PUBLISH``;
date-only values are ``VALUE=DATE`` with an exclusive end; timed values are UTC, so no TZID and
no floating times; VALARM after the properties; UIDs stable and different for a task's VTODO
and VEVENT; ``SEQUENCE`` from the task's version, so it rises on every change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Component, Event, Todo
from icalendar.prop import vCategory, vDuration

from sync import ical
from sync.colours import nearest_css_colour

BUSY = {"pl": "Zajęty", "en": "Busy"}
TIMED_EVENT = dt.timedelta(minutes=30)


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


def render_feed(meta: FeedMeta, items: list[FeedItem]) -> bytes:
    """The whole ``.ics`` body (CRLF, folded at 75 octets)."""
    calendar = Calendar()
    calendar.add("PRODID", ical.PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("X-WR-CALNAME", meta.name)
    calendar.add("X-WR-CALDESC", meta.description)
    calendar.add("X-WR-TIMEZONE", meta.time_zone)
    ttl = dt.timedelta(minutes=meta.ttl_minutes)
    calendar.add("REFRESH-INTERVAL", ttl, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(ttl))
    if meta.colour:
        calendar.add("COLOR", nearest_css_colour(meta.colour))
        calendar.add("X-APPLE-CALENDAR-COLOR", meta.colour.upper())
    zone = ZoneInfo(meta.time_zone)
    for item in items:
        for component in _components(meta, item, zone):
            calendar.add_component(component)
    return bytes(calendar.to_ical())


def _components(meta: FeedMeta, item: FeedItem, zone: ZoneInfo) -> list[Component]:
    made: list[Component] = []
    if meta.profile in ("vtodo", "both"):
        made.append(_todo(item))
    if meta.profile in ("event-due", "both") and item.task.due is not None:
        made.append(_event(item, _due_dates(item.task), meta.alarms))
    if meta.profile == "event-span" and (item.task.due or item.task.planned_start):
        made.append(_event(item, _span_dates(item.task, zone), meta.alarms))
    return made


def _common(component: Component, item: FeedItem, kind: str) -> None:
    task = item.task
    component.add("UID", f"hermes-{task.task_id}-feed-{kind}@{UID_DOMAIN}")
    component.add("DTSTAMP", task.updated_at.astimezone(dt.UTC))
    component.add("LAST-MODIFIED", task.updated_at.astimezone(dt.UTC))
    component.add("SEQUENCE", max(item.version - 1, 0))
    if item.redaction == "busy":
        component.add("SUMMARY", BUSY.get(item.locale, BUSY["en"]))
        return
    component.add("SUMMARY", f"[{task.register_code}] {task.subject}")
    component.add("CATEGORIES", vCategory([task.register_name, *task.categories]))
    if item.redaction == "full":
        description = _full_description(item)
        if description:
            component.add("DESCRIPTION", description)


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


def _todo(item: FeedItem) -> Todo:
    todo = Todo()
    _common(todo, item, "todo")
    for name, value in ical.todo_dates(item.task):
        todo.add(name, value)
    if item.redaction != "busy":
        todo.add("STATUS", ical.todo_status(item.task.status))
        todo.add("PRIORITY", ical.PRIORITY_OUT.get(item.task.priority, 5))
        if item.task.status == "done":
            todo.add("PERCENT-COMPLETE", 100)
            if item.task.completed_at:
                todo.add("COMPLETED", item.task.completed_at.astimezone(dt.UTC))
    return todo


def _event(
    item: FeedItem, dates: tuple[dt.date | dt.datetime, dt.date | dt.datetime], alarms: bool
) -> Event:
    event = Event()
    _common(event, item, "event")
    event.add("DTSTART", dates[0])
    event.add("DTEND", dates[1])
    event.add("TRANSP", "TRANSPARENT")
    if item.redaction != "busy":
        event.add("STATUS", "CANCELLED" if item.task.status == "cancelled" else "CONFIRMED")
    if alarms and isinstance(dates[0], dt.datetime) and item.redaction != "busy":
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", f"[{item.task.register_code}] {item.task.subject}")
        alarm.add("TRIGGER", dt.timedelta(minutes=-15))
        event.add_component(alarm)
    return event


def _due_dates(task: ical.TaskData) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime]:
    """The due day as an all-day event, or a short event ending at a timed due."""
    assert task.due is not None
    if task.all_day:
        return task.due.date(), task.due.date() + dt.timedelta(days=1)
    due = task.due.astimezone(dt.UTC)
    return due - TIMED_EVENT, due


def _span_dates(task: ical.TaskData, zone: ZoneInfo) -> tuple[dt.date, dt.date]:
    """All days from the planned start to the due date, in the feed's time zone."""
    first = task.planned_start or task.due
    last = task.due or task.planned_start
    assert first is not None
    assert last is not None

    def day(value: dt.datetime) -> dt.date:
        return value.date() if task.all_day else value.astimezone(zone).date()

    start, end = day(first), day(last)
    return start, max(end, start) + dt.timedelta(days=1)


UID_DOMAIN = "hermes-groupware"
