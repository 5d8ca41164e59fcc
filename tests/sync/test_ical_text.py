"""The direct iCalendar writer: escaping, folding and value formats, checked against RFC 5545
and against what icalendar writes for the same values (the feed's bytes must not change)."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from icalendar import Event

from sync.ical_text import date, duration, fold, raw, text, utc

#: characters that stress escaping and folding: multi-byte (2, 3 and 4 octets), escapes, caret
ALPHABET = "abc xyzĄłŻó€𝄞🛠️\\^,;:\"'\t\n" + "x" * 12


def _physical_lines(folded: str) -> list[bytes]:
    return folded.encode().split(b"\r\n")


def _unfold(folded: str) -> str:
    return folded.replace("\r\n ", "")


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("", ""),
        ("plain ąę 🛠️", "plain ąę 🛠️"),
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("a\\b", "a\\\\b"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\nb"),
        ("a\rb", "a\\nb"),
        ("\\n", "\\\\n"),  # a backslash and an n, not a line break
        ("C:\\Nowy", "C:\\\\Nowy"),  # icalendar turns \N into a line break; we keep it
        ("x,;\\\n", "x\\,\\;\\\\\\n"),
    ],
)
def test_text_escapes_what_rfc_5545_says(value: str, escaped: str) -> None:
    assert text(value) == escaped


def test_raw_keeps_everything_but_line_breaks() -> None:
    assert raw("A, B; C\\D") == "A, B; C\\D"
    assert raw("A\r\nB\nC\rD") == "A\\nB\\nC\\nD"


@pytest.mark.parametrize("size", [0, 1, 73, 74])
def test_lines_under_75_octets_are_not_folded(size: int) -> None:
    assert fold("x" * size) == "x" * size
    assert fold("ł" * (size // 2)) == "ł" * (size // 2)


def test_a_line_of_75_octets_is_folded() -> None:
    assert fold("x" * 75) == "x" * 74 + "\r\n x"
    assert fold("x" * 148) == "x" * 74 + "\r\n " + "x" * 74
    assert fold("x" * 149) == "x" * 74 + "\r\n " + "x" * 74 + "\r\n x"


@pytest.mark.parametrize(("char", "octets"), [("ł", 2), ("€", 3), ("🛠", 4)])
def test_a_multibyte_character_is_never_split(char: str, octets: int) -> None:
    for lead in range(70, 75):  # the character starts on each octet around the limit
        line = "x" * lead + char + "y" * 10
        folded = fold(line)
        first, *rest = _physical_lines(folded)
        assert len(first) <= 74
        first.decode()  # a whole UTF-8 sequence, or this raises
        if lead + octets <= 74:  # it fits: on the first line, whole
            assert first.startswith(b"x" * lead + char.encode())
        else:  # it does not: the first line stops before it
            assert first == b"x" * lead
            assert rest[0].startswith(b" " + char.encode())
        assert _unfold(folded) == line


def test_a_fold_never_follows_a_backslash() -> None:
    line = "x" * 73 + "\\,rest"
    folded = fold(line)
    assert folded == "x" * 73 + "\r\n \\,rest"
    assert _unfold(folded) == line


@pytest.mark.parametrize("seed", range(20))
def test_folding_round_trips_and_keeps_every_line_short(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        line = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 400)))
        line = text(line)
        folded = fold(line)
        assert _unfold(folded) == line
        for physical in _physical_lines(folded):
            assert len(physical) <= 75
            physical.decode()


@pytest.mark.parametrize("seed", range(10))
def test_text_lines_are_what_icalendar_writes(seed: int) -> None:
    """Same bytes as icalendar for a TEXT property (values without a literal ``\\N``)."""
    rng = random.Random(seed)
    for _ in range(40):
        value = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 300)))
        event = Event()
        event.add("SUMMARY", value)
        expected = event.to_ical().decode().split("\r\n", 1)[1].rsplit("\r\nEND:VEVENT", 1)[0]
        assert fold(f"SUMMARY:{text(value)}") == expected


def test_dates_and_times() -> None:
    assert date(dt.date(2026, 3, 30)) == "20260330"
    assert date(dt.date(987, 1, 2)) == "09870102"
    warsaw = dt.datetime(2026, 3, 29, 3, 30, 15, 999_999, tzinfo=ZoneInfo("Europe/Warsaw"))
    assert utc(warsaw) == "20260329T013015Z"  # CEST: UTC+2, microseconds dropped
    assert utc(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == "20260101T000000Z"


@pytest.mark.parametrize(
    ("minutes", "seconds", "expected"),
    [
        (60, 0, "PT1H"),
        (90, 0, "PT1H30M"),
        (15, 0, "PT15M"),
        (-15, 0, "-PT15M"),
        (0, 0, "P0D"),
        (1440, 0, "P1D"),
        (1500, 0, "P1DT1H"),
        (10080, 0, "P7D"),
        (60, 5, "PT1H0M5S"),
        (0, 30, "PT30S"),
    ],
)
def test_durations(minutes: int, seconds: int, expected: str) -> None:
    value = dt.timedelta(minutes=minutes, seconds=seconds)
    assert duration(value) == expected
    event = Event()
    event.add("DURATION", value)
    assert f"DURATION:{expected}\r\n" in event.to_ical().decode()  # as icalendar writes it
