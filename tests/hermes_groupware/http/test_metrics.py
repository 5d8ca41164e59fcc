"""``/metrics`` through a real server: who may scrape, the database gauges, the request counters."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from hermes_groupware import demo
from hermes_groupware.config import MetricsSettings
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.filestore import FileStore
from hermes_groupware.http.metrics import HTTP_REQUESTS, ScrapeAccess, instrumented, route_of
from hermes_groupware.models import InboundMessage, OutboundMessage, ReportRun, ReportSchedule
from hermes_groupware.models.enums import (
    InboundStatus,
    MailChannel,
    OutboundStatus,
    ReportRunStatus,
    Source,
)
from hermes_groupware.services import leases
from hermes_groupware.services.lookups import employee_by_login
from tests.conftest import DatabaseFactory, migrated
from tests.hermes_groupware.http.conftest import Running, ServeApp, settings_for
from tests.ports import free_port

SCRIPT = str(Path(sys.executable).with_name("hermes-groupware"))
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
AUTH = "Basic " + base64.b64encode(f"jkowalski:{demo.DEMO_APP_PASSWORD}".encode()).decode()
SYNC = (
    '<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:">'
    "<d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop>"
    "</d:sync-collection>"
)
_unique = itertools.count()


@pytest.fixture
def database(db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Database]:
    engine = migrated(db_factory.new_url())
    database = Database(engine, FileStore(tmp_path / "files", 1 << 20))
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        demo.load(uow, tasks=5, seed=3, demo_mode=True)
    yield database
    engine.dispose()


def _url(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


def scrape(server: Running, headers: dict[str, str] | None = None) -> Samples:
    reply = server.request("GET", "/metrics", headers=headers)
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(reply.body.decode()):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _inbound(status: InboundStatus, channel: MailChannel, received: dt.datetime) -> InboundMessage:
    raw = f"Subject: {next(_unique)}\r\n\r\nx".encode()
    return InboundMessage(
        channel=channel,
        raw=raw,
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        status=status,
        received_at=received,
    )


def _outbound(
    status: OutboundStatus, created: dt.datetime, channel: str = "email"
) -> OutboundMessage:
    return OutboundMessage(
        message_id=f"<m{next(_unique)}@hermes.localhost>",
        recipient="jan@firma.pl",
        kind="note",
        raw=b"x",
        channel=channel,
        status=status,
        created_at=created,
        next_attempt_at=created,
    )


def test_database_gauges_are_read_at_scrape_time(
    database: Database, tmp_path: Path, serve_app: ServeApp
) -> None:
    now = dt.datetime.now(dt.UTC)
    with serve_app(settings_for(_url(database), tmp_path)) as server:
        empty = scrape(server)
        with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
            owner = employee_by_login(uow.session, "admin", field="owner")
            uow.session.add_all(
                [
                    _inbound(InboundStatus.QUARANTINED, MailChannel.LMTP, now),
                    _inbound(InboundStatus.QUARANTINED, MailChannel.IMAP, now),
                    _inbound(InboundStatus.POSTED, MailChannel.IMAP, now - dt.timedelta(hours=1)),
                    _inbound(InboundStatus.RECEIVED, MailChannel.LMTP, now),
                    _outbound(OutboundStatus.QUEUED, now - dt.timedelta(minutes=10)),
                    _outbound(OutboundStatus.QUEUED, now - dt.timedelta(minutes=1)),
                    _outbound(OutboundStatus.DEAD, now - dt.timedelta(days=1)),
                    _outbound(OutboundStatus.SENT, now - dt.timedelta(days=2)),
                    _outbound(OutboundStatus.QUEUED, now - dt.timedelta(seconds=30), "sms"),
                ]
            )
            schedule = ReportSchedule(
                name="Zaległe",
                reports="overdue",
                cron="0 8 * * *",
                owner_id=owner.id,
                next_fire_at=now + dt.timedelta(hours=1),
            )
            uow.session.add(schedule)
            uow.session.flush()
            uow.session.add(
                ReportRun(
                    schedule_id=schedule.id,
                    occurrence_at=now - dt.timedelta(minutes=5),
                    occurrence_local="2026-11-27T08:00",
                    status=ReportRunStatus.QUEUED,
                )
            )
        full = scrape(server)

    assert value(empty, "hermes_database_up") == 1
    assert value(empty, "hermes_mail_quarantined_messages") == 0
    assert value(empty, "hermes_outbox_queued_messages", channel="email") == 0
    assert value(empty, "hermes_outbox_oldest_queued_age_seconds", channel="email") == 0
    assert value(empty, "hermes_reports_scheduler_lag_seconds") == 0

    assert value(full, "hermes_mail_quarantined_messages") == 2
    inbound = "hermes_mail_inbound_messages"
    assert value(full, inbound, channel="imap", status="quarantined") == 1
    assert value(full, inbound, channel="imap", status="posted") == 1
    assert value(full, inbound, channel="lmtp", status="received") == 1
    newest_imap = value(full, "hermes_mail_last_received_timestamp_seconds", channel="imap")
    assert newest_imap == pytest.approx(now.timestamp(), abs=1)
    assert value(full, "hermes_outbox_queued_messages", channel="email") == 2
    assert value(full, "hermes_outbox_queued_messages", channel="sms") == 1
    assert value(full, "hermes_outbox_dead_messages", channel="email") == 1
    assert 600 <= value(full, "hermes_outbox_oldest_queued_age_seconds", channel="email") < 660
    assert 30 <= value(full, "hermes_outbox_oldest_queued_age_seconds", channel="sms") < 90
    assert 300 <= value(full, "hermes_reports_scheduler_lag_seconds") < 360


def test_a_due_schedule_without_a_run_yet_counts_as_lag(
    database: Database, tmp_path: Path, serve_app: ServeApp
) -> None:
    now = dt.datetime.now(dt.UTC)
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        owner = employee_by_login(uow.session, "admin", field="owner")
        uow.session.add(
            ReportSchedule(
                name="Lejek",
                reports="pipeline",
                cron="0 8 * * *",
                owner_id=owner.id,
                next_fire_at=now - dt.timedelta(minutes=2),
            )
        )
    with serve_app(settings_for(_url(database), tmp_path)) as server:
        samples = scrape(server)
    assert 120 <= value(samples, "hermes_reports_scheduler_lag_seconds") < 180


def test_requests_are_counted_by_route_never_by_raw_path(
    database: Database, tmp_path: Path, serve_app: ServeApp
) -> None:
    with serve_app(settings_for(_url(database), tmp_path)) as server:
        before = scrape(server)
        assert server.request("GET", "/healthz").status == 200
        assert server.request("GET", "/feeds/AAAAAAAAAAAAAAAAAAAAAAAA.ics").status == 404
        sync = server.request(
            "REPORT",
            "/jkowalski/tasks/",
            SYNC.encode(),
            {"Authorization": AUTH, "Depth": "1", "Content-Type": "application/xml"},
        )
        assert sync.status == 207
        unauthenticated = server.request("PROPFIND", "/jkowalski/secret-plan/", b"")
        assert unauthenticated.status == 401
        after = scrape(server)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "hermes_http_requests_total"
    assert delta(requests, method="GET", route="health", status="200") == 1
    assert delta(requests, method="GET", route="feeds", status="404") == 1
    assert delta(requests, method="REPORT", route="caldav", status="207") == 1
    assert delta(requests, method="PROPFIND", route="caldav", status="401") == 1
    assert delta(requests, method="GET", route="metrics", status="200") == 1  # the first scrape
    assert delta("hermes_caldav_sync_collection_reports_total", status="207") == 1
    assert delta("hermes_http_request_duration_seconds_count", method="REPORT", route="caldav") == 1
    labels = {value for _, pairs in after for _, value in pairs}
    assert not any("jkowalski" in label or "/" in label for label in labels)


def test_scrapes_are_let_in_by_address_or_by_token(
    database: Database, tmp_path: Path, serve_app: ServeApp
) -> None:
    url = _url(database)
    with serve_app(settings_for(url, tmp_path)) as server:  # default: loopback only
        direct = server.request("GET", "/metrics")
        proxied = server.request("GET", "/metrics", headers={"X-Real-IP": "203.0.113.9"})
        forwarded = server.request("GET", "/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        posted = server.request("POST", "/metrics")
    assert direct.status == 200
    assert proxied.status == forwarded.status == 403  # via a proxy, loopback proves nothing
    assert posted.status == 405

    elsewhere = settings_for(url, tmp_path, allow=("10.0.0.0/8",))
    with serve_app(elsewhere) as server:
        refused = server.request("GET", "/metrics")
    assert refused.status == 403
    assert b"[metrics] allow" in refused.body

    secret = "s3cret-scrape-token"
    with serve_app(settings_for(url, tmp_path, allow=(), token=secret)) as server:
        missing = server.request("GET", "/metrics")
        wrong = server.request("GET", "/metrics", headers={"Authorization": "Bearer nope"})
        basic = server.request("GET", "/metrics", headers={"Authorization": AUTH})
        right = scrape(
            server, {"Authorization": f"Bearer {secret}", "X-Forwarded-For": "203.0.113.9"}
        )
    assert (missing.status, missing.headers["www-authenticate"]) == (401, 'Bearer realm="metrics"')
    assert wrong.status == 401
    assert basic.status == 401  # an employee's app password is not a metrics credential
    assert value(right, "hermes_database_up") == 1


def test_database_down_shows_as_a_gauge_not_an_error(tmp_path: Path, serve_app: ServeApp) -> None:
    nowhere = f"postgresql+psycopg://hermes@127.0.0.1:{free_port()}/hermes"
    with serve_app(settings_for(nowhere, tmp_path)) as server:
        samples = scrape(server)
        assert server.request("GET", "/healthz").status == 200
    assert value(samples, "hermes_database_up") == 0
    assert ("hermes_outbox_queued_messages", (("channel", "email"),)) not in samples


@pytest.mark.parametrize("header", ["HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED"])
def test_proxy_headers_take_away_the_address_allowance(header: str) -> None:
    """As gunicorn hands them over: the loopback peer is the proxy, not the client."""
    access = ScrapeAccess(MetricsSettings().allow, None)
    environ = {"REQUEST_METHOD": "GET", "REMOTE_ADDR": "127.0.0.1"}
    assert access.refusal(environ) is None
    assert access.refusal({**environ, "REMOTE_ADDR": "::ffff:127.0.0.1"}) is None
    assert access.refusal({**environ, "REMOTE_ADDR": "::1"}) is None
    assert access.refusal({**environ, "REMOTE_ADDR": "192.0.2.1"}) is not None
    refused = access.refusal({**environ, header: "203.0.113.9"})
    assert refused is not None and refused[0] == "403 Forbidden"


def test_multiprocess_mode_adds_up_the_counters_of_every_process(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    """Two processes sharing PROMETHEUS_MULTIPROC_DIR, as gunicorn workers do: a scrape of
    either counts the requests both answered."""
    url = db_factory.new_url()
    migrated(url).dispose()
    shared = tmp_path / "prometheus"
    shared.mkdir()
    config = tmp_path / "config.toml"
    config.write_text('[server]\ndemo = true\n[logging]\nlevel = "WARNING"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
    env.update(
        HERMES_CONFIG=str(config), HERMES_DATABASE_URL=url, PROMETHEUS_MULTIPROC_DIR=str(shared)
    )
    ports, processes = [free_port(), free_port()], []
    try:
        for port in ports:
            process = subprocess.Popen(
                [SCRIPT, "serve", "--roles", "http"],
                env={**env, "HERMES_HTTP_PORT": str(port)},
                stdout=subprocess.PIPE,
                text=True,
            )
            processes.append(process)
            assert process.stdout is not None
            assert process.stdout.readline().startswith("ready http://")
        first, second = Running(ports[0]), Running(ports[1])
        for _ in range(3):
            assert first.request("GET", "/healthz").status == 200
        assert second.request("GET", "/healthz").status == 200
        from_second = scrape(second)
        from_first = scrape(first)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
            if process.stdout is not None:
                process.stdout.close()
    healthz = {"method": "GET", "route": "health", "status": "200"}
    assert value(from_second, "hermes_http_requests_total", **healthz) == 4
    assert value(from_first, "hermes_http_requests_total", **healthz) == 4
    scrapes = {"method": "GET", "route": "metrics", "status": "200"}
    assert value(from_first, "hermes_http_requests_total", **scrapes) == 1  # second's, closed
    assert value(from_first, "hermes_database_up") == 1
    assert not any(name.startswith("process_") for name, _ in from_first)
    assert len(list(shared.glob("*.db"))) >= 2  # one file per process and metric kind


def test_a_streamed_body_is_counted_when_the_server_closes_it() -> None:
    def streaming(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("206 Partial Content", [])
        yield b"a"
        yield b"b"

    registry = CollectorRegistry()
    registry.register(HTTP_REQUESTS)
    labels = {"method": "GET", "route": "other", "status": "206"}

    def counted() -> float:
        return registry.get_sample_value("hermes_http_requests_total", labels) or 0.0

    app = instrumented(streaming, {}, max_body_bytes=1024)
    before = counted()
    body = app({"REQUEST_METHOD": "GET", "PATH_INFO": "/reports/x"}, lambda *a: None)
    assert b"".join(body) == b"ab"
    assert counted() == before  # not yet: the server has not closed it
    body.close()  # type: ignore[attr-defined]
    assert counted() == before + 1


def test_any_instance_reports_the_last_good_imap_sweep_from_the_lease(
    database: Database, tmp_path: Path, serve_app: ServeApp
) -> None:
    """The poller records good sweeps in its lease, so a scrape of an instance that does not
    poll (here: one that only serves HTTP) still shows them."""
    name = "hermes_imap_last_success_timestamp_seconds"
    mailbox = "hermes@imap.firma.pl:993/INBOX"
    swept = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    with serve_app(settings_for(_url(database), tmp_path)) as server:
        never = scrape(server)
        with database.unit_of_work(Actor.system("test"), Source.SYSTEM) as uow:
            lease = leases.IMAP_PREFIX + mailbox
            assert leases.hold(uow.session, lease, "host:1:a", now=swept, seconds=60)
            assert leases.hold(
                uow.session, lease, "host:1:a", now=swept, seconds=60, succeeded=True
            )
        after = scrape(server)
    assert (name, (("mailbox", mailbox),)) not in never  # no good sweep yet: no sample
    assert value(after, name, mailbox=mailbox) == swept.timestamp()


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/healthz", "health"),
        ("/metrics", "metrics"),
        ("/feeds/abc.ics", "feeds"),
        ("/api/v1/tasks", "api"),
        ("/console/connect", "console"),
        ("/reports/unsubscribe/x", "other"),
        ("/jkowalski/tasks/", "caldav"),
        ("/", "caldav"),
        ("", "caldav"),
    ],
)
def test_route_labels_are_a_small_fixed_set(path: str, route: str) -> None:
    assert route_of(path) == route
