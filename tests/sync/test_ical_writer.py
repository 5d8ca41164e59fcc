"""The direct writer of new objects writes what icalendar writes, byte for byte."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest
from icalendar import Calendar

from sync import ical

NOW = dt.datetime(2026, 11, 27, 13, 45, 12, 345678, tzinfo=dt.UTC)
TEXTS = [
    "",
    "Oferta",
    "Pilne, do piątku; koniecznie",
    "Linia 1\nLinia 2\r\nLinia 3\rkoniec",
    "Zażółć gęślą jaźń " * 9,  # folds inside two-byte characters
    "Emoji 🗓️ " * 12,  # and four-byte ones
    "ścieżka C:\\dane\\plik.txt",
    "a" * 73 + "\\" + "b" * 10,  # a backslash right at the fold
    "<b>&amp;</b> \"cudzysłów\" 'apostrof'",
    "x" * 300,
]
ZONE = dt.timezone(dt.timedelta(hours=2))


def _task(rng: random.Random, task_id: int) -> ical.TaskData:
    start = dt.datetime(
        2026, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), tzinfo=ZONE
    )
    due = start + dt.timedelta(hours=rng.choice([-5, 0, 1, 30, 24 * 9]))
    status = rng.choice(["new", "waiting", "in_progress", "done", "cancelled"])
    return ical.TaskData(
        task_id=task_id,
        number=f"HAN/2026/{task_id:05d}",
        subject=rng.choice(TEXTS[1:]),
        description=rng.choice(TEXTS),
        status=status,
        priority=rng.choice(["high", "normal", "low"]),
        planned_start=rng.choice([None, start]),
        due=rng.choice([None, due]) if rng.random() < 0.3 else due,
        all_day=rng.random() < 0.4,
        completed_at=due if status == "done" and rng.random() < 0.8 else None,
        created_at=start - dt.timedelta(days=3),
        updated_at=start - dt.timedelta(days=1, microseconds=17),
        register_code=rng.choice(["HAN", "REK"]),
        register_name=rng.choice(["Handel", "Reklamacje, skargi; inne"]),
        register_colour=rng.choice(["#1E88E5", "#e53935", "#123456"]),
        customer=rng.choice([None, "ACME sp. z o.o.", "Kowalski; Nowak, s.c."]),
        contact=rng.choice([None, "Jan Nowak", "Anna, dział zakupów"]),
        categories=tuple(rng.sample(["pilne", "a,b", "x;y", "", "Zażółć"], rng.randint(0, 3))),
        private=rng.random() < 0.2,
        custom_fields=rng.choice([{}, {"kwota": "1,5"}, {"nip": "123", "uwagi": "a;b\nc"}]),
        url=rng.choice([None, "https://hermes.example/task/7?a=1,2;b"]),
    )


CASES = [_task(random.Random(seed), 100 + seed) for seed in range(150)]
#: every kind of placement: both components, with and without a parent, empty alarms or none
PLACEMENTS = pytest.mark.parametrize(
    ("component", "parent", "alarms"),
    list(
        itertools.product(
            ["VTODO", "VEVENT"],
            [None, "hermes-1-register-han@hermes-groupware"],
            [None, ical.Alarms()],
        )
    ),
)


def _placement(
    task: ical.TaskData, component: str, parent: str | None, alarms: ical.Alarms | None
) -> ical.Placement | None:
    """Where ``task`` is rendered; None for an event of a task without dates."""
    if component == "VEVENT" and task.planned_start is None and task.due is None:
        return None
    return ical.Placement(
        uid=f"hermes-{task.task_id}-x@hermes-groupware",
        component=component,
        parent_uid=parent,
        alarms=alarms,
    )


@PLACEMENTS
def test_new_objects_are_written_as_icalendar_writes_them(
    component: str, parent: str | None, alarms: ical.Alarms | None
) -> None:
    compared = 0
    for task in CASES:
        placement = _placement(task, component, parent, alarms)
        if placement is None:
            continue
        direct = ical.render(task, placement, None, NOW)
        wanted = ical._mapped_properties(task, placement)
        assert direct == ical._new_with_icalendar(task, placement, wanted, NOW), task
        compared += 1
    assert compared > 100


def test_a_new_object_with_alarms_still_gets_them() -> None:
    task = CASES[0]
    alarm = ical.AlarmData(
        uid="hermes-reminder-5@hermes-groupware",
        description="Przypomnienie",
        at=dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC),
    )
    placement = ical.Placement(uid="u", component="VTODO", alarms=ical.Alarms(items=(alarm,)))
    text = ical.render(task, placement, None, NOW)
    todo = Calendar.from_ical(text).walk("VTODO")[0]
    assert [c.name for c in todo.subcomponents] == ["VALARM"]
    assert "hermes-reminder-5@hermes-groupware" in text


EARLIER = NOW - dt.timedelta(days=2, seconds=7)


@PLACEMENTS
def test_texts_of_ours_are_rewritten_as_icalendar_patches_them(
    component: str, parent: str | None, alarms: ical.Alarms | None
) -> None:
    """A stored text with nothing of a client's is written anew instead of parsed: the same
    bytes as the icalendar patch, base itself when nothing visible changed, SEQUENCE on."""
    compared = unchanged = 0
    for before, after in zip(CASES, CASES[1:] + CASES[:1], strict=True):
        placement = _placement(before, component, parent, alarms)
        if placement is None or _placement(after, component, parent, alarms) is None:
            continue
        base = ical.render(before, placement, None, EARLIER)
        for _ in range(2):  # a second edit on top of the rewritten text
            assert ical._ours_only(base, component) is not None
            for task in (before, after):
                wanted = ical._mapped_properties(task, placement)
                rewritten = ical.render(task, placement, base, NOW)
                assert rewritten == ical._patched(task, placement, base, wanted, NOW)
                unchanged += rewritten is base
                compared += 1
            base = ical.render(after, placement, base, NOW)
    assert compared > 200
    assert unchanged >= compared // 4  # ``before`` on its own rendering, at least


@pytest.mark.parametrize(
    "client_line",
    ["X-MOZ-LASTACK:20261127T120000Z", "X-APPLE-SORT-ORDER:3", "SEQUENCE;X-A=1:2", "SEQUENCE:x"],
)
def test_a_text_with_anything_of_a_client_is_patched(client_line: str) -> None:
    task = CASES[0]
    placement = ical.Placement(uid="u@hermes-groupware", component="VTODO", parent_uid=None)
    ours = ical.render(task, placement, None, EARLIER)
    assert ical._ours_only(ours, "VTODO") is not None
    theirs = ours.replace("END:VTODO", f"{client_line}\r\nEND:VTODO")
    assert ical._ours_only(theirs, "VTODO") is None
    with_alarm = ours.replace(
        "END:VTODO", "BEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\nEND:VTODO"
    )
    assert ical._ours_only(with_alarm, "VTODO") is None
    assert ical._ours_only(ours.replace(ical.PRODID, "-//Mozilla.org//EN"), "VTODO") is None
