"""The console's pages over real HTTP: what employees and administrators do there, and that
hostile values from tasks, mail and forms are shown as text, never as markup."""

from __future__ import annotations

import plistlib
import re
import uuid

import requests
from sqlalchemy import select

from hermes_groupware.db.session import Actor
from hermes_groupware.models import Feed, InboundMessage, OutboundMessage, TaskItem
from hermes_groupware.models.enums import InboundStatus, OutboundStatus, Source
from hermes_groupware.services import directory, mailbox
from tests.hermes_groupware.http.console.conftest import ConsoleServer

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


def _no_markup(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert ESCAPED in html


def _propfind(server: ConsoleServer, password: str) -> int:
    response = requests.request(
        "PROPFIND", f"{server.base}/jkowalski/", auth=("jkowalski", password),
        headers={"Depth": "0"}, timeout=30,
    )  # fmt: skip
    return response.status_code


def test_app_password_create_use_revoke(console_server: ConsoleServer) -> None:
    client = console_server.client("jkowalski")
    page = client.post("/app-passwords", {"label": XSS})
    assert page.status_code == 200
    _no_markup(page.text)
    password = re.search(r'id="new-password" value="([^"]+)"', page.text)
    assert password is not None
    with console_server.database.unit_of_work(Actor.system("t"), Source.CLI) as uow:
        assert directory.check_app_password(uow, "jkowalski", password[1]) is not None
    assert _propfind(console_server, password[1]) == 207  # CalDAV now remembers the login
    listing = client.get("/connect")
    _no_markup(listing.text)
    assert password[1] not in listing.text  # shown once
    revoke = re.search(r'action="(/console/app-passwords/(\d+)/revoke)"', listing.text)
    assert revoke is not None
    assert client.post(f"/app-passwords/{revoke[2]}/revoke").status_code == 302
    with console_server.database.unit_of_work(Actor.system("t"), Source.CLI) as uow:
        assert directory.check_app_password(uow, "jkowalski", password[1]) is None
    assert _propfind(console_server, password[1]) == 401  # and forgot it at the revocation
    other = console_server.client("ebrown")  # someone else's id is not found
    assert other.post(f"/app-passwords/{revoke[2]}/revoke").status_code == 404


def test_apple_profile(console_server: ConsoleServer) -> None:
    client = console_server.client("jkowalski")
    response = client.post("/apple-profile", {"label": "iPhone Jana"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-apple-aspen-config"
    assert "attachment" in response.headers["Content-Disposition"]
    profile = plistlib.loads(response.content)
    assert profile["PayloadType"] == "Configuration"
    (account,) = profile["PayloadContent"]
    assert account["PayloadType"] == "com.apple.caldav.account"
    assert account["CalDAVHostName"] == "127.0.0.1"
    assert account["CalDAVPort"] == int(console_server.base.rsplit(":", 1)[1])
    assert account["CalDAVUseSSL"] is False
    assert account["CalDAVUsername"] == "jkowalski"
    assert account["PayloadUUID"] != profile["PayloadUUID"]
    with console_server.database.unit_of_work(Actor.system("t"), Source.CLI) as uow:
        actor = directory.check_app_password(uow, "jkowalski", account["CalDAVPassword"])
    assert actor is not None
    assert "iPhone Jana" in client.get("/connect").text


def test_feed_preview_create_and_my_feeds(console_server: ConsoleServer) -> None:
    number = console_server.task(XSS)
    admin = console_server.client("admin")
    form = {"name": f"Reklamacje {XSS}", "owner": "jkowalski", "registers": "rek",
            "profile": "event-due", "redaction": "full"}  # fmt: skip
    preview = admin.post("/admin/feeds/new", {**form, "action": "preview"})
    assert preview.status_code == 200
    _no_markup(preview.text)
    assert number in preview.text
    late = console_server.task("Spóźniona reklamacja", due_in_days=-1)
    preview_rows = preview.text.split('id="preview"')[1]
    assert number in preview_rows
    assert late not in preview_rows  # made after that preview
    shown = admin.post("/admin/feeds/new", {**form, "action": "preview"}).text
    assert re.search(rf'<tr class="overdue"><td>{re.escape(late)}</td>', shown)
    assert not re.search(rf'<tr class="overdue"><td>{re.escape(number)}</td>', shown)
    busy = admin.post("/admin/feeds/new", {**form, "redaction": "busy", "action": "preview"})
    assert number in busy.text
    assert "&lt;script&gt;" not in busy.text.split('id="preview"')[1]  # only "busy" is shown
    assert "<em>Zajęty</em>" in busy.text
    assert '<option value="busy" selected>' in busy.text  # the form keeps what was chosen
    with console_server.uow() as uow:  # the trial feed was rolled back
        assert not [n for n in uow.session.scalars(select(Feed.name)) if "Reklamacje" in n]
    created = admin.post("/admin/feeds/new", {**form, "action": "create"})
    assert created.status_code == 302
    detail = admin.get(created.headers["Location"].removeprefix("/console"))
    _no_markup(detail.text)
    https = re.search(r'value="([^"]+)" class="link-https"', detail.text)
    assert https is not None
    link = https[1]
    assert link.startswith("http://127.0.0.1:5232/feeds/")  # [feeds] public_url
    feed = requests.get(console_server.base + link.split("5232", 1)[1], timeout=30)
    assert feed.status_code == 200
    assert number in feed.text
    mine = console_server.client("jkowalski").get("/feeds")
    assert link in mine.text
    assert "webcal://127.0.0.1:5232/feeds/" in mine.text
    assert "calendar.google.com/calendar/r?cid=webcal%3A%2F%2F" in mine.text
    _no_markup(mine.text)
    assert "Reklamacje" not in console_server.client("ebrown").get("/feeds").text
    feed_id = created.headers["Location"].rsplit("/", 1)[1]
    assert admin.post(f"/admin/feeds/{feed_id}/revoke").status_code == 302
    gone = requests.get(console_server.base + link.split("5232", 1)[1], timeout=30)
    assert gone.status_code == 404


def test_feed_form_errors_name_the_field(console_server: ConsoleServer) -> None:
    admin = console_server.client("admin")
    for form, field in (
        ({"name": "", "registers": "REK"}, "name"),
        ({"name": "x", "registers": "REK", "profile": "nonsense"}, "profile"),
        ({"name": "x", "registers": "REK", "days_back": "many"}, "days_back"),
        ({"name": "x", "registers": "NOPE"}, "register"),
    ):
        response = admin.post("/admin/feeds/new", {**form, "action": "create"})
        assert response.status_code == 400, form
        assert field in response.text


def test_schedule_monday_report_and_run_now(console_server: ConsoleServer) -> None:
    admin = console_server.client("admin")
    created = admin.post("/admin/schedules/new", {
        "name": "Poniedziałkowy raport", "reports": "overdue", "day": "MON", "time": "08:00",
        "recipients": "jkowalski", "formats": ["html", "xlsx"],
    })  # fmt: skip
    assert created.status_code == 302, created.text
    path = created.headers["Location"].removeprefix("/console")
    page = admin.get(path)
    assert "0 8 * * MON" in page.text
    upcoming = re.search(r'id="upcoming">([^<]+)<', page.text)
    assert upcoming is not None
    assert upcoming[1].count("08:00") == 5
    overdue = console_server.task(f"Zaległe {XSS}", due_in_days=-1)
    preview = admin.get(f"{path}/preview")
    assert preview.status_code == 200
    assert overdue in preview.text
    assert "<script>alert" not in preview.text
    assert "Zaległe &lt;script&gt;" in preview.text  # the text table may cut the subject
    assert admin.post(f"{path}/run-now").status_code == 302
    assert "queued" in admin.get(path).text
    assert "Poniedziałkowy raport" in admin.get("/admin/schedules").text
    form = {"name": "x", "reports": "overdue", "time": "25:00", "recipients": "jkowalski"}
    bad = admin.post("/admin/schedules/new", form)
    assert bad.status_code == 400
    assert "time" in bad.text


def test_quarantine_release_to_a_task(console_server: ConsoleServer) -> None:
    number = console_server.task("Reklamacja dostawy")
    held = console_server.quarantined(XSS, f"Treść {XSS}")
    admin = console_server.client("admin")
    listing = admin.get("/admin/quarantine")
    _no_markup(listing.text)
    detail = admin.get(f"/admin/quarantine/{held}")
    _no_markup(detail.text)
    raw = admin.get(f"/admin/quarantine/{held}/raw")
    assert raw.headers["Content-Type"] == "message/rfc822"
    assert "attachment" in raw.headers["Content-Disposition"]
    missing = admin.post(f"/admin/quarantine/{held}/release", {"task": "REK/1999/9999"})
    assert missing.status_code == 404
    released = admin.post(f"/admin/quarantine/{held}/release", {"task": number})
    assert released.status_code == 302
    with console_server.uow() as uow:
        row = uow.session.get_one(InboundMessage, held)
        assert row.status is InboundStatus.POSTED
        assert row.task_id is not None
        notes = uow.session.scalars(select(TaskItem.body).where(TaskItem.task_id == row.task_id))
        assert any("Treść" in (body or "") for body in notes)
        assert any("by admin" in str(step) for step in row.trail)
    again = admin.post(f"/admin/quarantine/{held}/release", {"task": number})
    assert again.status_code == 409


def test_quarantine_retry_delete_and_outbox_retry(console_server: ConsoleServer) -> None:
    admin = console_server.client("admin")
    held = console_server.quarantined("Bez numeru", "Dzień dobry")
    assert admin.post(f"/admin/quarantine/{held}/retry").status_code == 302
    with console_server.uow() as uow:  # processed again at once: still no task to go to
        row = uow.session.get_one(InboundMessage, held)
        assert "retry requested by admin" in [str(step) for step in row.trail]
        assert row.status is not InboundStatus.RECEIVED
    spam = console_server.quarantined("Tanie leki", "spam")
    assert admin.post(f"/admin/quarantine/{spam}/delete").status_code == 302
    assert admin.get(f"/admin/quarantine/{spam}").status_code == 404
    with console_server.uow() as uow:
        dead = mailbox.enqueue(
            uow, message_id=f"<{uuid.uuid4()}@hermes>", recipient="klient@example.com",
            raw=b"Subject: x\r\n\r\nx", kind="notification",
        )  # fmt: skip
        assert dead is not None
        dead.status, dead.last_error = OutboundStatus.DEAD, f"550 {XSS}"
        dead_id = dead.id
    listed = admin.get("/admin/outbox?status=dead")
    _no_markup(listed.text)
    assert f'action="/console/admin/outbox/{dead_id}/retry"' in listed.text
    assert admin.post(f"/admin/outbox/{dead_id}/retry").status_code == 302
    with console_server.uow() as uow:
        assert uow.session.get_one(OutboundMessage, dead_id).status is OutboundStatus.QUEUED
    assert admin.get("/admin/outbox").status_code == 200
    assert admin.get("/admin/outbox?status=bogus").status_code == 400


def test_security_headers(console_server: ConsoleServer) -> None:
    page = console_server.client().get("/login")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"


def test_employees_console_password_absence_handover(console_server: ConsoleServer) -> None:
    admin = console_server.client("admin")
    page = admin.get("/admin/employees")
    assert "mzielinska" in page.text
    shown = admin.post("/admin/employees/console-password", {"login": "pwisniewski"})
    password = re.search(r'id="console-password" value="([^"]+)"', shown.text)
    assert password is not None
    assert console_server.client().login("pwisniewski", password[1]).status_code == 302
    absence = {"login": "kwojcik", "from": "2026-12-01", "to": "2026-12-05",
               "substitute": "pwisniewski"}  # fmt: skip
    assert admin.post("/admin/absences/new", absence).status_code == 302
    listed = admin.get("/admin/employees").text
    assert "2026-12-05" in listed
    backwards = admin.post("/admin/absences/new", {**absence, "to": "2026-11-01"})
    assert backwards.status_code == 400
    assert admin.post("/admin/absences/new", {**absence, "from": "soon"}).status_code == 400
    delete = re.search(r'action="/console(/admin/absences/\d+/delete)"', listed)
    assert delete is not None
    assert admin.post(delete[1]).status_code == 302
    number = console_server.task("Przekazywane zadanie", login="kwojcik")
    moved = admin.post("/admin/handover", {"from": "kwojcik", "to": "pwisniewski"})
    assert moved.status_code == 200
    assert number in moved.text
    same = admin.post("/admin/handover", {"from": "kwojcik", "to": "kwojcik"})
    assert same.status_code == 400
    employee = console_server.client("jkowalski")
    assert employee.get("/admin/employees").status_code == 403
    refused = employee.post("/admin/employees/console-password", {"login": "admin"})
    assert refused.status_code == 403


def test_notification_rules(console_server: ConsoleServer) -> None:
    admin = console_server.client("admin")
    rule = {"name": "Nowa reklamacja", "event": "assigned", "register": "REK",
            "recipients": "assignee group:reklamacje", "channel": "email"}  # fmt: skip
    assert admin.post("/admin/rules/new", rule).status_code == 302
    page = admin.get("/admin/rules")
    assert "Nowa reklamacja" in page.text
    assert "group:reklamacje" in page.text
    for bad, field in (({"recipients": "nobody-here"}, "to"), ({"event": "never"}, "event"),
                       ({"recipients": ""}, "recipients")):  # fmt: skip
        refused = admin.post("/admin/rules/new", {**rule, **bad})
        assert refused.status_code == 400
        assert field in refused.text
    delete = re.search(r'action="/console(/admin/rules/\d+/delete)"', page.text)
    assert delete is not None
    assert admin.post(delete[1]).status_code == 302
    assert "Nowa reklamacja" not in admin.get("/admin/rules").text
    assert console_server.client("jkowalski").get("/admin/rules").status_code == 403


def test_registers(console_server: ConsoleServer) -> None:
    admin = console_server.client("admin")
    page = admin.get("/admin/registers")
    assert 'id="register-REK"' in page.text
    form = {"name": "Reklamacje klientów", "colour": "#c62828", "inbound_email": "",
            "default_assignee": "mzielinska", "manager": ""}  # fmt: skip
    assert admin.post("/admin/registers/REK", form).status_code == 302
    assert "Reklamacje klientów" in admin.get("/admin/registers").text
    assert admin.post("/admin/registers/REK", {**form, "colour": "red"}).status_code == 400
    assert admin.post("/admin/registers/NOPE", form).status_code == 400
    grant = {"login": "ebrown", "level": "read"}
    assert admin.post("/admin/registers/REK/grant", grant).status_code == 302
    both = admin.post("/admin/registers/REK/grant", {**grant, "group": "serwis"})
    assert both.status_code == 400
    assert (
        console_server.client("ebrown").post("/admin/registers/REK/grant", grant).status_code == 403
    )
