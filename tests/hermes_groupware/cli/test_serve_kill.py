"""``serve`` killed with SIGKILL mid-flow and restarted, for the roles that take work from
outside: the SMTP listener, the IMAP poller and CalDAV over HTTP.

An MTA retries every message that did not get its ``250``, a calendar client every PUT that
got no answer, and the poller finds in the mailbox whatever it had not moved yet; after the
restart everything must be there exactly once: nothing acknowledged lost, nothing doubled.
"""

from __future__ import annotations

import base64
import http.client
import smtplib
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from hermes_groupware.cli.roles import SERVER_ROLES
from hermes_groupware.demo import DEMO_APP_PASSWORD
from tests.faults import Served
from tests.hermes_groupware.cli.conftest import Run, as_json
from tests.mail_gateway.conftest import dovecot, imap_user  # noqa: F401 - fixtures
from tests.mail_gateway.dovecot import Dovecot, MailUser
from tests.ports import free_port

ALL_ROLES = ",".join(SERVER_ROLES)  # what plain `serve` runs (less what config turns off)
MESSAGES = 30
PUTS = 30


def _mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"klient{n}@awaria.pl"
    msg["To"] = "reklamacje@firma.pl"
    msg["Subject"] = f"Awaria {n}"
    msg["Message-ID"] = make_msgid(domain="awaria.pl")
    msg.set_content(f"Zgłoszenie numer {n}.")
    return msg.as_bytes()


def _send(port: int, raw: bytes) -> bool:
    """One MTA delivery attempt: True only on 250 after DATA."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.sendmail("mta@firma.pl", ["reklamacje@firma.pl"], raw)
    except (OSError, smtplib.SMTPException):
        return False
    return True


def _put(port: int, n: int) -> int | None:
    """One client PUT of a new task (If-None-Match: *): the status, None when cut off."""
    uid = f"kill-{n}@klient.pl"
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261127T120000Z\r\nSUMMARY:Z telefonu {n}\r\n"
        "END:VTODO\r\nEND:VCALENDAR\r\n"
    )
    token = base64.b64encode(f"jkowalski:{DEMO_APP_PASSWORD}".encode()).decode()
    headers = {
        "Authorization": f"Basic {token}",
        "Content-Type": "text/calendar; charset=utf-8",
        "If-None-Match": "*",
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("PUT", f"/jkowalski/tasks/{uid}.ics", body.encode(), headers)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def _killed_midway(server: Served, work: Callable[[set[int]], None], total: int) -> set[int]:
    """Run ``work`` (it adds what the server acknowledged) beside ``server``; SIGKILL the
    server once a third of ``total`` is acknowledged. What was acknowledged by then."""
    acknowledged: set[int] = set()
    worker = threading.Thread(target=work, args=(acknowledged,))
    worker.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < total // 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill()  # SIGKILL: no cleanup, transactions cut wherever they are
    worker.join(timeout=60)
    assert total // 3 <= len(acknowledged) < total  # killed midway, not before or after
    return acknowledged


def test_sigkill_mid_flow_loses_and_doubles_nothing(
    demo: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    cli_env.update(
        HERMES_HTTP_PORT=str(free_port()),
        HERMES_SMTP_IN_ENABLED="true",
        HERMES_SMTP_IN_PORT=str(port),
        HERMES_SMTP_IN_LMTP="false",
        HERMES_SMTP_OUT_PORT=str(free_port()),  # nobody listens: acknowledgements stay queued
        HERMES_MAIL_NEW_TASKS_PER_SENDER_PER_HOUR="100",
    )
    messages = {n: _mail(n) for n in range(MESSAGES)}

    def mta(acknowledged: set[int]) -> None:
        for n, raw in messages.items():
            if _send(port, raw):
                acknowledged.add(n)

    server = Served(ALL_ROLES, cli_env, tmp_path / "serve.log")
    try:
        acknowledged = _killed_midway(server, mta, MESSAGES)
    finally:
        server.kill()

    server = Served(ALL_ROLES, cli_env, tmp_path / "serve.log")
    try:
        for n, raw in messages.items():  # the MTA retries whatever had no 250
            if n not in acknowledged:
                assert _send(port, raw), f"message {n} refused after the restart"
        demo("mail", "process")  # anything stored but unprocessed when the process died
    finally:
        server.stop()

    _assert_one_task_per_message(demo)
    defaults = {r["event"] for r in as_json(demo("rule", "list", "--json"))}
    assert defaults == {"assigned", "mail-note", "overdue"}  # installed by the first start
    inbound = as_json(demo("mail", "list", "--json"))
    assert {m["status"] for m in inbound if (m["subject"] or "").startswith("Awaria")} == {"posted"}


def _assert_one_task_per_message(demo: Run) -> None:
    subjects = [t["subject"] for t in as_json(demo("task", "list", "--register", "REK", "--json"))]
    for n in range(MESSAGES):
        assert subjects.count(f"Awaria {n}") == 1, n


def test_sigkill_of_the_imap_role_mid_sweep_loses_and_doubles_nothing(
    demo: Run,
    cli_env: dict[str, str],
    dovecot: Dovecot,  # noqa: F811 - the fixture imported above
    imap_user: MailUser,  # noqa: F811
    tmp_path: Path,
) -> None:
    for n in range(MESSAGES):
        dovecot.append(imap_user, _mail(n))
    cli_env.update(
        dovecot.serve_env(imap_user),
        HERMES_HTTP_PORT=str(free_port()),
        HERMES_SMTP_OUT_PORT=str(free_port()),  # nobody listens: acknowledgements stay queued
        HERMES_MAIL_NEW_TASKS_PER_SENDER_PER_HOUR="100",
        HERMES_IMAP_IN_LEASE_SECONDS="10",  # the dead holder's lease: the shortest allowed
    )
    server = Served("imap", cli_env, tmp_path / "serve.log")
    try:
        deadline = time.monotonic() + 60
        while len(dovecot.uids(imap_user)) > MESSAGES - MESSAGES // 3:
            assert time.monotonic() < deadline, "the poller moved nothing"
            time.sleep(0.01)
        server.kill()  # SIGKILL mid-sweep: a message may be committed but not moved yet
    finally:
        server.kill()
    assert 0 < len(dovecot.uids(imap_user)) < MESSAGES

    server = Served("imap", cli_env, tmp_path / "serve.log")  # once the dead lease runs out
    try:
        deadline = time.monotonic() + 60
        while dovecot.uids(imap_user):
            assert time.monotonic() < deadline, "the mailbox was not emptied after the restart"
            time.sleep(0.2)
        demo("mail", "process")  # anything stored but unprocessed when the process died
    finally:
        server.stop()
    _assert_one_task_per_message(demo)


def test_sigkill_of_the_http_role_mid_writes_loses_and_doubles_nothing(
    demo: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    cli_env["HERMES_HTTP_PORT"] = str(port)

    def client(created: set[int]) -> None:
        for n in range(PUTS):
            if _put(port, n) == 201:
                created.add(n)

    server = Served("http", cli_env, tmp_path / "serve.log")
    try:
        created = _killed_midway(server, client, PUTS)
    finally:
        server.kill()

    server = Served("http", cli_env, tmp_path / "serve.log")
    try:
        for n in range(PUTS):  # the client retries whatever got no answer
            if n not in created:
                # 412: that PUT was committed when the process died, its answer lost
                assert _put(port, n) in (201, 412), n
    finally:
        server.stop()

    found = demo("task", "list", "--search", "Z telefonu", "--limit", "1000", "--json")
    subjects = [t["subject"] for t in as_json(found)]
    for n in range(PUTS):
        assert subjects.count(f"Z telefonu {n}") == 1, n
