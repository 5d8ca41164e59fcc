"""A real Hermes server (the console under /console/) over demo data, and a logged-in
browser-like HTTP client (cookies, CSRF token read from the page like a browser would)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import delete

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.models import InboundMessage, LoginFailure
from hermes_groupware.models.enums import InboundStatus, MailChannel, Source
from hermes_groupware.services import console_sessions, mailbox
from hermes_groupware.services.lookups import employee_by_login, register_by_code
from hermes_groupware.services.tasks import TaskChanges, create_task
from tests.conftest import DatabaseFactory
from tests.hermes_groupware.http.api.conftest import demo_database, serving

#: console passwords of the demo employees the tests log in as
PASSWORDS = {
    "admin": "admin-console-2026!",
    "jkowalski": "kowalski-console-2026",
    "ebrown": "brown-console-2026!",
}
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]*)"')


@dataclass
class ConsoleServer:
    """The running server and its database."""

    base: str
    database: Database
    settings: Settings
    opened: list[requests.Session] = dataclasses.field(default_factory=list)

    def url(self, path: str) -> str:
        """``/connect`` → ``http://127.0.0.1:PORT/console/connect``."""
        return f"{self.base}/console{path}"

    def uow(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work on the server's database (setup and checks)."""
        return self.database.unit_of_work(Actor.system("test"), Source.CLI)

    def task(
        self, subject: str, register: str = "REK", login: str = "mzielinska", due_in_days: int = 2
    ) -> str:
        """A new task due in ``due_in_days`` (negative: overdue); returns its number."""
        with self.uow() as uow:
            task = create_task(
                uow,
                register_id=register_by_code(uow.session, register).id,
                subject=subject,
                responsible_id=employee_by_login(uow.session, login).id,
                changes=TaskChanges(due=uow.now() + dt.timedelta(days=due_in_days)),
            )
            return task.number

    def quarantined(self, subject: str, body: str) -> int:
        """A message held in the quarantine, as the gateway leaves one."""
        raw = (
            f"From: klient@example.com\r\nTo: biuro@firma.pl\r\nSubject: {subject}\r\n"
            f"Message-ID: <{uuid.uuid4()}@example.com>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body}\r\n"
        ).encode()
        with self.uow() as uow:
            stored = mailbox.store_raw(
                uow, raw, channel=MailChannel.SMTP, envelope_from="klient@example.com",
                recipients=["biuro@firma.pl"],
            )  # fmt: skip
            row = uow.session.get_one(InboundMessage, stored.id)
            row.status, row.subject, row.sender_address = (
                InboundStatus.QUARANTINED,
                subject,
                "klient@example.com",
            )
            row.reason = f"no task found for {subject}"
            row.trail = [f"subject {subject!r} names no task", "quarantined"]
            return stored.id

    def clear_login_failures(self) -> None:
        """Forget failed logins (the address counter is shared by every test)."""
        with self.uow() as uow:
            uow.session.execute(delete(LoginFailure))

    def client(self, login: str | None = None) -> Client:
        """A new cookie jar, logged in as ``login`` when given."""
        self.opened.append(requests.Session())
        client = Client(self, self.opened[-1])
        if login is not None:
            response = client.login(login, PASSWORDS[login])
            assert response.status_code == 302, response.text
        return client


@dataclass
class Client:
    """One browser: its cookies and the CSRF token of the last page it read."""

    server: ConsoleServer
    http: requests.Session
    csrf: str = ""

    def get(self, path: str, **kwargs: object) -> requests.Response:
        """GET a console page and remember its CSRF token."""
        response = self.http.get(self.server.url(path), allow_redirects=False, timeout=30, **kwargs)  # type: ignore[arg-type]
        found = _CSRF.search(response.text)
        if found:
            self.csrf = found[1]
        return response

    def post(
        self,
        path: str,
        data: dict[str, object] | None = None,
        *,
        csrf: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """POST a form with the page's CSRF token (or the one given)."""
        form = {"csrf": self.csrf if csrf is None else csrf, **(data or {})}
        return self.http.post(
            self.server.url(path), data=form, headers=headers, allow_redirects=False, timeout=30
        )

    def plant(self, token: str) -> None:
        """Replace the session cookie with ``token`` (a copied or planted cookie)."""
        self.http.cookies.clear()
        self.http.cookies.set("hermes_console", token, domain="127.0.0.1", path="/console/")

    def login(self, login: str, password: str) -> requests.Response:
        """Submit the login form; on success read a page for the CSRF token."""
        response = self.http.post(
            self.server.url("/login"), data={"login": login, "password": password},
            allow_redirects=False, timeout=30,
        )  # fmt: skip
        if response.status_code == 302:
            self.get("/connect")
        return response


@pytest.fixture(scope="module")
def console_server(
    db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """One server per test module over 40 demo tasks, with console passwords set."""
    with demo_database(db_factory, tmp_path_factory.mktemp("console")) as (settings, database):
        with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
            for login, password in PASSWORDS.items():
                console_sessions.set_password(uow, login, password)
        with serving(settings) as base:
            server = ConsoleServer(base=base, database=database, settings=settings)
            yield server
            for http in server.opened:
                http.close()
