"""PostgreSQL restarted under load: ``serve`` answers 503 / 451 / exit 75, then recovers alone.

A private cluster (:mod:`tests.faults`) is stopped while CalDAV clients sync and mail arrives by
SMTP and by the MTA pipe command. During the outage every request must fail cleanly (never a
500, never a hang); afterwards the same ``serve`` process answers again without a restart, and
every message the senders retried until it was accepted is on its task exactly once.
"""

from __future__ import annotations

import base64
import dataclasses
import http.client
import itertools
import smtplib
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from hermes_groupware import demo
from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.filestore import FileStore
from hermes_groupware.models import Employee, InboundMessage, TaskItem
from hermes_groupware.models.enums import ItemKind, Source
from hermes_groupware.services import tasks
from hermes_groupware.services.lookups import register_by_code
from mail_gateway.addresses import RecipientKind, ReplyToken
from mail_gateway.processing import GatewayConfig
from tests.conftest import ON_POSTGRESQL, migrated
from tests.faults import SCRIPT, PrivatePostgres, Served, require_postgres_server, serve_env
from tests.ports import free_port

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRESQL, reason="a PostgreSQL outage (run with PostgreSQL)"),
    pytest.mark.timeout(180),  # ~25 s; the margin is for a loaded CI machine
]
DOMAIN, AUTHSERV = "hermes.test", "mx.firma.pl"
AUTH = "Basic " + base64.b64encode(f"jkowalski:{demo.DEMO_APP_PASSWORD}".encode()).decode()
SYNC = (
    '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
    "<D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop>"
    "</D:sync-collection>"
)
OUTAGE_SECONDS = 3.0


@dataclasses.dataclass
class Site:
    """One ``serve`` (http, smtp, worker) on a private cluster, and how to reach it."""

    cluster: PrivatePostgres
    database: Database
    log: Path
    env: dict[str, str]
    http_port: int
    smtp_port: int
    reply_to: str
    task_id: int


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    cluster = PrivatePostgres(require_postgres_server())
    engine: Engine | None = None
    try:
        cluster.start()
        url = cluster.create_database("hermes")
        engine = migrated(url)
        database = Database(engine, FileStore(tmp_path / "files", 1 << 20))
        with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
            demo.load(uow, tasks=10, seed=3, demo_mode=True)
            employee = uow.session.scalars(
                select(Employee).where(Employee.login == "jkowalski")
            ).one()
            task = tasks.create_task(
                uow,
                register_id=register_by_code(uow.session, "REK").id,
                subject="Awaria bazy",
                responsible_id=employee.id,
            )
        config = tmp_path / "config.toml"
        config.write_text(
            f'[server]\ndemo = true\n[logging]\nlevel = "ERROR"\n[mail]\ndomain = "{DOMAIN}"\n'
            f'authserv_id = "{AUTHSERV}"\n',
            encoding="utf-8",
        )
        http_port, smtp_port = free_port(), free_port()
        env = serve_env(
            url,
            config,
            http_port=str(http_port),
            smtp_in_enabled="true",
            smtp_in_port=str(smtp_port),
            smtp_in_lmtp="false",
            smtp_out_port=str(free_port()),  # no relay: notifications stay queued
            files_path=str(tmp_path / "files"),
            mail_notes_per_task_per_hour="1000",
        )
        settings = Settings(base_dir=tmp_path)
        settings = dataclasses.replace(
            settings,
            server=dataclasses.replace(settings.server, demo=True),
            mail=dataclasses.replace(settings.mail, domain=DOMAIN),
        )
        token = ReplyToken(task.id, RecipientKind.EMPLOYEE, employee.id, False)
        reply_to = GatewayConfig.from_settings(settings).replies.address(token)
        yield Site(
            cluster, database, tmp_path / "serve.log", env, http_port, smtp_port, reply_to, task.id
        )
    finally:
        if engine is not None:
            engine.dispose()
        cluster.close()


def _dav(site: Site, method: str, path: str, body: str = "", **headers: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", site.http_port, timeout=30)
    try:
        connection.request(method, path, body.encode(), {"Authorization": AUTH, **headers})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _caldav_rounds(site: Site) -> list[int]:
    """One client's sync round: the fast path's REPORT, a Radicale PROPFIND, a PUT."""
    uid = str(uuid.uuid4())
    todo = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261126T100000Z\r\nSUMMARY:Z telefonu\r\nEND:VTODO\r\n"
        "END:VCALENDAR\r\n"
    )
    xml = {"Content-Type": "application/xml", "Depth": "1"}
    return [
        _dav(site, "REPORT", "/jkowalski/tasks/", SYNC, **xml),
        _dav(site, "PROPFIND", "/jkowalski/", "", Depth="1"),
        _dav(site, "PUT", f"/jkowalski/tasks/{uid}.ics", todo, **{"Content-Type": "text/calendar"}),
    ]


def _reply(site: Site, n: int) -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = f"{AUTHSERV}; dmarc=pass header.from=firma.pl"
    msg["From"] = "Jan Kowalski <jkowalski@firma.pl>"
    msg["To"] = site.reply_to
    msg["Subject"] = "Re: Awaria bazy"
    msg["Message-ID"] = make_msgid(domain="firma.pl")
    msg.set_content(f"Odpowiedź numer {n}.")
    return msg.as_bytes()


def _smtp(site: Site, raw: bytes) -> int:
    """One MTA attempt: the reply code that decided it (250 accepted)."""
    try:
        with smtplib.SMTP("127.0.0.1", site.smtp_port, timeout=30) as smtp:
            smtp.sendmail("mta@firma.pl", [site.reply_to], raw)
    except smtplib.SMTPRecipientsRefused as exc:
        return int(next(iter(exc.recipients.values()))[0])
    except smtplib.SMTPResponseException as exc:
        return exc.smtp_code
    return 250


def _pipe(site: Site, raw: bytes) -> int:
    """One MTA attempt through ``mail deliver``: its exit code (0 accepted, 75 retry)."""
    return subprocess.run(
        [SCRIPT, "mail", "deliver", "--recipient", site.reply_to],
        env=site.env,
        input=raw,
        capture_output=True,
        timeout=60,
        check=False,
    ).returncode


class Traffic:
    """Clients and MTAs working in a loop until stopped; every answer is recorded."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.answers: Counter[tuple[str, int]] = Counter()
        self.accepted: list[int] = []
        self._numbers = itertools.count(1)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(self._sync,)),
            threading.Thread(target=self._loop, args=(self._mta(_smtp, "smtp"),)),
            threading.Thread(target=self._loop, args=(self._mta(_pipe, "pipe"),)),
        ]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _loop(self, step: Callable[[], None]) -> None:
        while not self._stop.is_set():
            step()
            time.sleep(0.05)

    def _sync(self) -> None:
        for status in _caldav_rounds(self.site):
            self.answers["http", status] += 1

    def _mta(self, attempt: Callable[[Site, bytes], int], channel: str) -> Callable[[], None]:
        def step() -> None:
            """The same message again until it is accepted (code 250 or exit 0)."""
            number = next(self._numbers)
            raw = _reply(self.site, number)
            while True:
                code = attempt(self.site, raw)
                self.answers[channel, code] += 1
                if code in (0, 250):
                    self.accepted.append(number)
                    return
                time.sleep(0.2)

        return step


def _notes(site: Site) -> list[str]:
    with site.database.unit_of_work(Actor.system("test"), Source.CLI, read_only=True) as uow:
        query = select(TaskItem.body).where(
            TaskItem.task_id == site.task_id, TaskItem.kind == ItemKind.NOTE
        )
        return [body or "" for body in uow.session.scalars(query)]


def _inbound(site: Site) -> list[tuple[str, str | None]]:
    with site.database.unit_of_work(Actor.system("test"), Source.CLI, read_only=True) as uow:
        rows = uow.session.execute(select(InboundMessage.status, InboundMessage.reason))
        return [(status.value, reason) for status, reason in rows]


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_a_postgresql_restart_fails_cleanly_and_recovers_without_a_restart(site: Site) -> None:
    served = Served("http,smtp,worker", site.env, site.log)
    try:
        assert _caldav_rounds(site) == [207, 207, 201]
        assert _dav(site, "GET", "/api/v1/me") == 200
        with Traffic(site) as traffic:
            time.sleep(1.0)
            site.cluster.stop()
            time.sleep(OUTAGE_SECONDS)
            during = [_dav(site, "GET", p) for p in ("/readyz", "/api/v1/me")]
            during += _caldav_rounds(site)
            smtp_down = _smtp(site, _reply(site, 0))
            pipe_down = _pipe(site, _reply(site, 0))
            site.cluster.start()
            recovered = _wait(lambda: _caldav_rounds(site) == [207, 207, 201], 45)
            time.sleep(1.0)
        assert during == [503] * 5
        assert (smtp_down, pipe_down) == (451, 75)
        assert recovered
        assert served.process.poll() is None  # the same process, never restarted
        outcomes = set(traffic.answers)
        assert outcomes <= {("http", 207), ("http", 201), ("http", 503), ("smtp", 250),
                            ("smtp", 451), ("pipe", 0), ("pipe", 75)}, traffic.answers  # fmt: skip
        assert {("http", 503), ("smtp", 451), ("pipe", 75)} & outcomes, traffic.answers
        assert traffic.accepted, traffic.answers

        def each_posted_once() -> bool:
            notes = _notes(site)
            return all(sum(f"numer {n}." in note for note in notes) == 1 for n in traffic.accepted)

        assert _wait(each_posted_once, 60), (_notes(site), traffic.accepted, _inbound(site))
        assert len(_notes(site)) == len(traffic.accepted)
    finally:
        served.stop()
