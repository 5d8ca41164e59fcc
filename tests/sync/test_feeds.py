"""Feed rendering per profile and redaction, read back by two independent parsers."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import vobject
from icalendar import Calendar

from sync.feeds import FeedItem, FeedMeta, render_feed
from sync.ical import TaskData

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
TASK = TaskData(
    task_id=42,
    number="REK/2026/0042",
    subject="Pęknięta obudowa 🛠️ – pilne",
    description="Klient dzwonił dwa razy.",
    status="in_progress",
    priority="high",
    planned_start=dt.datetime(2026, 3, 27, tzinfo=dt.UTC),
    due=dt.datetime(2026, 3, 30, tzinfo=dt.UTC),
    all_day=True,
    completed_at=None,
    created_at=NOW,
    updated_at=NOW,
    register_code="REK",
    register_name="Reklamacje",
    register_colour="#C62828",
    customer="Żabka Polska sp. z o.o.",
    contact="Łucja Śliwa <lucja@zabka.pl>",
)
TIMED = dataclasses.replace(
    TASK,
    task_id=43,
    all_day=False,
    planned_start=dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC),  # across the DST change
    due=dt.datetime(2026, 3, 29, 14, 0, tzinfo=dt.UTC),
)


def _meta(profile: str, **kwargs: object) -> FeedMeta:
    return FeedMeta(
        name="Reklamacje",
        description="Hermes CRM: Reklamacje",
        time_zone="Europe/Warsaw",
        ttl_minutes=60,
        profile=profile,
        colour="#C62828",
        **kwargs,
    )  # type: ignore[arg-type]


def _render(profile: str, redaction: str = "full", *tasks: TaskData, **meta: object) -> str:
    items = [
        FeedItem(
            task=t,
            version=3,
            redaction=redaction,
            locale="pl",
            notes=("Rozmowa: zamówi w piątek.",),
        )
        for t in (tasks or (TASK,))
    ]
    body = render_feed(_meta(profile, **meta), items)
    text = body.decode("utf-8")
    assert "\n" not in text.replace("\r\n", "")  # CRLF only
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    vobject.readOne(text)  # a second, independent parser accepts it
    return text


def _components(text: str, name: str) -> list:  # type: ignore[type-arg]
    return [c for c in Calendar.from_ical(text).walk(name)]


def test_calendar_properties_for_strict_clients() -> None:
    calendar = Calendar.from_ical(_render("event-due"))
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["X-WR-CALNAME"] == "Reklamacje"
    assert calendar["X-WR-TIMEZONE"] == "Europe/Warsaw"
    assert calendar.decoded("REFRESH-INTERVAL") == dt.timedelta(hours=1)
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"  # X- properties are read as text
    assert calendar["X-APPLE-CALENDAR-COLOR"] == "#C62828"
    assert calendar["COLOR"] == "firebrick"


def test_event_due_all_day_has_an_exclusive_end() -> None:
    (event,) = _components(_render("event-due"), "VEVENT")
    assert event.decoded("DTSTART") == dt.date(2026, 3, 30)
    assert event.decoded("DTEND") == dt.date(2026, 3, 31)
    assert event["SUMMARY"] == "[REK] Pęknięta obudowa 🛠️ – pilne"
    assert event["TRANSP"] == "TRANSPARENT"
    assert event["SEQUENCE"] == 2


def test_event_due_timed_is_a_short_event_ending_at_due() -> None:
    (event,) = _components(_render("event-due", "full", TIMED), "VEVENT")
    assert event.decoded("DTEND") == dt.datetime(2026, 3, 29, 14, 0, tzinfo=dt.UTC)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(minutes=30)
    assert "TZID" not in _render("event-due", "full", TIMED)  # UTC, never floating


def test_event_span_covers_start_to_due_in_the_feed_zone() -> None:
    (event,) = _components(_render("event-span", "full", TIMED), "VEVENT")
    # 23:00 UTC on 28 March is already the 29th in Warsaw (after midnight CET)
    assert event.decoded("DTSTART") == dt.date(2026, 3, 29)
    assert event.decoded("DTEND") == dt.date(2026, 3, 30)


def test_both_profiles_use_different_stable_uids() -> None:
    text = _render("both")
    (todo,) = _components(text, "VTODO")
    (event,) = _components(text, "VEVENT")
    assert str(todo["UID"]) != str(event["UID"])
    assert _render("both") == text  # the same data renders the same bytes


def test_busy_shows_nothing_but_time() -> None:
    (event,) = _components(_render("event-due", "busy"), "VEVENT")
    assert event["SUMMARY"] == "Zajęty"
    for hidden in ("DESCRIPTION", "CATEGORIES", "STATUS", "LOCATION"):
        assert hidden not in event
    text = _render("event-due", "busy")
    assert "Żabka" not in text
    assert "REK/2026" not in text


def test_no_notes_has_no_description() -> None:
    (event,) = _components(_render("event-due", "no-notes"), "VEVENT")
    assert "DESCRIPTION" not in event
    assert event["SUMMARY"].startswith("[REK]")


def test_full_shows_description_notes_customer() -> None:
    (event,) = _components(_render("event-due"), "VEVENT")
    description = str(event["DESCRIPTION"])
    for expected in ("Klient dzwonił", "zamówi w piątek", "REK/2026/0042", "Żabka", "Łucja"):
        assert expected in description


def test_vtodo_profile_keeps_task_semantics() -> None:
    done = dataclasses.replace(TASK, status="done", completed_at=NOW)
    (todo,) = _components(_render("vtodo", "full", done), "VTODO")
    assert todo["STATUS"] == "COMPLETED"
    assert todo["PERCENT-COMPLETE"] == 100
    assert todo.decoded("DUE") == dt.date(2026, 3, 30)


@pytest.mark.parametrize("profile", ["event-due", "both"])
def test_alarms_only_when_asked_and_after_the_properties(profile: str) -> None:
    assert "VALARM" not in _render(profile, "full", TIMED)
    text = _render(profile, "full", TIMED, alarms=True)
    event = text[text.index("BEGIN:VEVENT") : text.index("END:VEVENT")]
    assert event.index("BEGIN:VALARM") > event.index("TRANSP:")
    assert "TRIGGER:-PT15M" in event


def test_long_lines_fold_without_splitting_characters() -> None:
    long = dataclasses.replace(TASK, subject="Zażółć gęślą jaźń " * 12)
    text = _render("event-due", "full", long)
    (event,) = _components(text, "VEVENT")
    assert str(event["SUMMARY"]) == "[REK] " + long.subject


def test_tasks_without_dates_are_left_out_of_event_profiles() -> None:
    undated = dataclasses.replace(TASK, planned_start=None, due=None)
    assert _components(_render("event-due", "full", undated), "VEVENT") == []
    assert len(_components(_render("vtodo", "full", undated), "VTODO")) == 1
