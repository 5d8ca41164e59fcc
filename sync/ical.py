"""Task <-> iCalendar: render a task as VTODO or VEVENT, patch stored text, read client edits.

Pure functions over plain dataclasses (no database), shared by CalDAV, feeds and e-mail.

Rules that clients force on us (see ``shared/interop-notes.md``):

* date-only dues are ``VALUE=DATE``; timed values are written in UTC, so no VTIMEZONE is needed;
* ``DTSTART`` is written only when it is before ``DUE`` (DAVx5/OpenTasks refuse DTSTART = DUE,
  Apple writes exactly that);
* ``CATEGORIES`` on one line; ``PRIORITY`` 1/5/9; all-day events end the next day (exclusive);
* whatever a client sent that we do not map is kept: an existing text is *patched*, never
  regenerated, and ``SEQUENCE`` rises only when something visible changed;
* in an employee's own collections, their pop-up reminders are VALARMs we own (``UID``
  ``hermes-reminder-<id>@…``); the client's own VALARMs are kept, and Thunderbird's
  ``X-MOZ-LASTACK``/``X-MOZ-SNOOZE-TIME`` are rendered from what the client said (stored on the
  reminders), so a dismissed alarm does not fire again on another device.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Component, Event, Todo
from icalendar.prop import vCategory

from sync.colours import nearest_css_colour
from sync.ical_text import raw
from sync.ical_writer import calendar_text

PRODID = "-//Hermes Groupware//Hermes CRM//PL"
FLOATING_ZONE = ZoneInfo("Europe/Warsaw")
DESCRIPTION_SEPARATOR = "\n\n——\n"
PRIORITY_OUT = {"high": 1, "normal": 5, "low": 9}
_STATUS_OUT = {
    "new": "NEEDS-ACTION",
    "waiting": "NEEDS-ACTION",
    "in_progress": "IN-PROCESS",
    "done": "COMPLETED",
    "cancelled": "CANCELLED",
}
#: Properties we own; everything else in a stored text belongs to the client and is kept.
MAPPED = frozenset(
    {
        "UID",
        "DTSTAMP",
        "CREATED",
        "LAST-MODIFIED",
        "SEQUENCE",
        "SUMMARY",
        "DESCRIPTION",
        "DTSTART",
        "DUE",
        "DTEND",
        "DURATION",
        "STATUS",
        "PERCENT-COMPLETE",
        "COMPLETED",
        "PRIORITY",
        "CATEGORIES",
        "CLASS",
        "RELATED-TO",
        "COLOR",
        "TRANSP",
        "URL",
        "X-HERMES-TASK-ID",
        "X-HERMES-NUMBER",
        "X-HERMES-REGISTER",
        "X-HERMES-CUSTOMER",
        "X-HERMES-STATUS",
    }
)
_BOOKKEEPING = frozenset({"DTSTAMP", "SEQUENCE", "LAST-MODIFIED"})
ALARM_UID_PREFIX = "hermes-reminder-"
LASTACK = "X-MOZ-LASTACK"
SNOOZE = "X-MOZ-SNOOZE-TIME"


class InvalidCalendarData(ValueError):
    """The client's text is not a calendar object we can take (reason in the message)."""


@dataclass(frozen=True)
class TaskData:
    """Everything rendering needs to know about a task, as plain values."""

    task_id: int
    number: str
    subject: str
    description: str
    status: str
    priority: str
    planned_start: dt.datetime | None
    due: dt.datetime | None
    all_day: bool
    completed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    register_code: str
    register_name: str
    register_colour: str
    customer: str | None = None
    contact: str | None = None
    categories: tuple[str, ...] = ()
    private: bool = False
    custom_fields: dict[str, str] = field(default_factory=dict)
    url: str | None = None


@dataclass(frozen=True)
class AlarmData:
    """A pop-up reminder of the collection's owner: ``at`` is when it goes off (UTC); a relative
    reminder (``relative_to`` ``due``/``planned_start``, ``offset_minutes``) is written relative
    to DTSTART/DUE/DTEND when that property carries exactly that date."""

    uid: str
    description: str
    at: dt.datetime
    relative_to: str | None = None
    offset_minutes: int | None = None
    acknowledged: dt.datetime | None = None


@dataclass(frozen=True)
class Alarms:
    """The owner's alarms on a task in one of their own collections, with the client state
    stored on them (the newest acknowledgement, the snooze)."""

    items: tuple[AlarmData, ...] = ()
    last_ack: dt.datetime | None = None
    snooze: dt.datetime | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing to write: no alarm and no client state."""
        return not (self.items or self.last_ack or self.snooze)


@dataclass(frozen=True)
class Placement:
    """How a task appears in one collection: its UID there and its parent's, if present.

    ``alarms`` is given in the owner's own collections only (None: VALARMs are left alone).
    """

    uid: str
    component: str  # "VTODO" or "VEVENT"
    parent_uid: str | None = None
    alarms: Alarms | None = None


@dataclass(frozen=True)
class Trigger:
    """A VALARM's TRIGGER: ``delta`` from the START or END of the component, or UTC ``at``."""

    related: str | None = None
    delta: dt.timedelta | None = None
    at: dt.datetime | None = None


@dataclass(frozen=True)
class ClientAlarm:
    """One of our VALARMs as a client sent it back (``uid`` None: it lost its UID)."""

    uid: str | None
    trigger: Trigger
    acknowledged: dt.datetime | None


@dataclass(frozen=True)
class ClientAlarmState:
    """What a client's PUT says about alarms: ours, and Thunderbird's dismiss and snooze."""

    alarms: tuple[ClientAlarm, ...]
    last_ack: dt.datetime | None
    snooze: dt.datetime | None


@dataclass(frozen=True)
class ClientFields:
    """What a client's VTODO or VEVENT says about the fields we map."""

    uid: str
    component: str
    summary: str | None
    description: str | None
    status: str | None
    completed_at: dt.datetime | None
    planned_start: dt.datetime | None
    due: dt.datetime | None
    all_day: bool
    priority: str | None
    categories: tuple[str, ...]
    parent_uid: str | None


# --------------------------------------------------------------------------- rendering


def render(task: TaskData, placement: Placement, base: str | None, now: dt.datetime) -> str:
    """The object's text: a fresh rendering, or ``base`` patched with the task's current values.

    ``base`` is returned unchanged when nothing visible changed (so its ETag stays). With
    ``placement.alarms`` the owner's reminders are written as VALARMs (see :class:`Alarms`).
    """
    wanted = _mapped_properties(task, placement)
    without_alarms = placement.alarms is None or placement.alarms.is_empty
    if base is None:
        if without_alarms:
            bookkeeping = _bookkeeping(task, placement, sequence=0, now=now)
            return calendar_text(PRODID, placement.component, [*bookkeeping, *wanted])
        return _new_with_icalendar(task, placement, wanted, now)
    if without_alarms:
        ours = _ours_only(base, placement.component)
        if ours is not None:
            return _rewritten(task, placement, base, lines=ours, wanted=wanted, now=now)
    return _patched(task, placement, base, wanted, now)


def _patched(
    task: TaskData, placement: Placement, base: str, wanted: list[tuple[str, Any]], now: dt.datetime
) -> str:
    """``base`` parsed, our properties and VALARMs replaced, the client's kept."""
    calendar = _parse(base)
    component = _main_component(calendar, placement.component)
    changed = not _same(component, wanted)
    if changed:
        sequence = int(component.get("SEQUENCE", 0)) + 1
        for name in [k for k in component if _is_mapped(k)]:
            del component[name]
        _write_mapped(component, task, placement, wanted, sequence=sequence, now=now)
    # alarms are not a visible change of the task: no new SEQUENCE for them
    alarms_changed = placement.alarms is not None and _patch_alarms(component, task, placement)
    if not (changed or alarms_changed):
        return base
    _valarms_last(component)
    return str(calendar.to_ical().decode("utf-8"))


#: the logical lines a text of ours starts and ends with, around the component's properties
_OUR_HEAD = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{PRODID}\r\nBEGIN:"
#: what may change without a visible change (compared without them; UID as in :func:`_same`)
_UNCOMPARED = ("UID:", "DTSTAMP:", "SEQUENCE:", "LAST-MODIFIED:")


def _ours_only(text: str, component: str) -> list[str] | None:
    """The component's logical lines when ``text`` holds nothing but what we write (no client
    property, no VALARM): true of every collection a client has not written to. Such a text
    is written anew, as icalendar would patch it, without parsing it (~2 ms a rendering)."""
    lines = _our_lines(text, component)
    if lines is None:
        return None
    for line in lines:
        name = line[: min(_end_of_name(line, ":"), _end_of_name(line, ";"))]
        if name not in MAPPED and not name.startswith("X-HERMES-"):
            return None
        if name == "SEQUENCE" and not (line.startswith("SEQUENCE:") and line[9:].isdigit()):
            return None  # as we write it, or icalendar decides
    return lines


def _our_lines(text: str, component: str) -> list[str] | None:
    """The component's unfolded lines, when ``text`` is framed as we write it."""
    head, tail = f"{_OUR_HEAD}{component}\r\n", f"END:{component}\r\nEND:VCALENDAR\r\n"
    if not (text.startswith(head) and text.endswith(tail)):
        return None
    return text[len(head) : -len(tail)].replace("\r\n ", "").split("\r\n")[:-1]


def _end_of_name(line: str, separator: str) -> int:
    position = line.find(separator)
    return len(line) if position < 0 else position


def _rewritten(
    task: TaskData,
    placement: Placement,
    base: str,
    *,
    lines: list[str],
    wanted: list[tuple[str, Any]],
    now: dt.datetime,
) -> str:
    """What :func:`_patched` makes of a text of ours, written directly: ``base`` itself when
    nothing visible changed, else every property anew with the next SEQUENCE."""
    sequence = next((int(line[9:]) for line in lines if line.startswith("SEQUENCE:")), 0)
    bookkeeping = _bookkeeping(task, placement, sequence=sequence + 1, now=now)
    text = calendar_text(PRODID, placement.component, [*bookkeeping, *wanted])
    if _compared(lines) == _compared(_our_lines(text, placement.component) or []):
        return base
    return text


def _compared(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith(_UNCOMPARED)]


def _new_with_icalendar(
    task: TaskData, placement: Placement, wanted: list[tuple[str, Any]], now: dt.datetime
) -> str:
    """A fresh rendering with our VALARMs (:mod:`sync.ical_writer` writes those without)."""
    calendar = _new_calendar()
    component = _component(placement.component)
    calendar.add_component(component)
    _write_mapped(component, task, placement, wanted, sequence=0, now=now)
    if placement.alarms is not None:
        _patch_alarms(component, task, placement)
    _valarms_last(component)
    return str(calendar.to_ical().decode("utf-8"))


def _bookkeeping(
    task: TaskData, placement: Placement, *, sequence: int, now: dt.datetime
) -> list[tuple[str, Any]]:
    return [
        ("UID", placement.uid),
        ("DTSTAMP", now.astimezone(dt.UTC)),
        ("SEQUENCE", sequence),
        ("LAST-MODIFIED", task.updated_at.astimezone(dt.UTC)),
    ]


def _write_mapped(
    component: Component,
    task: TaskData,
    placement: Placement,
    wanted: list[tuple[str, Any]],
    *,
    sequence: int,
    now: dt.datetime,
) -> None:
    for name, value in [*_bookkeeping(task, placement, sequence=sequence, now=now), *wanted]:
        _add(component, name, value)


def _mapped_properties(task: TaskData, placement: Placement) -> list[tuple[str, Any]]:
    props: list[tuple[str, Any]] = [
        ("CREATED", task.created_at.astimezone(dt.UTC)),
        ("SUMMARY", f"[{task.number}] {task.subject}"),
    ]
    description = _description(task)
    if description:
        props.append(("DESCRIPTION", description))
    props += todo_dates(task) if placement.component == "VTODO" else _event_dates(task)
    props.append(("STATUS", _status(task, placement.component)))
    if placement.component == "VTODO":
        if task.status == "done":
            props.append(("PERCENT-COMPLETE", 100))
            if task.completed_at:
                props.append(("COMPLETED", task.completed_at.astimezone(dt.UTC)))
        if task.status == "waiting":
            props.append(("X-HERMES-STATUS", "waiting"))
    else:
        props.append(("TRANSP", "TRANSPARENT"))  # a task plans time; it does not block it
        colour = nearest_css_colour(task.register_colour)
        if colour is not None:
            props.append(("COLOR", colour))
    props.append(("PRIORITY", PRIORITY_OUT.get(task.priority, 5)))
    props.append(("CATEGORIES", [task.register_name, *task.categories]))
    props.append(("CLASS", "PRIVATE" if task.private else "PUBLIC"))
    if placement.parent_uid:
        props.append(("RELATED-TO", placement.parent_uid))
    if task.url:
        props.append(("URL", task.url))
    props += [
        ("X-HERMES-TASK-ID", str(task.task_id)),
        ("X-HERMES-NUMBER", task.number),
        ("X-HERMES-REGISTER", task.register_code),
    ]
    if task.customer:
        props.append(("X-HERMES-CUSTOMER", raw(task.customer)))
    # X- values are written verbatim: a line break in one would end the line (icalendar fails)
    fields = sorted(task.custom_fields.items())
    props += [(f"X-HERMES-FIELD-{name.upper()}", raw(value)) for name, value in fields]
    return props


def _description(task: TaskData) -> str:
    footer = [f"Zadanie / Task: {task.number} ({task.register_name})"]
    if task.customer:
        footer.append(f"Klient / Customer: {task.customer}")
    if task.contact:
        footer.append(f"Kontakt / Contact: {task.contact}")
    if task.url:
        footer.append(task.url)
    body = task.description.strip()
    return (body + DESCRIPTION_SEPARATOR if body else "——\n") + "\n".join(footer)


def todo_dates(task: TaskData) -> list[tuple[str, Any]]:
    """DTSTART (only when before DUE) and DUE, as dates or UTC date-times."""
    due, start = _value(task.due, task.all_day), _value(task.planned_start, task.all_day)
    props: list[tuple[str, Any]] = []
    if start is not None and (due is None or task.planned_start < task.due):  # type: ignore[operator]
        props.append(("DTSTART", start))
    if due is not None:
        props.append(("DUE", due))
    return props


def _event_dates(task: TaskData) -> list[tuple[str, Any]]:
    start_at = task.planned_start or task.due
    if start_at is None:
        raise ValueError(f"task {task.number} has no dates for an event")
    end_at = task.due if task.due and task.due >= start_at else start_at
    if task.all_day:
        return [("DTSTART", start_at.date()), ("DTEND", shifted(end_at.date(), ONE_DAY))]
    if end_at == start_at:
        end_at = shifted(start_at, dt.timedelta(minutes=30))
    return [("DTSTART", start_at.astimezone(dt.UTC)), ("DTEND", end_at.astimezone(dt.UTC))]


ONE_DAY = dt.timedelta(days=1)
_Moment = TypeVar("_Moment", dt.date, dt.datetime)


def shifted(value: _Moment, delta: dt.timedelta) -> _Moment:
    """``value + delta``, or ``value`` past year 1 or 9999: a task due at the end of time (the
    "never" of some desktop data, written straight into the database) still renders."""
    try:
        return value + delta
    except OverflowError:
        return value


def _value(value: dt.datetime | None, all_day: bool) -> dt.date | dt.datetime | None:
    if value is None:
        return None
    return value.date() if all_day else value.astimezone(dt.UTC)


def _status(task: TaskData, component: str) -> str:
    if component == "VEVENT":
        return "CANCELLED" if task.status == "cancelled" else "CONFIRMED"
    return todo_status(task.status)


def todo_status(status: str) -> str:
    """The VTODO STATUS for a Hermes status (``waiting`` has none of its own)."""
    return _STATUS_OUT.get(status, "NEEDS-ACTION")


def _add(component: Component, name: str, value: Any) -> None:
    if name == "CATEGORIES":
        component.add(name, vCategory([c for c in value if c]))
    elif name == "RELATED-TO":
        component.add(name, value, parameters={"RELTYPE": "PARENT"})
    else:
        component.add(name, value)


def _same(component: Component, wanted: list[tuple[str, Any]]) -> bool:
    """Whether the component already shows exactly the values we would write."""
    theirs_named = {k.upper() for k in component if _is_mapped(k)} - _BOOKKEEPING - {"UID"}
    if theirs_named != {name for name, _ in wanted}:
        return False  # e.g. a client's new item: no need to write ours out to compare
    probe = _component(component.name or "VTODO")
    for name, value in wanted:
        _add(probe, name, value)
    mine = {k: _encoded(probe, k) for k in probe}
    theirs = {
        k: _encoded(component, k)
        for k in component
        if _is_mapped(k) and k not in _BOOKKEEPING and k != "UID"
    }
    return mine == theirs


def _is_mapped(name: str) -> bool:
    """Ours to write: the listed properties and every X-HERMES-* (custom fields included)."""
    upper = name.upper()
    return upper in MAPPED or upper.startswith("X-HERMES-")


def _encoded(component: Component, name: str) -> str:
    value = component.get(name)
    values = value if isinstance(value, list) else [value]
    return "\n".join(v.to_ical().decode() if hasattr(v, "to_ical") else str(v) for v in values)


# --------------------------------------------------------------------------- alarms


def alarm_uid(reminder_id: int, domain: str) -> str:
    """The UID of a reminder's VALARM (RFC 9074; Apple also reads ``X-WR-ALARMUID``)."""
    return f"{ALARM_UID_PREFIX}{reminder_id}@{domain}"


def reminder_id_of(uid: str) -> int | None:
    """The reminder behind one of our alarm UIDs."""
    if not uid.startswith(ALARM_UID_PREFIX):
        return None
    number = uid[len(ALARM_UID_PREFIX) :].split("@", 1)[0]
    return int(number) if number.isdigit() else None


def _related(task: TaskData, component: str, relative_to: str | None) -> str | None:
    """START or END when that property of the rendering carries exactly the reminder's date."""
    if relative_to is None:
        return None
    if component == "VTODO":
        dates = dict(todo_dates(task))
        if relative_to == "due":
            return "END" if "DUE" in dates else None
        return "START" if "DTSTART" in dates else None
    return _event_related(task, relative_to)


def _event_related(task: TaskData, relative_to: str) -> str | None:
    """DTSTART is the planned start, else the due date; DTEND is the due date only for a timed
    event that ends after it starts (all-day events end the next day)."""
    if relative_to == "planned_start":
        return "START" if task.planned_start is not None else None
    if task.due is None:
        return None
    if task.planned_start is None:
        return "START"
    return "END" if not task.all_day and task.due > task.planned_start else None


def alarm_trigger(task: TaskData, component: str, alarm: AlarmData) -> Trigger:
    """The TRIGGER we write: relative where the date is in the component, else absolute."""
    related = _related(task, component, alarm.relative_to)
    if related is not None and alarm.offset_minutes is not None:
        return Trigger(related=related, delta=dt.timedelta(minutes=alarm.offset_minutes))
    return Trigger(at=_utc_seconds(alarm.at))


def reminder_time(
    task: TaskData, component: str, trigger: Trigger
) -> tuple[str | None, int | None, dt.datetime | None] | None:
    """A client's TRIGGER as a reminder time: ``(relative_to, offset_minutes, None)`` or
    ``(None, None, at)``; None when it counts from a date the task does not have there."""
    if trigger.at is not None:
        return None, None, trigger.at
    if trigger.delta is None:
        return None
    minutes = round(trigger.delta.total_seconds() / 60)
    for relative_to in ("due", "planned_start"):
        if _related(task, component, relative_to) == trigger.related:
            return relative_to, minutes, None
    return None


def _utc_seconds(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _alarm_component(alarm: AlarmData, trigger: Trigger) -> Component:
    valarm = Alarm()
    valarm.add("UID", alarm.uid)
    valarm.add("X-WR-ALARMUID", alarm.uid)
    valarm.add("ACTION", "DISPLAY")
    valarm.add("DESCRIPTION", alarm.description)
    if trigger.at is not None:
        valarm.add("TRIGGER", trigger.at, parameters={"VALUE": "DATE-TIME"})
    else:
        valarm.add("TRIGGER", trigger.delta, parameters={"RELATED": trigger.related or "START"})
    acknowledged = _dismissed(alarm)
    if acknowledged is not None:
        valarm.add("ACKNOWLEDGED", acknowledged)
    return valarm


def _dismissed(alarm: AlarmData) -> dt.datetime | None:
    """RFC 9074 ACKNOWLEDGED, written once the alarm went off and was dismissed."""
    if alarm.acknowledged is None or alarm.acknowledged < alarm.at:
        return None
    return _utc_seconds(alarm.acknowledged)


_AlarmKey = tuple[str | None, str, Trigger | None, str, dt.datetime | None]


def _alarm_key(valarm: Component) -> _AlarmKey:
    """What we compare of a VALARM: a client may re-serialise it without changing it."""
    return (
        _alarm_uid_of(valarm),
        str(valarm.get("ACTION", "")).upper(),
        _trigger_of(valarm),
        str(valarm.get("DESCRIPTION", "")),
        _decoded_time(valarm, "ACKNOWLEDGED"),
    )


def _alarm_uid_of(valarm: Component) -> str | None:
    uid = str(valarm.get("UID") or valarm.get("X-WR-ALARMUID") or "").strip()
    return uid or None


def _trigger_of(valarm: Component) -> Trigger | None:
    if "TRIGGER" not in valarm:
        return None
    try:
        value = valarm.decoded("TRIGGER")
    except (ValueError, KeyError):
        return None
    if isinstance(value, dt.datetime):
        zoned = value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # RFC 5545: UTC
        return Trigger(at=_utc_seconds(zoned))
    if isinstance(value, dt.timedelta):
        params = getattr(valarm.get("TRIGGER"), "params", {})
        return Trigger(related=str(params.get("RELATED", "START")).upper(), delta=value)
    return None


def _decoded_time(component: Component, name: str) -> dt.datetime | None:
    """A UTC date-time property (also an unknown X- one, which icalendar leaves as text);
    None when it is absent or unreadable."""
    value = component.get(name)
    if value is None:
        return None
    text = (value.to_ical().decode() if hasattr(value, "to_ical") else str(value)).strip()
    for layout in ("%Y%m%dT%H%M%SZ", "%Y%m%dT%H%M%S"):  # UTC; a floating one is taken as UTC
        try:
            return dt.datetime.strptime(text, layout).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def _owned_alarms(component: Component, triggers: set[Trigger]) -> list[Component]:
    """Our VALARMs in a text: those with our UID, and UID-less ones with a trigger we write
    (a client that dropped the alarm's UID)."""
    owned = []
    for sub in component.subcomponents:
        if sub.name != "VALARM":
            continue
        uid = _alarm_uid_of(sub)
        if (uid is not None and uid.startswith(ALARM_UID_PREFIX)) or (
            uid is None and _trigger_of(sub) in triggers
        ):
            owned.append(sub)
    return owned


def _patch_alarms(component: Component, task: TaskData, placement: Placement) -> bool:
    """Bring our VALARMs and the X-MOZ state in line; whether anything changed."""
    alarms = placement.alarms or Alarms()
    wanted = [(a, alarm_trigger(task, placement.component, a)) for a in alarms.items]
    owned = _owned_alarms(component, {t for _, t in wanted})
    want_keys = Counter((a.uid, "DISPLAY", t, a.description, _dismissed(a)) for a, t in wanted)
    changed = False
    if Counter(_alarm_key(c) for c in owned) != want_keys:
        component.subcomponents = [
            c for c in component.subcomponents if not any(c is o for o in owned)
        ]
        for alarm, trigger in wanted:
            component.add_component(_alarm_component(alarm, trigger))
        changed = True
    if alarms.last_ack is not None:
        shown = _decoded_time(component, LASTACK)
        if shown is None or shown < _utc_seconds(alarms.last_ack):
            _set_time_property(component, LASTACK, alarms.last_ack)
            changed = True
    if alarms.items:
        snooze = _utc_seconds(alarms.snooze) if alarms.snooze else None
        if _decoded_time(component, SNOOZE) != snooze or (snooze is None and SNOOZE in component):
            _set_time_property(component, SNOOZE, snooze)
            changed = True
    return changed


def _set_time_property(component: Component, name: str, value: dt.datetime | None) -> None:
    """Thunderbird's X-MOZ times, written as it writes them (UTC, basic format)."""
    if name in component:
        del component[name]
    if value is not None:
        component.add(name, _utc_seconds(value).strftime("%Y%m%dT%H%M%SZ"))


def read_alarms(text: str, component_name: str) -> ClientAlarmState:
    """Our alarms and Thunderbird's alarm state in a PUT body (the client's own alarms are
    not ours and are left out).

    Raises:
        InvalidCalendarData: as :func:`read_client`.
    """
    component = _main_component(_parse(text), component_name)
    alarms = []
    for sub in component.subcomponents:
        if sub.name != "VALARM":
            continue
        uid = _alarm_uid_of(sub)
        trigger = _trigger_of(sub)
        if trigger is None or (uid is not None and not uid.startswith(ALARM_UID_PREFIX)):
            continue
        alarms.append(ClientAlarm(uid, trigger, _decoded_time(sub, "ACKNOWLEDGED")))
    return ClientAlarmState(
        alarms=tuple(alarms),
        last_ack=_decoded_time(component, LASTACK),
        snooze=_decoded_time(component, SNOOZE),
    )


def _valarms_last(component: Component) -> None:
    """Keep the client's VALARMs, after our properties (icalendar writes subcomponents last)."""
    alarms = [c for c in component.subcomponents if c.name == "VALARM"]
    component.subcomponents = [c for c in component.subcomponents if c.name != "VALARM"] + alarms


def _new_calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    return calendar


def _component(name: str) -> Component:
    return Todo() if name == "VTODO" else Event()


# --------------------------------------------------------------------------- parsing


def _parse(text: str) -> Calendar:
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as exc:
        raise InvalidCalendarData(f"not valid iCalendar: {exc}") from exc
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise InvalidCalendarData("not a VCALENDAR")
    return calendar


def _main_component(calendar: Calendar, name: str) -> Component:
    """The master component (no RECURRENCE-ID) of the wanted type."""
    candidates = [c for c in calendar.subcomponents if c.name in ("VTODO", "VEVENT", "VJOURNAL")]
    if not candidates:
        raise InvalidCalendarData("no VTODO or VEVENT in the calendar object")
    wrong = [c for c in candidates if c.name != name]
    if wrong:
        raise InvalidCalendarData(f"this collection holds {name} only, got {wrong[0].name}")
    masters = [c for c in candidates if "RECURRENCE-ID" not in c]
    if not masters:
        raise InvalidCalendarData("only recurrence overrides, no master component")
    return masters[0]


def read_client(text: str, component_name: str) -> ClientFields:
    """What the client wants, from a PUT body.

    Raises:
        InvalidCalendarData: not iCalendar, wrong component type, or no UID.
    """
    if "\x00" in text:  # PostgreSQL stores no NUL in text: a 400, not a 500 on the INSERT
        raise InvalidCalendarData("NUL characters are not allowed")
    component = _main_component(_parse(text), component_name)
    uid = str(component.get("UID", "")).strip()
    if not uid:
        raise InvalidCalendarData("the object has no UID")
    start, start_is_date = _when(component, "DTSTART")
    try:
        due, due_is_date = _due(component, component_name, start, start_is_date)
    except OverflowError as exc:  # DTEND:00010101 or DURATION past year 9999
        raise InvalidCalendarData("the end or due date is out of range") from exc
    completed = _when(component, "COMPLETED")[0]
    return ClientFields(
        uid=uid,
        component=component_name,
        summary=_text(component, "SUMMARY"),
        description=_text(component, "DESCRIPTION"),
        status=_client_status(component, completed),
        completed_at=completed,
        planned_start=start,
        due=due,
        all_day=bool((start is None or start_is_date) and (due is None or due_is_date))
        and (start is not None or due is not None),
        priority=_client_priority(component),
        categories=_categories(component),
        parent_uid=_parent(component),
    )


def _due(
    component: Component, component_name: str, start: dt.datetime | None, start_is_date: bool
) -> tuple[dt.datetime | None, bool]:
    """A VTODO's DUE or a VEVENT's last day or end (DTEND, else DTSTART plus DURATION)."""
    due, due_is_date = _when(component, "DUE" if component_name == "VTODO" else "DTEND")
    if due is None and start is not None and "DURATION" in component:
        due, due_is_date = start + _duration(component), start_is_date
    if component_name == "VEVENT" and due_is_date and due is not None:
        due -= ONE_DAY  # exclusive end of an all-day event
    return due, due_is_date


def _when(component: Component, name: str) -> tuple[dt.datetime | None, bool]:
    """A date or date-time as an aware UTC datetime, and whether it was a date."""
    if name not in component:
        return None, False
    try:
        value = component.decoded(name)
    except (ValueError, KeyError) as exc:
        raise InvalidCalendarData(f"{name}: {exc}") from exc
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # floating: the user's wall clock; Europe/Warsaw by default
            value = value.replace(tzinfo=FLOATING_ZONE)
        return value.astimezone(dt.UTC), False
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC), True
    raise InvalidCalendarData(f"{name}: not a date")


def _duration(component: Component) -> dt.timedelta:
    try:
        value = component.decoded("DURATION")
    except (ValueError, KeyError) as exc:
        raise InvalidCalendarData(f"DURATION: {exc}") from exc
    if not isinstance(value, dt.timedelta):
        raise InvalidCalendarData("DURATION: not one duration")
    return value


def _integer(component: Component, name: str) -> int | None:
    """An INTEGER property; a client's junk or a repeated one is refused, not a crash."""
    value = component.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except (ValueError, TypeError) as exc:
        raise InvalidCalendarData(f"{name}: not one integer") from exc


def _text(component: Component, name: str) -> str | None:
    value = component.get(name)
    return None if value is None else str(value)


def _client_status(component: Component, completed: dt.datetime | None) -> str | None:
    """All three completion styles: STATUS:COMPLETED, PERCENT-COMPLETE:100, COMPLETED alone."""
    status = str(component.get("STATUS", "")).upper()
    percent = _integer(component, "PERCENT-COMPLETE")
    if status == "COMPLETED" or (percent is not None and percent >= 100) or completed:
        return "done"
    if status == "CANCELLED":
        return "cancelled"
    if status == "IN-PROCESS":
        return "in_progress"
    if str(component.get("X-HERMES-STATUS", "")).lower() == "waiting":
        return "waiting"
    return "new" if status in ("NEEDS-ACTION", "TENTATIVE", "CONFIRMED", "") else None


def _client_priority(component: Component) -> str | None:
    value = _integer(component, "PRIORITY")
    if value is None or value == 0:  # RFC 5545: 0 is undefined; leave the priority alone
        return None
    if 1 <= value <= 4:
        return "high"
    if 6 <= value <= 9:
        return "low"
    return "normal"


def _categories(component: Component) -> tuple[str, ...]:
    raw = component.get("CATEGORIES")
    if raw is None:
        return ()
    entries = raw if isinstance(raw, list) else [raw]
    names: list[str] = []
    for entry in entries:
        for category in getattr(entry, "cats", [entry]):
            text = str(category).strip()
            if text and text not in names:
                names.append(text)
    return tuple(names)


def _parent(component: Component) -> str | None:
    related = component.get("RELATED-TO")
    if related is None:
        return None
    for value in related if isinstance(related, list) else [related]:
        reltype = str(getattr(value, "params", {}).get("RELTYPE", "PARENT")).upper()
        if reltype == "PARENT":
            return str(value)
    return None


def strip_summary(summary: str, number: str) -> str:
    """The subject from a SUMMARY we rendered as ``[NUMBER] subject`` (the client may keep it)."""
    prefix = f"[{number}]"
    text = summary.strip()
    return text[len(prefix) :].strip() if text.startswith(prefix) else text


def strip_description(description: str) -> str:
    """The task description from a DESCRIPTION we rendered with a footer."""
    if description.startswith("——\n"):
        return ""
    return description.split(DESCRIPTION_SEPARATOR, 1)[0].strip()


def time_range(task: TaskData, component: str) -> tuple[int | None, int | None]:
    """(start, end) POSIX seconds such that a calendar-query time range [qs, qe) matches the
    rendered object exactly when ``qs < end and start < qe`` (None is an open end).

    Follows RFC 4791 §9.9 as Radicale evaluates it, for the properties we write: DTSTART and
    DUE, DTSTART or DUE alone, else CREATED and COMPLETED. So SQL answers time-range queries
    on our objects exactly, with no per-item check.
    """
    if component == "VEVENT":
        dates = dict(_event_dates(task))
        return _ts(dates["DTSTART"]), _ts(dates["DTEND"])
    dates = dict(todo_dates(task))  # what is written: no DTSTART unless it is before DUE
    start, due = dates.get("DTSTART"), dates.get("DUE")
    if start is not None and due is not None:
        return _ts(start), max(_ts(due), _ts(start) + 1)
    if start is not None:
        return _ts(start), _ts(start) + 1
    if due is not None:
        return _ts(due) - 1, _ts(due)
    created = _ts(task.created_at)
    if task.status == "done" and task.completed_at is not None:
        completed = _ts(task.completed_at)
        return min(created, completed) - 1, max(created, completed) + 1
    return created, None


def _ts(value: Any) -> int:
    if isinstance(value, dt.datetime):
        return int(value.replace(microsecond=0).timestamp())
    return int(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp())
