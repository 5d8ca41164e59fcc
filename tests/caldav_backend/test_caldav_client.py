"""A real server on loopback and the ``caldav`` client library, as calendar apps use it."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import caldav
import pytest
from caldav.elements import ical as ical_elements
from sqlalchemy import select, text

from hermes_groupware.models import Task
from hermes_groupware.services.lookups import employee_by_login
from hermes_groupware.services.task_views import task_detail
from hermes_groupware.services.tasks import TaskChanges, update_task
from tests.caldav_backend.conftest import Server


def _calendar(server: Server, login: str, slug: str) -> caldav.Calendar:
    return caldav.Calendar(client=server.client(login), url=f"{server.url}{login}/{slug}/")


def _todo(uid: str, summary: str, extra: str = "") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261126T100000Z\r\nSUMMARY:{summary}\r\n{extra}"
        "END:VTODO\r\nEND:VCALENDAR\r\n"
    )


def _task_by_subject(server: Server, subject: str) -> Task:
    with server.uow() as uow:
        task = uow.session.scalar(select(Task).where(Task.subject == subject))
        assert task is not None, subject
        uow.session.expunge(task)
        return task


def test_discovery_from_the_bare_host(dav_server: Server) -> None:
    principal = dav_server.client("jkowalski").principal()
    assert str(principal.url).endswith("/jkowalski/")
    calendars = {str(c.url).rsplit("/", 2)[-2]: c for c in principal.calendars()}
    assert {"tasks", "planned", "register-han", "register-rek", "register-wew"} <= set(calendars)
    assert "register-ser" not in calendars  # SER is closed to sales reps
    assert "group-sprzedaz" in calendars
    tasks = calendars["tasks"]
    assert tasks.get_display_name() == "Moje zadania"
    assert tasks.get_supported_components() == ["VTODO"]
    assert calendars["planned"].get_supported_components() == ["VEVENT"]
    assert calendars["register-rek"].get_display_name() == "Reklamacje"
    colour = calendars["register-rek"].get_property(ical_elements.CalendarColor())
    assert colour == "#C62828FF"


def test_english_speaker_gets_english_names(dav_server: Server) -> None:
    names = {c.get_display_name() for c in dav_server.client("ebrown").principal().calendars()}
    assert {"My tasks", "My plan"} <= names


def test_todos_listing_matches_the_database(dav_server: Server) -> None:
    calendar = _calendar(dav_server, "anowak", "tasks")
    everything = calendar.todos(include_completed=True)
    open_only = calendar.todos()
    with dav_server.uow() as uow:
        me = employee_by_login(uow.session, "anowak")
        mine = list(uow.session.scalars(select(Task).where(Task.responsible_id == me.id)))
        expected_all = {t.number for t in mine if t.status.value != "cancelled"}
        expected_open = {t.number for t in mine if t.status.value not in ("cancelled", "done")}
    numbers = {str(t.icalendar_component["X-HERMES-NUMBER"]) for t in everything}
    assert numbers >= expected_all  # delegated tasks come on top
    open_numbers = {str(t.icalendar_component["X-HERMES-NUMBER"]) for t in open_only}
    assert expected_open <= open_numbers <= numbers


def test_create_in_my_tasks_becomes_a_task_with_caldav_history(dav_server: Server) -> None:
    calendar = _calendar(dav_server, "jkowalski", "tasks")
    uid = f"{uuid.uuid4()}@thunderbird"
    calendar.save_todo(ical=_todo(uid, "Zadzwonić do Łukasza", "DUE;VALUE=DATE:20261210\r\n"))
    task = _task_by_subject(dav_server, "Zadzwonić do Łukasza")
    assert task.number.startswith("WEW/")
    assert task.due == dt.datetime(2026, 12, 10, tzinfo=dt.UTC)
    assert task.all_day
    with dav_server.uow() as uow:
        history = task_detail(uow, task.id).history
    assert [(h.field, h.source, h.actor) for h in history] == [("created", "caldav", "jkowalski")]
    served = calendar.todo_by_uid(uid)
    assert served.icalendar_component["X-HERMES-NUMBER"] == task.number


@pytest.mark.parametrize(
    "completion",
    ["STATUS:COMPLETED\r\n", "PERCENT-COMPLETE:100\r\n", "COMPLETED:20261126T120000Z\r\n"],
    ids=["status", "percent", "completed-only"],
)
def test_completion_in_all_three_styles(dav_server: Server, completion: str) -> None:
    calendar = _calendar(dav_server, "jkowalski", "tasks")
    subject = f"Do zamknięcia {completion.split(':', maxsplit=1)[0]}"
    uid = f"{uuid.uuid4()}@client"
    todo = calendar.save_todo(ical=_todo(uid, subject))
    body = todo.data.replace("STATUS:NEEDS-ACTION\r\n", "")
    todo.data = body.replace("END:VTODO", completion + "END:VTODO")
    todo.save()
    task = _task_by_subject(dav_server, subject)
    assert task.status.value == "done"
    assert task.completed_at is not None
    assert "COMPLETED" in calendar.todo_by_uid(uid).data


def test_sync_token_sees_changes_from_plain_sql_and_deletes(dav_server: Server) -> None:
    calendar = _calendar(dav_server, "mzielinska", "register-rek")
    first = calendar.objects_by_sync_token(load_objects=False)
    token = first.sync_token
    assert token.startswith("urn:hermes:sync:")
    assert len(list(first)) > 0
    with dav_server.database.engine.begin() as conn:  # the desktop application writes SQL
        conn.execute(
            text(
                "UPDATE tasks SET subject = 'Zmienione z biurka' WHERE id = "
                "(SELECT min(id) FROM tasks WHERE number LIKE 'REK/%' AND status <> 'cancelled' "
                "AND visibility = 'normal')"
            )
        )
    changed = calendar.objects_by_sync_token(sync_token=token, load_objects=True)
    changed_objects = list(changed)
    assert len(changed_objects) == 1
    assert "Zmienione z biurka" in changed_objects[0].data
    again = calendar.objects_by_sync_token(sync_token=changed.sync_token, load_objects=False)
    assert list(again) == []


def test_client_delete_cancels_the_task_and_sync_reports_it(dav_server: Server) -> None:
    calendar = _calendar(dav_server, "jkowalski", "tasks")
    uid = f"{uuid.uuid4()}@client"
    todo = calendar.save_todo(ical=_todo(uid, "Do usunięcia"))
    token = calendar.objects_by_sync_token(load_objects=False).sync_token
    url = str(todo.url)
    todo.delete()
    assert _task_by_subject(dav_server, "Do usunięcia").status.value == "cancelled"
    response = dav_server.client("jkowalski").request(url, "GET")
    assert response.status == 404
    delta = calendar.objects_by_sync_token(sync_token=token, load_objects=False)
    assert [str(o.url) for o in delta] == [url]


def test_reassignment_moves_the_task_between_homes(dav_server: Server) -> None:
    mine = _calendar(dav_server, "jkowalski", "tasks")
    uid = f"{uuid.uuid4()}@client"
    mine.save_todo(ical=_todo(uid, "Przekazać Agnieszce"))
    token = mine.objects_by_sync_token(load_objects=False).sync_token
    task = _task_by_subject(dav_server, "Przekazać Agnieszce")
    with dav_server.uow() as uow:
        anowak = employee_by_login(uow.session, "anowak")
        update_task(uow, task.id, TaskChanges(responsible_id=anowak.id))
    left = list(mine.objects_by_sync_token(sync_token=token, load_objects=False))
    assert len(left) == 1
    assert dav_server.client("jkowalski").request(str(left[0].url), "GET").status == 404
    theirs = _calendar(dav_server, "anowak", "tasks").todos()
    assert any("Przekazać Agnieszce" in t.data for t in theirs)


def test_unknown_client_data_survives_an_edit_in_hermes(dav_server: Server) -> None:
    calendar = _calendar(dav_server, "jkowalski", "tasks")
    uid = f"{uuid.uuid4()}@apple"
    extra = (
        "X-APPLE-SORT-ORDER:774192211\r\nX-CUSTOM;X-PARAM=1:keep me\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Przypomnienie\r\n"
        "TRIGGER;RELATED=END:-PT15M\r\nX-MOZ-LASTACK:20261126T090000Z\r\nEND:VALARM\r\n"
    )
    calendar.save_todo(ical=_todo(uid, "Z alarmem", "DUE:20261215T090000Z\r\n" + extra))
    before = int(calendar.todo_by_uid(uid).icalendar_component["SEQUENCE"])
    task = _task_by_subject(dav_server, "Z alarmem")
    with dav_server.uow() as uow:
        update_task(uow, task.id, TaskChanges(subject="Z alarmem, zmienione w Hermesie"))
    todo = calendar.todo_by_uid(uid)
    served = todo.data
    for kept in (
        "X-APPLE-SORT-ORDER:774192211",
        "X-CUSTOM;X-PARAM=1:keep me",
        "TRIGGER;RELATED=END:-PT15M",
        "X-MOZ-LASTACK:20261126T090000Z",
    ):
        assert kept in served
    component = todo.icalendar_component
    assert str(component["SUMMARY"]).endswith("] Z alarmem, zmienione w Hermesie")
    assert int(component["SEQUENCE"]) == before + 1


def _with_summary(data: str, summary: str) -> str:
    return re.sub(r"^SUMMARY:.*$", f"SUMMARY:{summary}", data, count=1, flags=re.M)


def test_stale_if_match_gets_412_and_changes_nothing(dav_server: Server) -> None:
    calendar = _calendar(dav_server, "jkowalski", "tasks")
    uid = f"{uuid.uuid4()}@client"
    todo = calendar.save_todo(ical=_todo(uid, "Wyścig"))
    todo.load()
    number = str(todo.icalendar_component["X-HERMES-NUMBER"])
    client = dav_server.client("jkowalski")
    etag = client.request(str(todo.url), "GET").headers["etag"]
    headers = {"Content-Type": "text/calendar", "If-Match": etag}
    first = client.request(str(todo.url), "PUT", _with_summary(todo.data, "Pierwszy"), headers)
    assert first.status in (201, 204)
    assert "etag" not in {k.lower() for k in first.headers}  # the stored text is not the body
    late = client.request(str(todo.url), "PUT", _with_summary(todo.data, "Drugi"), headers)
    assert late.status == 412
    with dav_server.uow() as uow:
        assert uow.session.scalar(select(Task.subject).where(Task.number == number)) == "Pierwszy"


def test_bad_bodies_get_400_and_leave_the_task_alone(dav_server: Server) -> None:
    calendar = _calendar(dav_server, "jkowalski", "tasks")
    uid = f"{uuid.uuid4()}@client"
    todo = calendar.save_todo(ical=_todo(uid, "Nietykalne"))
    client = dav_server.client("jkowalski")
    url, headers = str(todo.url), {"Content-Type": "text/calendar"}
    event = todo.data.replace("VTODO", "VEVENT")
    never = todo.data.replace("END:VTODO", "DUE:99991231T233000Z\r\nEND:VTODO")
    empty = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    for body in ("to nie jest kalendarz", event, empty, never):
        response = client.request(url, "PUT", body, headers)
        assert response.status in (400, 409), body  # 409: Radicale finds no UID to compare
    # PostgreSQL stores no NUL: refused, or dropped by Radicale's parser (then no change)
    nul = client.request(url, "PUT", _with_summary(todo.data, "Nietykalne\x00"), headers)
    assert nul.status in (204, 400)
    assert _task_by_subject(dav_server, "Nietykalne").version == 1
    assert "Nietykalne" in calendar.todo_by_uid(uid).data


def test_time_range_search_on_the_plan(dav_server: Server) -> None:
    calendar = _calendar(dav_server, "jkowalski", "planned")
    everything = calendar.events()
    assert everything
    starts = sorted(_as_datetime(e.icalendar_component.decoded("DTSTART")) for e in everything)
    pivot = starts[len(starts) // 2]
    found = calendar.search(
        event=True,
        start=pivot - dt.timedelta(days=2),
        end=pivot + dt.timedelta(days=2),
        expand=False,
    )
    assert 0 < len(found) <= len(everything)


def _as_datetime(value: dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def test_joining_a_group_fills_the_team_calendar(dav_server: Server) -> None:
    from hermes_groupware.services.directory import add_member

    team = _calendar(dav_server, "pwisniewski", "group-serwis")
    before = {e.icalendar_component["X-HERMES-NUMBER"] for e in team.events()}
    with dav_server.uow() as uow:
        mzielinska = employee_by_login(uow.session, "mzielinska")
        dated = uow.session.scalar(
            select(Task.number)
            .where(
                Task.responsible_id == mzielinska.id,
                Task.visibility == "normal",
                Task.status != "cancelled",
                Task.due.isnot(None),
                Task.number.like("WEW/%"),
            )
            .limit(1)
        )
        add_member(uow, "serwis", "mzielinska")
    assert dated is not None
    after = {e.icalendar_component["X-HERMES-NUMBER"] for e in team.events()}
    assert dated not in before
    assert dated in after
