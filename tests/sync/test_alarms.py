"""``sync.ical`` alarms: the owner's reminders as VALARMs, patched in place, read back."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import icalendar
import pytest

from sync.ical import (
    AlarmData,
    Alarms,
    Placement,
    TaskData,
    Trigger,
    alarm_trigger,
    read_alarms,
    reminder_time,
    render,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
LATER = NOW + dt.timedelta(hours=1)
DUE = dt.datetime(2026, 3, 27, 15, 0, tzinfo=UTC)
START = dt.datetime(2026, 3, 26, 9, 0, tzinfo=UTC)
UID = "hermes-42-tasks@hermes.example"
ALARM_UID = "hermes-reminder-7@hermes.example"


def task(**changes: Any) -> TaskData:
    base = TaskData(
        task_id=42,
        number="HAN/2026/0042",
        subject="Oferta",
        description="",
        status="new",
        priority="normal",
        planned_start=None,
        due=DUE,
        all_day=False,
        completed_at=None,
        created_at=NOW,
        updated_at=NOW,
        register_code="HAN",
        register_name="Zadania handlowe",
        register_colour="#2E7D32",
    )
    return dataclasses.replace(base, **changes)


def alarm(**changes: Any) -> AlarmData:
    base = AlarmData(
        uid=ALARM_UID,
        description="Zadzwoń",
        at=DUE - dt.timedelta(minutes=30),
        relative_to="due",
        offset_minutes=-30,
    )
    return dataclasses.replace(base, **changes)


def placement(component: str = "VTODO", *items: AlarmData, **state: Any) -> Placement:
    return Placement(UID, component, alarms=Alarms(items=items, **state))


def main(text: str) -> icalendar.cal.Component:
    calendar = icalendar.Calendar.from_ical(text)
    return next(c for c in calendar.subcomponents if c.name in ("VTODO", "VEVENT"))


def valarms(text: str) -> list[icalendar.cal.Component]:
    return [c for c in main(text).subcomponents if c.name == "VALARM"]


@pytest.mark.parametrize(
    ("component", "data", "relative_to", "expected"),
    [
        ("VTODO", task(), "due", Trigger("END", dt.timedelta(minutes=-30))),
        (
            "VTODO",
            task(planned_start=START),
            "planned_start",
            Trigger("START", dt.timedelta(minutes=-30)),
        ),
        ("VTODO", task(planned_start=DUE), "planned_start", None),  # DTSTART = DUE: not written
        ("VEVENT", task(), "due", Trigger("START", dt.timedelta(minutes=-30))),  # starts at due
        ("VEVENT", task(planned_start=START), "due", Trigger("END", dt.timedelta(minutes=-30))),
        (
            "VEVENT",
            task(planned_start=START),
            "planned_start",
            Trigger("START", dt.timedelta(minutes=-30)),
        ),
        ("VEVENT", task(planned_start=START, all_day=True), "due", None),  # ends the next day
    ],
)
def test_relative_where_the_date_is_in_the_component(
    component: str, data: TaskData, relative_to: str, expected: Trigger | None
) -> None:
    reminder = alarm(relative_to=relative_to)
    got = alarm_trigger(data, component, reminder)
    assert got == (expected or Trigger(at=reminder.at))
    assert reminder_time(data, component, got) == (
        (relative_to, -30, None) if expected else (None, None, reminder.at)
    )


def test_a_rendering_with_alarms_is_stable_and_keeps_client_alarms() -> None:
    theirs = (
        "BEGIN:VALARM\r\nUID:tb-1\r\nACTION:DISPLAY\r\nDESCRIPTION:Mój\r\n"
        "TRIGGER;RELATED=END:-P1D\r\nEND:VALARM\r\n"
    )
    fresh = render(task(), placement("VTODO", alarm()), None, NOW)
    (ours,) = valarms(fresh)
    assert str(ours["UID"]) == str(ours["X-WR-ALARMUID"]) == ALARM_UID
    assert "TRIGGER;RELATED=END:-PT30M" in fresh and "ACKNOWLEDGED" not in fresh
    assert render(task(), placement("VTODO", alarm()), fresh, LATER) is fresh
    with_theirs = fresh.replace("END:VTODO", theirs + "END:VTODO")
    assert render(task(), placement("VTODO", alarm()), with_theirs, LATER) is with_theirs
    without = render(task(), placement("VTODO"), with_theirs, LATER)  # the reminder was deleted
    assert [str(a["UID"]) for a in valarms(without)] == ["tb-1"]
    assert int(main(without)["SEQUENCE"]) == 0  # an alarm is no visible change of the task
    # outside the owner's collections VALARMs are left alone
    assert render(task(), Placement(UID, "VTODO"), with_theirs, LATER) is with_theirs


def test_a_client_that_drops_alarm_uids_gets_no_duplicate() -> None:
    fresh = render(task(), placement("VTODO", alarm()), None, NOW)
    stripped = "".join(
        line
        for line in fresh.splitlines(keepends=True)
        if "ALARMUID" not in line and not line.startswith("UID:hermes-reminder")
    )
    patched = render(task(), placement("VTODO", alarm()), stripped, LATER)
    assert [str(a["UID"]) for a in valarms(patched)] == [ALARM_UID]


def test_thunderbird_state_is_rendered() -> None:
    acknowledged = DUE - dt.timedelta(minutes=29)
    snooze = DUE + dt.timedelta(minutes=5)
    reminder = alarm(acknowledged=acknowledged)
    text = render(
        task(), placement("VTODO", reminder, last_ack=acknowledged, snooze=snooze), None, NOW
    )
    assert "X-MOZ-LASTACK:20260327T143100Z" in text
    assert "X-MOZ-SNOOZE-TIME:20260327T150500Z" in text
    assert valarms(text)[0].decoded("ACKNOWLEDGED") == acknowledged
    # an older acknowledgement never lowers the client's; the snooze is ours
    newer = text.replace("X-MOZ-LASTACK:20260327T143100Z", "X-MOZ-LASTACK:20260327T150000Z")
    cleared = render(task(), placement("VTODO", reminder, last_ack=acknowledged), newer, LATER)
    assert "X-MOZ-LASTACK:20260327T150000Z" in cleared and "X-MOZ-SNOOZE-TIME" not in cleared


def test_read_alarms_takes_ours_and_thunderbirds_state() -> None:
    text = render(task(), placement("VTODO", alarm()), None, NOW).replace(
        "END:VTODO",
        "X-MOZ-LASTACK:20260327T143100Z\r\nX-MOZ-SNOOZE-TIME:20260327T150500Z\r\n"
        "BEGIN:VALARM\r\nUID:tb-1\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;VALUE=DATE-TIME:20260327T120000Z\r\n"
        "ACKNOWLEDGED:20260327T120100Z\r\nEND:VALARM\r\nEND:VTODO",
    )
    state = read_alarms(text, "VTODO")
    assert state.last_ack == dt.datetime(2026, 3, 27, 14, 31, tzinfo=UTC)
    assert state.snooze == dt.datetime(2026, 3, 27, 15, 5, tzinfo=UTC)
    assert [(a.uid, a.trigger, a.acknowledged) for a in state.alarms] == [
        (ALARM_UID, Trigger("END", dt.timedelta(minutes=-30)), None),
        (
            None,
            Trigger(at=dt.datetime(2026, 3, 27, 12, 0, tzinfo=UTC)),
            dt.datetime(2026, 3, 27, 12, 1, tzinfo=UTC),
        ),
    ]
