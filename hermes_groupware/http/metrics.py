"""``/metrics``: Prometheus text, and the wrapper that counts HTTP requests.

Two kinds of numbers. Queue and backlog gauges (quarantine, outbox, dead letters, scheduler
lag, mail in by outcome) are read from the database at scrape time by :class:`DatabaseCollector`,
so every instance reports the same truth, whichever one is scraped. Request counters and
latencies (and CalDAV sync-collection REPORTs) are per process: sum them over instances.

Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory
(prometheus-client's own switch, read when it is imported): the workers then write their
counters there and any worker's ``/metrics`` adds them all up.

Nobody may read it unauthenticated from afar: a scrape is let in from ``[metrics] allow``
networks when it did not come through a proxy, or with ``Authorization: Bearer <[metrics]
token>`` from anywhere.
"""

from __future__ import annotations

import datetime as dt
import hmac
import io
import ipaddress
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Database
from hermes_groupware.http import request_id
from hermes_groupware.models.enums import Source
from hermes_groupware.services import leases, queue_stats
from hermes_groupware.services.queue_stats import QueueStats

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Response = tuple[str, list[tuple[str, str]], bytes]
Endpoint = Callable[[dict[str, Any]], Response]
PATH = "/metrics"

_METHODS = frozenset(
    {"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "MOVE", "COPY", "LOCK", "UNLOCK"}
    | {"PROPFIND", "PROPPATCH", "REPORT", "MKCALENDAR", "MKCOL"}
)
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")

HTTP_REQUESTS = Counter(
    "hermes_http_requests",
    "HTTP requests answered by this process, by method, route and status code.",
    ["method", "route", "status"],
    registry=None,
)
HTTP_LATENCY = Histogram(
    "hermes_http_request_duration_seconds",
    "Time to produce a response (to its end when streamed), by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None,
)
CALDAV_SYNCS = Counter(
    "hermes_caldav_sync_collection_reports",
    "CalDAV sync-collection REPORTs (RFC 6578) answered by this process, by status code.",
    ["status"],
    registry=None,
)


def route_of(path: str) -> str:
    """A fixed, small set of route labels: never the raw path (unbounded label values)."""
    if path in ("/healthz", "/readyz"):
        return "health"
    if path == PATH:
        return "metrics"
    first = path.split("/", 2)[1] if path.count("/") else ""
    return _ROUTES.get(first, "caldav")


#: the first path segment of the routes that are not CalDAV
_ROUTES = {"feeds": "feeds", "api": "api", "console": "console", "reports": "other"}


def instrumented(
    app: WSGIApp, endpoints: Mapping[str, Endpoint], *, max_body_bytes: int
) -> WSGIApp:
    """``app`` with every request counted and timed (a streamed body when it is closed), and
    ``endpoints`` (path -> handler: the probes and ``/metrics``) answered in front of it; each
    request carries its ``X-Request-Id`` (:mod:`hermes_groupware.http.request_id`)."""

    def observed(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")
        method = method if method in _METHODS else "other"
        route = route_of(environ.get("PATH_INFO", ""))
        is_sync = method == "REPORT" and _is_sync_collection(environ, max_body_bytes)
        status = ["500"]

        def start(code: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, *exc_info)

        def record() -> None:
            HTTP_REQUESTS.labels(method, route, status[0]).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)
            if is_sync:
                CALDAV_SYNCS.labels(status[0]).inc()

        try:
            handler = endpoints.get(environ.get("PATH_INFO", ""))
            if handler is None:
                body = app(environ, start)
            else:
                code, headers, text = handler(environ)
                start(code, headers)
                body = [text]
        except BaseException:
            record()
            raise
        if isinstance(body, list | tuple):  # complete already: counted before it is sent
            record()
            return body
        return _Closing(body, record)

    return request_id.tagged(observed)


class _Closing:
    """The response body, calling ``on_close`` once when the server closes it (PEP 3333)."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._body = body
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()


def _is_sync_collection(environ: dict[str, Any], limit: int) -> bool:
    """Whether a REPORT body asks for sync-collection; the body is put back for the app."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    if not 0 < length <= limit:
        return False  # the front refuses oversized bodies; nothing to count
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return b"sync-collection" in body


def endpoints(settings: Settings, database: Database) -> dict[str, Endpoint]:
    """``/metrics`` and its handler, for the HTTP composition root."""
    return {PATH: Scrape(settings, database).respond}


class Scrape:
    """The scrape endpoint of one process: access check, then the registry's text."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.access = ScrapeAccess(settings.metrics.allow, settings.metrics.token)
        self.registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # prometheus-client's own switch
            multiprocess.MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]
        else:
            for collector in (HTTP_REQUESTS, HTTP_LATENCY, CALDAV_SYNCS):
                self.registry.register(collector)
            ProcessCollector(registry=self.registry)
        self.registry.register(DatabaseCollector(database))

    def respond(self, environ: dict[str, Any]) -> Response:
        """The metrics text, or 401/403 for a scrape that is not let in."""
        refusal = self.access.refusal(environ)
        if refusal is not None:
            return refusal
        headers = [("Content-Type", CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")]
        return "200 OK", headers, generate_latest(self.registry)


class ScrapeAccess:
    """Who may scrape: a direct client in ``allow``, or anyone with the bearer token."""

    def __init__(self, allow: Iterable[str], token: str | None) -> None:
        self.networks = [ipaddress.ip_network(network, strict=False) for network in allow]
        self.token = token

    def refusal(self, environ: dict[str, Any]) -> Response | None:
        """None to let the scrape in, else the 401/403/405 answer."""
        text = [("Content-Type", "text/plain; charset=utf-8")]
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return "405 Method Not Allowed", [*text, ("Allow", "GET, HEAD")], b"GET only\n"
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if self.token and authorization:
            scheme, _, given = authorization.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode(), self.token.encode()
            ):
                return None
            challenge = ("WWW-Authenticate", 'Bearer realm="metrics"')
            return "401 Unauthorized", [*text, challenge], b"wrong metrics token\n"
        if self._allowed_address(environ):
            return None
        if self.token:
            challenge = ("WWW-Authenticate", 'Bearer realm="metrics"')
            return "401 Unauthorized", [*text, challenge], b"a metrics token is required\n"
        message = b"metrics are readable only from [metrics] allow addresses\n"
        return "403 Forbidden", text, message

    def _allowed_address(self, environ: dict[str, Any]) -> bool:
        """A direct client in ``allow``; a proxied one never (the proxy's address is not
        the client's)."""
        if any(environ.get(header) for header in _PROXY_HEADERS):
            return False
        try:
            address = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


class DatabaseCollector(Collector):
    """Queue and backlog gauges, queried at scrape time so they agree across instances."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Read the numbers in one read-only transaction; ``hermes_database_up`` 0 if not."""
        up = GaugeMetricFamily(
            "hermes_database_up", "1 when the database answered this scrape's queries, else 0."
        )
        try:
            stats = queue_stats.read(self.database)
            polled = self._imap_polls()
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _families(stats)
        yield _imap_family(polled)

    def _imap_polls(self) -> dict[str, dt.datetime]:
        with self.database.unit_of_work(queue_stats.READER, Source.SYSTEM, read_only=True) as uow:
            return leases.last_successes(uow.session, leases.IMAP_PREFIX)


def _imap_family(polled: dict[str, dt.datetime]) -> GaugeMetricFamily:
    """Each mailbox's last good sweep, by whichever instance held its lease (from the
    database, so any instance reports it)."""
    family = GaugeMetricFamily(
        "hermes_imap_last_success_timestamp_seconds",
        "End of the last IMAP sweep without connection trouble, per mailbox (Unix time).",
        labels=["mailbox"],
    )
    for mailbox, moment in sorted(polled.items()):
        family.add_metric([mailbox], moment.timestamp())
    return family


def _families(stats: QueueStats) -> Iterator[GaugeMetricFamily]:
    """The database reading as gauges; channels with nothing queued still report 0."""
    inbound = GaugeMetricFamily(
        "hermes_mail_inbound_messages",
        "Inbound messages stored, by channel and outcome (received = waiting to be processed).",
        labels=["channel", "status"],
    )
    for (channel, status), count in sorted(stats.inbound.items()):
        inbound.add_metric([channel, status], count)
    yield inbound
    quarantined = sum(n for (_, status), n in stats.inbound.items() if status == "quarantined")
    yield GaugeMetricFamily(
        "hermes_mail_quarantined_messages",
        "Inbound messages in quarantine, waiting for an admin.",
        value=quarantined,
    )
    last = GaugeMetricFamily(
        "hermes_mail_last_received_timestamp_seconds",
        "When the newest inbound message arrived, by channel (Unix time).",
        labels=["channel"],
    )
    for channel, moment in sorted(stats.last_inbound.items()):
        last.add_metric([channel], moment.timestamp())
    yield last
    yield from _outbox_families(stats)
    yield GaugeMetricFamily(
        "hermes_reports_scheduler_lag_seconds",
        "How long the oldest due report occurrence has waited to be rendered (0 when none).",
        value=stats.scheduler_lag.total_seconds(),
    )


def _outbox_families(stats: QueueStats) -> Iterator[GaugeMetricFamily]:
    channels = sorted({"email", *(channel for channel, _ in stats.outbox)})
    depth = GaugeMetricFamily(
        "hermes_outbox_queued_messages",
        "Outgoing messages waiting to be sent (including retries), by channel.",
        labels=["channel"],
    )
    dead = GaugeMetricFamily(
        "hermes_outbox_dead_messages",
        "Outgoing messages given up on (dead letters), by channel.",
        labels=["channel"],
    )
    age = GaugeMetricFamily(
        "hermes_outbox_oldest_queued_age_seconds",
        "Age of the oldest outgoing message still queued, by channel (0 when none).",
        labels=["channel"],
    )
    for channel in channels:
        depth.add_metric([channel], stats.outbox.get((channel, "queued"), 0))
        dead.add_metric([channel], stats.outbox.get((channel, "dead"), 0))
        oldest = stats.oldest_queued.get(channel)
        waited = (stats.now - oldest).total_seconds() if oldest is not None else 0.0
        age.add_metric([channel], max(0.0, waited))
    yield from (depth, dead, age)
