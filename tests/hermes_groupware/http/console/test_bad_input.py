"""Every console form, fed hostile values as an administrator: a clear 4xx (or the normal
answer), never a 500, on either database."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from hermes_groupware.http.console.app import create_console
from tests.hermes_groupware.http.console.conftest import PASSWORDS, ConsoleServer

FIELDS = ("name", "owner", "registers", "employee", "group", "view", "profile", "redaction",
          "days_back", "days_ahead", "action", "grace_hours", "label", "task", "reports", "day",
          "time", "cron", "recipients", "formats", "time_zone", "login", "from", "to",
          "substitute", "event", "register", "to_status", "lead_minutes", "channel", "colour",
          "inbound_email", "default_assignee", "manager", "level", "password", "repeat",
          "current")  # fmt: skip
VALUES = ("", "\x00", "x" * 5000, "☃ <b>", "-1", "99999999999999999999", "2026-02-30", "REK")
IDS = ("1", "2147483648")


@pytest.fixture(scope="module")
def admin(console_server: ConsoleServer) -> tuple[FlaskClient, str]:
    """A logged-in test client of the console app, with its CSRF token."""
    app = create_console(console_server.settings, console_server.database)
    client = app.test_client()
    login = client.post("/console/login", data={"login": "admin", "password": PASSWORDS["admin"]})
    assert login.status_code == 302
    page = client.get("/console/connect").get_data(as_text=True)
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found is not None
    return client, found[1]


def _post_rules(console_server: ConsoleServer) -> list[str]:
    app = create_console(console_server.settings, console_server.database)
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ())
        and not rule.rule.endswith(("/login", "/logout"))
        and "/password" not in rule.rule
    )


def test_no_form_answers_500(console_server: ConsoleServer, admin: tuple[FlaskClient, str]) -> None:
    client, csrf = admin
    for rule in _post_rules(console_server):
        for ident in IDS:
            path = re.sub(r"<(int:)?\w+>", ident, rule)
            for value in VALUES:
                form = {name: value for name in FIELDS} | {"csrf": csrf}
                response = client.post(path, data=form)
                assert response.status_code < 500, (path, value, response.status_code)


def test_pages_with_unstorable_ids(
    console_server: ConsoleServer, admin: tuple[FlaskClient, str]
) -> None:
    client, _csrf = admin
    for path in (
        "/console/admin/feeds/2147483648",
        "/console/admin/quarantine/99999999999",
        "/console/admin/schedules/2147483648",
        "/console/admin/quarantine/1/raw",
    ):
        assert client.get(path).status_code == 404
    assert client.get("/console/admin/outbox?status=%00").status_code == 400
