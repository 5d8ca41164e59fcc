"""Login, sessions and CSRF over real HTTP: cookie flags, no fixation, logout, back-off,
refusals for non-administrators."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from hermes_groupware import demo
from hermes_groupware.db.session import Actor, Database, make_engine
from hermes_groupware.http.console.app import create_console
from hermes_groupware.models import ConsoleSession
from hermes_groupware.models.enums import Source
from hermes_groupware.services import console_sessions
from tests.hermes_groupware.http.console.conftest import PASSWORDS, ConsoleServer


def test_pages_need_a_login(console_server: ConsoleServer) -> None:
    client = console_server.client()
    for path in ("/", "/connect", "/feeds", "/admin/feeds", "/admin/quarantine"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/console/login") or path == "/"


def test_login_sets_a_hardened_cookie_and_stores_only_a_hash(
    console_server: ConsoleServer,
) -> None:
    client = console_server.client()
    response = client.login("admin", PASSWORDS["admin"])
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/console/" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test below
    token = client.http.cookies["hermes_console"]
    with console_server.uow() as uow:
        stored = set(uow.session.scalars(select(ConsoleSession.token_hash)))
    assert console_sessions.hash_token(token) in stored
    assert token not in stored
    page = client.get("/connect")
    assert page.status_code == 200
    assert "Połącz kalendarz" in page.text  # admin's locale is Polish


def test_wrong_password_is_refused_the_same_for_unknown_logins(
    console_server: ConsoleServer,
) -> None:
    console_server.clear_login_failures()
    client = console_server.client()
    wrong = client.login("admin", "not-the-password")
    unknown = client.login("nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "hermes_console" not in client.http.cookies
    assert 'id="login-error"' in wrong.text
    console_server.clear_login_failures()


def test_back_off_after_repeated_failures(console_server: ConsoleServer) -> None:
    console_server.clear_login_failures()
    client = console_server.client()
    threshold = console_server.settings.caldav.lockout_failures
    codes = [client.login("jkowalski", "wrong-password!").status_code for _ in range(threshold)]
    assert codes == [401] * threshold
    locked = client.login("jkowalski", PASSWORDS["jkowalski"])  # even the right one waits
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 30
    console_server.clear_login_failures()
    assert client.login("jkowalski", PASSWORDS["jkowalski"]).status_code == 302


def test_login_replaces_a_planted_session(console_server: ConsoleServer) -> None:
    """Session fixation: a token the browser brought is never kept; it is ended."""
    attacker = console_server.client("jkowalski")
    planted = attacker.http.cookies["hermes_console"]
    victim = console_server.client()
    victim.plant(planted)
    assert victim.login("admin", PASSWORDS["admin"]).status_code == 302
    assert victim.http.cookies["hermes_console"] != planted
    assert "Administratorska" in victim.get("/connect").text
    assert attacker.get("/connect").status_code == 302  # the planted session is gone


def test_logout_deletes_the_session(console_server: ConsoleServer) -> None:
    client = console_server.client("jkowalski")
    token = client.http.cookies["hermes_console"]
    assert client.post("/logout").status_code == 302
    with console_server.uow() as uow:
        hashes = set(uow.session.scalars(select(ConsoleSession.token_hash)))
    assert console_sessions.hash_token(token) not in hashes
    client.plant(token)  # a copied cookie
    assert client.get("/connect").status_code == 302


def test_every_post_needs_the_csrf_token(console_server: ConsoleServer) -> None:
    client = console_server.client("jkowalski")
    for csrf in ("", "0" * 64):
        refused = client.post("/app-passwords", {"label": "csrf"}, csrf=csrf)
        assert refused.status_code == 403
        assert "CSRF" in refused.text
    other = console_server.client("ebrown")  # another session's token does not fit
    assert client.post("/app-passwords", {"label": "csrf"}, csrf=other.csrf).status_code == 403
    for origin in ("https://evil.example", "null"):
        foreign = client.post("/app-passwords", {"label": "csrf"}, headers={"Origin": origin})
        assert foreign.status_code == 403
    login_csrf = console_server.client().http.post(
        console_server.url("/login"),
        data={"login": "ebrown", "password": PASSWORDS["ebrown"]},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
        timeout=30,
    )
    assert login_csrf.status_code == 403
    same = client.post("/app-passwords", {"label": "csrf"}, headers={"Origin": console_server.base})
    assert same.status_code == 200
    assert client.post("/app-passwords", {"label": "csrf"}).status_code == 200
    assert client.post("/logout", csrf="").status_code == 403


def test_admin_pages_refuse_employees(console_server: ConsoleServer) -> None:
    client = console_server.client("jkowalski")
    for path in ("/admin/feeds", "/admin/schedules", "/admin/quarantine", "/admin/outbox",
                 "/admin/feeds/1", "/admin/quarantine/1/raw"):  # fmt: skip
        assert client.get(path).status_code == 403, path
    for path in ("/admin/feeds/new", "/admin/schedules/new", "/admin/quarantine/1/release",
                 "/admin/outbox/1/retry"):  # fmt: skip
        assert client.post(path, {"name": "x", "task": "REK/2026/0001"}).status_code == 403


def test_english_for_english_speakers(console_server: ConsoleServer) -> None:
    page = console_server.client("ebrown").get("/connect")
    assert "Connect your calendar" in page.text
    assert '<html lang="en">' in page.text
    login = console_server.client().get("/login", headers={"Accept-Language": "en-GB,en"})
    assert "Log in to Hermes" in login.text


def test_secure_cookie_over_https(console_server: ConsoleServer) -> None:
    """Behind TLS (or a trusted proxy saying so) the cookie is Secure."""
    app = create_console(console_server.settings, console_server.database)
    client = app.test_client()
    response = client.post(
        "/console/login",
        data={"login": "ebrown", "password": PASSWORDS["ebrown"]},
        base_url="https://hermes.firma.pl",
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_idle_and_expired_sessions_end(console_server: ConsoleServer) -> None:
    lifetimes = console_sessions.Lifetimes(absolute=dt.timedelta(hours=1), idle=dt.timedelta(0))
    client = console_server.client("ebrown")
    token = client.http.cookies["hermes_console"]
    with console_server.database.unit_of_work(Actor.system("t"), Source.API) as uow:
        assert console_sessions.resume(uow, token, lifetimes=lifetimes) is None
    assert client.get("/connect").status_code == 302  # the idle one was deleted


@pytest.mark.parametrize("password", ["short", "x" * 300])
def test_console_password_rules(console_server: ConsoleServer, password: str) -> None:
    client = console_server.client("ebrown")
    form = {"current": PASSWORDS["ebrown"], "password": password, "repeat": password}
    response = client.post("/password", form)
    assert response.status_code == 400
    assert "password" in response.text


def test_changing_the_password_ends_sessions(console_server: ConsoleServer) -> None:
    first = console_server.client("ebrown")
    second = console_server.client("ebrown")
    new = "another-console-pass"
    wrong = second.post(
        "/password", {"current": "guess-guess-guess", "password": new, "repeat": new}
    )
    assert wrong.status_code == 400
    assert "current" in wrong.text
    differ = second.post(
        "/password", {"current": PASSWORDS["ebrown"], "password": new, "repeat": "x"}
    )
    assert differ.status_code == 400
    form = {"current": PASSWORDS["ebrown"], "password": new, "repeat": new}
    try:
        assert second.post("/password", form).status_code == 302
        assert first.get("/connect").status_code == 302
        assert console_server.client().login("ebrown", new).status_code == 302
        assert console_server.client().login("ebrown", PASSWORDS["ebrown"]).status_code == 401
    finally:  # the module's other tests log in with the old password
        with console_server.uow() as uow:
            console_sessions.set_password(uow, "ebrown", PASSWORDS["ebrown"])
        console_server.clear_login_failures()


def test_settings_replace_keeps_console_defaults(console_server: ConsoleServer) -> None:
    settings = dataclasses.replace(console_server.settings)
    assert settings.console.session_hours == 12
    assert settings.console.idle_minutes == 60


def test_database_outage_is_503(console_server: ConsoleServer, tmp_path: Path) -> None:
    gone = Database(
        make_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"), console_server.database.files
    )
    client = create_console(console_server.settings, gone).test_client()
    client.set_cookie("hermes_console", "some-token", path="/console/")
    response = client.get("/console/connect")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Baza danych" in response.get_data(as_text=True)
    gone.engine.dispose()


def test_demo_employees_log_in_with_the_demo_password(console_server: ConsoleServer) -> None:
    client = console_server.client()
    assert client.login("anowak", demo.DEMO_APP_PASSWORD).status_code == 302
    assert "Agnieszka Nowak" in client.get("/connect").text


def test_a_mistyped_password_does_not_end_the_session(console_server: ConsoleServer) -> None:
    client = console_server.client("ebrown")
    assert client.login("ebrown", "not-the-password").status_code == 401
    assert client.get("/connect").status_code == 200  # still logged in
