#!/usr/bin/env python3
"""Notifications benchmark: rule evaluation over 10,000 journal entries, and outbox throughput.

Not a test. For each database (SQLite, and PostgreSQL when reachable) it builds a fresh
database with the demo data (500 tasks), installs six realistic rules, moves the evaluator's
cursor to the end of the journal and then makes exactly ``--entries`` changes through the
services (status changes, new due dates, reassignments and attached files, acted by the
registers' staff). It then times ``notify_round`` until the cursor reaches the end, first with
every rule switched off (reading the journal and moving the cursor: the baseline) and then
with the rules on. The first ``--outbox`` notification mails that run queued are then sent to
an aiosmtpd sink in its own process on 127.0.0.1: by ``send_due`` with the service's limit and
with ``mail send``'s (1 worker; also 2 workers in threads on PostgreSQL) and, as baselines, by
plain ``smtplib`` over one reused connection and over one connection per message. Every path
is checked: each message reached the sink exactly once. See bench/README.md.

Run it with the project's venv (it re-executes itself there when started otherwise):

    .venv/bin/python bench/notify_bench.py
"""

# Imports of Hermes, aiosmtpd and SQLAlchemy sit inside functions: the script first re-executes
# itself with the project venv (caldav_bench.ensure_project_venv). The sink it starts is this
# script with fixed arguments.
# ruff: noqa: PLC0415, S603

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import platform
import random
import re
import shlex
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import caldav_bench
from bench_postgres import free_port, fresh_database, pg_reachable

REPO = Path(__file__).resolve().parents[1]
RUN_STAMP = time.strftime("%Y%m%d-%H%M%S")
DOMAIN = "hermes.firma.pl"
AUTHSERV = "mx.firma.pl"
DEMO_TASKS = 500
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SMTP_TIMEOUT = 60.0
#: send_due's limit in ``hermes-groupware mail send`` (the service's worker uses the default)
CLI_LIMIT = 1000
#: runs of the evaluation without rules per run with them
BASELINE_REPS = 3
#: changes per unit of work while producing the journal entries
CHANGES_PER_COMMIT = 50
#: the change mix: (kind, weight)
CHANGE_MIX = (("status", 45), ("due", 30), ("reassign", 20), ("file", 5))
#: who edits (and who is given) the tasks of each register, as in the demo data
STAFF = {
    "HAN": ("jkowalski", "anowak", "ebrown", "tdabrowski"),
    "REK": ("mzielinska", "anowak"),
    "WEW": ("admin", "tdabrowski", "mzielinska"),
    "SER": ("pwisniewski", "kwojcik"),
}
#: (name, event, recipients, register)
RULES = (
    ("assigned → assignee", "assigned", ("assignee",), None),
    ("status → assignee, manager", "status-changed", ("assignee", "manager"), None),
    ("due → assignee", "due-changed", ("assignee",), None),
    ("mail note → assignee", "mail-note", ("assignee",), None),
    ("file → watchers", "file-added", ("watchers",), None),
    ("REK status → group:reklamacje", "status-changed", ("group:reklamacje",), "REK"),
)
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<([^>\r\n]+)>", re.MULTILINE | re.IGNORECASE)
PACKAGES = ("caldav_backend", "hermes_groupware", "mail_gateway", "reports", "sync")


_LOAD_AT_START = os.getloadavg()[0]
cb: Any = caldav_bench
log = cb.log
BenchError = cb.BenchError


# --------------------------------------------------------------------------- results


@dataclass
class EvalRun:
    """``notify_round`` repeated until the cursor reached the end of the journal."""

    label: str
    rules: int
    entries: int
    round_s: list[float]
    queued: int
    statements: int
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.round_s)

    @property
    def rate(self) -> float:
        return self.entries / self.seconds

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "rules": self.rules,
            "entries": self.entries,
            "rounds": len(self.round_s),
            "seconds": round(self.seconds, 3),
            "entries_per_s": round(self.rate, 1),
            "round_ms_median": round(statistics.median(self.round_s) * 1000, 1),
            "round_ms_max": round(max(self.round_s) * 1000, 1),
            "messages_queued": self.queued,
            "sql_statements": self.statements,
            "parts_s": {k: round(v, 3) for k, v in self.parts.items()},
        }


@dataclass
class SendRun:
    """One path that handed the same messages to the sink."""

    key: str
    label: str
    messages: int
    workers: int
    wall_s: float
    statements: int = 0
    connections: int = 0
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.messages / self.wall_s

    @property
    def per_message_ms(self) -> float:
        return self.wall_s * 1000 / self.messages

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "messages": self.messages,
            "workers": self.workers,
            "wall_s": round(self.wall_s, 3),
            "msgs_per_s": round(self.rate, 1),
            "ms_per_msg": round(self.per_message_ms, 3),
            "sql_statements": self.statements,
            "smtp_connections": self.connections,
            "parts_s": {k: round(v, 4) for k, v in self.parts.items()},
        }


@dataclass
class DialectResult:
    dialect: str
    server: str
    setup: dict[str, Any] = field(default_factory=dict)
    evals: dict[str, list[EvalRun]] = field(default_factory=dict)
    sends: dict[str, list[SendRun]] = field(default_factory=dict)
    outbox: dict[str, Any] = field(default_factory=dict)
    profile: list[str] = field(default_factory=list)

    def eval_run(self, key: str) -> EvalRun:
        ordered = sorted(self.evals[key], key=lambda r: r.seconds)
        return ordered[(len(ordered) - 1) // 2]

    def send_run(self, key: str) -> SendRun:
        """The round with the median rate (the lower one of two)."""
        ordered = sorted(self.sends[key], key=lambda r: r.rate)
        return ordered[(len(ordered) - 1) // 2]


# --------------------------------------------------------------------------- set-up

_source_label = "work tree"


def use_snapshot(workdir: Path) -> Path:
    """Import Hermes from a copy of the work tree taken now (as mail_bench does): others edit
    the tree during a run, and alembic reads the migrations from disk for every database."""
    global _source_label  # noqa: PLW0603 - one label for the whole run
    target = workdir / f"src-{RUN_STAMP}"
    for package in PACKAGES:
        if (REPO / package).is_dir():
            shutil.copytree(
                REPO / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
            )
    sys.path.insert(0, str(target))
    import mail_gateway

    if not Path(mail_gateway.__file__ or "").is_relative_to(target):
        raise BenchError(f"mail_gateway comes from {mail_gateway.__file__}, not {target}")
    _source_label = f"snapshot of the work tree at {time.strftime('%H:%M:%S')}"
    log(f"importing Hermes from {target}")
    return target


def bench_settings(url: str, tmp: Path) -> Any:
    """Demo-mode settings like tests/mail_gateway/gateway.py's ``settings_for``: the mail
    domain, and ``batch_seconds = 0`` so every change is evaluated as soon as it is read."""
    from hermes_groupware.config import Settings

    base = Settings(base_dir=tmp)
    return dataclasses.replace(
        base,
        server=dataclasses.replace(base.server, demo=True),
        database=dataclasses.replace(base.database, url=url),
        files=dataclasses.replace(base.files, path=str(tmp / "files")),
        mail=dataclasses.replace(base.mail, domain=DOMAIN, authserv_id=AUTHSERV),
        notifications=dataclasses.replace(base.notifications, batch_seconds=0),
    )


def system_uow(db: Any) -> contextlib.AbstractContextManager[Any]:
    from hermes_groupware.db.session import Actor
    from hermes_groupware.models.enums import Source

    return db.unit_of_work(Actor.system("notify-bench"), Source.CLI)


def prepare(url: str, tmp: Path) -> tuple[Any, Any]:
    """Schema and demo data."""
    from hermes_groupware import demo
    from hermes_groupware.bootstrap import database_from_settings
    from hermes_groupware.db import migrate

    settings = bench_settings(url, tmp)
    db = database_from_settings(settings)
    migrate.upgrade(db.engine)
    with system_uow(db) as uow:
        demo.load(uow, tasks=DEMO_TASKS, seed=1, demo_mode=True)
    return db, settings


def install_rules(db: Any) -> list[int]:
    from hermes_groupware.models.enums import NotificationEvent
    from hermes_groupware.services import notification_rules
    from hermes_groupware.services.notification_rules import RuleSpec

    ids = []
    with system_uow(db) as uow:
        for name, event, recipients, register in RULES:
            spec = RuleSpec(name, NotificationEvent(event), recipients, register=register)
            ids.append(notification_rules.add_rule(uow, spec).id)
    return ids


def set_rules_active(db: Any, active: bool) -> None:
    from sqlalchemy import update

    from hermes_groupware.models import NotificationRule

    with system_uow(db) as uow:
        uow.session.execute(update(NotificationRule).values(is_active=active))


def journal_end(db: Any) -> tuple[int, int]:
    """(cursor, last journal seq)."""
    from sqlalchemy import func, select

    from hermes_groupware.models import ChangeJournal, NotificationCursor

    with system_uow(db) as uow:
        cursor = uow.session.scalar(
            select(NotificationCursor.last_seq).where(NotificationCursor.id == 1)
        )
        last = uow.session.scalar(select(func.max(ChangeJournal.seq)))
    return int(cursor or 0), int(last or 0)


def set_cursor(db: Any, seq: int) -> None:
    from sqlalchemy import update

    from hermes_groupware.models import NotificationCursor

    with system_uow(db) as uow:
        uow.session.execute(
            update(NotificationCursor).where(NotificationCursor.id == 1).values(last_seq=seq)
        )


def catch_up(db: Any, settings: Any) -> tuple[int, int]:
    """``notify_round`` until the cursor is at the end; (rounds, messages queued)."""
    from mail_gateway.notify import notify_round

    rounds = queued = 0
    while True:
        cursor, last = journal_end(db)
        if cursor >= last:
            return rounds, queued
        queued += notify_round(db, settings)
        rounds += 1


# --------------------------------------------------------------------------- the changes


@dataclass
class Editable:
    id: int
    code: str


def make_changes(db: Any, count: int, rng: random.Random) -> dict[str, Any]:
    """Exactly ``count`` journal entries from service calls on random tasks, each acted by a
    member of the task's register staff (so the actor is sometimes the assignee, who is then
    not told)."""
    from sqlalchemy import select

    from hermes_groupware.errors import PermissionDenied
    from hermes_groupware.models import Employee, Register, Task
    from hermes_groupware.models.enums import Visibility
    from hermes_groupware.services.directory import actor_for

    with system_uow(db) as uow:
        staff = {e.login: e for e in uow.session.scalars(select(Employee))}
        codes = {r.id: r.code for r in uow.session.scalars(select(Register))}
        editable = [
            Editable(t.id, codes[t.register_id])
            for t in uow.session.scalars(select(Task).order_by(Task.id))
            if t.visibility != Visibility.PRIVATE and codes[t.register_id] in STAFF
        ]
    actors = {login: actor_for(e) for login, e in staff.items()}
    kinds, weights = zip(*CHANGE_MIX, strict=True)
    mix: collections.Counter[str] = collections.Counter()
    fallbacks = 0
    start = journal_end(db)[1]
    started = time.perf_counter()
    done = 0
    while done < count:
        batch = min(CHANGES_PER_COMMIT, count - done)
        with system_uow(db) as uow:
            for _ in range(batch):
                target = rng.choice(editable)
                kind = rng.choices(kinds, weights)[0]
                login = rng.choice(STAFF[target.code])
                try:
                    change(uow.acting_as(actors[login]), target, kind, rng, staff)
                except PermissionDenied:
                    fallbacks += 1
                    change(uow.acting_as(actors["admin"]), target, kind, rng, staff)
                mix[kind] += 1
        done += batch
        if done % 2000 == 0 or done == count:
            log(f"  {done}/{count} changes")
    seconds = time.perf_counter() - started
    made = journal_end(db)[1] - start
    if made != count:
        raise BenchError(f"{count} changes made {made} journal entries, not one each")
    return {
        "changes_s": round(seconds, 2),
        "changes_per_s": round(count / seconds, 1),
        "mix": dict(mix),
        "tasks_changed_from": len(editable),
        "permission_fallbacks": fallbacks,
        "first_seq": start + 1,
        "last_seq": start + made,
    }


def change(
    uow: Any,
    target: Editable,
    kind: str,
    rng: random.Random,
    staff: dict[str, Any],
) -> None:
    """One service call that writes one journal entry."""
    from hermes_groupware.models import Task
    from hermes_groupware.models.enums import TaskStatus
    from hermes_groupware.services import items, tasks

    task = uow.session.get(Task, target.id)
    if kind == "status":
        status = rng.choice([s for s in TaskStatus if s != task.status])
        tasks.set_status(uow, target.id, status)
    elif kind == "due":
        base = max(d for d in (task.due, task.planned_start, uow.now()) if d is not None)
        due = base + dt.timedelta(hours=rng.randint(1, 72))
        tasks.update_task(uow, target.id, tasks.TaskChanges(due=due))
    elif kind == "reassign":
        others = [login for login in STAFF[target.code] if staff[login].id != task.responsible_id]
        new = staff[rng.choice(others)]
        tasks.update_task(uow, target.id, tasks.TaskChanges(responsible_id=new.id))
    else:
        number = rng.randrange(10**9)
        items.add_file(
            uow,
            target.id,
            filename=f"protokol-{number}.pdf",
            content_type="application/pdf",
            chunks=[b"%PDF-1.7\n" + rng.randbytes(3000)],
        )


# --------------------------------------------------------------------------- measuring


class Statements:
    """Counts the SQL statements sent on an engine while active."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0
        self._lock = threading.Lock()

    def _seen(self, conn: Any, *_args: Any) -> None:
        if conn.get_execution_options().get("uncounted"):
            return
        with self._lock:
            self.count += 1

    @contextlib.contextmanager
    def counting(self) -> Iterator[Statements]:
        from sqlalchemy import event

        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._seen)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._seen)


@contextlib.contextmanager
def timers(targets: tuple[tuple[Any, str, str], ...]) -> Iterator[dict[str, float]]:
    """Wraps each (owner, attribute) with a timer (about a microsecond per call); yields the
    seconds spent per key, and the calls as ``<key> calls``. Threads add up."""
    spent: dict[str, float] = collections.defaultdict(float)
    lock = threading.Lock()
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]

    def timer(function: Callable[..., Any], key: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                with lock:
                    spent[key] += time.perf_counter() - started
                    spent[f"{key} calls"] += 1

        return timed

    for (owner, name, key), (_, _, original) in zip(targets, originals, strict=True):
        setattr(owner, name, timer(original, key))
    try:
        yield spent
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def notify_stages() -> tuple[tuple[Any, str, str], ...]:
    """The stages of ``notify_round``: evaluate = ``journal_notices`` (journal, history,
    rules, recipients), of it recipients = ``resolve``; render = ``notify.render``; enqueue =
    ``mailbox.enqueue`` (outbox row and thread entry, flushed)."""
    from hermes_groupware.services import mailbox, notification_rules
    from mail_gateway import notify

    return (
        (notification_rules, "journal_notices", "evaluate"),
        (notification_rules, "resolve", "recipients"),
        (notify, "render", "render"),
        (mailbox, "enqueue", "enqueue"),
    )


def send_stages() -> tuple[tuple[Any, str, str], ...]:
    """The SMTP side of ``send_due``: TLS contexts made, sessions opened (connect and
    greeting), transactions (EHLO on a session's first, MAIL, RCPT, DATA) and QUITs."""
    import ssl

    return (
        (ssl, "create_default_context", "tls context"),
        (smtplib.SMTP, "__init__", "connect"),
        (smtplib.SMTP, "sendmail", "sendmail"),
        (smtplib.SMTP, "quit", "quit"),
    )


def evaluate(db: Any, settings: Any, label: str, *, rules: int, first: int, last: int) -> EvalRun:
    """Cursor back to before ``first``; rounds until it is at ``last``, each timed."""
    from mail_gateway.notify import notify_round

    set_cursor(db, first - 1)
    round_s: list[float] = []
    queued = 0
    with Statements(db.engine).counting() as statements, timers(notify_stages()) as parts:
        while True:
            started = time.perf_counter()
            queued += notify_round(db, settings)
            round_s.append(time.perf_counter() - started)
            cursor, end = journal_end_fast(db)
            if cursor >= last:
                break
            if len(round_s) > 10 * (last - first) // 500 + 20:
                raise BenchError(f"the cursor is stuck at {cursor} (end {end})")
        counted = statements.count
    run = EvalRun(label, rules, last - first + 1, round_s, queued, counted, dict(parts))
    log(
        f"  {label}: {len(round_s)} rounds, {run.seconds:.2f} s, {run.rate:.0f} entries/s, "
        f"{queued} messages queued, {counted} SQL statements"
    )
    return run


def journal_end_fast(db: Any) -> tuple[int, int]:
    """``journal_end`` on a raw connection, so it is not counted as the evaluator's work."""
    from sqlalchemy import text

    with db.engine.connect() as connection:
        conn = connection.execution_options(uncounted=True)
        cursor = conn.execute(text("SELECT last_seq FROM notification_cursor WHERE id = 1"))
        last = conn.execute(text("SELECT max(seq) FROM change_journal"))
        return int(cursor.scalar() or 0), int(last.scalar() or 0)


def outbox_marks(db: Any) -> tuple[int, int]:
    from sqlalchemy import func, select

    from hermes_groupware.models import MailThreadEntry, OutboundMessage

    with system_uow(db) as uow:
        return (
            int(uow.session.scalar(select(func.max(OutboundMessage.id))) or 0),
            int(uow.session.scalar(select(func.max(MailThreadEntry.id))) or 0),
        )


def drop_outbox_after(db: Any, marks: tuple[int, int]) -> None:
    """Remove what a rules run queued, so the next repetition starts from the same outbox."""
    from sqlalchemy import delete

    from hermes_groupware.models import MailThreadEntry, OutboundMessage

    with system_uow(db) as uow:
        uow.session.execute(delete(OutboundMessage).where(OutboundMessage.id > marks[0]))
        uow.session.execute(delete(MailThreadEntry).where(MailThreadEntry.id > marks[1]))


def profile_round(db: Any, settings: Any, first: int, stem: Path) -> list[str]:
    """cProfile of the first round with rules (what it queues is removed afterwards); the
    listing goes to ``<stem>.txt`` and ``.pstats``, a summary is returned."""
    import cProfile
    import io
    import pstats

    from mail_gateway.notify import notify_round

    marks = outbox_marks(db)
    set_cursor(db, first - 1)
    profiler = cProfile.Profile()
    profiler.enable()
    queued = notify_round(db, settings)
    profiler.disable()
    drop_outbox_after(db, marks)
    profiler.dump_stats(stem.with_suffix(".pstats"))
    listing = io.StringIO()
    stats = pstats.Stats(profiler, stream=listing)
    stats.sort_stats("cumulative").print_stats(80)
    stem.with_suffix(".txt").write_text(listing.getvalue())
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]

    def mine_of(file: str) -> str:
        return next((m for m in ("hermes_groupware", "mail_gateway") if f"/{m}/" in file), "")

    project = sorted(
        (
            (cum, calls, f"{file[file.find(f'/{mine_of(file)}/') + 1 :]}:{line} {name}")
            for (file, line, name), (_cc, calls, _tt, cum, _callers) in entries.items()
            if mine_of(file) and "<" not in name
        ),
        reverse=True,
    )[:16]
    lines = [f"one round with rules: {queued} messages queued; listing in {stem}.txt"]
    lines += [
        f"{cum * 1000:8.0f} ms cum {calls:6d} calls  {where}" for cum, calls, where in project
    ]
    return lines


# --------------------------------------------------------------------------- the outbox


@dataclass(frozen=True)
class Queued:
    message_id: str
    recipient: str
    raw: bytes


def keep_outbox(db: Any, count: int, after_id: int) -> tuple[list[Queued], dict[str, Any]]:
    """The first ``count`` mails the rules queued stay; the rest of the outbox goes."""
    from sqlalchemy import delete, select

    from hermes_groupware.models import OutboundMessage

    with system_uow(db) as uow:
        rows = list(
            uow.session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.id > after_id, OutboundMessage.channel == "email")
                .order_by(OutboundMessage.id)
                .limit(count)
            )
        )
        if len(rows) < count:
            raise BenchError(f"the rules queued {len(rows)} mails, fewer than --outbox {count}")
        kept = [Queued(r.message_id, r.recipient, r.raw) for r in rows]
        kinds = collections.Counter(r.kind for r in rows)
        uow.session.execute(
            delete(OutboundMessage).where(OutboundMessage.id.not_in([r.id for r in rows]))
        )
    sizes = [len(q.raw) for q in kept]
    info = {
        "messages": len(kept),
        "recipients": len({q.recipient for q in kept}),
        "bytes_mean": round(statistics.mean(sizes)),
        "bytes_max": max(sizes),
        "kinds": dict(kinds.most_common(6)),
    }
    return kept, info


def requeue(db: Any) -> None:
    """Every kept mail queued and due again, as it was after the rules queued it."""
    from sqlalchemy import update

    from hermes_groupware.models import OutboundMessage
    from hermes_groupware.models.enums import OutboundStatus

    with system_uow(db) as uow:
        uow.session.execute(
            update(OutboundMessage).values(
                status=OutboundStatus.QUEUED,
                attempts=0,
                sent_at=None,
                last_error=None,
                next_attempt_at=uow.now() - dt.timedelta(seconds=1),
            )
        )


def check_sent(db: Any, count: int, label: str) -> None:
    from sqlalchemy import func, select

    from hermes_groupware.models import OutboundMessage

    with system_uow(db) as uow:
        by_status = dict(
            uow.session.execute(
                select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
            ).all()
        )
    if {str(k): v for k, v in by_status.items()} != {"sent": count}:
        raise BenchError(f"{label}: outbox by status {by_status}, expected {count} sent")


class Sink:
    """An aiosmtpd relay sink in its own process (a relay is another process, and this one's
    GIL should not slow it down); it writes the Message-ID and recipients of every message it
    accepted to a file, before answering 250."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.path = workdir / f"sink-{RUN_STAMP}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Sink:
        command = [sys.executable, str(Path(__file__).resolve())]
        command += ["--sink-port", str(self.port), "--sink-log", str(self.path)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != b"ready":
            self.__exit__()
            raise BenchError(f"the sink did not start: {line!r}")
        return self

    def __exit__(self, *_exc: object) -> None:
        process = self.process
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the sink stops at the end of its input
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        self.process = None

    def received(self) -> tuple[collections.Counter[tuple[str, str]], int]:
        """What arrived (Message-ID, recipients) and how many SMTP sessions brought it."""
        found: collections.Counter[tuple[str, str]] = collections.Counter()
        sessions = 0
        for line in self.path.read_text().splitlines():
            if line == "#EHLO":
                sessions += 1
                continue
            message_id, _, recipients = line.partition(" ")
            found[(message_id, recipients)] += 1
        return found, sessions


def sink_child(port: int, path: Path) -> int:
    """The sink process: accept everything, note what came, stop when stdin closes."""
    from aiosmtpd.controller import Controller

    logging.basicConfig(level=logging.WARNING)
    with path.open("a", buffering=1) as out:

        class Handler:
            async def handle_EHLO(
                self, _server: Any, session: Any, _envelope: Any, hostname: str, responses: Any
            ) -> Any:
                session.host_name = hostname
                out.write("#EHLO\n")  # one per connection: smtplib greets once
                return responses

            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                head = envelope.content.split(b"\r\n\r\n", 1)[0]
                found = MESSAGE_ID.search(head)
                message_id = found.group(1).decode() if found else "?"
                out.write(f"{message_id} {','.join(envelope.rcpt_tos)}\n")
                return "250 OK"

        controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            print("ready", flush=True)
            sys.stdin.read()
        finally:
            controller.stop()
    return 0


def verify_sink(sink: Sink, mails: list[Queued], label: str) -> int:
    """Every mail reached the sink exactly once, for its recipient, and nothing else came;
    returns how many SMTP sessions it took."""
    received, sessions = sink.received()
    expected = collections.Counter((m.message_id, m.recipient) for m in mails)
    twice = sum(1 for n in received.values() if n > 1)
    missing = len(expected - received)
    extra = len(received - expected)
    assert received == expected, f"{label}: {missing} missing, {twice} twice, {extra} unexpected"
    return sessions


def envelope_sender(raw: bytes) -> str:
    """The From address, as ``outbox_sender._envelope_sender`` finds it."""
    for line in raw.split(b"\r\n\r\n", 1)[0].splitlines():
        if line.lower().startswith(b"from:"):
            return parseaddr(line[5:].decode("ascii", "replace"))[1]
    return ""


def smtplib_reused(port: int, mails: list[Queued]) -> None:
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=SMTP_TIMEOUT)
    try:
        for mail in mails:
            smtp.sendmail(envelope_sender(mail.raw), [mail.recipient], mail.raw)
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        smtp.close()


def smtplib_per_message(port: int, mails: list[Queued]) -> None:
    for mail in mails:
        with smtplib.SMTP("127.0.0.1", port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.sendmail(envelope_sender(mail.raw), [mail.recipient], mail.raw)


def send_due_workers(db: Any, relay: Any, workers: int, limit: int) -> None:
    """``send_due`` loops until nothing is due, in ``workers`` threads started together."""
    from mail_gateway.outbox_sender import send_due

    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            while send_due(db, relay, limit=limit):
                pass
        except BaseException as exc:  # reported below; the other thread must not hang
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, name=f"send-{i}") for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise BenchError(f"a send_due worker failed: {errors[0]!r}") from errors[0]


def tls_context_ms(calls: int = 50) -> float:
    """What ``ssl.create_default_context()`` costs per call (the outbox sender makes one for
    every relay connection, also when the relay is plain SMTP)."""
    import ssl

    started = time.perf_counter()
    for _ in range(calls):
        ssl.create_default_context()
    return (time.perf_counter() - started) * 1000 / calls


def send_plans(dialect: str, limit: int) -> list[tuple[str, str, int, int]]:
    """(key, label, workers, send_due's limit) of every path."""
    plans = [
        ("reused", "smtplib, 1 connection reused", 1, 0),
        ("per_message", "smtplib, 1 connection per message", 1, 0),
        ("send_due", f"send_due, 1 worker, limit {limit}", 1, limit),
        ("send_due_cli", f"send_due, 1 worker, limit {CLI_LIMIT} (mail send)", 1, CLI_LIMIT),
    ]
    if dialect == "postgresql":
        plans.append(("send_due_2", f"send_due, 2 workers, limit {limit}", 2, limit))
    return plans


def outbox_round(
    result: DialectResult, args: argparse.Namespace, db: Any, mails: list[Queued]
) -> None:
    """Every path once, each into a fresh sink, each checked."""
    from hermes_groupware.config import SmtpOutSettings

    n = len(mails)
    plans = send_plans(result.dialect, args.limit)
    for key, label, workers, limit in plans:
        if key.startswith("send_due"):
            requeue(db)
        with Sink(args.workdir) as sink:
            relay = dataclasses.replace(
                SmtpOutSettings(), port=sink.port, timeout_seconds=int(SMTP_TIMEOUT)
            )
            with Statements(db.engine).counting() as statements:
                started = time.perf_counter()
                if key == "reused":
                    smtplib_reused(sink.port, mails)
                elif key == "per_message":
                    smtplib_per_message(sink.port, mails)
                else:
                    with timers(send_stages()) as parts:
                        send_due_workers(db, relay, workers, limit)
                wall = time.perf_counter() - started
                counted = statements.count
        connections = verify_sink(sink, mails, label)
        if key.startswith("send_due"):
            check_sent(db, n, label)
        run = SendRun(key, label, n, workers, wall, counted, connections)
        if key.startswith("send_due"):
            run.parts = dict(parts)
        result.sends.setdefault(key, []).append(run)
        log(
            f"  {label}: {run.rate:.1f} msg/s, {run.per_message_ms:.2f} ms/msg, "
            f"{connections} SMTP connections, checked"
        )
        if not args.keep:
            sink.path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- one database


def bench_dialect(dialect: str, args: argparse.Namespace, server: str) -> DialectResult:
    result = DialectResult(dialect, server)
    tmp = Path(tempfile.mkdtemp(prefix=f"{dialect}-", dir=args.workdir))
    try:
        with fresh_database(dialect, args.postgres_url, tmp, keep=args.keep, log=log) as url:
            measure_dialect(result, args, url, tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def measure_dialect(result: DialectResult, args: argparse.Namespace, url: str, tmp: Path) -> None:
    log(f"{result.dialect}: migrate, demo data ({DEMO_TASKS} tasks)")
    started = time.perf_counter()
    db, settings = prepare(url, tmp)
    try:
        result.setup["demo_s"] = round(time.perf_counter() - started, 2)
        rounds, queued = catch_up(db, settings)
        if queued:
            raise BenchError(f"moving the cursor over the demo data queued {queued} messages")
        result.setup["rules"] = len(install_rules(db))
        log(f"{result.dialect}: cursor at the end after {rounds} rounds; {args.entries} changes")
        rng = random.Random(2026)  # noqa: S311 - reproducible changes, not a secret
        result.setup.update(make_changes(db, args.entries, rng))
        first, last = result.setup["first_seq"], result.setup["last_seq"]
        marks = outbox_marks(db)
        for rep in range(1, args.eval_reps + 1):
            log(f"{result.dialect}: rule evaluation, round {rep} of {args.eval_reps}")
            set_rules_active(db, False)
            for _ in range(BASELINE_REPS):  # short and noisy: the median of three
                run = evaluate(
                    db, settings, "no rules (journal + cursor)", rules=0, first=first, last=last
                )
                result.evals.setdefault("baseline", []).append(run)
            set_rules_active(db, True)
            if rep > 1:
                drop_outbox_after(db, marks)
            run = evaluate(
                db, settings, f"{len(RULES)} rules", rules=len(RULES), first=first, last=last
            )
            result.evals.setdefault("rules", []).append(run)
        if args.profile:
            stem = args.workdir / f"profile-{RUN_STAMP}-{result.dialect}-round"
            result.profile = profile_round(db, settings, first, stem)
        mails, result.outbox = keep_outbox(db, args.outbox, marks[0])
        result.outbox["tls_context_ms"] = round(tls_context_ms(), 2)
        for rep in range(1, args.reps + 1):
            log(f"{result.dialect}: outbox, round {rep} of {args.reps} ({len(mails)} mails)")
            outbox_round(result, args, db, mails)
    finally:
        db.engine.dispose()


# --------------------------------------------------------------------------- report

SEND_ORDER = ("reused", "per_message", "send_due", "send_due_cli", "send_due_2")


def print_report(results: list[DialectResult], args: argparse.Namespace, notes: list[str]) -> None:
    print(f"# Notifications: {args.entries} journal entries, {args.outbox} mails ({RUN_STAMP})")
    print()
    print_evaluation(results)
    print()
    print_outbox(results, args)
    for r in results:
        if r.profile:
            print(f"\nprofile ({r.dialect}):")
            for line in r.profile:
                print("    " + line)
    for note in notes:
        print(note)


def print_evaluation(results: list[DialectResult]) -> None:
    header = (
        f"| {'database':10s} | {'rules':28s} | {'entries':>7s} | {'rounds':>6s} | {'total s':>7s} "
        f"| {'entries/s':>9s} | {'round ms p50':>12s} | {'round ms max':>12s} "
        f"| {'queued':>6s} | {'SQL/entry':>9s} | {'vs no rules':>11s} |"
    )
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    for r in results:
        base = r.eval_run("baseline")
        for key in ("baseline", "rules"):
            run = r.eval_run(key)
            print(
                f"| {r.dialect:10s} | {run.label:28s} | {run.entries:7d} | {len(run.round_s):6d} "
                f"| {run.seconds:7.2f} | {run.rate:9.0f} "
                f"| {statistics.median(run.round_s) * 1000:12.1f} "
                f"| {max(run.round_s) * 1000:12.1f} | {run.queued:6d} "
                f"| {run.statements / run.entries:9.2f} | {run.seconds / base.seconds:10.1f}x |"
            )
    for r in results:
        run = r.eval_run("rules")
        parts = run.parts
        total = run.seconds
        recipients = parts.get("recipients", 0.0)
        evaluate_s = parts.get("evaluate", 0.0)
        render, enqueue = parts.get("render", 0.0), parts.get("enqueue", 0.0)
        rest = total - evaluate_s - render - enqueue
        per_message = total * 1000 / run.queued if run.queued else float("nan")
        s = r.setup
        print(
            f"\n{r.dialect} ({r.server}): with rules, {total:.2f} s = evaluating "
            f"{evaluate_s:.2f} s ({evaluate_s / total:.0%}; recipients {recipients:.2f} s) "
            f"+ rendering {render:.2f} s ({render / total:.0%}) + outbox rows {enqueue:.2f} s "
            f"({enqueue / total:.0%}) + the rest {rest:.2f} s ({rest / total:.0%}: timed rules, "
            f"invitations, commit); {per_message:.2f} ms per queued message."
        )
        print(
            f"  changes: {s['mix']} on {s['tasks_changed_from']} tasks in {s['changes_s']} s "
            f"({s['changes_per_s']} changes/s, {s['permission_fallbacks']} acted by admin "
            f"instead); demo data {s['demo_s']} s."
        )


def print_outbox(results: list[DialectResult], args: argparse.Namespace) -> None:
    header = (
        f"| {'database':10s} | {'path':42s} | {'msgs':>5s} | {'wall s':>7s} | {'msg/s':>7s} "
        f"| {'msg/s range':>11s} | {'ms/msg':>7s} | {'SMTP sessions':>13s} | {'SQL/msg':>7s} "
        f"| {'vs reused':>9s} |"
    )
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    for r in results:
        reused = r.send_run("reused")
        for key in SEND_ORDER:
            if key not in r.sends:
                continue
            run = r.send_run(key)
            rates = [x.rate for x in r.sends[key]]
            spread = f"{min(rates):.0f}–{max(rates):.0f}"
            print(
                f"| {r.dialect:10s} | {run.label:42s} | {run.messages:5d} | {run.wall_s:7.2f} "
                f"| {run.rate:7.1f} | {spread:>11s} | {run.per_message_ms:7.2f} "
                f"| {run.connections:13d} | {run.statements / run.messages:7.1f} "
                f"| {run.rate / reused.rate:8.2f}x |"
            )
    print(
        f"\nEach row is the round with the median msg/s of {args.reps}; every round was checked: "
        "each mail reached the sink exactly once, and the outbox held only sent mail after it. "
        "SMTP sessions: as the sink counted them (EHLOs)."
    )
    for r in results:
        print_send_breakdown(r)


def print_send_breakdown(r: DialectResult) -> None:
    """Per message: the relay itself, the SMTP sessions and TLS contexts send_due makes, and
    the rest (the database and send_due's own work)."""
    o = r.outbox
    reused, per_message = r.send_run("reused"), r.send_run("per_message")
    session_ms = (per_message.wall_s - reused.wall_s) * 1000 / (per_message.connections - 1)
    print(
        f"{r.dialect}: {o['messages']} mails to {o['recipients']} addresses, "
        f"{o['bytes_mean']} bytes on average (max {o['bytes_max']}). An SMTP session costs "
        f"{session_ms:.2f} ms more than reusing one (connect, EHLO, QUIT); "
        f"ssl.create_default_context() {o['tls_context_ms']:.2f} ms a call."
    )
    for key in ("send_due", "send_due_cli"):
        run = r.send_run(key)
        p, n = run.parts, run.messages
        tls = p.get("tls context", 0.0) * 1000 / n
        smtp = (p.get("connect", 0.0) + p.get("sendmail", 0.0) + p.get("quit", 0.0)) * 1000 / n
        rest = run.per_message_ms - tls - smtp
        print(
            f"  {run.label}: {run.per_message_ms:.2f} ms per message = SMTP {smtp:.2f} "
            f"({run.connections} sessions) + {int(p.get('tls context calls', 0))} TLS "
            f"contexts {tls:.2f} + the database and the rest {rest:.2f} "
            f"({run.statements / n:.1f} SQL statements a message)."
        )


def command_line() -> str:
    python = Path(sys.executable)
    shown_python = python.relative_to(REPO) if python.is_relative_to(REPO) else python
    script = Path(__file__).resolve()
    shown = script.relative_to(REPO) if Path.cwd() == REPO else script
    prefix = "" if Path.cwd() == REPO else f"cd {REPO} && "
    return prefix + shlex.join([str(shown_python), str(shown), *sys.argv[1:]])


def environment(results: list[DialectResult]) -> dict[str, str]:
    import sqlite3
    from importlib.metadata import version

    return {
        "hermes": f"{_source_label}, {cb.git_describe('--dirty')}",
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": version("sqlalchemy"),
        "aiosmtpd": version("aiosmtpd"),
        "psycopg": version("psycopg"),
        "databases": ", ".join(f"{r.dialect} {r.server}" for r in results),
        # other work on the machine shows here; the figures are only as quiet as it was
        "load average (1 min) at start/end": f"{_LOAD_AT_START:.2f}/{os.getloadavg()[0]:.2f}",
    }


def as_json(results: list[DialectResult], args: argparse.Namespace, notes: list[str]) -> dict:
    return {
        "stamp": RUN_STAMP,
        "command": command_line(),
        "environment": environment(results),
        "entries": args.entries,
        "outbox": args.outbox,
        "limit": args.limit,
        "rules": [{"name": n, "event": e, "to": list(t), "register": g} for n, e, t, g in RULES],
        "notes": notes,
        "databases": {
            r.dialect: {
                "server": r.server,
                "setup": r.setup,
                "evaluation": {k: r.eval_run(k).summary() for k in r.evals},
                "evaluation_reps_s": {
                    k: [round(x.seconds, 3) for x in v] for k, v in r.evals.items()
                },
                "outbox": r.outbox,
                "profile": r.profile,
                "sending": {k: r.send_run(k).summary() for k in SEND_ORDER if k in r.sends},
                "sending_reps_msgs_per_s": {
                    k: [round(x.rate, 1) for x in v] for k, v in r.sends.items()
                },
            }
            for r in results
        },
    }


def save(results: list[DialectResult], args: argparse.Namespace, notes: list[str]) -> Path:
    """Everything, with each round's time, to the workdir."""
    data = as_json(results, args, notes)
    for r in results:
        data["databases"][r.dialect]["round_s"] = {
            k: [[round(s, 4) for s in run.round_s] for run in runs] for k, runs in r.evals.items()
        }
    path = args.workdir / f"results-{RUN_STAMP}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000, help="journal entries (10000)")
    parser.add_argument("--outbox", type=int, default=2_000, help="mails to send (2000)")
    parser.add_argument(
        "--limit", type=int, default=20, help="send_due's limit per call (20, as the service)"
    )
    parser.add_argument("--reps", type=int, default=3, help="rounds of every outbox path (3)")
    parser.add_argument(
        "--eval-reps", type=int, default=1, help="rounds of the rule evaluation (1)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1000 entries, 200 mails, 1 round"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one round of the evaluation with rules"
    )
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--postgres-url",
        default=PG_ADMIN_URL,
        help=f"a database to create the bench database from ({PG_ADMIN_URL})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases and files")
    parser.add_argument(
        "--source",
        choices=("snapshot", "worktree"),
        default="snapshot",
        help="import Hermes from a copy of the work tree taken at the start (default) or from "
        "the work tree itself",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/notify-bench"))  # noqa: S108
    parser.add_argument("--sink-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sink-log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.entries, args.outbox, args.reps = 1000, 200, 1
    if min(args.entries, args.outbox, args.reps, args.eval_reps, args.limit) < 1:
        parser.error("--entries, --outbox, --reps, --eval-reps and --limit must be at least 1")
    args.workdir = args.workdir.resolve()
    return args


def main(argv: list[str]) -> int:
    cb.ensure_project_venv(Path(__file__))
    args = parse_args(argv)
    if args.sink_port:
        return sink_child(args.sink_port, args.sink_log)
    signal.signal(signal.SIGTERM, cb._on_signal)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    os.environ["HERMES_LOGGING_LEVEL"] = "WARNING"
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    snapshot = use_snapshot(args.workdir) if args.source == "snapshot" else None
    try:
        return run_all(args, started)
    finally:
        if snapshot is not None and not args.keep:
            shutil.rmtree(snapshot, ignore_errors=True)


def run_all(args: argparse.Namespace, started: float) -> int:
    import sqlite3

    plan = [("sqlite", f"SQLite {sqlite3.sqlite_version}")]
    notes = []
    if args.skip_postgres:
        notes.append("PostgreSQL: skipped (--skip-postgres)")
    elif (pg_version := pg_reachable(args.postgres_url, log)) is None:
        notes.append(f"PostgreSQL: skipped, {args.postgres_url} is not reachable")
    else:
        plan.append(("postgresql", f"PostgreSQL {pg_version}"))
    results = [bench_dialect(dialect, args, server) for dialect, server in plan]
    path = save(results, args, notes)
    if args.json:
        print(json.dumps(as_json(results, args, notes), indent=2, default=str))
    else:
        print_report(results, args, notes)
        print()
        print(", ".join(f"{k} {v}" for k, v in environment(results).items()))
        print(f"command: {command_line()}")
    log(f"raw samples: {path}; total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
