"""Pop-up reminders as VALARMs in the owner's calendars, and Thunderbird's write-backs."""

from __future__ import annotations

import datetime as dt
import re

import caldav
import pytest
from icalendar import Calendar, Component
from sqlalchemy import func, select, text

from hermes_groupware.db.session import Actor
from hermes_groupware.models import ChangeJournal, Employee, Task, TaskReminder
from hermes_groupware.models.enums import DelegationMode, Source
from hermes_groupware.models.reminder import ReminderAnchor, ReminderChannel
from hermes_groupware.services import delegation, reminders
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import register_by_code
from hermes_groupware.services.reminders import ReminderSpec
from hermes_groupware.services.tasks import TaskChanges, create_task
from tests.caldav_backend.conftest import Server

UID_DOMAIN = "hermes-groupware"


def _due() -> dt.datetime:
    """Ten days ahead, to the minute (the server runs on the real clock)."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    return now + dt.timedelta(days=10)


def _stamp(value: dt.datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def _task(server: Server, login: str, subject: str, due: dt.datetime) -> int:
    with server.uow() as uow:
        me = uow.session.scalars(select(Employee).where(Employee.login == login)).one()
        task = create_task(
            uow,
            register_id=register_by_code(uow.session, "HAN").id,
            subject=subject,
            responsible_id=me.id,
            changes=TaskChanges(due=due),
        )
        return task.id


def _remind(server: Server, login: str, task_id: int, spec: ReminderSpec) -> int:
    with server.uow() as system:
        me = system.session.scalars(select(Employee).where(Employee.login == login)).one()
        actor = actor_for(me)
    with server.database.unit_of_work(actor, Source.CLI) as uow:
        return reminders.add_reminder(uow, task_id, spec).id


def _reminder(server: Server, reminder_id: int) -> TaskReminder | None:
    with server.uow() as uow:
        found = uow.session.get(TaskReminder, reminder_id)
        if found is not None:
            uow.session.expunge(found)
        return found


class Dav:
    """One logged-in client per employee for the whole test (each new client pays for a 401
    round with Radicale's delay on failed logins)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.clients: dict[str, caldav.DAVClient] = {}

    def client(self, login: str) -> caldav.DAVClient:
        if login not in self.clients:
            self.clients[login] = self.server.client(login)
        return self.clients[login]

    def get(self, login: str, slug: str, task_id: int) -> tuple[str, str]:
        url = f"{self.server.url}{login}/{slug}/hermes-{task_id}.ics"
        response = self.client(login).request(url, "GET")
        assert response.status == 200, (url, response.status)
        return response.raw, response.headers["etag"]

    def put(self, login: str, slug: str, task_id: int, text: str, etag: str | None = None) -> int:
        url = f"{self.server.url}{login}/{slug}/hermes-{task_id}.ics"
        headers = {"Content-Type": "text/calendar"} | ({"If-Match": etag} if etag else {})
        response = self.client(login).request(url, "PUT", text, headers)
        assert response.status in (201, 204, 412), response.raw
        return int(response.status)


@pytest.fixture
def dav(dav_server: Server) -> Dav:
    """Clients for this test (closed at its end with the server's others)."""
    return Dav(dav_server)


def _journal_size(server: Server, task_id: int) -> int:
    with server.uow() as uow:
        query = select(func.count()).where(ChangeJournal.task_id == task_id)
        return uow.session.scalar(query) or 0


def _main(text: str) -> Component:
    calendar = Calendar.from_ical(text)
    return next(c for c in calendar.subcomponents if c.name in ("VTODO", "VEVENT"))


def _alarms(text: str) -> list[Component]:
    return [c for c in _main(text).subcomponents if c.name == "VALARM"]


def _uid(reminder_id: int) -> str:
    return f"hermes-reminder-{reminder_id}@{UID_DOMAIN}"


def test_a_popup_reminder_shows_for_its_owner_only(dav_server: Server, dav: Dav) -> None:
    due = _due()
    task_id = _task(dav_server, "jkowalski", "Oferta z przypomnieniem", due)
    with dav_server.uow() as uow:
        delegation.delegate(uow, task_id, "anowak", DelegationMode.WITH_HISTORY)
    mine = _remind(
        dav_server,
        "jkowalski",
        task_id,
        ReminderSpec(relative_to=ReminderAnchor.DUE, offset_minutes=-30, note="Zadzwoń"),
    )
    todo, etag = dav.get("jkowalski", "tasks", task_id)
    (alarm,) = _alarms(todo)
    assert str(alarm["UID"]) == _uid(mine)
    assert str(alarm["ACTION"]) == "DISPLAY" and str(alarm["DESCRIPTION"]) == "Zadzwoń"
    assert "TRIGGER;RELATED=END:-PT30M" in todo
    event, _ = dav.get("jkowalski", "planned", task_id)
    assert "TRIGGER;RELATED=START:-PT30M" in event  # the event starts at the due time
    shared, _ = dav.get("jkowalski", "register-han", task_id)
    assert "VALARM" not in shared  # a register list is everybody's

    theirs_at = due - dt.timedelta(hours=2)
    theirs = _remind(dav_server, "anowak", task_id, ReminderSpec(at=theirs_at))
    (their_alarm,) = _alarms(dav.get("anowak", "tasks", task_id)[0])
    assert str(their_alarm["UID"]) == _uid(theirs)
    assert f"TRIGGER;VALUE=DATE-TIME:{_stamp(theirs_at)}" in dav.get("anowak", "tasks", task_id)[0]
    assert str(their_alarm["DESCRIPTION"]) == "Oferta z przypomnieniem"  # no note: the subject
    # somebody else's reminder neither shows in my list nor changes my copy
    assert dav.get("jkowalski", "tasks", task_id) == (todo, etag)

    calendar = caldav.Calendar(
        client=dav.client("jkowalski"), url=f"{dav_server.url}jkowalski/tasks/"
    )
    served = calendar.todo_by_uid(f"hermes-{task_id}-tasks@{UID_DOMAIN}")
    assert [str(a["UID"]) for a in served.icalendar_component.subcomponents] == [_uid(mine)]


def test_thunderbird_dismiss_and_snooze_are_stored_and_rendered_back(
    dav_server: Server, dav: Dav
) -> None:
    due = _due()
    task_id = _task(dav_server, "jkowalski", "Thunderbird przypomina", due)
    reminder_id = _remind(
        dav_server,
        "jkowalski",
        task_id,
        ReminderSpec(relative_to=ReminderAnchor.DUE, offset_minutes=-15),
    )
    with dav_server.uow() as uow:
        version = uow.session.get_one(Task, task_id).version
    todo, _ = dav.get("jkowalski", "tasks", task_id)
    last_ack, snooze = due - dt.timedelta(minutes=14), due + dt.timedelta(minutes=5)
    moz = f"X-MOZ-LASTACK:{_stamp(last_ack)}\r\nX-MOZ-SNOOZE-TIME:{_stamp(snooze)}\r\n"
    dav.put("jkowalski", "tasks", task_id, todo.replace("END:VTODO", moz + "END:VTODO"))

    stored = _reminder(dav_server, reminder_id)
    assert stored is not None
    assert (stored.acknowledged_at, stored.snoozed_until) == (last_ack, snooze)
    with dav_server.uow() as uow:
        assert uow.session.get_one(Task, task_id).version == version  # the task is untouched
    served, etag = dav.get("jkowalski", "tasks", task_id)
    assert f"X-MOZ-LASTACK:{_stamp(last_ack)}" in served
    assert f"X-MOZ-SNOOZE-TIME:{_stamp(snooze)}" in served
    (alarm,) = _alarms(served)
    assert alarm.decoded("ACKNOWLEDGED") == last_ack  # went off and was dismissed (RFC 9074)
    # the other device (my plan) does not fire it again either
    event, _ = dav.get("jkowalski", "planned", task_id)
    assert f"X-MOZ-LASTACK:{_stamp(last_ack)}" in event
    assert f"X-MOZ-SNOOZE-TIME:{_stamp(snooze)}" in event

    # a client that writes back what it got changes nothing (the server's iCalendar library
    # re-orders a PUT body once), and the text settles: no ETag ping-pong
    writes = _journal_size(dav_server, task_id)
    dav.put("jkowalski", "tasks", task_id, served)
    settled, etag = dav.get("jkowalski", "tasks", task_id)
    dav.put("jkowalski", "tasks", task_id, settled)
    assert dav.get("jkowalski", "tasks", task_id) == (settled, etag)
    assert _journal_size(dav_server, task_id) == writes
    assert _alarms(settled)[0].decoded("ACKNOWLEDGED") == last_ack

    # dismissing the snoozed alarm: a newer LASTACK, no snooze time
    later = snooze + dt.timedelta(minutes=1)
    dismissed = re.sub(r"X-MOZ-SNOOZE-TIME:[^\r\n]*\r?\n", "", settled).replace(
        f"X-MOZ-LASTACK:{_stamp(last_ack)}", f"X-MOZ-LASTACK:{_stamp(later)}"
    )
    dav.put("jkowalski", "tasks", task_id, dismissed)
    stored = _reminder(dav_server, reminder_id)
    assert stored is not None
    assert (stored.acknowledged_at, stored.snoozed_until) == (later, None)
    served, _ = dav.get("jkowalski", "tasks", task_id)
    assert "X-MOZ-SNOOZE-TIME" not in served
    assert f"X-MOZ-LASTACK:{_stamp(later)}" in served


def test_moving_or_removing_our_alarm_in_the_client(dav_server: Server, dav: Dav) -> None:
    due = _due()
    task_id = _task(dav_server, "jkowalski", "Alarm przesunięty", due)
    reminder_id = _remind(
        dav_server,
        "jkowalski",
        task_id,
        ReminderSpec(relative_to=ReminderAnchor.DUE, offset_minutes=-30),
    )
    todo, _ = dav.get("jkowalski", "tasks", task_id)
    moved = todo.replace("TRIGGER;RELATED=END:-PT30M", "TRIGGER;RELATED=END:-PT1H")
    dav.put("jkowalski", "tasks", task_id, moved)
    stored = _reminder(dav_server, reminder_id)
    assert stored is not None
    assert (stored.relative_to, stored.offset_minutes) == (ReminderAnchor.DUE, -60)

    # a copy fetched before a new reminder was set cannot delete it: If-Match fails
    stale, stale_etag = dav.get("jkowalski", "tasks", task_id)
    newer = _remind(dav_server, "jkowalski", task_id, ReminderSpec(at=due - dt.timedelta(days=1)))
    late = dav.put("jkowalski", "tasks", task_id, _without(stale, _uid(reminder_id)), stale_etag)
    assert late == 412
    fresh, etag = dav.get("jkowalski", "tasks", task_id)
    assert {str(a["UID"]) for a in _alarms(fresh)} == {_uid(reminder_id), _uid(newer)}
    dav.put("jkowalski", "tasks", task_id, _without(fresh, _uid(reminder_id)), etag)
    assert _reminder(dav_server, reminder_id) is None  # removed in the client
    assert _reminder(dav_server, newer) is not None
    served, _ = dav.get("jkowalski", "tasks", task_id)
    assert [str(a["UID"]) for a in _alarms(served)] == [_uid(newer)]


def _without(text: str, alarm_uid: str) -> str:
    """The text without the VALARM of that UID (as a client deletes an alarm)."""
    return re.sub(
        r"BEGIN:VALARM\r?\n.*?END:VALARM\r?\n",
        lambda m: "" if alarm_uid in m.group(0) else m.group(0),
        text,
        flags=re.S,
    )


def test_client_alarms_stay_the_clients(dav_server: Server, dav: Dav) -> None:
    due = _due()
    task_id = _task(dav_server, "jkowalski", "Własny alarm klienta", due)
    reminder_id = _remind(dav_server, "jkowalski", task_id, ReminderSpec(at=due))
    todo, _ = dav.get("jkowalski", "tasks", task_id)
    own = (
        "BEGIN:VALARM\r\nUID:thunderbird-alarm-1\r\nACTION:DISPLAY\r\nDESCRIPTION:Mój\r\n"
        "TRIGGER;RELATED=END:-P1D\r\nEND:VALARM\r\n"
    )
    dav.put("jkowalski", "tasks", task_id, todo.replace("END:VTODO", own + "END:VTODO"))
    served, _ = dav.get("jkowalski", "tasks", task_id)
    assert {str(a["UID"]) for a in _alarms(served)} == {_uid(reminder_id), "thunderbird-alarm-1"}
    with dav_server.uow() as uow:
        rows = uow.session.scalars(select(TaskReminder).where(TaskReminder.task_id == task_id))
        assert [r.id for r in rows] == [reminder_id]  # the client's alarm is no reminder


def test_email_reminders_are_no_alarms(dav_server: Server, dav: Dav) -> None:
    due = _due()
    task_id = _task(dav_server, "jkowalski", "Tylko e-mailem", due)
    _remind(
        dav_server,
        "jkowalski",
        task_id,
        ReminderSpec(at=due - dt.timedelta(hours=1), channel=ReminderChannel.EMAIL),
    )
    todo, _ = dav.get("jkowalski", "tasks", task_id)
    assert "VALARM" not in todo
    with dav_server.database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        assert len(reminders.list_reminders(uow, task_id)) == 1


def test_a_reminder_written_with_plain_sql_reaches_the_calendar(
    dav_server: Server, dav: Dav
) -> None:
    due = _due()
    task_id = _task(dav_server, "jkowalski", "Z aplikacji Hermes", due)
    before, etag = dav.get("jkowalski", "tasks", task_id)
    assert "VALARM" not in before
    with dav_server.uow() as uow:  # as the desktop application writes it
        me = uow.session.scalars(select(Employee).where(Employee.login == "jkowalski")).one()
        uow.session.execute(
            text(
                "INSERT INTO task_reminders (task_id, employee_id, relative_to, offset_minutes, "
                "note) VALUES (:task, :me, 'due', -10, 'Z biurka')"
            ),
            {"task": task_id, "me": me.id},
        )
    served, new_etag = dav.get("jkowalski", "tasks", task_id)
    assert new_etag != etag
    (alarm,) = _alarms(served)
    assert str(alarm["DESCRIPTION"]) == "Z biurka" and "TRIGGER;RELATED=END:-PT10M" in served
