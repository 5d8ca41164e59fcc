"""Who gets in and what they may touch: auth, back-off, the rights matrix, hidden parents."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import http.client
import uuid
from urllib.parse import urlsplit

import caldav
import pytest
from sqlalchemy import select, update

from hermes_groupware.models import AppPassword, Register, Task
from hermes_groupware.models.enums import AccessLevel
from hermes_groupware.services import access
from hermes_groupware.services.directory import actor_for, set_app_password
from hermes_groupware.services.lookups import employee_by_login
from tests.caldav_backend.conftest import PASSWORD, Server, start_server

PROPFIND_ZERO = {"Depth": "0", "Content-Type": "application/xml"}


def _status(
    server: Server,
    login: str | None,
    method: str,
    path: str,
    body: str = "",
    headers: dict[str, str] | None = None,
    password: str = PASSWORD,
) -> int:
    return _http(server, login, method, path, body, headers, password)[0]


def _http(
    server: Server,
    login: str | None,
    method: str,
    path: str,
    body: str = "",
    headers: dict[str, str] | None = None,
    password: str = PASSWORD,
) -> tuple[int, dict[str, str]]:
    """One raw request (the caldav library raises on 401/403 instead of returning them)."""
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    sent = dict(headers or {})
    if login:
        token = base64.b64encode(f"{login}:{password}".encode()).decode()
        sent["Authorization"] = f"Basic {token}"
    try:
        connection.request(method, path, body.encode(), sent)
        response = connection.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def test_anonymous_gets_a_basic_challenge(dav_server: Server) -> None:
    status, headers = _http(dav_server, None, "PROPFIND", "/jkowalski/", "", PROPFIND_ZERO)
    assert status == 401
    assert headers["www-authenticate"].startswith("Basic")


def test_wrong_password_then_back_off_even_for_the_right_one(dav_server: Server) -> None:
    def login(password: str) -> int:
        return _status(
            dav_server,
            "tdabrowski",
            "PROPFIND",
            "/tdabrowski/",
            headers=PROPFIND_ZERO,
            password=password,
        )

    with dav_server.uow() as uow:
        password = set_app_password(uow, "tdabrowski", label="test-lockout")
    assert login(password) == 207
    for _ in range(dav_server.settings.caldav.lockout_failures):
        assert login("wrong-password-123") == 401
    # the right password was cached before the lockout, so use a new one to prove the lock
    with dav_server.uow() as uow:
        fresh = set_app_password(uow, "tdabrowski", label="after-lockout")
    assert login(fresh) == 401


def test_a_known_password_is_rechecked_without_a_hash_and_revoking_it_reaches_every_instance(
    dav_server: Server,
) -> None:
    """Another instance on the same database, trusting a verified pair for 0 s: later
    requests re-check the app password with one read (last_used_at, written by a full
    verification, stays put), and a revocation made elsewhere shuts it out."""
    caldav = dataclasses.replace(dav_server.settings.caldav, login_cache_seconds=0)
    settings = dataclasses.replace(dav_server.settings, caldav=caldav)
    base, server = start_server(settings)
    other = Server(url=base, database=dav_server.database, settings=settings)
    with dav_server.uow() as uow:
        password = set_app_password(uow, "ebrown", label="test-recheck")
    mine = select(AppPassword).where(AppPassword.label == "test-recheck")

    def last_used() -> dt.datetime | None:
        with dav_server.uow() as uow:
            return uow.session.scalars(mine).one().last_used_at

    def login() -> int:
        return _status(
            other,
            "ebrown",
            "PROPFIND",
            "/ebrown/",
            headers=PROPFIND_ZERO,
            password=password,
        )

    try:
        assert login() == 207  # verified in full
        verified = last_used()
        assert verified is not None
        assert login() == 207
        assert login() == 207
        assert last_used() == verified  # re-checked, not hashed again
        with dav_server.uow() as uow:  # revoked through another instance, or in plain SQL
            uow.session.execute(
                update(AppPassword)
                .where(AppPassword.label == "test-recheck")
                .values(revoked_at=uow.now())
            )
        assert login() == 401
    finally:
        server.stop()


def test_other_homes_are_closed(dav_server: Server) -> None:
    for path in ("/anowak/", "/anowak/tasks/", "/anowak/register-han/"):
        assert _status(dav_server, "jkowalski", "PROPFIND", path, headers=PROPFIND_ZERO) in (
            403,
            404,
        )


def _todo_body(summary: str, uid: str | None = None) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\n"
        f"UID:{uid or uuid.uuid4()}\r\nDTSTAMP:20261126T100000Z\r\nSUMMARY:{summary}\r\n"
        "END:VTODO\r\nEND:VCALENDAR\r\n"
    )


def test_rights_matrix_every_employee_every_register(dav_server: Server) -> None:
    """Read = the collection answers; write = a new task may be PUT; both from Hermes rights."""
    with dav_server.uow() as uow:
        logins = ["jkowalski", "anowak", "pwisniewski", "mzielinska", "kwojcik", "ebrown"]
        registers = list(uow.session.scalars(select(Register).order_by(Register.code)))
        expected = {
            login: access.register_levels(
                uow.session, actor_for(employee_by_login(uow.session, login))
            )
            for login in logins
        }
    for login in logins:
        for register in registers:
            level = expected[login][register.id]
            path = f"/{login}/register-{register.code.lower()}/"
            read = _status(dav_server, login, "PROPFIND", path, headers=PROPFIND_ZERO)
            assert (read == 207) == (level is not AccessLevel.NONE), (login, register.code, read)
            if level is AccessLevel.NONE:
                continue
            put = _status(
                dav_server,
                login,
                "PUT",
                f"{path}{uuid.uuid4()}.ics",
                _todo_body(f"Matryca {login} {register.code}"),
                {"Content-Type": "text/calendar"},
            )
            assert (put == 201) == (level is AccessLevel.EDIT), (login, register.code, put)


def test_team_calendar_is_read_only(dav_server: Server) -> None:
    path = f"/jkowalski/group-sprzedaz/{uuid.uuid4()}.ics"
    event = _todo_body("Zespół").replace("VTODO", "VEVENT")
    assert (
        _status(dav_server, "jkowalski", "PUT", path, event, {"Content-Type": "text/calendar"})
        == 403
    )


def test_hidden_parent_never_reaches_the_delegate(dav_server: Server) -> None:
    with dav_server.uow() as uow:
        parent = uow.session.scalar(select(Task).where(Task.subject.like("Przetarg poufny%")))
        assert parent is not None
        parent_number, parent_subject = parent.number, parent.subject
    client = dav_server.client("kwojcik")
    calendars = {str(c.url).rsplit("/", 2)[-2]: c for c in client.principal().calendars()}
    assert "register-han" in calendars  # HAN is readable by everyone, the parent is private
    everything = ""
    for calendar in calendars.values():
        response = client.request(str(calendar.url), "GET")
        everything += response.raw if isinstance(response.raw, str) else response.raw.decode()
    assert "Ocena techniczna instalacji" in everything
    assert parent_number not in everything
    assert parent_subject not in everything
    assert "RELATED-TO" not in _object_text(client, calendars["tasks"], "Ocena techniczna")


def _object_text(client: caldav.DAVClient, calendar: caldav.Calendar, subject: str) -> str:
    for todo in calendar.todos(include_completed=True):
        if subject in todo.data:
            return str(todo.data)
    raise AssertionError(f"{subject} not in {calendar.url}")


@pytest.mark.parametrize("method", ["MKCALENDAR", "MKCOL"])
def test_new_calendars_are_refused(dav_server: Server, method: str) -> None:
    assert _status(dav_server, "jkowalski", method, "/jkowalski/moje-nowe/") == 403


def test_calendars_cannot_be_deleted(dav_server: Server) -> None:
    assert _status(dav_server, "jkowalski", "DELETE", "/jkowalski/tasks/") in (401, 403)
    assert (
        _status(dav_server, "jkowalski", "PROPFIND", "/jkowalski/tasks/", headers=PROPFIND_ZERO)
        == 207
    )


def test_oversized_bodies_are_refused_before_parsing(dav_server: Server) -> None:
    big = "X" * (dav_server.settings.caldav.max_body_bytes + 1)
    assert (
        _status(
            dav_server,
            "jkowalski",
            "PUT",
            f"/jkowalski/tasks/{uuid.uuid4()}.ics",
            big,
            {"Content-Type": "text/calendar"},
        )
        == 413
    )


def test_xml_bombs_and_external_entities_are_rejected(dav_server: Server) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<propfind xmlns="DAV:"><prop><displayname>&lol2;</displayname></prop></propfind>'
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<propfind xmlns="DAV:"><prop><displayname>&xxe;</displayname></prop></propfind>'
    )
    for body in (bomb, external):
        status = _status(
            dav_server, "jkowalski", "PROPFIND", "/jkowalski/tasks/", body, PROPFIND_ZERO
        )
        assert status == 400


@pytest.mark.parametrize("path", ["/jkowalski/../anowak/tasks/", "/jkowalski/tasks/%2e%2e/x.ics"])
def test_odd_paths_do_not_escape(dav_server: Server, path: str) -> None:
    assert _status(dav_server, "jkowalski", "GET", path) in (403, 404)


def test_well_known_redirects_from_the_bare_host(dav_server: Server) -> None:
    status, headers = _http(dav_server, None, "PROPFIND", "/.well-known/caldav", "", PROPFIND_ZERO)
    assert status == 301
    assert headers["location"] == "/"


def test_uid_clash_under_another_href_is_refused(dav_server: Server) -> None:
    uid = str(uuid.uuid4())
    body = _todo_body("Pierwszy z UID", uid)
    headers = {"Content-Type": "text/calendar"}
    assert (
        _status(dav_server, "jkowalski", "PUT", f"/jkowalski/tasks/{uid}.ics", body, headers) == 201
    )
    clash = body.replace("Pierwszy z UID", "Drugi z tym samym UID")
    assert (
        _status(dav_server, "jkowalski", "PUT", "/jkowalski/tasks/inny.ics", clash, headers) == 409
    )
    with dav_server.uow() as uow:
        assert (
            uow.session.scalar(select(Task.id).where(Task.subject == "Drugi z tym samym UID"))
            is None
        )
