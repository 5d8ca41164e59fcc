"""RRULE-style ``VTIMEZONE`` blocks built from ``zoneinfo``, for clients that need a ``TZID``.

Outlook requires a ``VTIMEZONE`` for every ``TZID``, and it shifts events by an hour when the
block lists its transitions as ``RDATE`` values (what icalendar's ``Timezone.from_tzid``
writes). It reads yearly rules correctly, so we write one ``STANDARD`` and one ``DAYLIGHT``
observance, each with a yearly ``RRULE`` taken from the zone's real transitions in a given year.
Like Thunderbird, libical and Google, the rules are dated from 1970, so every date of that year
falls after the first onset of both observances. No tables: everything comes from ``zoneinfo``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

RULES_FROM = 1970
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY = 86400


@dataclass(frozen=True)
class _Transition:
    """One change of UTC offset: local wall time of the onset (in the old offset) and offsets."""

    onset: dt.datetime
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str


def vtimezone(zone_name: str, year: int) -> Timezone:
    """A ``VTIMEZONE`` for ``zone_name`` with yearly rules that match ``zoneinfo`` in ``year``.

    Zones without a change of offset in ``year`` get a single ``STANDARD``. A zone that changes
    its offset once, or more than twice, in ``year`` has no yearly rule; it gets one observance
    per change, without ``RRULE`` (exact for ``year``).
    """
    zone = ZoneInfo(zone_name)
    changes = _transitions(zone, year)
    timezone = Timezone()
    timezone.add("TZID", zone_name)
    if len(changes) == 2 and changes[0].offset_from == changes[1].offset_to:
        summer = max(changes, key=lambda c: c.offset_to)
        for change in changes:
            kind = TimezoneDaylight() if change is summer else TimezoneStandard()
            observance = _observance(
                kind, _first(change.onset), change.offset_from, change.offset_to, change.name
            )
            observance.add("RRULE", _rule(change.onset))
            timezone.add_component(observance)
        return timezone
    new_year = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    offset, name = _offset(zone, new_year), new_year.astimezone(zone).tzname() or zone_name
    start = dt.datetime(RULES_FROM, 1, 1)  # noqa: DTZ001 - VTIMEZONE onsets are local times
    timezone.add_component(_observance(TimezoneStandard(), start, offset, offset, name))
    for change in changes:  # no yearly rule: one observance per change, exact for ``year``
        kind = TimezoneDaylight() if change.offset_to > change.offset_from else TimezoneStandard()
        timezone.add_component(
            _observance(kind, change.onset, change.offset_from, change.offset_to, change.name)
        )
    return timezone


def _transitions(zone: ZoneInfo, year: int) -> list[_Transition]:
    """Every change of UTC offset during ``year``, found day by day and bisected to the second."""
    start = int(dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC).timestamp())
    found: list[_Transition] = []
    for day in range(start, end, _DAY):
        before, after = _offset(zone, _at(day)), _offset(zone, _at(day + _DAY))
        if before == after:
            continue
        low, high = day, day + _DAY  # offset(low) == before, offset(high) != before
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if _offset(zone, _at(middle)) == before else (low, middle)
        instant = _at(high)
        onset = (instant + before).replace(tzinfo=None)
        name = instant.astimezone(zone).tzname() or ""
        found.append(_Transition(onset, before, _offset(zone, instant), name))
    return found


def _at(timestamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


def _offset(zone: ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset


def _observance(
    observance: TimezoneStandard | TimezoneDaylight,
    start: dt.datetime,
    offset_from: dt.timedelta,
    offset_to: dt.timedelta,
    name: str,
) -> TimezoneStandard | TimezoneDaylight:
    observance.add("DTSTART", start)
    observance.add("TZOFFSETFROM", offset_from)
    observance.add("TZOFFSETTO", offset_to)
    observance.add("TZNAME", name)
    return observance


def _nth(onset: dt.datetime) -> int:
    """Which weekday of its month the onset falls on: 1..4, or -1 for the last one."""
    days_in_month = calendar.monthrange(onset.year, onset.month)[1]
    return -1 if onset.day + 7 > days_in_month else (onset.day - 1) // 7 + 1


def _rule(onset: dt.datetime) -> dict[str, object]:
    weekday = _WEEKDAYS[onset.weekday()]
    return {"FREQ": "YEARLY", "BYMONTH": onset.month, "BYDAY": f"{_nth(onset)}{weekday}"}


def _first(onset: dt.datetime) -> dt.datetime:
    """The rule's occurrence in ``RULES_FROM`` (DTSTART must be the first instance)."""
    nth, weekday = _nth(onset), onset.weekday()
    days_in_month = calendar.monthrange(RULES_FROM, onset.month)[1]
    days = [
        d
        for d in range(1, days_in_month + 1)
        if dt.date(RULES_FROM, onset.month, d).weekday() == weekday
    ]
    day = days[nth - 1] if nth > 0 else days[-1]
    return onset.replace(year=RULES_FROM, day=day)
