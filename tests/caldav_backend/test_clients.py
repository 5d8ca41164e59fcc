"""Bodies shaped like what real clients send (Apple, Tasks.org, jtx, Thunderbird, Outlook CalDav
Synchronizer, khal), PUT to the running server, and what they do to the task."""

from __future__ import annotations

import datetime as dt
import uuid

import caldav
from sqlalchemy import select

from hermes_groupware.models import Task
from tests.caldav_backend.conftest import Server

VCAL = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{prodid}\r\n{body}END:VCALENDAR\r\n"


def _put(server: Server, login: str, slug: str, body: str, prodid: str) -> str:
    calendar = caldav.Calendar(client=server.client(login), url=f"{server.url}{login}/{slug}/")
    text = VCAL.format(prodid=prodid, body=body)
    saved = calendar.save_event(ical=text) if "VEVENT" in body else calendar.save_todo(ical=text)
    return str(saved.url)


def _task(server: Server, subject: str) -> Task:
    with server.uow() as uow:
        task = uow.session.scalar(select(Task).where(Task.subject == subject))
        assert task is not None, subject
        uow.session.expunge(task)
        return task


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_apple_reminders_dtstart_equal_to_due_means_no_start(dav_server: Server) -> None:
    body = (
        f"BEGIN:VTODO\r\nUID:{uuid.uuid4()}\r\nDTSTAMP:20261126T100000Z\r\n"
        "SUMMARY:Apple przypomnienie\r\nDTSTART:20261203T090000Z\r\nDUE:20261203T090000Z\r\n"
        "PRIORITY:1\r\nX-APPLE-SORT-ORDER:775000000\r\nEND:VTODO\r\n"
    )
    _put(dav_server, "jkowalski", "tasks", body, "-//Apple Inc.//iOS 18.1//EN")
    task = _task(dav_server, "Apple przypomnienie")
    assert task.planned_start is None
    assert task.due == _utc(2026, 12, 3, 9)
    assert task.priority.value == "high"


def test_tasks_org_completes_with_percent_only(dav_server: Server) -> None:
    uid = str(uuid.uuid4())
    body = (
        f"BEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20261126T100000Z\r\nSUMMARY:Tasks.org zadanie\r\n"
        "DUE;VALUE=DATE:20261205\r\nEND:VTODO\r\n"
    )
    url = _put(dav_server, "jkowalski", "tasks", body, "+//IDN tasks.org//android-140303//EN")
    calendar = caldav.Calendar(client=dav_server.client("jkowalski"), url=url.rsplit("/", 1)[0])
    todo = calendar.todo_by_uid(uid)
    todo.data = todo.data.replace("STATUS:NEEDS-ACTION", "PERCENT-COMPLETE:100")
    todo.save()
    assert _task(dav_server, "Tasks.org zadanie").status.value == "done"


def test_jtx_subtask_points_at_its_parent_in_the_same_list(dav_server: Server) -> None:
    parent_uid, child_uid = str(uuid.uuid4()), str(uuid.uuid4())
    _put(
        dav_server,
        "jkowalski",
        "register-han",
        f"BEGIN:VTODO\r\nUID:{parent_uid}\r\nDTSTAMP:20261126T100000Z\r\n"
        "SUMMARY:jtx rodzic\r\nEND:VTODO\r\n",
        "-//Techbee Solutions//jtx Board//EN",
    )
    _put(
        dav_server,
        "jkowalski",
        "register-han",
        f"BEGIN:VTODO\r\nUID:{child_uid}\r\nDTSTAMP:20261126T100000Z\r\n"
        f"SUMMARY:jtx dziecko\r\nRELATED-TO;RELTYPE=PARENT:{parent_uid}\r\nEND:VTODO\r\n",
        "-//Techbee Solutions//jtx Board//EN",
    )
    parent, child = _task(dav_server, "jtx rodzic"), _task(dav_server, "jtx dziecko")
    assert parent.number.startswith("HAN/")
    assert child.parent_id == parent.id
    calendar = caldav.Calendar(
        client=dav_server.client("jkowalski"), url=f"{dav_server.url}jkowalski/register-han/"
    )
    served = calendar.todo_by_uid(child_uid).icalendar_component
    assert str(served["RELATED-TO"]) == parent_uid


def test_thunderbird_alarm_acknowledgement_is_kept(dav_server: Server) -> None:
    uid = str(uuid.uuid4())
    body = (
        f"BEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20261126T100000Z\r\nSUMMARY:Thunderbird alarm\r\n"
        "DUE:20261204T100000Z\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Default\r\n"
        "TRIGGER;RELATED=END:-PT15M\r\nEND:VALARM\r\nEND:VTODO\r\n"
    )
    url = _put(
        dav_server, "jkowalski", "tasks", body, "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN"
    )
    calendar = caldav.Calendar(client=dav_server.client("jkowalski"), url=url.rsplit("/", 1)[0])
    todo = calendar.todo_by_uid(uid)
    version = _task(dav_server, "Thunderbird alarm").version
    todo.data = todo.data.replace(
        "END:VTODO",
        "X-MOZ-LASTACK:20261204T094600Z\r\nX-MOZ-SNOOZE-TIME:20261204T100500Z\r\nEND:VTODO",
    )
    todo.save()
    served = calendar.todo_by_uid(uid).data
    assert "X-MOZ-LASTACK:20261204T094600Z" in served
    assert "X-MOZ-SNOOZE-TIME:20261204T100500Z" in served
    assert _task(dav_server, "Thunderbird alarm").version == version  # nothing mapped changed


OUTLOOK_TZ = (
    "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\n"
    "DTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
    "DTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
)


def test_outlook_synchronizer_microsoft_tzid(dav_server: Server) -> None:
    body = OUTLOOK_TZ + (
        f"BEGIN:VTODO\r\nUID:{uuid.uuid4()}\r\nDTSTAMP:20261126T100000Z\r\nSUMMARY:Outlook OCS\r\n"
        "DTSTART;TZID=W. Europe Standard Time:20261201T090000\r\n"
        "DUE;TZID=W. Europe Standard Time:20261201T170000\r\nEND:VTODO\r\n"
    )
    _put(dav_server, "jkowalski", "tasks", body, "-//CalDavSynchronizer//EN")
    task = _task(dav_server, "Outlook OCS")
    assert task.planned_start == _utc(2026, 12, 1, 8)
    assert task.due == _utc(2026, 12, 1, 16)


def test_khal_event_becomes_a_planned_task(dav_server: Server) -> None:
    body = (
        f"BEGIN:VEVENT\r\nUID:{uuid.uuid4()}\r\nDTSTAMP:20261126T100000Z\r\n"
        "SUMMARY:Spotkanie z khal\r\n"
        "DTSTART:20261207T090000Z\r\nDTEND:20261207T103000Z\r\nEND:VEVENT\r\n"
    )
    _put(dav_server, "jkowalski", "planned", body, "-//PIMUTILS.ORG//NONSGML khal / icalendar //EN")
    task = _task(dav_server, "Spotkanie z khal")
    assert (task.planned_start, task.due) == (_utc(2026, 12, 7, 9), _utc(2026, 12, 7, 10, 30))
    assert task.number.startswith("WEW/")
    tasks = caldav.Calendar(
        client=dav_server.client("jkowalski"), url=f"{dav_server.url}jkowalski/tasks/"
    )
    assert any("Spotkanie z khal" in t.data for t in tasks.todos())


def test_all_day_event_edit_keeps_inclusive_due(dav_server: Server) -> None:
    uid = str(uuid.uuid4())
    body = (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261126T100000Z\r\nSUMMARY:Cały dzień\r\n"
        "DTSTART;VALUE=DATE:20261208\r\nDTEND;VALUE=DATE:20261210\r\nEND:VEVENT\r\n"
    )
    _put(dav_server, "jkowalski", "planned", body, "-//Evolution//EN")
    task = _task(dav_server, "Cały dzień")
    assert task.all_day
    assert (task.planned_start, task.due) == (_utc(2026, 12, 8), _utc(2026, 12, 9))
