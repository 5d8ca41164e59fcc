"""RRULE-style VTIMEZONE blocks: the rules Outlook needs, and the same instants as zoneinfo."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject  # type: ignore[import-untyped]

from sync.timezones import vtimezone

D = dt.datetime


def _observances(zone: str, year: int) -> dict[str, icalendar.Component]:
    """The observances as a client reads them (serialised and parsed back)."""
    timezone = icalendar.Timezone.from_ical(vtimezone(zone, year).to_ical())
    assert timezone.name == "VTIMEZONE"
    assert str(timezone["TZID"]) == zone
    names = [c.name for c in timezone.subcomponents]
    assert len(names) == len(set(names)), names
    return {str(c.name): c for c in timezone.subcomponents}


def _rule(observance: icalendar.Component) -> dict[str, list[object]]:
    assert "RDATE" not in observance
    rule = observance["RRULE"]
    assert isinstance(rule, icalendar.vRecur)
    return dict(rule)


@pytest.mark.parametrize(
    ("zone", "year", "daylight", "standard"),
    [
        # zone, year, (DTSTART, from, to, name, BYMONTH, BYDAY) for DAYLIGHT, then STANDARD
        (
            "Europe/Warsaw",
            2026,
            (D(1970, 3, 29, 2), "+0100", "+0200", "CEST", 3, "-1SU"),
            (D(1970, 10, 25, 3), "+0200", "+0100", "CET", 10, "-1SU"),
        ),
        (
            # 2027-03-28 is the 4th (and last) Sunday; 2026-03-29 the 5th: both give -1SU
            "Europe/Warsaw",
            2027,
            (D(1970, 3, 29, 2), "+0100", "+0200", "CEST", 3, "-1SU"),
            (D(1970, 10, 25, 3), "+0200", "+0100", "CET", 10, "-1SU"),
        ),
        (
            "America/New_York",
            2026,
            (D(1970, 3, 8, 2), "-0500", "-0400", "EDT", 3, "2SU"),
            (D(1970, 11, 1, 2), "-0400", "-0500", "EST", 11, "1SU"),
        ),
        (
            # southern hemisphere: summer time starts in October
            "Australia/Sydney",
            2026,
            (D(1970, 10, 4, 2), "+1000", "+1100", "AEDT", 10, "1SU"),
            (D(1970, 4, 5, 3), "+1100", "+1000", "AEST", 4, "1SU"),
        ),
        (
            # tzdata models Irish winter time as negative DST: summer must still be DAYLIGHT
            "Europe/Dublin",
            2026,
            (D(1970, 3, 29, 1), "+0000", "+0100", "IST", 3, "-1SU"),
            (D(1970, 10, 25, 2), "+0100", "+0000", "GMT", 10, "-1SU"),
        ),
    ],
)
def test_yearly_rules(
    zone: str,
    year: int,
    daylight: tuple[D, str, str, str, int, str],
    standard: tuple[D, str, str, str, int, str],
) -> None:
    observances = _observances(zone, year)
    assert set(observances) == {"DAYLIGHT", "STANDARD"}
    for name, (start, offset_from, offset_to, tzname, month, byday) in (
        ("DAYLIGHT", daylight),
        ("STANDARD", standard),
    ):
        observance = observances[name]
        text = observance.to_ical().decode()
        assert observance.decoded("DTSTART") == start, name
        assert f"TZOFFSETFROM:{offset_from}\r\n" in text, text
        assert f"TZOFFSETTO:{offset_to}\r\n" in text, text
        assert str(observance["TZNAME"]) == tzname
        assert _rule(observance) == {"FREQ": ["YEARLY"], "BYMONTH": [month], "BYDAY": [byday]}


def test_the_serialised_rule_is_what_outlook_reads() -> None:
    text = vtimezone("Europe/Warsaw", 2026).to_ical().decode()
    assert "RDATE" not in text
    assert text.count("RRULE:FREQ=YEARLY;") == 2
    assert "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\n" in text
    assert "BYDAY=-1SU" in text and "BYMONTH=3" in text and "BYMONTH=10" in text


@pytest.mark.parametrize(("zone", "offset", "tzname"), [("Asia/Tokyo", "+0900", "JST")])
def test_zone_without_dst_has_one_standard(zone: str, offset: str, tzname: str) -> None:
    observances = _observances(zone, 2026)
    assert list(observances) == ["STANDARD"]
    standard = observances["STANDARD"]
    text = standard.to_ical().decode()
    assert f"TZOFFSETFROM:{offset}\r\n" in text and f"TZOFFSETTO:{offset}\r\n" in text
    assert str(standard["TZNAME"]) == tzname
    assert "RRULE" not in standard and "RDATE" not in standard


def test_year_after_dst_was_abolished() -> None:
    """Mexico dropped DST in October 2022: 2022 still has rules, 2023 is one STANDARD."""
    assert set(_observances("America/Mexico_City", 2022)) == {"DAYLIGHT", "STANDARD"}
    observances = _observances("America/Mexico_City", 2023)
    assert list(observances) == ["STANDARD"]
    assert "TZOFFSETTO:-0600" in observances["STANDARD"].to_ical().decode()


# --------------------------------------------------------------------------- same instants


def _calendar(zone: str, year: int, local_times: list[D]) -> tuple[str, str]:
    """A VEVENT per local time, with a TZID unknown to any library (so the VTIMEZONE is used).

    The TZID is unique per call: icalendar caches time zones by TZID for the whole process.
    """
    tzid = f"Hermes-{uuid.uuid4().hex[:8]}/{zone}"
    timezone = vtimezone(zone, year)
    timezone["TZID"] = icalendar.vText(tzid)
    calendar = icalendar.Calendar()
    calendar.add("PRODID", "-//Hermes Groupware//tests//EN")
    calendar.add("VERSION", "2.0")
    calendar.add_component(timezone)
    for number, local in enumerate(local_times):
        event = icalendar.Event()
        event.add("UID", f"event-{number}")
        event.add("DTSTAMP", D(2026, 1, 1, tzinfo=dt.UTC))
        event.add("DTSTART", local, parameters={"TZID": tzid})
        calendar.add_component(event)
    text = calendar.to_ical().decode()
    assert f"DTSTART;TZID={tzid}:" in text  # stays local, not converted by icalendar on the way
    return text, tzid


def _utc(value: object) -> D:
    assert isinstance(value, D) and value.tzinfo is not None
    return value.astimezone(dt.UTC)


CASES = {
    "Europe/Warsaw": [
        D(2026, 1, 15, 12),
        D(2026, 3, 25, 12),  # after the 4th Sunday, before the last: still winter
        D(2026, 3, 29, 1, 59),
        D(2026, 3, 29, 3, 0),
        D(2026, 7, 1, 12),
        D(2026, 10, 25, 1, 59),
        D(2026, 10, 25, 3, 30),
        D(2026, 12, 31, 23, 0),
        D(2027, 3, 28, 1, 30),  # 2027: the last Sunday of March is the 4th
        D(2027, 3, 28, 3, 30),
        D(2027, 10, 31, 3, 30),
    ],
    "America/New_York": [
        D(2026, 1, 15, 12),
        D(2026, 3, 8, 1, 59),
        D(2026, 3, 8, 3, 0),
        D(2026, 11, 1, 0, 30),
        D(2026, 11, 1, 2, 30),
        D(2027, 3, 14, 3, 30),
        D(2027, 11, 7, 2, 30),
    ],
    "Australia/Sydney": [
        D(2026, 1, 15, 12),
        D(2026, 4, 5, 1, 59),
        D(2026, 4, 5, 3, 30),
        D(2026, 7, 1, 12),
        D(2026, 10, 4, 3, 0),
        D(2026, 12, 1, 12),
    ],
    "America/Santiago": [D(2026, 3, 1, 12), D(2026, 4, 5, 12), D(2026, 9, 6, 12), D(2026, 12, 24)],
    "Asia/Tokyo": [D(2026, 1, 15, 12), D(2026, 7, 1, 12)],
}


@pytest.mark.parametrize("zone", sorted(CASES))
def test_local_times_resolve_like_zoneinfo(zone: str) -> None:
    local_times = CASES[zone]
    expected = [t.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC) for t in local_times]
    text, tzid = _calendar(zone, 2026, local_times)

    events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert [_utc(e.decoded("DTSTART")) for e in events] == expected

    parsed = vobject.readOne(text)
    starts = [e.dtstart.value for e in parsed.vevent_list]
    assert all(str(getattr(s.tzinfo, "tzid", tzid)) == tzid for s in starts)
    assert [_utc(s) for s in starts] == expected


def test_every_week_of_the_year_resolves_like_zoneinfo() -> None:
    zone = "Europe/Warsaw"
    local_times = [D(2026, 1, 4, 12) + dt.timedelta(days=7 * w) for w in range(52)]
    local_times += [D(2026, 1, 1, 0, 30), D(2026, 12, 31, 23, 30)]
    expected = [t.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC) for t in local_times]
    text, _ = _calendar(zone, 2026, local_times)
    events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert [_utc(e.decoded("DTSTART")) for e in events] == expected
