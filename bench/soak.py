#!/usr/bin/env python3
"""Load and soak: two Hermes instances on one PostgreSQL database, 200 employees' CalDAV
clients and 5 inbound mails a second for a bounded time.

Not a test. It creates a fresh database (dropped at the end unless ``--keep``), loads the demo
data and scales it to 200 employees with plain SQL, starts two ``hermes-groupware serve``
processes (all roles) and a sink SMTP relay in this process, and then, for ``--minutes``:

- every employee's client runs sync-collection on ``/<login>/tasks/`` about once a minute
  (jittered), through one of the two instances, and edits one of its items (GET, then PUT with
  If-Match) after a few per cent of the syncs;
- mails arrive over SMTP, alternating between the instances' listeners: replies to complaint
  tasks (they become notes) and new complaints to the register's address (they open tasks);
  the worker roles send the notifications they cause to the sink;
- the RSS of both instances is sampled every few seconds.

Then it checks every accepted mail in the database and prints throughput, latency per kind,
errors, mails, outbound mail and memory, with the targets of issue 8. See bench/README.md.

    .venv/bin/python bench/soak.py --minutes 5
"""

# Imports of Hermes, requests, aiosmtpd and SQLAlchemy sit inside functions: the script first
# re-executes itself with the project venv. Subprocesses run our own fixed commands.
# ruff: noqa: PLC0415, S311

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import email.parser
import itertools
import json
import os
import random
import shlex
import signal
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import caldav_bench
import mail_bench
from bench_postgres import free_port, fresh_database

cb: Any = caldav_bench
mb: Any = mail_bench
log = cb.log
BenchError = cb.BenchError

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "demo-hermes-2026"  # noqa: S105 - the demo app password, copied to every employee
EMPLOYEES = 200
TASKS_PER_EMPLOYEE = 20
DEMO_TASKS = 300
REPLY_TARGETS = 40
INSTANCES = 2
CLIENT_THREADS = 20
SENDERS_PER_INSTANCE = 2  # SMTP connections, each on its own fixed schedule
SYNC_PERIOD_S = 60.0
SAMPLE_EVERY_S = 5.0
DRAIN_TIMEOUT_S = 120.0
READY_TIMEOUT_S = 600.0
MEMORY_TOLERANCE = 0.10
P95_SYNC_TARGET_MS = 100.0
REPLY_SHARE = 0.8  # the rest of the mails are new complaints
COMPLAINTS = "reklamacje@firma.pl"
#: besides the defaults: every e-mail note is also told to the register's manager, so replies
#: cause outbound mail (the replying assignee is never told of their own note)
RULES = ("assigned -> assignee", "mail-note -> assignee", "mail-note -> manager")


# --------------------------------------------------------------------------- measurements


@dataclass
class Tally:
    """Latencies per kind and counted outcomes; shared by all threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ms: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (message-id, kind)

    def add(self, kind: str, ms: float) -> None:
        with self.lock:
            self.ms.setdefault(kind, []).append(ms)

    def count(self, key: str, by: int = 1) -> None:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + by

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text[:300])
            if len(self.errors) <= 5:
                log(f"error: {text[:300]}")


@dataclass
class Instance:
    """One ``serve`` process with all roles."""

    name: str
    http_port: int
    smtp_port: int
    process: Any = None
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MiB)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@dataclass
class Client:
    """One employee's calendar client: its instance, sync token and the items it knows."""

    login: str
    instance: Instance
    due: float
    token: str = ""
    etags: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- set-up


def write_config(workdir: Path, url: str, sink_port: int, login_cache: int | None) -> Path:
    """One configuration for both instances; ports come from HERMES_HTTP_PORT and
    HERMES_SMTP_IN_PORT. Limits meant for abuse are lifted: the load is one company's."""
    config = workdir / "soak.toml"
    rules = ", ".join(json.dumps(rule) for rule in RULES)
    caldav = "" if login_cache is None else f"[caldav]\nlogin_cache_seconds = {login_cache}\n"
    config.write_text(
        "[server]\ndemo = true\n"
        f'[database]\nurl = "{url}"\npool_size = 10\n'
        f'[files]\npath = "{workdir / "files"}"\n'
        f'[mail]\ndomain = "{mb.DOMAIN}"\nauthserv_id = "{mb.AUTHSERV}"\n'
        "new_tasks_per_sender_per_hour = 1000000\nnotes_per_task_per_hour = 1000000\n"
        '[smtp_in]\nenabled = true\nhost = "127.0.0.1"\nlmtp = false\n'
        "sender_limit_per_minute = 0\n"
        "[imap_in]\nenabled = false\n"
        f'[smtp_out]\nhost = "127.0.0.1"\nport = {sink_port}\nsecurity = "none"\n'
        f"[notifications]\ninterval_seconds = 5\ndefault_rules = [{rules}]\n"
        '[logging]\nlevel = "WARNING"\n' + caldav
    )
    return config


def cli(config: Path, *args: str) -> str:
    command = [str(cb.VENV / "bin" / "hermes-groupware"), "--config", str(config), *args]
    return str(cb.run(command, cb.hermes_env(config), REPO))


def scale_directory(url: str, seed: int) -> None:
    """Employees up to EMPLOYEES with the demo app password (its hash copied), and
    TASKS_PER_EMPLOYEE tasks each in the internal register, written with plain SQL like the
    desktop application; the journal triggers record them."""
    from sqlalchemy import create_engine, insert, text

    from hermes_groupware.demo.corpus import NOTES
    from hermes_groupware.models import Task
    from hermes_groupware.models.enums import Priority, TaskStatus, Visibility

    rng = random.Random(seed)
    engine = create_engine(url)
    with engine.begin() as conn:
        existing = int(conn.scalar(text("SELECT count(*) FROM employees")) or 0)
        conn.execute(
            text(
                "INSERT INTO employees (login, first_name, last_name, email, locale, time_zone,"
                " is_active, is_admin, created_at)"
                " SELECT 'soak' || lpad(n::text, 3, '0'), 'Pracownik', 'Numer ' || n,"
                " 'soak' || lpad(n::text, 3, '0') || '@firma.pl', 'pl', 'Europe/Warsaw',"
                " true, false, now() FROM generate_series(1, :count) AS n"
            ),
            {"count": EMPLOYEES - existing},
        )
        conn.execute(
            text(
                "INSERT INTO app_passwords (employee_id, label, password_hash, created_at)"
                " SELECT e.id, 'soak', (SELECT p.password_hash FROM app_passwords p"
                " JOIN employees j ON j.id = p.employee_id WHERE j.login = 'jkowalski'"
                " LIMIT 1), now() FROM employees e WHERE e.login LIKE 'soak%'"
            )
        )
        register_id = conn.scalar(text("SELECT id FROM registers WHERE code = 'WEW'"))
        people = [
            r[0] for r in conn.execute(text("SELECT id FROM employees WHERE login LIKE 'soak%'"))
        ]
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        rows = []
        for person in people:
            for i in range(TASKS_PER_EMPLOYEE):
                due = now + dt.timedelta(days=rng.randint(-30, 60), hours=rng.randint(0, 8))
                rows.append(
                    {
                        "number": f"WEW/SOAK/{person}-{i + 1:02d}",
                        "register_id": register_id,
                        "subject": f"Zadanie wewnętrzne {i + 1} (soak)",
                        "description": rng.choice(NOTES),
                        "status": rng.choice([TaskStatus.NEW, TaskStatus.IN_PROGRESS]),
                        "priority": Priority.NORMAL,
                        "planned_start": due - dt.timedelta(hours=2),
                        "due": due,
                        "all_day": False,
                        "completed_at": None,
                        "responsible_id": person,
                        "creator_id": person,
                        "customer_id": None,
                        "visibility": Visibility.NORMAL,
                        "categories": "",
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
        conn.execute(insert(Task), rows)
        # the notifications to count are those the load causes, not "assigned" for every
        # task loaded above: the rules start reading the journal at its end
        conn.execute(
            text(
                "UPDATE notification_cursor SET last_seq ="
                " (SELECT coalesce(max(seq), 0) FROM change_journal) WHERE id = 1"
            )
        )
    engine.dispose()


def reply_targets(config: Path) -> list[Any]:
    """REPLY_TARGETS complaint tasks, each with the signed reply address its responsible
    employee would get in a notification (mail_bench's Target, for its ``compose``)."""
    from sqlalchemy import select

    from hermes_groupware.bootstrap import database_from_settings
    from hermes_groupware.config import load_settings
    from hermes_groupware.db.session import Actor
    from hermes_groupware.models import Employee
    from hermes_groupware.models.enums import Source
    from hermes_groupware.services import tasks
    from hermes_groupware.services.lookups import register_by_code
    from mail_gateway.addresses import RecipientKind, ReplyToken
    from mail_gateway.processing import GatewayConfig

    settings = load_settings(config)
    db = database_from_settings(settings)
    replies = GatewayConfig.from_settings(settings).replies
    targets = []
    with db.unit_of_work(Actor.system("soak"), Source.CLI) as uow:
        register = register_by_code(uow.session, "REK")
        people = list(uow.session.scalars(select(Employee).where(Employee.login.in_(mb.SENDERS))))
        for i in range(REPLY_TARGETS):
            person = people[i % len(people)]
            subject = f"{mb.SUBJECTS[i % len(mb.SUBJECTS)]} ({i + 1})"
            task = tasks.create_task(
                uow, register_id=register.id, subject=subject, responsible_id=person.id
            )
            token = ReplyToken(task.id, RecipientKind.EMPLOYEE, person.id, False)
            targets.append(
                mb.Target(
                    task.id,
                    task.number,
                    subject,
                    person.login,
                    person.email or "",
                    f"{person.first_name} {person.last_name}",
                    replies.address(token),
                )
            )
    db.engine.dispose()
    return targets


def logins(url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        found = [r[0] for r in conn.execute(text("SELECT login FROM employees ORDER BY login"))]
    engine.dispose()
    return found


# --------------------------------------------------------------------------- processes


class Sink:
    """The relay the worker roles send to: an aiosmtpd server in this process that keeps
    the Message-ID and recipients of every mail."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.lock = threading.Lock()
        self.received: list[tuple[str, tuple[str, ...]]] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        headers = email.parser.BytesHeaderParser().parsebytes(envelope.original_content or b"")
        with self.lock:
            self.received.append((str(headers["Message-ID"]), tuple(envelope.rcpt_tos)))
        return "250 OK"


def start_instance(instance: Instance, config: Path, workdir: Path, threads: int) -> None:
    command = [
        str(cb.VENV / "bin" / "hermes-groupware"),
        "--config",
        str(config),
        "serve",
        "--threads",
        str(threads),
    ]
    env = cb.hermes_env(config)
    env.update(
        {
            "HERMES_HTTP_PORT": str(instance.http_port),
            "HERMES_SMTP_IN_PORT": str(instance.smtp_port),
        }
    )
    logfile = workdir / f"{instance.name}.log"
    instance.process = cb.start_process(command, env, logfile, REPO)
    # ``serve`` brings the calendars up to date with the journal (the bulk-inserted tasks)
    # before it prints its ready line, with a word per started role
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not any(line.startswith("ready ") for line in logfile.read_text().splitlines()):
        if instance.process.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"{instance.name} did not start; see {logfile}")
        time.sleep(0.5)
    ready = next(x for x in logfile.read_text().splitlines() if x.startswith("ready "))
    if f"smtp://127.0.0.1:{instance.smtp_port}" not in ready:
        raise BenchError(f"{instance.name} without its SMTP listener: {ready}")


def rss_mib(pid: int) -> float:
    """Resident set of the process and its children (waitress runs threads, not workers)."""
    total_kib, pending = 0, [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
    return total_kib / 1024


def sample_memory(instances: list[Instance], start: float, stop: threading.Event) -> None:
    while not stop.wait(SAMPLE_EVERY_S):
        for instance in instances:
            instance.rss.append((time.monotonic() - start, rss_mib(instance.process.pid)))


# --------------------------------------------------------------------------- CalDAV clients


def dav_call(
    session: Any, client: Client, method: str, path: str, *, body: str, headers: dict[str, str]
) -> tuple[float, Any]:
    started = time.perf_counter()
    response = session.request(
        method,
        client.instance.base + path,
        data=body.encode("utf-8"),
        headers=headers,
        auth=(client.login, PASSWORD),
        timeout=60,
    )
    _ = response.content
    return (time.perf_counter() - started) * 1000, response


def sync(session: Any, client: Client, tally: Tally, kind: str) -> bool:
    """One sync-collection from the client's token; True when it succeeded."""
    path = f"/{client.login}/tasks/"
    headers = {**cb.XML_TYPE, "Depth": "1"}
    body = cb.SYNC.format(token=client.token)
    ms, response = dav_call(session, client, "REPORT", path, body=body, headers=headers)
    if response.status_code != 207:
        tally.error(f"{kind} {client.login}: {response.status_code} {response.text[:200]}")
        return False
    tally.add(kind, ms)
    for href, props in cb.parse_multistatus(response.content):
        if href.endswith("/"):
            continue
        if "getetag" in props:
            client.etags[href] = props["getetag"]
        else:
            client.etags.pop(href, None)
    client.token = cb.sync_token_of(response.content)
    return True


def edit(session: Any, client: Client, rng: random.Random, tally: Tally) -> None:
    """A title changed in the client: GET one item, PUT it back with If-Match."""
    if not client.etags:
        return
    href = rng.choice(sorted(client.etags))
    path = href.split("://", 1)[-1].split("/", 1)[-1] if "://" in href else href.lstrip("/")
    path = "/" + path
    ms, response = dav_call(session, client, "GET", path, body="", headers={})
    if response.status_code != 200:
        tally.error(f"GET {path}: {response.status_code}")
        return
    tally.add("get", ms)
    etag = response.headers.get("ETag", "")
    body = cb.with_summary(response.text, f"Poprawiony tytuł {rng.randint(1, 10**6)} (soak)")
    headers = {"Content-Type": cb.ICS_TYPE, "If-Match": etag}
    ms, response = dav_call(session, client, "PUT", path, body=body, headers=headers)
    if response.status_code == 412:
        tally.count("put_412")  # changed meanwhile (e.g. by a mail): a client re-syncs
    elif response.status_code in (200, 201, 204):
        tally.add("put", ms)
    else:
        tally.error(f"PUT {path}: {response.status_code} {response.text[:200]}")


def client_loop(
    clients: list[Client], until: float, edit_share: float, tally: Tally, seed: int
) -> None:
    """One thread serves its share of the clients, each at its own due time."""
    import requests

    rng = random.Random(seed)
    session = requests.Session()
    while True:
        client = min(clients, key=lambda c: c.due)
        if client.due >= until:
            return
        time.sleep(max(0.0, client.due - time.monotonic()))
        try:
            if sync(session, client, tally, "sync") and rng.random() < edit_share:
                edit(session, client, rng, tally)
        except requests.RequestException as exc:
            tally.error(f"sync {client.login}: {type(exc).__name__}: {exc}")
        client.due += SYNC_PERIOD_S * rng.uniform(0.85, 1.15)


def settle(clients: list[Client], url: str, tally: Tally) -> float:
    """Syncs until the projection has applied the whole journal written so far (requests do
    that catch-up, a bounded chunk each): the timed phase measures the steady state, not the
    rendering of the bulk-inserted data. Returns the seconds it took."""
    import requests
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    session, started = requests.Session(), time.monotonic()
    with engine.connect() as conn:
        goal = int(conn.scalar(text("SELECT coalesce(max(seq), 0) FROM change_journal")) or 0)
    try:
        for client in itertools.cycle(clients[:INSTANCES]):
            with engine.connect() as conn:
                applied = int(conn.scalar(text("SELECT applied_seq FROM calendar_state")) or 0)
            if applied >= goal or time.monotonic() - started > READY_TIMEOUT_S:
                break
            sync(session, client, tally, "sync_settle")
    finally:
        engine.dispose()
    return time.monotonic() - started


def initial_syncs(clients: list[Client], tally: Tally) -> None:
    """Every client's first sync (the whole collection), before the timed phase. The first
    requests also render the bulk-inserted tasks, a bounded chunk each, so a client repeats
    until its collection stops growing."""
    import requests

    def work(share: list[Client]) -> None:
        session = requests.Session()
        for client in share:
            for _ in range(30):
                before = len(client.etags)
                if sync(session, client, tally, "sync_initial") and (
                    len(client.etags) >= TASKS_PER_EMPLOYEE or len(client.etags) == before
                ):
                    break

    shares = [clients[i::CLIENT_THREADS] for i in range(CLIENT_THREADS)]
    threads = [threading.Thread(target=work, args=(s,)) for s in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# --------------------------------------------------------------------------- mail


_SEQUENCE = itertools.count(1)


def new_complaint(seq: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Klient {seq % 50} <klient{seq % 50}@klient-soak.pl>"
    msg["To"] = COMPLAINTS
    msg["Subject"] = f"Reklamacja dostawy nr {seq} – uszkodzony towar"
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = f"<soak.{seq}.{os.getpid()}.{time.time_ns()}@klient-soak.pl>"
    msg.set_content(
        "Dzień dobry,\n\nw dostawie brakuje dwóch paczek, a jedna jest uszkodzona.\n"
        "Proszę o kontakt.\n\nZ poważaniem\nKlient"
    )
    return msg.as_bytes()


def mail_loop(
    instance: Instance, targets: list[Any], *, rate: float, until: float, tally: Tally, seed: int
) -> None:
    """Mails to one instance's listener on a fixed schedule of ``rate`` a second; a 4xx answer
    is retried as an MTA would (here after a second), a 5xx counts as an error."""
    rng = random.Random(seed)
    smtp: smtplib.SMTP | None = None
    step, due = 1 / rate, time.monotonic()
    while due < until and time.monotonic() < until:
        time.sleep(max(0.0, due - time.monotonic()))
        due += step
        seq = next(_SEQUENCE)
        if rng.random() < REPLY_SHARE:
            target = rng.choice(targets)
            kind, sender, rcpt = "reply", target.email, target.address
            raw = mb.compose(target, seq, rng)
        else:
            kind, sender, rcpt = "new", f"klient{seq % 50}@klient-soak.pl", COMPLAINTS
            raw = new_complaint(seq)
        message_id = str(email.parser.BytesHeaderParser().parsebytes(raw)["Message-ID"])
        for attempt in range(5):
            try:
                if smtp is None:
                    smtp = smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=60)
                started = time.perf_counter()
                smtp.sendmail(sender, [rcpt], raw)
                tally.add("mail", (time.perf_counter() - started) * 1000)
                with tally.lock:
                    tally.accepted.append((message_id, kind))
                break
            except smtplib.SMTPResponseException as exc:
                if 400 <= exc.smtp_code < 500 and attempt < 4:
                    tally.count("mail_4xx_retried")
                    time.sleep(1)
                    continue
                tally.error(f"mail {kind} {message_id}: {exc.smtp_code} {exc.smtp_error!r}")
                break
            except (OSError, smtplib.SMTPException) as exc:
                with contextlib.suppress(Exception):
                    if smtp is not None:
                        smtp.close()
                smtp = None
                if attempt == 4:
                    tally.error(f"mail {kind} {message_id}: {type(exc).__name__}: {exc}")
    if smtp is not None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()


# --------------------------------------------------------------------------- checks


def outbox_counts(engine: Any) -> dict[str, int]:
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM outbound_messages GROUP BY 1"))
        return {str(status): int(count) for status, count in rows}


def wait_for_outbox(engine: Any) -> dict[str, int]:
    """After the load stops, give the workers time to send what is still queued."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    counts = outbox_counts(engine)
    while counts.get("queued", 0) and time.monotonic() < deadline:
        time.sleep(2)
        counts = outbox_counts(engine)
    return counts


def check_mails(engine: Any, accepted: list[tuple[str, str]]) -> dict[str, int]:
    """Every accepted mail must be a note or a task, or in quarantine: else it is lost."""
    from sqlalchemy import text

    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while True:
        with engine.connect() as conn:
            inbound = {
                str(mid).strip("<>"): (int(i), str(status), task_id)
                for i, mid, status, task_id in conn.execute(
                    text("SELECT id, message_id, status, task_id FROM inbound_messages")
                )
            }
            notes: dict[int, int] = dict(
                conn.execute(
                    text(
                        "SELECT inbound_message_id, count(*) FROM task_items"
                        " WHERE inbound_message_id IS NOT NULL GROUP BY 1"
                    )
                ).all()
            )
        pending = sum(1 for _, status, _ in inbound.values() if status == "received")
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(2)
    result = {"accepted": len(accepted), "notes": 0, "tasks": 0, "quarantined": 0, "lost": 0}
    result["doubled_notes"] = sum(1 for n in notes.values() if n > 1)
    for message_id, kind in accepted:
        row = inbound.get(message_id.strip("<>"))
        if row is None:
            result["lost"] += 1
            continue
        row_id, status, task_id = row
        if status == "quarantined":
            result["quarantined"] += 1
        elif status == "posted" and kind == "reply" and notes.get(row_id):
            result["notes"] += 1
        elif status == "posted" and kind == "new" and task_id is not None:
            result["tasks"] += 1
        else:
            result["lost"] += 1
    return result


# --------------------------------------------------------------------------- report


def stats(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50_ms": round(cb.percentile(values, 50), 1),
        "p95_ms": round(cb.percentile(values, 95), 1),
        "p99_ms": round(cb.percentile(values, 99), 1),
    }


def memory_summary(instance: Instance, warm_s: float) -> dict[str, float]:
    """RSS at the start, after warm-up and at the end (medians over a minute: single samples
    swing by hundreds of MiB with the requests in hand), the max, and the slope fitted after
    warm-up (MiB a minute)."""
    samples = instance.rss
    after = [(t, v) for t, v in samples if t >= warm_s] or samples[-1:]
    end = after[-1][0]
    n = len(after)
    mean_t = sum(t for t, _ in after) / n
    mean_v = sum(v for _, v in after) / n
    var = sum((t - mean_t) ** 2 for t, _ in after)
    slope = sum((t - mean_t) * (v - mean_v) for t, v in after) / var * 60 if var else 0.0
    return {
        "first_mib": round(samples[0][1], 1),
        "after_warmup_mib": round(statistics.median(v for t, v in after if t < warm_s + 60), 1),
        "last_mib": round(statistics.median(v for t, v in after if t > end - 60), 1),
        "max_mib": round(max(v for _, v in samples), 1),
        "slope_mib_per_min": round(slope, 2),
        "samples": len(samples),
    }


def print_report(result: dict[str, Any]) -> None:
    """Markdown tables for docs/benchmarks.md."""
    print(f"\n## Load and soak: {result['command']}\n")
    print(
        f"{result['minutes']} min, {result['employees']} employees, {INSTANCES} instances, "
        f"{result['mail_rate']} mails/s; "
        f"load average {result['load_start']} -> {result['load_end']}\n"
    )
    print("| kind | requests | per s | p50 ms | p95 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind, s in result["latency"].items():
        rate = (
            ""
            if kind in {"sync_initial", "sync_settle"}
            else f"{s['count'] / result['seconds']:.2f}"
        )
        cells = [kind, s["count"], rate, s["p50_ms"], s["p95_ms"], s["p99_ms"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    counts = result["counts"]
    print(
        f"\nHTTP requests/s in the timed phase: {result['http_per_s']:.2f}; "
        f"errors: {result['errors']}; PUT answered 412: {counts.get('put_412', 0)}; "
        f"mails retried after a 4xx: {counts.get('mail_4xx_retried', 0)}"
    )
    m, o = result["mail"], result["outbound"]
    print(
        f"\nMails accepted {m['accepted']}: {m['notes']} notes, {m['tasks']} new tasks, "
        f"{m['quarantined']} quarantined, {m['lost']} lost; doubled notes {m['doubled_notes']}"
    )
    print(
        f"Outbound: outbox {o['outbox']}, delivered to the sink {o['sink']} "
        f"({o['sink_distinct']} distinct Message-IDs)\n"
    )
    print(
        "| instance | first MiB | after warm-up (median of 1 min) | last (median of 1 min)"
        " | max | slope MiB/min |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, mem in result["memory"].items():
        cells = [name, mem["first_mib"], mem["after_warmup_mib"], mem["last_mib"], mem["max_mib"]]
        print("| " + " | ".join(str(c) for c in [*cells, mem["slope_mib_per_min"]]) + " |")
    print("\n| target | value | met |")
    print("| --- | --- | :---: |")
    for name, (value, ok) in result["targets"].items():
        print(f"| {name} | {value} | {'ok' if ok else 'NO'} |")


def targets(result: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    p95 = result["latency"].get("sync", {}).get("p95_ms", float("nan"))
    found: dict[str, tuple[str, bool]] = {
        "zero errors": (str(result["errors"]), result["errors"] == 0),
        "zero lost mails": (str(result["mail"]["lost"]), result["mail"]["lost"] == 0),
        "p95 sync-collection < 100 ms": (f"{p95} ms", p95 < P95_SYNC_TARGET_MS),
    }
    for name, mem in result["memory"].items():
        growth = mem["last_mib"] / mem["after_warmup_mib"] - 1
        found[f"memory flat, {name} (last within 10 % of after warm-up)"] = (
            f"{growth:+.1%}",
            growth <= MEMORY_TOLERANCE,
        )
    return found


# --------------------------------------------------------------------------- main


def soak(args: argparse.Namespace, workdir: Path, url: str) -> dict[str, Any]:
    from sqlalchemy import create_engine

    load_start = round(os.getloadavg()[0], 2)
    sink = Sink()
    sink.controller.start()
    try:
        config = write_config(workdir, url, sink.port, args.login_cache_seconds)
        log("schema and demo data (through the services)")
        cli(config, "db", "upgrade")
        cli(config, "demo-data", "--tasks", str(DEMO_TASKS), "--seed", "2026")
        log(f"scaling to {EMPLOYEES} employees, {TASKS_PER_EMPLOYEE} tasks each (plain SQL)")
        scale_directory(url, args.seed)
        targets_ = reply_targets(config)
        instances = [
            Instance(f"instance-{i + 1}", free_port(), free_port()) for i in range(INSTANCES)
        ]
        for instance in instances:
            log(f"starting {instance.name}: http {instance.http_port}, smtp {instance.smtp_port}")
            start_instance(instance, config, workdir, args.threads)
        return drive(
            args,
            instances=instances,
            targets_=targets_,
            sink=sink,
            url=url,
            load_start=load_start,
            engine=create_engine(url),
        )
    finally:
        sink.controller.stop()


def drive(
    args: argparse.Namespace,
    *,
    instances: list[Instance],
    targets_: list[Any],
    sink: Sink,
    url: str,
    load_start: float,
    engine: Any,
) -> dict[str, Any]:
    rng = random.Random(args.seed)
    tally = Tally()
    origin = time.monotonic()
    stop = threading.Event()
    sampler = threading.Thread(target=sample_memory, args=(instances, origin, stop), daemon=True)
    sampler.start()
    clients = [Client(login, instances[i % INSTANCES], 0.0) for i, login in enumerate(logins(url))]
    log(f"initial sync of {len(clients)} clients (renders the bulk-inserted tasks)")
    initial_syncs(clients, tally)
    log(f"projection caught up with the journal after {settle(clients, url, tally):.0f} s more")
    start = time.monotonic()
    until = start + args.minutes * 60
    warm_s = start - origin + min(60.0, args.minutes * 60 * 0.2)
    for client in clients:
        client.due = start + rng.uniform(0, SYNC_PERIOD_S)
    log(f"timed phase: {args.minutes} min, {args.mail_rate} mails/s")
    workers = [
        threading.Thread(
            target=client_loop,
            args=(clients[i::CLIENT_THREADS], until, args.edit_share, tally, args.seed + i),
        )
        for i in range(CLIENT_THREADS)
    ]
    mail_threads = INSTANCES * SENDERS_PER_INSTANCE if args.mail_rate > 0 else 0
    senders = [instances[i % INSTANCES] for i in range(mail_threads)]
    workers += [
        threading.Thread(
            target=mail_loop,
            args=(inst, targets_),
            kwargs={
                "rate": args.mail_rate / len(senders),
                "until": until,
                "tally": tally,
                "seed": args.seed + 100 + i,
            },
        )
        for i, inst in enumerate(senders)
    ]
    for worker in workers:
        worker.start()
    next_log = start + 30
    while any(w.is_alive() for w in workers):
        time.sleep(0.5)
        if time.monotonic() < next_log:
            continue
        next_log += 30
        with tally.lock:
            done = {k: len(v) for k, v in tally.ms.items()}
        rss = [round(i.rss[-1][1]) if i.rss else 0 for i in instances]
        log(
            f"  {time.monotonic() - start:5.0f} s: {done}, errors {len(tally.errors)}, "
            f"RSS {rss} MiB"
        )
    seconds = time.monotonic() - start
    log("load stopped; checking mails and waiting for the outbox to drain")
    mail = check_mails(engine, tally.accepted)
    outbox = wait_for_outbox(engine)
    time.sleep(2)
    stop.set()
    sampler.join()
    engine.dispose()
    with sink.lock:
        received = list(sink.received)
    result: dict[str, Any] = {
        "command": "bench/soak.py " + shlex.join(sys.argv[1:]),
        "minutes": args.minutes,
        "seconds": round(seconds, 1),
        "employees": len(clients),
        "mail_rate": args.mail_rate,
        "latency": {k: stats(v) for k, v in sorted(tally.ms.items())},
        "http_per_s": round(
            sum(len(v) for k, v in tally.ms.items() if k in ("sync", "get", "put")) / seconds, 2
        ),
        "errors": len(tally.errors),
        "error_samples": tally.errors[:20],
        "counts": tally.counts,
        "mail": mail,
        "outbound": {
            "outbox": outbox,
            "sink": len(received),
            "sink_distinct": len({mid for mid, _ in received}),
        },
        "memory": {i.name: memory_summary(i, warm_s) for i in instances},
        "rss_samples": {i.name: i.rss for i in instances},
        "load_start": load_start,
        "load_end": round(os.getloadavg()[0], 2),
    }
    result["targets"] = targets(result)
    return result


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load and soak: 2 Hermes instances on one fresh PostgreSQL database, "
        f"{EMPLOYEES} employees' CalDAV clients and inbound mail for a bounded time.",
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="timed phase (10)")
    parser.add_argument("--mail-rate", type=float, default=5.0, help="inbound mails/s (5)")
    parser.add_argument(
        "--edit-share", type=float, default=0.03, help="share of syncs followed by a PUT (0.03)"
    )
    parser.add_argument("--threads", type=int, default=8, help="HTTP threads per instance (8)")
    parser.add_argument(
        "--login-cache-seconds",
        type=int,
        help="[caldav] login_cache_seconds of the instances (default: the product's, 60; after "
        "it a verified app password is re-checked with one read, not hashed again)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hermes-soak")
    parser.add_argument("--postgres-url", default=PG_ADMIN_URL, help="admin URL of the server")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    cb.ensure_project_venv(Path(__file__))
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, cb._on_signal)
    atexit.register(cb.stop_all)
    workdir = args.workdir / time.strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True)
    log(f"work directory {workdir}")
    try:
        with fresh_database(
            "postgresql", args.postgres_url, workdir, keep=args.keep, log=log
        ) as url:
            try:
                result = soak(args, workdir, url)
            finally:
                cb.stop_all()  # before the database is dropped
    finally:
        cb.stop_all()
    (workdir / "result.json").write_text(json.dumps(result, indent=2, default=str))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print_report(result)
    log(f"full result in {workdir / 'result.json'}")
    return 0 if all(ok for _, ok in result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
