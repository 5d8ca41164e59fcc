"""Feed rendering per profile and redaction, read back by two independent parsers."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import vobject
from icalendar import Calendar

from sync.feeds import FeedItem, FeedMeta, ItemTextCache, feed_body, item_text, render_feed
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


#: What icalendar wrote for these items before the feed wrote its lines itself: the writer
#: must keep every byte (property order, folding, escaping, VALARM after the properties).
GOLDEN = r"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Hermes Groupware//Hermes CRM//PL
CALSCALE:GREGORIAN
METHOD:PUBLISH
X-WR-CALDESC:Hermes CRM: Reklamacje, dyrektor
X-WR-CALNAME:Reklamacje, dyrektor
COLOR:firebrick
REFRESH-INTERVAL;VALUE=DURATION:PT1H30M
X-APPLE-CALENDAR-COLOR:#C62828
X-PUBLISHED-TTL:PT1H30M
X-WR-TIMEZONE:Europe/Warsaw
BEGIN:VTODO
CATEGORIES:Reklamacje
DESCRIPTION:Klient dzwonił dwa razy.\n\n— Rozmowa: zamówi w piątek.\n
 \nREK/2026/0042 (Reklamacje)\nŻabka Polska sp. z o.o.\nŁucja Śliwa <luc
 ja@zabka.pl>
DTSTAMP:20261120T090000Z
DTSTART;VALUE=DATE:20260327
DUE;VALUE=DATE:20260330
LAST-MODIFIED:20261120T090000Z
PRIORITY:1
SEQUENCE:2
STATUS:IN-PROCESS
SUMMARY:[REK] Pęknięta obudowa 🛠️ – pilne
UID:hermes-42-feed-todo@hermes-groupware
END:VTODO
BEGIN:VEVENT
SUMMARY:[REK] Pęknięta obudowa 🛠️ – pilne
DTSTART;VALUE=DATE:20260330
DTEND;VALUE=DATE:20260331
DTSTAMP:20261120T090000Z
UID:hermes-42-feed-event@hermes-groupware
SEQUENCE:2
CATEGORIES:Reklamacje
DESCRIPTION:Klient dzwonił dwa razy.\n\n— Rozmowa: zamówi w piątek.\n
 \nREK/2026/0042 (Reklamacje)\nŻabka Polska sp. z o.o.\nŁucja Śliwa <luc
 ja@zabka.pl>
LAST-MODIFIED:20261120T090000Z
STATUS:CONFIRMED
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VTODO
CATEGORIES:Reklamacje,pilne\, VIP,a\;b
COMPLETED:20261120T090000Z
DTSTAMP:20261120T090000Z
DTSTART:20260328T230000Z
DUE:20260329T140000Z
LAST-MODIFIED:20261120T090000Z
PERCENT-COMPLETE:100
PRIORITY:1
SEQUENCE:0
STATUS:COMPLETED
SUMMARY:[REK] Zwrot\; 2 szt.\, C:\\Dane\nlinia 2 – zażółć gęślą j
 aźń\, zażółć gęślą jaźń
UID:hermes-44-feed-todo@hermes-groupware
END:VTODO
BEGIN:VEVENT
SUMMARY:[REK] Zwrot\; 2 szt.\, C:\\Dane\nlinia 2 – zażółć gęślą j
 aźń\, zażółć gęślą jaźń
DTSTART:20260329T133000Z
DTEND:20260329T140000Z
DTSTAMP:20261120T090000Z
UID:hermes-44-feed-event@hermes-groupware
SEQUENCE:0
CATEGORIES:Reklamacje,pilne\, VIP,a\;b
LAST-MODIFIED:20261120T090000Z
STATUS:CONFIRMED
TRANSP:TRANSPARENT
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:[REK] Zwrot\; 2 szt.\, C:\\Dane\nlinia 2 – zażółć gęśl
 ą jaźń\, zażółć gęślą jaźń
TRIGGER:-PT15M
END:VALARM
END:VEVENT
BEGIN:VTODO
DTSTAMP:20261120T090000Z
DTSTART:20260328T230000Z
DUE:20260329T140000Z
LAST-MODIFIED:20261120T090000Z
SEQUENCE:6
SUMMARY:Busy
UID:hermes-45-feed-todo@hermes-groupware
END:VTODO
BEGIN:VEVENT
SUMMARY:Busy
DTSTART:20260329T133000Z
DTEND:20260329T140000Z
DTSTAMP:20261120T090000Z
UID:hermes-45-feed-event@hermes-groupware
SEQUENCE:6
LAST-MODIFIED:20261120T090000Z
TRANSP:TRANSPARENT
END:VEVENT
END:VCALENDAR
"""


def _golden_items() -> list[FeedItem]:
    odd = dataclasses.replace(
        TIMED,
        task_id=44,
        subject="Zwrot; 2 szt., C:\\Dane\nlinia 2 – zażółć gęślą jaźń, zażółć gęślą jaźń",
        categories=("pilne, VIP", "a;b"),
        status="done",
        completed_at=NOW,
    )
    return [
        FeedItem(task=TASK, version=3, redaction="full", notes=("Rozmowa: zamówi w piątek.",)),
        FeedItem(task=odd, version=1, redaction="no-notes"),
        FeedItem(
            task=dataclasses.replace(TIMED, task_id=45), version=7, redaction="busy", locale="en"
        ),
    ]


def test_golden_bytes_of_both_profiles_with_every_redaction_and_alarms() -> None:
    meta = FeedMeta(
        name="Reklamacje, dyrektor",
        description="Hermes CRM: Reklamacje, dyrektor",
        time_zone="Europe/Warsaw",
        ttl_minutes=90,
        profile="both",
        colour="#C62828",
        alarms=True,
    )
    body = render_feed(meta, _golden_items())
    assert body.decode() == GOLDEN.replace("\n", "\r\n")
    vobject.readOne(body.decode())


def test_text_round_trips_through_both_parsers() -> None:
    subject = "a, b; c\\d\ne \\N 🛠️ – " + "Zażółć gęślą jaźń " * 5
    categories = ("x, y", "z;w", "back\\slash", "Ł🛠️")
    task = dataclasses.replace(TASK, subject=subject, categories=categories)
    text = _render("event-due", "full", task, alarms=True)
    (event,) = _components(text, "VEVENT")
    assert str(event["SUMMARY"]) == f"[REK] {subject}"
    assert event["CATEGORIES"].cats == ["Reklamacje", *categories]
    other = vobject.readOne(text).vevent
    assert other.summary.value == f"[REK] {subject}"
    assert other.categories.value == ["Reklamacje", *categories]


def test_folded_lines_never_split_a_character() -> None:
    long = dataclasses.replace(TASK, subject="🛠️ł€" * 40, description="ą" * 500)
    for line in _render("both", "full", long).encode().split(b"\r\n"):
        assert len(line) <= 75
        line.decode()  # each physical line is whole UTF-8 on its own


def test_calendar_name_keeps_its_characters_and_a_line_break_cannot_end_the_line() -> None:
    meta = dataclasses.replace(_meta("event-due"), name="Reklamacje, dyrektor; 🛠️\nlinia 2")
    text = render_feed(meta, []).decode()
    assert "X-WR-CALNAME:Reklamacje, dyrektor; 🛠️\\nlinia 2\r\n" in text  # as icalendar wrote X-
    assert Calendar.from_ical(text)["METHOD"] == "PUBLISH"
    vobject.readOne(text)


def test_empty_values() -> None:
    bare = dataclasses.replace(TASK, subject="", description="", customer=None, contact=None)
    (event,) = _components(_render("event-due", "full", bare), "VEVENT")
    assert str(event["SUMMARY"]) == "[REK] "
    assert str(event["DESCRIPTION"]) == "— Rozmowa: zamówi w piątek.\n\nREK/2026/0042 (Reklamacje)"
    empty = render_feed(_meta("vtodo"), []).decode()
    assert empty.startswith("BEGIN:VCALENDAR\r\n") and empty.endswith("\r\nEND:VCALENDAR\r\n")
    assert "BEGIN:VTODO" not in empty


def test_feed_body_of_item_texts_is_the_render() -> None:
    """The HTTP layer assembles cached item texts with feed_body: the same bytes."""
    meta = _meta("both", alarms=True)
    items = _golden_items()
    texts = [item_text(meta, item) for item in items]
    assert feed_body(meta, texts) == render_feed(meta, items)
    undated = FeedItem(
        task=dataclasses.replace(TASK, due=None, planned_start=None), version=1, redaction="full"
    )
    assert item_text(_meta("event-due"), undated) == b""  # nothing to show: no empty line
    assert feed_body(_meta("event-due"), [b""]) == render_feed(_meta("event-due"), [])


def test_item_text_cache_keeps_the_most_recently_used() -> None:
    cache = ItemTextCache(capacity=2)
    cache.put("a", b"A")
    cache.put("b", b"B")
    assert cache.get("a") == b"A"  # now "b" is the least recently used
    cache.put("c", b"C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"A", None, b"C")
    assert len(cache) == 2
    cache.clear()
    assert cache.get("a") is None


@pytest.mark.parametrize("profile", ["event-due", "event-span", "vtodo"])
def test_a_task_due_at_the_end_of_time_is_served(profile: str) -> None:
    """9999-12-31 is the "never" of some desktop data: the day after it does not exist."""
    last_day = dataclasses.replace(TASK, due=dt.datetime(9999, 12, 31, tzinfo=dt.UTC))
    first_moment = dataclasses.replace(TIMED, due=dt.datetime(1, 1, 1, 0, 10, tzinfo=dt.UTC))
    text = _render(profile, "full", last_day, first_moment)
    assert len(_components(text, "VTODO" if profile == "vtodo" else "VEVENT")) == 2
