"""The direct writer of new objects writes what icalendar writes, byte for byte."""

from __future__ import annotations

import datetime as dt
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


@pytest.mark.parametrize("component", ["VTODO", "VEVENT"])
@pytest.mark.parametrize("parent", [None, "hermes-1-register-han@hermes-groupware"])
@pytest.mark.parametrize("alarms", [None, ical.Alarms()])
def test_new_objects_are_written_as_icalendar_writes_them(
    component: str, parent: str | None, alarms: ical.Alarms | None
) -> None:
    compared = 0
    for task in CASES:
        if component == "VEVENT" and task.planned_start is None and task.due is None:
            continue
        placement = ical.Placement(
            uid=f"hermes-{task.task_id}-x@hermes-groupware",
            component=component,
            parent_uid=parent,
            alarms=alarms,
        )
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
