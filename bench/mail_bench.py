#!/usr/bin/env python3
"""E-mail intake benchmark: messages per second from SMTP DATA to a committed note.

Not a test. For each database (SQLite, and PostgreSQL when reachable) it builds a fresh
database with the demo data and 20 tasks, starts the real listener (``GatewayController`` with
``GatewayHandler`` and ``Intake``, SMTP, 127.0.0.1) and sends N small Outlook-style replies in
Polish to the tasks' signed reply addresses from ``--senders`` threads, each with its own
``smtplib`` connection. It then checks in the database that every message became exactly one
posted note. To show where the time goes, the same run measures the SMTP protocol alone
(aiosmtpd keeping the bytes in a list), ``Intake.receive`` without SMTP (concurrent and
serial), and parsing without a database. Last, the peak memory of taking one reply with a
25 MiB attachment is measured in fresh subprocesses. See bench/README.md.

Run it with the project's venv (it re-executes itself there when started otherwise):

    .venv/bin/python bench/mail_bench.py
"""

# Imports of Hermes, aiosmtpd and SQLAlchemy sit inside functions: the script first re-executes
# itself with the project venv (caldav_bench.ensure_project_venv). The subprocesses it starts
# are this script with fixed arguments.
# ruff: noqa: PLC0415, S603

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import datetime as dt
import html
import io
import itertools
import json
import logging
import os
import platform
import pstats
import random
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
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import caldav_bench
from bench_postgres import free_port, fresh_database, pg_reachable

REPO = Path(__file__).resolve().parents[1]
RUN_STAMP = time.strftime("%Y%m%d-%H%M%S")
MIB = 1024 * 1024
AUTHSERV = "mx.firma.pl"
DOMAIN = "hermes.firma.pl"
REGISTER = "REK"
TASKS = 20
DEMO_TASKS = 50
WARMUP_MESSAGES = 20
PROFILE_MESSAGES = 200
SMTP_TIMEOUT = 600.0
#: [mail] limits of the bench settings: room for the 25 MiB attachment (34 MiB on the wire),
#: and no per-task note limit (its default of 30 an hour would hold most of 1,000 replies)
MAX_MESSAGE_BYTES = 64 * MIB
MAX_ATTACHMENT_BYTES = 40 * MIB
NOTES_PER_TASK_PER_HOUR = 10**9
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SENDERS = ("jkowalski", "anowak", "pwisniewski", "mzielinska", "kwojcik", "ebrown", "tdabrowski")
QUOTE_MARKER = "Wysłano:"  # in the quoted Outlook header: a note that holds it was not cut

PHRASES = (
    "Potwierdzam, klient zgodził się na wymianę towaru.",
    "Rozmawiałem dziś z panem Nowakiem, czeka na ofertę do piątku.",
    "Proszę o przesunięcie terminu na przyszły tydzień, towar dotrze dopiero w środę.",
    "Zdjęcia uszkodzeń dostałem, przekazuję je do działu jakości.",
    "Klient prosi o kontakt telefoniczny po 15:00.",
    "Faktura korygująca jest wystawiona, wyślę ją jeszcze dziś.",
    "Serwisant będzie na miejscu w czwartek między 9:00 a 12:00.",
    "Zamówienie wyszło kurierem, numer przesyłki podam jutro rano.",
    "Magazyn sprawdził partię 2026/11 – pozostałe płytki są bez wad.",
    "Proszę o decyzję kierownika w sprawie rabatu 5% dla tego klienta.",
    "Odbiór reklamowanego towaru umówiony na poniedziałek.",
    "Klient podtrzymuje reklamację i żąda zwrotu pieniędzy.",
)
SUBJECTS = (
    "Pęknięte płytki gresowe – dostawa z 14.11",
    "Nieszczelne okno dachowe, montaż 2026-10",
    "Reklamacja farby elewacyjnej (odcień niezgodny z wzornikiem)",
    "Uszkodzona paleta przy rozładunku",
    "Brak części w zestawie montażowym",
)


_LOAD_AT_START = os.getloadavg()[0]
_SEQUENCE = itertools.count(1)  # every message of the run gets its own number
cb: Any = caldav_bench
log = cb.log
BenchError = cb.BenchError


# --------------------------------------------------------------------------- results


@dataclass
class Run:
    """One path through which the same number of messages went, timed message by message."""

    key: str
    label: str
    messages: int
    workers: int
    wall_s: float
    latencies_ms: list[float] = field(repr=False)
    retries: int = 0  # temporary failures (451) sent again

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
            "p50_ms": round(statistics.median(self.latencies_ms), 2),
            "p95_ms": round(cb.percentile(self.latencies_ms, 95), 2),
            "max_ms": round(max(self.latencies_ms), 1),
            "temporary_failures_retried": self.retries,
        }


@dataclass
class DialectResult:
    dialect: str
    server: str
    setup_s: float = 0.0
    rounds: dict[str, list[Run]] = field(default_factory=dict)
    checks: dict[str, list[dict[str, int]]] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    profile: list[str] = field(default_factory=list)

    def add(self, run: Run) -> None:
        self.rounds.setdefault(run.key, []).append(run)

    def run(self, key: str) -> Run:
        """The fastest round: on a shared machine other work only ever slows a round down."""
        return max(self.rounds[key], key=lambda r: r.rate)

    def rates(self, key: str) -> list[float]:
        return [r.rate for r in self.rounds[key]]

    def worst_ms(self, key: str) -> float:
        return max(max(r.latencies_ms) for r in self.rounds[key])

    def retries(self, key: str) -> int:
        return sum(r.retries for r in self.rounds[key])


@dataclass(frozen=True)
class Target:
    """A task, its responsible employee and the signed reply address that employee gets."""

    task_id: int
    number: str
    subject: str
    login: str
    email: str
    name: str
    address: str


@dataclass(frozen=True)
class Mail:
    sender: str
    rcpt: str
    raw: bytes


# --------------------------------------------------------------------------- set-up

#: the project's packages (the editable install's mapping), copied by ``--source snapshot``
PACKAGES = ("caldav_backend", "hermes_groupware", "mail_gateway", "reports", "sync")
_source_label = "work tree"


def use_snapshot(workdir: Path) -> Path:
    """Import Hermes from a copy of the work tree taken now, here and in the memory children:
    others edit the tree during a long run (a model with a new column but an older migrated
    database stops a run), and the mail gateway is not committed, so ``git archive`` cannot
    be used as in caldav_bench."""
    global _source_label  # noqa: PLW0603 - one label for the whole run
    target = workdir / f"src-{RUN_STAMP}"
    for package in PACKAGES:
        if (REPO / package).is_dir():
            shutil.copytree(
                REPO / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
            )
    sys.path.insert(0, str(target))
    os.environ["PYTHONPATH"] = str(target)  # the children
    import mail_gateway

    if not Path(mail_gateway.__file__ or "").is_relative_to(target):
        raise BenchError(f"mail_gateway comes from {mail_gateway.__file__}, not {target}")
    _source_label = f"snapshot of the work tree at {time.strftime('%H:%M:%S')}"
    log(f"importing Hermes from {target}")
    return target


def bench_settings(url: str, tmp: Path) -> Any:
    """Demo-mode settings like tests/mail_gateway/gateway.py's ``settings_for``, with limits
    raised for the big message and the per-task note limit out of the way."""
    from hermes_groupware.config import Settings

    base = Settings(base_dir=tmp)
    return dataclasses.replace(
        base,
        server=dataclasses.replace(base.server, demo=True),
        database=dataclasses.replace(base.database, url=url),
        files=dataclasses.replace(base.files, path=str(tmp / "files"), max_file_bytes=64 * MIB),
        mail=dataclasses.replace(
            base.mail,
            domain=DOMAIN,
            authserv_id=AUTHSERV,
            max_message_bytes=MAX_MESSAGE_BYTES,
            max_attachment_bytes=MAX_ATTACHMENT_BYTES,
            notes_per_task_per_hour=NOTES_PER_TASK_PER_HOUR,
        ),
    )


def prepare(url: str, tmp: Path) -> tuple[Any, Any, list[Target]]:
    """Schema, demo data and TASKS tasks in REK whose responsible employees will reply."""
    from sqlalchemy import select

    from hermes_groupware import demo
    from hermes_groupware.bootstrap import database_from_settings
    from hermes_groupware.db import migrate
    from hermes_groupware.db.session import Actor
    from hermes_groupware.models import Employee
    from hermes_groupware.models.enums import Source
    from hermes_groupware.services import tasks
    from hermes_groupware.services.lookups import register_by_code
    from mail_gateway.addresses import RecipientKind, ReplyToken
    from mail_gateway.processing import GatewayConfig

    settings = bench_settings(url, tmp)
    db = database_from_settings(settings)
    migrate.upgrade(db.engine)
    replies = GatewayConfig.from_settings(settings).replies
    targets = []
    with db.unit_of_work(Actor.system("mail-bench"), Source.CLI) as uow:
        demo.load(uow, tasks=DEMO_TASKS, seed=1, demo_mode=True)
        register = register_by_code(uow.session, REGISTER)
        people = {
            e.login: e
            for e in uow.session.scalars(select(Employee).where(Employee.login.in_(SENDERS)))
        }
        for i in range(TASKS):
            employee = people[SENDERS[i % len(SENDERS)]]
            subject = f"{SUBJECTS[i % len(SUBJECTS)]} ({i + 1})"
            task = tasks.create_task(
                uow, register_id=register.id, subject=subject, responsible_id=employee.id
            )
            token = ReplyToken(task.id, RecipientKind.EMPLOYEE, employee.id, False)
            targets.append(
                Target(
                    task.id,
                    task.number,
                    subject,
                    employee.login,
                    employee.email or "",
                    f"{employee.first_name} {employee.last_name}",
                    replies.address(token),
                )
            )
    return db, settings, targets


# --------------------------------------------------------------------------- messages


def _texts(target: Target, rng: random.Random, when: dt.datetime) -> tuple[str, str]:
    """(plain, html) of an Outlook reply: new text, signature, the notification quoted."""
    new = rng.sample(PHRASES, rng.randint(2, 3))
    sent = (when - dt.timedelta(hours=rng.randint(1, 48))).strftime("%d.%m.%Y %H:%M")
    quote_head = [
        f"Od: Hermes <hermes@{DOMAIN}>",
        f"Wysłano: {sent}",
        f"Do: {target.name} <{target.email}>",
        f"Temat: [{target.number}] {target.subject}",
    ]
    quote_body = [
        f"Zadanie {target.number} „{target.subject}” przypisano do Pana/Pani.",
        "Rejestr: Reklamacje; termin: 2026-12-04; priorytet: normalny.",
        "Odpowiedz na tę wiadomość, aby dodać notatkę do zadania.",
    ]
    signature = [
        "Pozdrawiam",
        target.name,
        f"Firma Sp. z o.o. | tel. +48 22 555 {rng.randint(10, 99)} {rng.randint(10, 99)}",
    ]
    plain = "\n".join(
        [
            *["Dzień dobry,", "", " ".join(new[:2]), *new[2:], ""],
            *[*signature, "", "_" * 32],
            *[*quote_head, "", *quote_body],
        ]
    )
    para = "".join(f'<p class="MsoNormal">{html.escape(line)}</p>' for line in new)
    sig = "<br>".join(html.escape(line) for line in signature)
    head = "<br>".join(
        f"<b>{html.escape(k)}:</b>{html.escape(v)}"
        for k, _, v in (h.partition(":") for h in quote_head)
    )
    border = "border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"
    body = "".join(f'<p class="MsoNormal">{html.escape(line)}</p>' for line in quote_body)
    markup = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '</head><body lang="PL"><div class="WordSection1">'
        f'<p class="MsoNormal">Dzień dobry,</p>{para}<p class="MsoNormal">{sig}</p>'
        f'<div style="{border}"><p class="MsoNormal">{head}</p></div>{body}</div></body></html>'
    )
    return plain, markup


def compose(target: Target, seq: int, rng: random.Random, attachment: bytes = b"") -> bytes:
    """A reply from the task's responsible employee, vouched for by our MTA, unique per seq."""
    now = dt.datetime.now(dt.UTC)
    plain, markup = _texts(target, rng, now)
    msg = EmailMessage()
    msg["Authentication-Results"] = (
        f"{AUTHSERV}; dkim=pass header.d=firma.pl; dmarc=pass header.from=firma.pl"
    )
    msg["From"] = f"{target.name} <{target.email}>"
    msg["To"] = f"Hermes <{target.address}>"
    msg["Subject"] = f"RE: [{target.number}] {target.subject}"
    msg["Thread-Topic"] = f"[{target.number}] {target.subject}"
    msg["Date"] = format_datetime(now)
    unique = f"{RUN_STAMP.replace('-', '')}{seq:07d}{uuid.uuid4().hex[:8].upper()}"
    msg["Message-ID"] = f"<AM9PR03MB{unique}@AM9PR03MB7139.eurprd03.prod.outlook.com>"
    notification = f"<hermes.{target.task_id}.{rng.randint(1, 10**6)}@{DOMAIN}>"
    msg["In-Reply-To"] = notification
    msg["References"] = notification
    msg["Accept-Language"] = "pl-PL, en-US"
    msg["Content-Language"] = "pl-PL"
    msg["X-MS-Has-Attach"] = "yes" if attachment else ""
    msg.set_content(plain, cte="quoted-printable")
    msg.add_alternative(markup, subtype="html", cte="quoted-printable")
    if attachment:
        msg.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="protokół_reklamacji.pdf"
        )
    return msg.as_bytes(policy=SMTP_POLICY)


def make_mails(targets: list[Target], count: int, rng: random.Random) -> list[Mail]:
    """``count`` new replies, spread over the tasks in turn."""
    mails = []
    for _ in range(count):
        seq = next(_SEQUENCE)
        target = targets[seq % len(targets)]
        mails.append(Mail(target.email, target.address, compose(target, seq, rng)))
    return mails


def big_attachment(mib: float) -> bytes:
    """Incompressible bytes behind a PDF header, like a scanned protocol."""
    size = int(mib * MIB)
    return b"%PDF-1.7\n" + os.urandom(size - 9)


# --------------------------------------------------------------------------- running


#: (start, end, temporary failures retried) of one message
Span = tuple[float, float, int]
#: retries of one message answered 451 / TemporaryFailure before the run stops: an MTA would
#: retry later, the bench retries at once and counts them
MAX_RETRIES = 10


def in_threads(
    batches: list[list[Mail]],
    connect: Callable[[], contextlib.AbstractContextManager[Any]],
    step: Callable[[Any, Mail], Span],
) -> list[Span]:
    """Each batch in its own thread with its own ``connect()``; all start together after
    connecting. Returns the span of every message; any failure stops the run."""
    barrier = threading.Barrier(len(batches))
    spans: list[list[Span]] = [[] for _ in batches]
    errors: list[BaseException] = []

    def body(index: int) -> None:
        try:
            with connect() as conn:
                barrier.wait()
                for mail in batches[index]:
                    spans[index].append(step(conn, mail))
        except BaseException as exc:  # reported below; the other threads must not hang
            errors.append(exc)
            barrier.abort()

    threads = [
        threading.Thread(target=body, args=(i,), name=f"sender-{i}") for i in range(len(batches))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if real or errors:
        raise BenchError(f"a sender failed: {(real or errors)[0]!r}") from (real or errors)[0]
    return [span for spans_of_one in spans for span in spans_of_one]


def split(mails: list[Mail], parts: int) -> list[list[Mail]]:
    return [mails[i::parts] for i in range(parts)]


def make_run(key: str, label: str, workers: int, spans: list[Span]) -> Run:
    wall = max(end for _, end, _ in spans) - min(start for start, _, _ in spans)
    latencies = [(end - start) * 1000 for start, end, _ in spans]
    run = Run(key, label, len(spans), workers, wall, latencies, sum(r for _, _, r in spans))
    log(
        f"  {label}: {run.rate:.1f} msg/s, p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {cb.percentile(latencies, 95):.1f} ms, max {max(latencies):.0f} ms"
        + (f", {run.retries} temporary failures retried" if run.retries else "")
    )
    return run


@contextlib.contextmanager
def smtp_connection(port: int) -> Iterator[smtplib.SMTP]:
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=SMTP_TIMEOUT)
    try:
        code, reply = smtp.ehlo(AUTHSERV)
        if code != 250:
            raise BenchError(f"EHLO: {code} {reply!r}")
        yield smtp
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        smtp.close()


def smtp_step(smtp: smtplib.SMTP, mail: Mail) -> Span:
    """One transaction on a reused connection; the span is DATA up to its 250. A 451 is sent
    again at once (a new transaction), as an MTA would later; anything else stops the run."""
    start = 0.0
    for attempt in range(MAX_RETRIES + 1):
        for command, arg in ((smtp.mail, mail.sender), (smtp.rcpt, mail.rcpt)):
            code, reply = command(arg)
            if code != 250:
                raise BenchError(f"{command.__name__} {arg}: {code} {reply!r}")
        start = start or time.perf_counter()
        code, reply = smtp.data(mail.raw)
        if code == 250:
            return start, time.perf_counter(), attempt
        if code != 451:
            break
        log(f"  DATA answered {code} {reply.decode(errors='replace')}: sending it again")
    raise BenchError(f"DATA: {code} {reply!r}")


def send_over_smtp(port: int, mails: list[Mail], senders: int) -> list[Span]:
    return in_threads(split(mails, senders), lambda: smtp_connection(port), smtp_step)


class KeepHandler:
    """The protocol-only baseline: aiosmtpd accepts everything and keeps the raw bytes."""

    def __init__(self) -> None:
        self.kept: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.kept.append(envelope.original_content or b"")
        return "250 2.0.0 Kept"


def protocol_baseline(mails: list[Mail], senders: int) -> Run:
    """The same messages and senders into an aiosmtpd server configured like the gateway's."""
    from aiosmtpd.controller import Controller

    handler = KeepHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        decode_data=False,
        data_size_limit=MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
        server_hostname="bench",
        ready_timeout=10,
    )
    controller.start()
    try:
        spans = send_over_smtp(port, mails, senders)
    finally:
        controller.stop()
    if len(handler.kept) != len(mails):
        raise BenchError(f"the list server kept {len(handler.kept)} of {len(mails)} messages")
    return make_run("protocol", "SMTP → Python list (protocol only)", senders, spans)


@contextlib.contextmanager
def gateway_listener(db: Any, settings: Any) -> Iterator[int]:
    """The real listener, as ``serve`` starts it (SMTP, not LMTP); yields its port."""
    from mail_gateway.intake import Intake
    from mail_gateway.smtp_server import GatewayController, GatewayHandler

    port = free_port()
    controller = GatewayController(
        GatewayHandler(Intake(db, settings), db, lmtp=False),
        host="127.0.0.1",
        port=port,
        max_bytes=settings.mail.max_message_bytes,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def intake_step(intake: Any) -> Callable[[Any, Mail], Span]:
    from hermes_groupware.models.enums import InboundStatus, MailChannel
    from mail_gateway.errors import TemporaryFailure
    from mail_gateway.origin import Origin

    def step(_conn: Any, mail: Mail) -> Span:
        origin = Origin(MailChannel.SMTP, envelope_from=mail.sender, recipients=(mail.rcpt,))
        start = time.perf_counter()
        for attempt in range(MAX_RETRIES + 1):
            try:
                receipt = intake.receive(mail.raw, origin)
            except TemporaryFailure as exc:
                log(f"  Intake.receive: {exc!r} (the cause: {exc.__cause__!r}): again")
                continue
            end = time.perf_counter()
            if receipt.status is not InboundStatus.POSTED or (receipt.duplicate and not attempt):
                raise BenchError(f"inbound {receipt.inbound_id}: {receipt}")
            return start, end, attempt
        raise BenchError(f"Intake.receive failed {MAX_RETRIES + 1} times")

    return step


def intake_run(db: Any, settings: Any, mails: list[Mail], workers: int) -> list[Span]:
    from mail_gateway.intake import Intake

    return in_threads(
        split(mails, workers), contextlib.nullcontext, intake_step(Intake(db, settings))
    )


def parse_run(mails: list[Mail], settings: Any) -> Run:
    """The CPU part of processing without a database: MIME parsing and cutting the quote."""
    from mail_gateway.mime import parse_message
    from mail_gateway.processing import GatewayConfig
    from mail_gateway.reply_text import extract_reply

    limits = GatewayConfig.from_settings(settings).limits
    spans = []
    for mail in mails:
        start = time.perf_counter()
        parsed = parse_message(mail.raw, limits)
        extract_reply(parsed.text, parsed.html)
        spans.append((start, time.perf_counter(), 0))
    return make_run("parse", "parse + reply text only (no DB)", 1, spans)


# --------------------------------------------------------------------------- checking


def high_water(db: Any) -> int:
    """The highest inbound message id so far: rows above it belong to the next run."""
    from sqlalchemy import func, select

    from hermes_groupware.db.session import Actor
    from hermes_groupware.models import InboundMessage
    from hermes_groupware.models.enums import Source

    with db.unit_of_work(Actor.system("mail-bench"), Source.CLI, read_only=True) as uow:
        return int(uow.session.scalar(select(func.max(InboundMessage.id))) or 0)


def verify(db: Any, after_id: int, expected: int, label: str) -> dict[str, int]:
    """Exactly ``expected`` new inbound rows, all posted, each with one note; else stop."""
    from sqlalchemy import func, select

    from hermes_groupware.db.session import Actor
    from hermes_groupware.models import InboundMessage, TaskItem
    from hermes_groupware.models.enums import ItemKind, Source

    with db.unit_of_work(Actor.system("mail-bench"), Source.CLI, read_only=True) as uow:
        session = uow.session
        statuses = dict(
            session.execute(
                select(InboundMessage.status, func.count())
                .where(InboundMessage.id > after_id)
                .group_by(InboundMessage.status)
            ).all()
        )
        notes = select(func.count()).where(
            TaskItem.kind == ItemKind.NOTE, TaskItem.inbound_message_id > after_id
        )
        note_count = int(session.scalar(notes) or 0)
        leaked = int(session.scalar(notes.where(TaskItem.body.contains(QUOTE_MARKER))) or 0)
    found = {str(k): int(v) for k, v in statuses.items()}
    if found != {"posted": expected} or note_count != expected:
        raise BenchError(
            f"{label}: expected {expected} posted messages and notes, "
            f"found inbound {found} and {note_count} notes"
        )
    log(f"  checked: {expected} inbound rows posted, {note_count} notes, {leaked} with the quote")
    return {"posted": expected, "notes": note_count, "notes_with_quote": leaked}


# --------------------------------------------------------------------------- memory


def memory_child(args: argparse.Namespace) -> int:
    """Run in a fresh process: the listener, one small warm-up message, then the parent sends
    the big message (or nothing); prints peak RSS (and tracemalloc's peak when asked)."""
    from hermes_groupware.bootstrap import database_from_settings

    logging.basicConfig(level=logging.WARNING)
    settings = bench_settings(args.child_url, Path(args.child_dir))
    db = database_from_settings(settings)
    with gateway_listener(db, settings) as port:
        print(f"READY {port}", flush=True)
        sys.stdin.readline()  # the warm-up message went through
        rss_before = proc_status_kib("VmRSS")
        if args.memory_child == "traced":
            tracemalloc.start()
        print("GO", flush=True)
        sys.stdin.readline()  # the big message went through, or none was sent
        traced = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else 0
        tracemalloc.stop()
        peak = proc_status_kib("VmHWM")
    db.engine.dispose()
    print(json.dumps({"hwm_kib": peak, "rss_before_kib": rss_before, "traced": traced}))
    return 0


def proc_status_kib(key: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process. Not ``ru_maxrss``: Linux carries that over
    exec from the parent (which held the big message), VmHWM starts afresh with the new image."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise BenchError(f"no {key} in /proc/self/status")


def child_measure(mode: str, url: str, tmp: Path, warm: Mail, big: Mail | None) -> dict[str, Any]:
    """One child: READY → warm-up message → GO → big message (unless None) → numbers."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--memory-child",
        mode,
        "--child-url",
        url,
        "--child-dir",
        str(tmp),
    ]
    env = dict(os.environ, HERMES_LOGGING_LEVEL="WARNING")
    child = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        port = int(_expect(child, "READY").split()[1])
        with smtp_connection(port) as smtp:
            smtp_step(smtp, warm)
            child.stdin.write("warm\n")
            child.stdin.flush()
            _expect(child, "GO")
            seconds = 0.0
            if big is not None:
                start, end, _ = smtp_step(smtp, big)
                seconds = end - start
        child.stdin.write("done\n")
        child.stdin.flush()
        numbers: dict[str, Any] = json.loads(child.stdout.readline())
        numbers["receive_s"] = seconds
        child.wait(timeout=60)
        return numbers
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _expect(child: subprocess.Popen[str], word: str) -> str:
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line.startswith(word):
        raise BenchError(f"memory child: expected {word}, got {line!r}")
    return line


def measure_memory(
    db: Any, url: str, tmp: Path, targets: list[Target], mib: float
) -> dict[str, Any]:
    """Extra peak RSS of a child that takes one reply with a ``mib`` MiB attachment over that
    of the same child taking none; tracemalloc's peak of the same in a third child."""
    rng = random.Random(7)  # noqa: S311 - reproducible text, not a secret
    target = targets[0]
    data = big_attachment(mib)

    def reply(attachment: bytes = b"") -> Mail:
        return Mail(target.email, target.address, compose(target, next(_SEQUENCE), rng, attachment))

    big = reply(data)
    log(f"  memory: message of {len(big.raw) / MIB:.1f} MiB on the wire ({mib:g} MiB attached)")
    before = high_water(db)
    setup = child_measure("setup", url, tmp, reply(), None)
    loaded = child_measure("message", url, tmp, reply(), big)
    traced = child_measure("traced", url, tmp, reply(), reply(data))
    check_big(db, before, len(data))
    extra = (loaded["hwm_kib"] - setup["hwm_kib"]) / 1024
    result = {
        "wire_mib": len(big.raw) / MIB,
        "attachment_mib": len(data) / MIB,
        "receive_s": loaded["receive_s"],
        "peak_setup_mib": setup["hwm_kib"] / 1024,
        "peak_message_mib": loaded["hwm_kib"] / 1024,
        "extra_peak_mib": extra,
        "extra_over_wire": extra / (len(big.raw) / MIB),
        "in_child_rise_mib": (loaded["hwm_kib"] - loaded["rss_before_kib"]) / 1024,
        "tracemalloc_peak_mib": traced["traced"] / MIB,
        "receive_traced_s": traced["receive_s"],
    }
    log(
        f"  memory: peak RSS {result['peak_setup_mib']:.0f} MiB without, "
        f"{result['peak_message_mib']:.0f} MiB with the message: +{extra:.0f} MiB "
        f"({result['extra_over_wire']:.1f}x the wire size); tracemalloc peak "
        f"{result['tracemalloc_peak_mib']:.0f} MiB; DATA→250 {loaded['receive_s']:.2f} s"
    )
    return result


def check_big(db: Any, after_id: int, size: int) -> None:
    """Both big messages posted, each with its file of the right size."""
    from sqlalchemy import select

    from hermes_groupware.db.session import Actor
    from hermes_groupware.models import InboundMessage, StoredFile, TaskItem
    from hermes_groupware.models.enums import ItemKind, Source

    with db.unit_of_work(Actor.system("mail-bench"), Source.CLI, read_only=True) as uow:
        rows = uow.session.execute(
            select(InboundMessage.id, InboundMessage.status, InboundMessage.size)
            .where(InboundMessage.id > after_id)
            .order_by(InboundMessage.id)
        ).all()
        files = uow.session.scalars(
            select(StoredFile.size)
            .join(TaskItem, TaskItem.file_id == StoredFile.id)
            .where(TaskItem.kind == ItemKind.FILE, TaskItem.inbound_message_id > after_id)
        ).all()
    big = [r for r in rows if r.size > size]
    if len(big) != 2 or any(str(r.status) != "posted" for r in rows):
        raise BenchError(f"big messages: expected 2 posted, found {[tuple(r) for r in rows]}")
    if size not in files:
        raise BenchError(f"big message: no file of {size} bytes, found {files}")
    log(f"  checked: big messages {[r.id for r in big]} posted with their {size}-byte file")


# --------------------------------------------------------------------------- profile


def profile_serial(db: Any, settings: Any, mails: list[Mail], path: Path) -> list[str]:
    """cProfile of ``Intake.receive`` for each mail in this thread; a short summary back."""
    from mail_gateway.intake import Intake

    step = intake_step(Intake(db, settings))
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for mail in mails:
        step(None, mail)
    profiler.disable()
    ms = (time.perf_counter() - start) * 1000
    profiler.dump_stats(f"{path}.pstats")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)
    path.with_suffix(".txt").write_text(out.getvalue())
    lines = [f"{len(mails)} messages, {ms:.0f} ms under the profiler -> {path}.pstats"]
    entries = stats.stats  # type: ignore[attr-defined]
    mine = ("mail_gateway", "hermes_groupware")
    project = sorted(
        (
            (cum, calls, f"{Path(file).parent.name}/{Path(file).name}:{line} {name}")
            for (file, line, name), (_cc, calls, _tt, cum, _callers) in entries.items()
            if any(f"/{m}/" in file for m in mine) and "<" not in name
        ),
        reverse=True,
    )[:14]
    lines += [
        f"{cum * 1000:8.0f} ms cum {calls:7d} calls  {where}" for cum, calls, where in project
    ]
    own = sorted(
        (tt, calls, f"{Path(file).name}:{line} {name}")
        for (file, line, name), (_cc, calls, tt, _cum, _callers) in entries.items()
    )[-8:]
    lines.append("own time:")
    lines += [
        f"{tt * 1000:8.0f} ms own {calls:7d} calls  {where}" for tt, calls, where in reversed(own)
    ]
    return lines


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
    log(f"{result.dialect}: migrate, demo data ({DEMO_TASKS} tasks), {TASKS} tasks in {REGISTER}")
    started = time.perf_counter()
    db, settings, targets = prepare(url, tmp)
    result.setup_s = time.perf_counter() - started
    rng = random.Random(2026)  # noqa: S311 - reproducible text, not a secret
    try:
        warm = make_mails(targets, WARMUP_MESSAGES, rng)
        mark = high_water(db)
        intake_run(db, settings, warm, 1)
        verify(db, mark, len(warm), "warm-up")
        for rep in range(1, args.reps + 1):
            log(f"{result.dialect}: round {rep} of {args.reps}")
            one_round(result, args, db, settings, make_mails_for(targets, rng))
        if args.profile:
            mails = make_mails(targets, PROFILE_MESSAGES, rng)
            stem = args.workdir / f"profile-{RUN_STAMP}-{result.dialect}-intake"
            result.profile = profile_serial(db, settings, mails, stem)
        if args.attachment_mib > 0:
            result.memory = measure_memory(db, url, tmp, targets, args.attachment_mib)
    finally:
        db.engine.dispose()


def make_mails_for(targets: list[Target], rng: random.Random) -> Callable[[int], list[Mail]]:
    return lambda count: make_mails(targets, count, rng)


def one_round(
    result: DialectResult,
    args: argparse.Namespace,
    db: Any,
    settings: Any,
    new_mails: Callable[[int], list[Mail]],
) -> None:
    """Every path once, in the same order, each with new messages (the gateway's messages
    also go through the protocol baseline, which does not store them)."""
    n, senders = args.messages, args.senders
    mails = new_mails(n)
    result.add(protocol_baseline(mails, senders))
    plans = [
        ("gateway", f"SMTP → gateway → note ({senders} senders)", senders),
        ("intake", f"Intake.receive, {senders} threads (no SMTP)", senders),
        ("serial", "Intake.receive, 1 thread (no SMTP)", 1),
    ]
    for key, label, workers in plans:
        if key != "gateway":
            mails = new_mails(n)
        mark = high_water(db)
        if key == "gateway":
            with gateway_listener(db, settings) as port:
                spans = send_over_smtp(port, mails, senders)
        else:
            spans = intake_run(db, settings, mails, workers)
        result.add(make_run(key, label, workers, spans))
        result.checks.setdefault(key, []).append(verify(db, mark, n, label))
    result.add(parse_run(mails, settings))


# --------------------------------------------------------------------------- report

ROW_ORDER = ("protocol", "gateway", "intake", "serial", "parse")


def print_report(results: list[DialectResult], args: argparse.Namespace, notes: list[str]) -> None:
    print(
        f"# E-mail intake: {args.messages} replies, {args.senders} senders, "
        f"{args.reps} round(s) ({RUN_STAMP})"
    )
    print()
    header = (
        f"| {'database':10s} | {'path':42s} | {'msgs':>5s} | {'workers':>7s} | {'wall s':>7s} "
        f"| {'msg/s':>7s} | {'msg/s range':>13s} | {'p50 ms':>7s} | {'p95 ms':>7s} "
        f"| {'max ms*':>7s} | {'retried*':>8s} | {'ms/msg':>7s} | {'vs gateway':>10s} |"
    )
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    for r in results:
        full = r.run("gateway")
        for key in ROW_ORDER:
            run, rates = r.run(key), r.rates(key)
            spread = f"{min(rates):.0f}–{max(rates):.0f}"
            print(
                f"| {r.dialect:10s} | {run.label:42s} | {run.messages:5d} | {run.workers:7d} "
                f"| {run.wall_s:7.2f} | {run.rate:7.1f} | {spread:>13s} "
                f"| {statistics.median(run.latencies_ms):7.1f} "
                f"| {cb.percentile(run.latencies_ms, 95):7.1f} "
                f"| {r.worst_ms(key):7.0f} | {r.retries(key):8d} | {run.per_message_ms:7.2f} "
                f"| {run.rate / full.rate:9.2f}x |"
            )
    print()
    print(
        "Each row is the fastest round; the msg/s range and the columns marked * are over all "
        "rounds. p50/p95/max: per message, from DATA to its 250 over SMTP, one Intake.receive "
        "call without it. retried: temporary failures (451) sent again at once, as an MTA "
        "would later."
    )
    for r in results:
        print_breakdown(r)
    if any(r.memory for r in results):
        print_memory(results)
    for r in results:
        if r.profile:
            print(f"\nprofile of Intake.receive, 1 thread ({r.dialect}):")
            for line in r.profile:
                print("    " + line)
    for note in notes:
        print(note)


def print_breakdown(r: DialectResult) -> None:
    """Where the time of one message goes, from the runs' wall time per message."""
    full, conc, serial = r.run("gateway"), r.run("intake"), r.run("serial")
    proto, parse = r.run("protocol"), r.run("parse")
    smtp_extra = full.per_message_ms - conc.per_message_ms
    db_part = serial.per_message_ms - parse.per_message_ms
    print(
        f"\n{r.dialect} ({r.server}): per message, the gateway takes {full.per_message_ms:.2f} ms "
        f"of wall time ({full.rate:.0f} msg/s); the protocol alone {proto.per_message_ms:.2f} ms "
        f"({proto.rate / full.rate:.0f}x faster)."
    )
    print(
        f"  Without SMTP, {conc.workers} threads: {conc.per_message_ms:.2f} ms, so SMTP and the "
        f"listener add {smtp_extra:+.2f} ms ({smtp_extra / full.per_message_ms:+.0%} of the "
        f"gateway's time); {conc.workers} threads are {serial.wall_s / conc.wall_s:.2f}x "
        f"as fast as 1."
    )
    print(
        f"  1 thread: {serial.per_message_ms:.2f} ms per message = parse + reply text "
        f"{parse.per_message_ms:.2f} ms ({parse.per_message_ms / serial.per_message_ms:.0%}) "
        f"+ database and services {db_part:.2f} ms ({db_part / serial.per_message_ms:.0%})."
    )
    checks = [c for per_path in r.checks.values() for c in per_path]
    leaked = sum(c["notes_with_quote"] for c in checks)
    checked = sum(c["notes"] for c in checks)
    print(
        f"  checked: {checked} notes from {checked} posted messages; "
        f"{leaked} notes still hold the quoted Outlook header. Set-up {r.setup_s:.1f} s."
    )


def print_memory(results: list[DialectResult]) -> None:
    print()
    header = (
        f"| {'database':10s} | {'wire MiB':>8s} | {'attached MiB':>12s} | {'DATA→250 s':>10s} "
        f"| {'peak RSS without MiB':>20s} | {'peak RSS with MiB':>17s} | {'extra MiB':>9s} "
        f"| {'extra / wire':>12s} | {'tracemalloc peak MiB':>20s} |"
    )
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    for r in results:
        m = r.memory
        if not m:
            continue
        print(
            f"| {r.dialect:10s} | {m['wire_mib']:8.1f} | {m['attachment_mib']:12.1f} "
            f"| {m['receive_s']:10.2f} | {m['peak_setup_mib']:20.0f} "
            f"| {m['peak_message_mib']:17.0f} | {m['extra_peak_mib']:9.0f} "
            f"| {m['extra_over_wire']:11.1f}x | {m['tracemalloc_peak_mib']:20.0f} |"
        )
    print(
        "peak RSS: VmHWM of a fresh process running the listener after one small message, "
        "without and with the big one; tracemalloc: a third such process, traced from just "
        "before the big message."
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


def as_json(
    results: list[DialectResult], args: argparse.Namespace, notes: list[str]
) -> dict[str, Any]:
    return {
        "stamp": RUN_STAMP,
        "command": command_line(),
        "environment": environment(results),
        "messages": args.messages,
        "senders": args.senders,
        "notes": notes,
        "databases": {
            r.dialect: {
                "server": r.server,
                "setup_s": round(r.setup_s, 2),
                "runs": {k: r.run(k).summary() for k in ROW_ORDER},
                "rounds_msgs_per_s": {k: [round(x, 1) for x in r.rates(k)] for k in ROW_ORDER},
                "all_rounds": {
                    k: {"max_ms": round(r.worst_ms(k), 1), "retried": r.retries(k)}
                    for k in ROW_ORDER
                },
                "checks": r.checks,
                "memory": r.memory,
                "profile": r.profile,
            }
            for r in results
        },
    }


def save(results: list[DialectResult], args: argparse.Namespace, notes: list[str]) -> Path:
    """Everything, with each message's latency, to the workdir."""
    data = as_json(results, args, notes)
    for r in results:
        data["databases"][r.dialect]["latencies_ms"] = {
            k: [[round(ms, 3) for ms in run.latencies_ms] for run in runs]
            for k, runs in r.rounds.items()
        }
    path: Path = args.workdir / f"results-{RUN_STAMP}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="replies per run (1000)")
    parser.add_argument("--senders", type=int, default=4, help="concurrent SMTP senders (4)")
    parser.add_argument("--reps", type=int, default=3, help="rounds of every path (3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 messages, 1 round")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--postgres-url",
        default=PG_ADMIN_URL,
        help=f"a database to create the bench database from ({PG_ADMIN_URL})",
    )
    parser.add_argument(
        "--attachment-mib",
        type=float,
        default=25,
        help="attachment of the memory test in MiB (25; 0 skips the memory test)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile 200 serial messages")
    parser.add_argument("--keep", action="store_true", help="keep the databases and files")
    parser.add_argument(
        "--source",
        choices=("snapshot", "worktree"),
        default="snapshot",
        help="import Hermes from a copy of the work tree taken at the start (default) or from "
        "the work tree itself",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mail-bench"))  # noqa: S108
    parser.add_argument(
        "--memory-child", choices=("setup", "message", "traced"), help=argparse.SUPPRESS
    )
    parser.add_argument("--child-url", help=argparse.SUPPRESS)
    parser.add_argument("--child-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.reps = 100, 1
    if min(args.messages, args.senders, args.reps) < 1:
        parser.error("--messages, --senders and --reps must be at least 1")
    args.workdir = args.workdir.resolve()
    return args


def main(argv: list[str]) -> int:
    cb.ensure_project_venv(Path(__file__))
    args = parse_args(argv)
    if args.memory_child:
        return memory_child(args)
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
    results = []
    for dialect, server in plan:
        results.append(bench_dialect(dialect, args, server))
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
