"""``sync.ical``: golden renderings, patching of stored text, and what real clients send.

Golden files live in ``tests/data/ical/golden`` (LF line ends there, for readable diffs; the
wire format is checked separately). Regenerate them after an intended change with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/sync/test_ical.py`` and review the diff.
Client texts in ``tests/data/ical/clients`` are composed to match what each client writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject  # type: ignore[import-untyped]
from radicale.item import filter as radicale_filter

from sync.ical import (
    DESCRIPTION_SEPARATOR,
    ClientFields,
    InvalidCalendarData,
    Placement,
    TaskData,
    read_client,
    render,
    strip_description,
    strip_summary,
    time_range,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "ical"
GOLDEN = DATA / "golden"
CLIENTS = DATA / "clients"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

UTC = dt.UTC
WARSAW = ZoneInfo("Europe/Warsaw")
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
LATER = dt.datetime(2026, 3, 21, 8, 30, tzinfo=UTC)
UID = "hermes-42-tasks@hermes.example"
PARENT_UID = "hermes-41-tasks@hermes.example"
LONG_TEXT = (
    "Zażółć gęślą jaźń — przegląd umowy 📄✅; klient prosi o zmiany, w paragrafach 3, 7 i 12. "
    "Łódź, Kraków, Gdańsk 🚀🇵🇱👍🏽.\n"
) * 30


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def task(**changes: Any) -> TaskData:
    base = TaskData(
        task_id=42,
        number="ZAD/2026/0042",
        subject="Przegląd umowy",
        description="Sprawdzić paragraf 7.",
        status="new",
        priority="normal",
        planned_start=None,
        due=utc(2026, 3, 27, 15, 0),
        all_day=False,
        completed_at=None,
        created_at=utc(2026, 3, 1, 9, 0),
        updated_at=utc(2026, 3, 20, 10, 0),
        register_code="SPR",
        register_name="Sprzedaż",
        register_colour="#2e8b57",
        customer="ACME Sp. z o.o.",
    )
    return dataclasses.replace(base, **changes)


CASES: dict[str, TaskData] = {
    "all-day": task(
        planned_start=utc(2026, 3, 12), due=utc(2026, 3, 16), all_day=True, priority="low"
    ),
    "dst-warsaw": task(
        planned_start=dt.datetime(2026, 3, 28, 23, 30, tzinfo=WARSAW),
        due=dt.datetime(2026, 3, 29, 3, 30, tzinfo=WARSAW),
    ),
    "done": task(status="done", completed_at=utc(2026, 3, 26, 7, 15)),
    "waiting": task(status="waiting", categories=("VIP", "Pilne")),
    "private": task(private=True, priority="high"),
    "diacritics-emoji": task(
        subject="Zażółć gęślą jaźń — spotkanie w ŁODZI 🚀🎉",
        description="Kawa ☕, ciastka 🍰; potem „negocjacje”.",
        categories=("Ważne", "Łódź"),
    ),
    "long-description": task(
        description=LONG_TEXT,
        contact="Jan Kowalski <jan@acme.example>",
        url="https://crm.hermes.example/tasks/42",
        custom_fields={"budget": "12000", "source": "targi"},
    ),
    "subtask": task(planned_start=utc(2026, 3, 23, 8, 0)),
}
PARENTS = {"subtask": PARENT_UID}


def placement(case: str, component: str) -> Placement:
    return Placement(uid=UID, component=component, parent_uid=PARENTS.get(case))


def unfold(text: str) -> str:
    return text.replace("\r\n ", "").replace("\r\n\t", "")


def main(text: str, component: str = "VTODO") -> icalendar.Component:
    found = icalendar.Calendar.from_ical(text).walk(component)
    assert len(found) == 1
    return found[0]


def client_text(name: str) -> str:
    """A client fixture as it comes over the wire (CRLF)."""
    return (CLIENTS / name).read_text(encoding="utf-8").replace("\n", "\r\n")


# --------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("component", ["VTODO", "VEVENT"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_render_matches_golden(case: str, component: str) -> None:
    text = render(CASES[case], placement(case, component), None, NOW)
    path = GOLDEN / f"{case}.{component.lower()}.ics"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("\r\n", "\n"), encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}; run with UPDATE_GOLDEN=1"
    assert text.replace("\r\n", "\n") == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("component", ["VTODO", "VEVENT"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_render_is_valid_icalendar(case: str, component: str) -> None:
    data = CASES[case]
    text = render(data, placement(case, component), None, NOW)
    raw = text.encode("utf-8")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # folding never splits a UTF-8 sequence
    parsed = vobject.readOne(text)  # Radicale's parser
    assert parsed.name == "VCALENDAR"
    assert [c.name for c in parsed.getChildren() if c.name in ("VTODO", "VEVENT")] == [component]
    component_ = main(text, component)
    assert str(component_["UID"]) == UID
    assert component_.decoded("DTSTAMP") == NOW
    assert component_.decoded("SEQUENCE") == 0
    assert str(component_["SUMMARY"]) == f"[{data.number}] {data.subject}"
    assert "TZID" not in text and "VTIMEZONE" not in text  # UTC or dates only
    # what we write reads back as the same task
    fields = read_client(text, component)
    assert fields.all_day is data.all_day
    assert strip_summary(fields.summary or "", data.number) == data.subject
    assert strip_description(fields.description or "") == data.description.strip()


def test_all_day_task_uses_dates() -> None:
    data = CASES["all-day"]
    todo = unfold(render(data, placement("all-day", "VTODO"), None, NOW))
    assert "\r\nDTSTART;VALUE=DATE:20260312\r\n" in todo
    assert "\r\nDUE;VALUE=DATE:20260316\r\n" in todo
    assert "\r\nPRIORITY:9\r\n" in todo
    event = unfold(render(data, placement("all-day", "VEVENT"), None, NOW))
    assert "\r\nDTSTART;VALUE=DATE:20260312\r\n" in event
    assert "\r\nDTEND;VALUE=DATE:20260317\r\n" in event  # exclusive: the day after the due date
    assert "\r\nTRANSP:TRANSPARENT\r\n" in event
    assert "T2359" not in todo + event


def test_timed_task_across_dst_is_written_in_utc() -> None:
    """23:30 CET on 28 March and 03:30 CEST on 29 March: one hour and two hours off UTC."""
    data = CASES["dst-warsaw"]
    todo = unfold(render(data, placement("dst-warsaw", "VTODO"), None, NOW))
    assert "\r\nDTSTART:20260328T223000Z\r\n" in todo
    assert "\r\nDUE:20260329T013000Z\r\n" in todo
    event = unfold(render(data, placement("dst-warsaw", "VEVENT"), None, NOW))
    assert "\r\nDTSTART:20260328T223000Z\r\n" in event
    assert "\r\nDTEND:20260329T013000Z\r\n" in event
    assert "\r\nTRANSP:TRANSPARENT\r\n" in event  # tasks never block free/busy


def test_done_task() -> None:
    todo = main(render(CASES["done"], placement("done", "VTODO"), None, NOW))
    assert str(todo["STATUS"]) == "COMPLETED"
    assert todo.decoded("PERCENT-COMPLETE") == 100
    assert todo.decoded("COMPLETED") == utc(2026, 3, 26, 7, 15)
    event = main(render(CASES["done"], placement("done", "VEVENT"), None, NOW), "VEVENT")
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "COMPLETED" not in event and "PERCENT-COMPLETE" not in event


@pytest.mark.parametrize(
    ("status", "todo_status", "event_status"),
    [
        ("new", "NEEDS-ACTION", "CONFIRMED"),
        ("in_progress", "IN-PROCESS", "CONFIRMED"),
        ("waiting", "NEEDS-ACTION", "CONFIRMED"),
        ("done", "COMPLETED", "CONFIRMED"),
        ("cancelled", "CANCELLED", "CANCELLED"),
    ],
)
def test_status_mapping(status: str, todo_status: str, event_status: str) -> None:
    data = task(status=status)
    todo = render(data, Placement(UID, "VTODO"), None, NOW)
    assert str(main(todo)["STATUS"]) == todo_status
    assert read_client(todo, "VTODO").status == status
    event = render(data, Placement(UID, "VEVENT"), None, NOW)
    assert str(main(event, "VEVENT")["STATUS"]) == event_status
    assert read_client(event, "VEVENT").status == ("cancelled" if status == "cancelled" else "new")


def test_waiting_task() -> None:
    text = render(CASES["waiting"], placement("waiting", "VTODO"), None, NOW)
    todo = main(text)
    assert str(todo["X-HERMES-STATUS"]) == "waiting"
    assert str(todo["STATUS"]) == "NEEDS-ACTION"
    assert "\r\nCATEGORIES:Sprzedaż,VIP,Pilne\r\n" in unfold(text)  # one line (Outlook/OCS)
    assert read_client(text, "VTODO").status == "waiting"


@pytest.mark.parametrize("component", ["VTODO", "VEVENT"])
def test_private_task(component: str) -> None:
    text = render(CASES["private"], placement("private", component), None, NOW)
    assert str(main(text, component)["CLASS"]) == "PRIVATE"
    public = render(CASES["done"], placement("done", component), None, NOW)
    assert str(main(public, component)["CLASS"]) == "PUBLIC"


def test_long_description_is_folded_and_kept_whole() -> None:
    data = CASES["long-description"]
    text = render(data, placement("long-description", "VTODO"), None, NOW)
    lines = text.encode("utf-8").split(b"\r\n")
    assert len(lines) > 60  # really folded
    assert max(len(line) for line in lines) <= 75
    assert sum(1 for line in lines if line.startswith(b" ")) > 50
    description = str(main(text)["DESCRIPTION"])
    assert description.startswith(LONG_TEXT.strip() + DESCRIPTION_SEPARATOR)
    assert description.endswith(
        "Kontakt / Contact: Jan Kowalski <jan@acme.example>\nhttps://crm.hermes.example/tasks/42"
    )
    assert str(vobject.readOne(text).vtodo.description.value) == description
    todo = main(text)
    assert str(todo["X-HERMES-FIELD-BUDGET"]) == "12000"
    assert str(todo["URL"]) == "https://crm.hermes.example/tasks/42"


@pytest.mark.parametrize("component", ["VTODO", "VEVENT"])
def test_subtask_points_at_its_parent(component: str) -> None:
    text = unfold(render(CASES["subtask"], placement("subtask", component), None, NOW))
    assert f"\r\nRELATED-TO;RELTYPE=PARENT:{PARENT_UID}\r\n" in text
    assert read_client(text, component).parent_uid == PARENT_UID
    top = render(CASES["done"], placement("done", component), None, NOW)
    assert "RELATED-TO" not in top


def test_dtstart_only_when_before_due() -> None:
    """DAVx5/jtx refuse DTSTART = DUE; a start after the due date is not written either."""
    for start in (utc(2026, 3, 27, 15, 0), utc(2026, 3, 28, 9, 0)):
        todo = main(render(task(planned_start=start), Placement(UID, "VTODO"), None, NOW))
        assert "DTSTART" not in todo
        assert todo.decoded("DUE") == utc(2026, 3, 27, 15, 0)
    todo = main(render(task(planned_start=utc(2026, 3, 27)), Placement(UID, "VTODO"), None, NOW))
    assert todo.decoded("DTSTART") == utc(2026, 3, 27)


# --------------------------------------------------------------------------- patching

CLIENT_TODO_DATA = (
    "X-APPLE-SORT-ORDER:795000934\r\n"
    "X-MOZ-LASTACK:20260327T144500Z\r\n"
    "X-MOZ-SNOOZE-TIME:20260327T145500Z\r\n"
    "X-ACME-FLAG;X-FOO=bar;LANGUAGE=pl:Wartość\\, z przecinkiem\r\n"
    "BEGIN:VALARM\r\n"
    "ACTION:DISPLAY\r\n"
    "DESCRIPTION:Przypomnienie\r\n"
    "TRIGGER;RELATED=END;X-CLIENT-PARAM=tb:-PT15M\r\n"
    "X-MOZ-LASTACK:20260327T144500Z\r\n"
    "X-MOZ-SNOOZE-TIME:20260327T145500Z\r\n"
    "END:VALARM\r\n"
)
CLIENT_VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Europe/Warsaw\r\n"
    "X-LIC-LOCATION:Europe/Warsaw\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "TZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\n"
    "TZNAME:CEST\r\n"
    "DTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0100\r\n"
    "TZNAME:CET\r\n"
    "DTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)


def client_base(data: TaskData, component: str = "VTODO") -> str:
    """What a client stored after our rendering: its own data added, SEQUENCE bumped to 4."""
    ours = render(data, Placement(UID, component), None, NOW)
    end = f"END:{component}\r\n"
    assert ours.count(end) == 1 and "SEQUENCE:0\r\n" in ours
    text = ours.replace("SEQUENCE:0\r\n", "SEQUENCE:4\r\n").replace(end, CLIENT_TODO_DATA + end)
    text = text.replace("DTSTAMP:20260320T120000Z", "DTSTAMP:20260327T144500Z")
    return text.replace(f"BEGIN:{component}\r\n", CLIENT_VTIMEZONE + f"BEGIN:{component}\r\n")


def assert_client_data_kept(text: str, component: str = "VTODO") -> None:
    main_ = main(text, component)
    assert str(main_["X-APPLE-SORT-ORDER"]) == "795000934"
    assert str(main_["X-MOZ-LASTACK"]) == "20260327T144500Z"
    assert str(main_["X-MOZ-SNOOZE-TIME"]) == "20260327T145500Z"
    flag = main_["X-ACME-FLAG"]
    assert (flag.params["X-FOO"], flag.params["LANGUAGE"]) == ("bar", "pl")
    assert ":Wartość\\, z przecinkiem\r\n" in unfold(text)  # value as the client wrote it
    alarms = main_.walk("VALARM")
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm["TRIGGER"].params["RELATED"] == "END"
    assert alarm["TRIGGER"].params["X-CLIENT-PARAM"] == "tb"
    assert alarm.decoded("TRIGGER") == -dt.timedelta(minutes=15)
    assert str(alarm["X-MOZ-LASTACK"]) == "20260327T144500Z"
    assert str(alarm["X-MOZ-SNOOZE-TIME"]) == "20260327T145500Z"
    assert str(alarm["DESCRIPTION"]) == "Przypomnienie"
    timezones = icalendar.Calendar.from_ical(text).walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == ["Europe/Warsaw"]
    assert {c.name for c in timezones[0].subcomponents} == {"STANDARD", "DAYLIGHT"}
    # New Outlook: VALARM after every property of its component
    lines = unfold(text).split("\r\n")
    begin, end = lines.index(f"BEGIN:{component}"), lines.index(f"END:{component}")
    alarm_at = lines.index("BEGIN:VALARM")
    block = lines[alarm_at:end]
    assert begin < alarm_at and block[-1] == "END:VALARM" and block.count("END:VALARM") == 1
    vobject.readOne(text)


def test_unchanged_task_returns_base_itself() -> None:
    data = CASES["waiting"]
    base = client_base(data)
    assert render(data, Placement(UID, "VTODO"), base, LATER) is base
    # LAST-MODIFIED is bookkeeping: a change nobody sees keeps the text (and its ETag)
    quiet = dataclasses.replace(data, updated_at=utc(2026, 3, 21, 8, 0))
    assert render(quiet, Placement(UID, "VTODO"), base, LATER) is base
    ours = render(data, Placement(UID, "VTODO"), None, NOW)
    assert render(data, Placement(UID, "VTODO"), ours, LATER) is ours


CHANGES: dict[str, tuple[dict[str, Any], str, Any]] = {
    # change to the task -> (property, expected value after decoding)
    "subject": ({"subject": "Nowy temat"}, "SUMMARY", "[ZAD/2026/0042] Nowy temat"),
    "due": ({"due": utc(2026, 3, 30, 9, 0)}, "DUE", utc(2026, 3, 30, 9, 0)),
    "status": ({"status": "in_progress"}, "STATUS", "IN-PROCESS"),
    "priority": ({"priority": "high"}, "PRIORITY", 1),
    "private": ({"private": True}, "CLASS", "PRIVATE"),
    "customer": ({"customer": "Beta S.A."}, "X-HERMES-CUSTOMER", "Beta S.A."),
    "description": ({"description": "Inny opis"}, "DESCRIPTION", None),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_visible_change_patches_base(change: str) -> None:
    data = CASES["waiting"]
    base = client_base(data)
    updates, name, expected = CHANGES[change]
    changed = dataclasses.replace(data, updated_at=utc(2026, 3, 21, 8, 0), **updates)
    text = render(changed, Placement(UID, "VTODO"), base, LATER)
    assert text != base
    todo = main(text)
    if expected is not None:
        value = todo.decoded(name)
        assert (value.decode() if isinstance(value, bytes) else value) == expected
    assert strip_description(str(todo["DESCRIPTION"])) == changed.description
    assert todo.decoded("SEQUENCE") == 5  # exactly one more than the client's 4
    assert todo.decoded("DTSTAMP") == LATER
    assert todo.decoded("LAST-MODIFIED") == utc(2026, 3, 21, 8, 0)
    assert str(todo["UID"]) == UID
    assert unfold(text).count("\r\nSUMMARY:") == 1
    assert_client_data_kept(text)
    # the patched text is now current: no second bump
    assert render(changed, Placement(UID, "VTODO"), text, LATER + dt.timedelta(hours=1)) is text


def test_new_parent_patches_base() -> None:
    data = CASES["waiting"]
    base = client_base(data)
    text = render(data, Placement(UID, "VTODO", parent_uid=PARENT_UID), base, LATER)
    assert main(text).decoded("SEQUENCE") == 5
    assert read_client(text, "VTODO").parent_uid == PARENT_UID
    assert_client_data_kept(text)


def test_stale_hermes_property_is_dropped() -> None:
    """Every X-HERMES-* is ours: a custom field that no longer exists goes away."""
    data = CASES["waiting"]
    base = client_base(data).replace("END:VALARM\r\n", "END:VALARM\r\nX-HERMES-FIELD-GONE:x\r\n")
    text = render(data, Placement(UID, "VTODO"), base, LATER)
    assert "X-HERMES-FIELD-GONE" not in text
    assert main(text).decoded("SEQUENCE") == 5
    assert_client_data_kept(text)


def test_categories_on_several_lines_are_rewritten_as_one() -> None:
    """OCS writes one CATEGORIES line per category; we serve one line (C11)."""
    data = CASES["waiting"]
    base = client_base(data).replace(
        "CATEGORIES:Sprzedaż,VIP,Pilne\r\n", "CATEGORIES:Sprzedaż\r\nCATEGORIES:VIP,Pilne\r\n"
    )
    assert "CATEGORIES:VIP,Pilne" in base
    text = render(data, Placement(UID, "VTODO"), base, LATER)
    assert unfold(text).count("\r\nCATEGORIES:") == 1
    assert "\r\nCATEGORIES:Sprzedaż,VIP,Pilne\r\n" in unfold(text)
    assert main(text).decoded("SEQUENCE") == 5
    assert_client_data_kept(text)


def test_event_patch_keeps_client_data() -> None:
    data = CASES["dst-warsaw"]
    base = client_base(data, "VEVENT")
    assert render(data, Placement(UID, "VEVENT"), base, LATER) is base
    moved = dataclasses.replace(data, due=dt.datetime(2026, 3, 29, 5, 0, tzinfo=WARSAW))
    text = render(moved, Placement(UID, "VEVENT"), base, LATER)
    event = main(text, "VEVENT")
    assert event.decoded("DTEND") == utc(2026, 3, 29, 3, 0)
    assert event.decoded("SEQUENCE") == 5
    assert_client_data_kept(text, "VEVENT")


# --------------------------------------------------------------------------- client texts


def fields(name: str, component: str = "VTODO") -> ClientFields:
    return read_client(client_text(name), component)


def test_apple_reminders_start_equal_to_due() -> None:
    got = fields("apple-reminders.ics")
    assert got.uid == "6F1C2A44-8B0E-4D7A-9C3B-2E5D1F0A7B91"
    assert got.summary == "Zadzwonić do Kowalskiego"
    assert got.planned_start == got.due == utc(2026, 3, 12, 8, 0)  # 09:00 CET
    assert got.all_day is False
    assert got.status == "new"
    assert got.priority == "high"
    assert got.completed_at is None


@pytest.mark.parametrize(
    ("line", "priority"),
    [("PRIORITY:1", "high"), ("PRIORITY:5", "normal"), ("PRIORITY:9", "low"), ("", None)],
)
def test_apple_reminders_priorities(line: str, priority: str | None) -> None:
    text = client_text("apple-reminders.ics").replace("PRIORITY:1\r\n", line and line + "\r\n")
    assert read_client(text, "VTODO").priority == priority


def test_apple_reminders_all_day() -> None:
    got = fields("apple-reminders-all-day.ics")
    assert got.planned_start == got.due == utc(2026, 3, 16)
    assert got.all_day is True
    assert got.priority == "low"


def test_tasks_org_percent_complete_without_status() -> None:
    got = fields("tasks-org.ics")
    assert got.status == "done"
    assert got.completed_at is None
    assert (got.due, got.all_day) == (utc(2026, 3, 15), True)
    assert got.categories == ("Sprzedaż", "Oferty")
    assert strip_summary(got.summary or "", "ZAD/2026/0042") == "Wysłać ofertę"
    assert strip_description(got.description or "") == "Cennik w załączniku"


def test_completed_alone_means_done() -> None:
    got = fields("completed-only.ics")
    assert got.status == "done"
    assert got.completed_at == utc(2026, 3, 12, 14, 15)
    assert got.due == utc(2026, 3, 12, 16, 0)


def test_open_task_is_not_done() -> None:
    text = client_text("completed-only.ics").replace("COMPLETED:20260312T141500Z\r\n", "")
    assert read_client(text, "VTODO").status == "new"
    partly = text.replace("END:VTODO", "PERCENT-COMPLETE:99\r\nEND:VTODO")
    assert read_client(partly, "VTODO").status == "new"


def test_thunderbird() -> None:
    got = fields("thunderbird.ics")
    assert got.status == "done"
    assert got.completed_at == utc(2026, 3, 30, 7, 15)
    assert got.planned_start == utc(2026, 3, 27, 8, 0)  # 09:00 CET
    assert got.due == utc(2026, 3, 30, 15, 0)  # 17:00 CEST
    assert got.categories == ("Sprzedaż", "VIP", "Pilne")  # several lines, merged, no repeats
    assert got.priority == "normal"
    assert strip_summary(got.summary or "", "ZAD/2026/0042") == "Przegląd umowy"
    assert strip_description(got.description or "") == "Sprawdzić paragraf 7"


def test_jtx_board_subtask() -> None:
    got = fields("jtx-board-subtask.ics")
    assert got.parent_uid == "hermes-41-tasks-jan@hermes.example"
    assert got.status == "in_progress"
    assert got.planned_start == utc(2026, 3, 16, 7, 0)
    assert got.due == utc(2026, 3, 18, 11, 0)
    assert got.priority is None


@pytest.mark.parametrize(
    ("line", "parent"),
    [
        ("RELATED-TO:parent@x", "parent@x"),  # no RELTYPE counts as PARENT
        ("RELATED-TO;RELTYPE=CHILD:child@x", None),
        ("RELATED-TO;RELTYPE=SIBLING:s@x\r\nRELATED-TO;RELTYPE=PARENT:parent@x", "parent@x"),
    ],
)
def test_related_to_types(line: str, parent: str | None) -> None:
    text = client_text("jtx-board-subtask.ics").replace(
        "RELATED-TO;RELTYPE=PARENT:hermes-41-tasks-jan@hermes.example", line
    )
    assert read_client(text, "VTODO").parent_uid == parent


def test_outlook_caldav_synchronizer_microsoft_zone() -> None:
    """TZID:W. Europe Standard Time, midnight local on both sides of the DST change."""
    got = fields("outlook-caldav-synchronizer.ics")
    assert got.planned_start == utc(2026, 3, 26, 23, 0)  # 27 March 00:00 +0100
    assert got.due == utc(2026, 3, 29, 22, 0)  # 30 March 00:00 +0200
    assert got.all_day is False
    assert got.priority == "high"
    assert got.categories == ("Sprzedaż", "Outlook")
    assert got.uid.startswith("040000008200E00074C5B7101A82E008") and got.uid.endswith("E9F0")


def test_evolution_date_only() -> None:
    got = fields("evolution.ics")
    assert (got.planned_start, got.due) == (utc(2026, 3, 18), utc(2026, 3, 20))
    assert got.all_day is True
    assert got.priority == "low"
    assert got.status == "new"


def test_floating_date_time_is_warsaw_wall_clock() -> None:
    got = fields("floating-date-time.ics")
    assert got.planned_start == utc(2026, 3, 28, 9, 0)  # 10:00 CET
    assert got.due == utc(2026, 3, 29, 7, 0)  # 09:00 CEST
    assert got.all_day is False


def test_duration_instead_of_due() -> None:
    got = fields("duration-instead-of-due.ics")
    assert got.planned_start == utc(2026, 3, 25, 13, 0)
    assert got.due == utc(2026, 3, 25, 15, 30)
    assert got.all_day is False


def test_khal_all_day_event() -> None:
    got = fields("khal-all-day.ics", "VEVENT")
    assert got.component == "VEVENT"
    assert (got.planned_start, got.due) == (utc(2026, 4, 15), utc(2026, 4, 17))  # last day
    assert got.all_day is True
    assert got.summary == "Targi Poznań"


def test_khal_timed_event() -> None:
    got = fields("khal-timed.ics", "VEVENT")
    assert (got.planned_start, got.due) == (utc(2026, 4, 15, 8, 0), utc(2026, 4, 15, 9, 30))
    assert got.all_day is False


@pytest.mark.parametrize(
    ("duration", "due", "all_day"),
    [
        ("DTSTART;VALUE=DATE:20260415\r\nDURATION:P3D", utc(2026, 4, 17), True),
        ("DTSTART:20260415T080000Z\r\nDURATION:PT90M", utc(2026, 4, 15, 9, 30), False),
    ],
)
def test_event_with_duration(duration: str, due: dt.datetime, all_day: bool) -> None:
    text = client_text("khal-all-day.ics").replace(
        "DTSTART;VALUE=DATE:20260415\r\nDTEND;VALUE=DATE:20260418", duration
    )
    got = read_client(text, "VEVENT")
    assert (got.due, got.all_day) == (due, all_day)


CLIENT_FILES = sorted(p.name for p in CLIENTS.glob("*.ics") if "override-only" not in p.name)


@pytest.mark.parametrize("name", CLIENT_FILES)
def test_same_fields_after_radicale_reserialises(name: str) -> None:
    """Radicale hands the plugin ``item.serialize()``: vobject's rewrite of the client's text."""
    component = "VEVENT" if name.startswith("khal") else "VTODO"
    text = client_text(name)
    assert read_client(vobject.readOne(text).serialize(), component) == read_client(text, component)


def _lone(component: str, *lines: str) -> str:
    """A VCALENDAR with one ``component`` holding a UID and ``lines``."""
    body = [f"BEGIN:{component}", "UID:lone@example.org", *lines, f"END:{component}"]
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", *body, "END:VCALENDAR", ""])


@pytest.mark.parametrize(
    ("text", "component", "reason"),
    [
        ("", "VTODO", "not valid iCalendar"),
        ("\r\n", "VTODO", "not valid iCalendar"),
        ("Dzień dobry, w załączniku oferta.\r\n", "VTODO", "not valid iCalendar"),
        ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jan\r\nEND:VCARD\r\n", "VTODO", "not a VCALENDAR"),
        ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "VTODO", "no VTODO or VEVENT"),
        ("khal-all-day.ics", "VTODO", "holds VTODO only, got VEVENT"),
        ("evolution.ics", "VEVENT", "holds VEVENT only, got VTODO"),
        ("thunderbird-override-only.ics", "VTODO", "only recurrence overrides"),
        ("no-uid", "VTODO", "no UID"),
        (_lone("VEVENT", "DTEND;VALUE=DATE:00010101"), "VEVENT", "out of range"),
        (_lone("VTODO", "DTSTART:99991231T000000Z", "DURATION:P2D"), "VTODO", "out of range"),
        (_lone("VEVENT", "SUMMARY:a\x00b"), "VEVENT", "NUL characters"),
    ],
)
def test_invalid_calendar_data(text: str, component: str, reason: str) -> None:
    if text.endswith(".ics"):
        text = client_text(text)
    elif text == "no-uid":
        text = client_text("evolution.ics").replace(
            "UID:8c2f0e5b1d3a4c6e9f7b2a1d0c3e5f7a4b6d8e0c\r\n", ""
        )
        assert "UID" not in text
    with pytest.raises(InvalidCalendarData, match=reason):
        read_client(text, component)


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    "data",
    [
        task(),
        task(description=""),
        task(description="  \n "),
        task(description="Linia 1\nLinia 2; przecinek, średnik\n"),
        task(description=LONG_TEXT, contact="Jan", url="https://crm.hermes.example/t/42"),
        task(customer=None, subject="[nawiasy] w temacie 🚀"),
    ],
)
@pytest.mark.parametrize("component", ["VTODO", "VEVENT"])
def test_strip_round_trips_what_render_writes(data: TaskData, component: str) -> None:
    got = read_client(render(data, Placement(UID, component), None, NOW), component)
    assert strip_summary(got.summary or "", data.number) == data.subject
    assert strip_description(got.description or "") == data.description.strip()


def test_strip_keeps_what_the_client_wrote_itself() -> None:
    assert strip_summary("Temat bez numeru", "ZAD/2026/0042") == "Temat bez numeru"
    assert strip_summary("  [ZAD/2026/0042]   Temat  ", "ZAD/2026/0042") == "Temat"
    assert strip_summary("[ZAD/2026/0041] Inny", "ZAD/2026/0042") == "[ZAD/2026/0041] Inny"
    assert strip_description("Tylko mój opis\n") == "Tylko mój opis"
    assert strip_description("——\nZadanie / Task: ZAD/2026/0042 (Sprzedaż)") == ""


def ts(value: dt.datetime) -> int:
    return int(value.timestamp())


DAY = 86400


CREATED = ts(utc(2026, 3, 1, 9, 0))


@pytest.mark.parametrize(
    ("data", "component", "expected"),
    [
        (task(due=None), "VTODO", (CREATED, None)),  # CREATED alone: from then on
        (
            task(due=None, status="done", completed_at=utc(2026, 3, 5, 10)),
            "VTODO",
            (CREATED - 1, ts(utc(2026, 3, 5, 10)) + 1),
        ),
        (task(), "VTODO", (ts(utc(2026, 3, 27, 15)) - 1, ts(utc(2026, 3, 27, 15)))),
        (
            task(planned_start=utc(2026, 3, 23, 8), due=None),
            "VTODO",
            (ts(utc(2026, 3, 23, 8)), ts(utc(2026, 3, 23, 8)) + 1),
        ),
        (
            CASES["dst-warsaw"],
            "VTODO",
            (ts(utc(2026, 3, 28, 22, 30)), ts(utc(2026, 3, 29, 1, 30))),
        ),
        (CASES["all-day"], "VTODO", (ts(utc(2026, 3, 12)), ts(utc(2026, 3, 16)))),
        (
            # a start after the due date is not written: the range is the DUE alone
            task(planned_start=utc(2026, 4, 10, 8)),
            "VTODO",
            (ts(utc(2026, 3, 27, 15)) - 1, ts(utc(2026, 3, 27, 15))),
        ),
        (CASES["all-day"], "VEVENT", (ts(utc(2026, 3, 12)), ts(utc(2026, 3, 17)))),
        (
            CASES["dst-warsaw"],
            "VEVENT",
            (ts(utc(2026, 3, 28, 22, 30)), ts(utc(2026, 3, 29, 1, 30))),
        ),
        (task(), "VEVENT", (ts(utc(2026, 3, 27, 15)), ts(utc(2026, 3, 27, 15, 30)))),
        (
            task(due=utc(2026, 3, 27), all_day=True),
            "VEVENT",
            (ts(utc(2026, 3, 27)), ts(utc(2026, 3, 28))),
        ),
    ],
)
def test_time_range(
    data: TaskData, component: str, expected: tuple[int | None, int | None]
) -> None:
    assert time_range(data, component) == expected


QUERY_EDGES = [utc(2026, 3, d, h) for d in (1, 5, 12, 16, 23, 27, 28, 29, 30) for h in (0, 9, 15)]


@pytest.mark.parametrize("component", ["VTODO", "VEVENT"])
@pytest.mark.parametrize(
    "data",
    [
        *CASES.values(),
        task(planned_start=utc(2026, 4, 10, 8)),
        task(planned_start=task().due),
        task(due=None),
        task(due=None, status="done", completed_at=utc(2026, 3, 5, 10)),
    ],
)
def test_time_range_agrees_with_radicale(data: TaskData, component: str) -> None:
    """For many query windows, our SQL test on (start, end) gives Radicale's own answer."""
    if component == "VEVENT" and data.due is None and data.planned_start is None:
        pytest.skip("undated tasks have no event")
    start, end = time_range(data, component)
    item = vobject.readOne(render(data, Placement(UID, component), None, NOW))
    for q_start, q_end in itertools.combinations(QUERY_EDGES, 2):
        element = ET.Element(
            "{urn:ietf:params:xml:ns:caldav}time-range",
            start=q_start.strftime("%Y%m%dT%H%M%SZ"),
            end=q_end.strftime("%Y%m%dT%H%M%SZ"),
        )
        radicale = radicale_filter.time_range_match(item, element, component, None)
        ours = (end is None or ts(q_start) < end) and (start is None or start < ts(q_end))
        assert ours == radicale, (q_start, q_end)


def test_line_breaks_in_custom_fields_and_customer_do_not_break_a_rendering() -> None:
    """X- values are written verbatim; a line break in one used to make icalendar fail."""
    broken = task(customer="ACME\nOddział 2", custom_fields={"uwagi": "a\r\nb"})
    placement = Placement(uid=UID, component="VTODO")
    fresh = render(broken, placement, None, NOW)
    patched = render(dataclasses.replace(broken, subject="Nowy"), placement, fresh, LATER)
    for text in (fresh, patched):
        assert "X-HERMES-CUSTOMER:ACME\\nOddział 2\r\n" in text
        assert "X-HERMES-FIELD-UWAGI:a\\nb\r\n" in text


@pytest.mark.parametrize("component", ["VTODO", "VEVENT"])
@pytest.mark.parametrize("all_day", [True, False])
def test_a_task_due_at_the_end_of_time_renders(component: str, all_day: bool) -> None:
    """9999-12-31 is the "never" of some desktop data, written straight into the database: the
    projection renders it (one task that cannot be rendered would stop every catch-up)."""
    end = dt.datetime(9999, 12, 31, 0 if all_day else 23, 0 if all_day else 45, tzinfo=dt.UTC)
    data = task(planned_start=None, due=end, all_day=all_day)
    text = render(data, placement("plain", component), None, NOW)
    start, stop = time_range(data, component)
    assert main(text, component).decoded("DTSTART" if component == "VEVENT" else "DUE")
    assert start is not None and stop is not None and start <= stop
