#!/usr/bin/env python3
"""CalDAV benchmark: Hermes Groupware against stock Radicale 3.9 (multifilesystem storage).

Not a test: it builds a data set of N tasks in a throw-away Hermes database and the same N
VTODOs in a throw-away Radicale storage, serves both with gunicorn (2 sync workers each, on
127.0.0.1 only), runs the same CalDAV requests against both and prints medians and ratios.
Everything it creates lives under ``--workdir`` (default /tmp/caldav-bench); the repository is
not touched. See bench/README.md.

Run it with the project's venv (it re-executes itself there when started otherwise):

    .venv/bin/python bench/caldav_bench.py --sizes 1000,10000 --db sqlite
"""

# Imports of Hermes, requests and SQLAlchemy sit inside functions: the script first re-executes
# itself with the project venv. Subprocesses run our own fixed commands.
# ruff: noqa: PLC0415, S603, S606

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import cProfile
import datetime as dt
import io
import json
import math
import os
import platform
import pstats
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv"
USER, PASSWORD = "jkowalski", "demo-hermes-2026"
REGISTER = "HAN"
COLLECTION = f"/{USER}/register-{REGISTER.lower()}/"
DEMO_TASKS = 300  # generated through the services; the rest is bulk-inserted with plain SQL
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
HTTP_TIMEOUT = 900.0
MULTIGET_BATCH = 100
SYNC_EDITS = 10
RANGE_SHARE = 0.05
RUN_STAMP = time.strftime("%Y%m%d-%H%M%S")

DAV, CALDAV = "DAV:", "urn:ietf:params:xml:ns:caldav"
XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
PROPFIND_ETAG = XML_HEAD + '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
PROPFIND_CTAG = (
    XML_HEAD + '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
    "<d:prop><cs:getctag/></d:prop></d:propfind>"
)
QUERY_RANGE = (
    XML_HEAD + '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><d:getetag/></d:prop>"
    '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO">'
    '<c:time-range start="{start}" end="{end}"/>'
    "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
)
QUERY_OPEN = (
    XML_HEAD + '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><d:getetag/></d:prop>"
    '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO">'
    '<c:prop-filter name="COMPLETED"><c:is-not-defined/></c:prop-filter>'
    "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
)
MULTIGET = (
    XML_HEAD + '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><d:getetag/><c:calendar-data/></d:prop>{hrefs}</c:calendar-multiget>"
)
SYNC = (
    XML_HEAD + '<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token>'
    "<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
)
XML_TYPE = {"Content-Type": "application/xml; charset=utf-8"}
ICS_TYPE = "text/calendar; charset=utf-8"

#: operation -> (label, required speed-up of Hermes over Radicale at the largest N, flat in N)
OPERATIONS: dict[str, tuple[str, float, bool]] = {
    "propfind_d1": ("PROPFIND depth 1 (getetag)", 2, False),
    "query_range": ("calendar-query time-range (~5%)", 8, False),
    "query_open": ("calendar-query not completed", 8, False),
    "multiget_all": ("calendar-multiget all, batches of 100", 2, False),
    "sync_initial": ("sync-collection initial", 2, False),
    "sync_after_10": ("sync-collection after 10 changes", 50, True),
    "getctag": ("getctag (PROPFIND depth 0)", 50, True),
    "get_one": ("GET one item", 1, False),
    "put_existing": ("PUT existing item (If-Match)", 1, False),
    "put_new": ("PUT new item (If-None-Match: *)", 50, True),
}
CONCURRENT_TARGET = 5.0

_processes: list[subprocess.Popen[bytes]] = []


#: Where Hermes's code comes from: the work tree, or a snapshot of a revision (--source).
@dataclass
class Source:
    directory: Path
    label: str


_source = Source(REPO, "work tree")


class BenchError(RuntimeError):
    """Something in the set-up or a request went wrong; the run stops."""


def log(message: str) -> None:
    """Progress on stderr, so stdout keeps only the tables."""
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes


def ensure_project_venv(script: Path = Path(__file__)) -> None:
    """Re-execute ``script`` with the project's venv (the benches import Hermes)."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"no project venv at {VENV}: run `make test` (or `make run`) first")
    os.execv(str(python), [str(python), str(script.resolve()), *sys.argv[1:]])


def start_process(
    cmd: list[str], env: dict[str, str], logfile: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    """Start a server in its own process group (so it and its workers stop together)."""
    with logfile.open("ab") as out:
        process = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _processes.append(process)
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group we started, SIGKILL after 15 s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    if process in _processes:
        _processes.remove(process)


def stop_all() -> None:
    for process in list(_processes):
        stop_process(process)


def _on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """A set-up command; its output is returned, a failure stops the run."""
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def wait_ready(base: str, process: subprocess.Popen[bytes], logfile: Path) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"server exited; see {logfile}:\n{logfile.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            requests.options(base + "/", timeout=2)
            return
        time.sleep(0.2)
    raise BenchError(f"{base} did not answer within 60 s; see {logfile}")


def gunicorn_command(gunicorn: Path, port: int, app: str) -> list[str]:
    # Sync workers (gunicorn's default): one request at a time per worker, no keep-alive.
    # A long timeout: the projection catch-up and Radicale's whole-collection PUT take minutes.
    return [
        str(gunicorn),
        "--workers=2",
        f"--bind=127.0.0.1:{port}",
        "--timeout=1800",
        "--log-level=warning",
        app,
    ]


def use_source(revision: str, workdir: Path) -> None:
    """Serve and import Hermes from a snapshot of ``revision`` (``git archive``), so that edits
    in the work tree during a long run do not change what is measured."""
    if revision == "worktree":
        _source.label = f"work tree {git_describe('--dirty')}"
        return
    sha = run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{revision}^{{commit}}"]).strip()
    target = workdir / f"src-{sha[:12]}"
    if not target.exists():
        partial = workdir / f"src-{sha[:12]}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", sha],  # noqa: S607
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive, check=True)  # noqa: S607
        partial.rename(target)
    _source.directory, _source.label = target, f"{revision} = {git_describe(sha)} (snapshot)"
    sys.path.insert(0, str(target))


def git_describe(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", *args],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def hermes_env(config: Path) -> dict[str, str]:
    """Environment of Hermes processes: its config, and the snapshot first on the path."""
    env = dict(os.environ)
    env.update({"HERMES_CONFIG": str(config), "HERMES_LOGGING_LEVEL": "WARNING"})
    if _source.directory != REPO:
        env["PYTHONPATH"] = str(_source.directory)
    return env


def ensure_project_gunicorn() -> Path:
    """gunicorn in the project venv (installed here when missing; not a project dependency)."""
    gunicorn = VENV / "bin" / "gunicorn"
    if not gunicorn.exists():
        log("installing gunicorn into the project venv (bench only, not in pyproject)")
        run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "gunicorn"])
    return gunicorn


def ensure_radicale_venv(root: Path) -> Path:
    """A throw-away venv with stock Radicale 3.9 and gunicorn; reused between runs."""
    venv = root / "radicale-venv"
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import radicale, gunicorn; print(radicale.VERSION)"]
    if python.exists():
        with contextlib.suppress(BenchError):
            if run(probe).strip().startswith("3.9."):
                return venv
    log(f"creating {venv} with radicale~=3.9.0 and gunicorn")
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(python), "-m", "pip", "install", "--quiet", "radicale~=3.9.0", "gunicorn"])
    return venv


# --------------------------------------------------------------------------- HTTP


@dataclass
class Reply:
    """What the benchmark needs of a response, from HTTP or from the in-process app."""

    status: int
    content: bytes
    headers: dict[str, str]


class Dav:
    """One client with a keep-alive session; ``profiler`` wraps measured calls only."""

    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.session = requests.Session()
        self.session.auth = (USER, PASSWORD)
        self.profiler: cProfile.Profile | None = None

    def call(
        self,
        method: str,
        path: str,
        body: str | bytes = b"",
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200, 201, 204, 207),
    ) -> tuple[float, Reply]:
        """(milliseconds including reading the body, reply); other statuses raise."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        start = time.perf_counter()
        reply = self._send(method, path, data, headers or {})
        elapsed = (time.perf_counter() - start) * 1000
        if reply.status not in expect:
            snippet = reply.content[:400].decode("utf-8", "replace")
            raise BenchError(f"{method} {self.base}{path}: {reply.status} {snippet}")
        return elapsed, reply

    def _send(self, method: str, path: str, data: bytes, headers: dict[str, str]) -> Reply:
        response = self.session.request(
            method, self.base + path, data=data, headers=headers, timeout=HTTP_TIMEOUT
        )
        content = response.content
        return Reply(
            response.status_code, content, {k.lower(): v for k, v in response.headers.items()}
        )


class WsgiDav(Dav):
    """The same client calling a WSGI app in this process (for cProfile)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.base = "wsgi://hermes"
        self.app = app
        self.profiler = None
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        self.auth = f"Basic {token}"

    def _send(self, method: str, path: str, data: bytes, headers: dict[str, str]) -> Reply:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": self.auth,
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
        answer: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
            answer["status"] = int(status.split(" ", 1)[0])
            answer["headers"] = {k.lower(): v for k, v in response_headers}

        profiler = self.profiler
        if profiler is not None:
            profiler.enable()
        try:
            content = b"".join(self.app(environ, start_response))
        finally:
            if profiler is not None:
                profiler.disable()
        return Reply(answer["status"], content, answer["headers"])


def parse_multistatus(content: bytes) -> list[tuple[str, dict[str, str]]]:
    """(href, {local property name: text}) per response of a 207 body."""
    root = ET.fromstring(content)  # noqa: S314 - our own servers on 127.0.0.1
    found = []
    for response in root.iter(f"{{{DAV}}}response"):
        href = response.findtext(f"{{{DAV}}}href") or ""
        props: dict[str, str] = {}
        for propstat in response.iter(f"{{{DAV}}}propstat"):
            if "200" not in (propstat.findtext(f"{{{DAV}}}status") or ""):
                continue
            for prop in propstat.iter(f"{{{DAV}}}prop"):
                for child in prop:
                    props[child.tag.rsplit("}", 1)[-1]] = child.text or ""
        if response.find(f"{{{DAV}}}status") is not None and not props:
            props["status"] = response.findtext(f"{{{DAV}}}status") or ""
        found.append((href, props))
    return found


def item_hrefs(content: bytes) -> list[str]:
    return [href for href, _ in parse_multistatus(content) if not href.endswith("/")]


def sync_token_of(content: bytes) -> str:
    root = ET.fromstring(content)  # noqa: S314 - our own servers on 127.0.0.1
    return root.findtext(f"{{{DAV}}}sync-token") or ""


def uid_of(text: str) -> str:
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    match = re.search(r"^UID:(.*?)\r?$", unfolded, re.MULTILINE)
    if match is None:
        raise BenchError("an item without UID")
    return match.group(1).strip()


def with_summary(text: str, summary: str) -> str:
    """The object with another SUMMARY, the way a client edits a title."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    return re.sub(r"^SUMMARY[;:].*?\r?$", f"SUMMARY:{summary}\r", unfolded, count=1, flags=re.M)


def new_vtodo(uid: str, now: dt.datetime) -> str:
    start = (now + dt.timedelta(days=7)).strftime("%Y%m%dT090000Z")
    due = (now + dt.timedelta(days=7)).strftime("%Y%m%dT110000Z")
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//caldav-bench//EN",
        "BEGIN:VTODO",
        f"UID:{uid}",
        f"DTSTAMP:{stamp}",
        f"CREATED:{stamp}",
        "SUMMARY:Telefon do klienta w sprawie oferty (benchmark)",
        f"DTSTART:{start}",
        f"DUE:{due}",
        "STATUS:NEEDS-ACTION",
        "PRIORITY:5",
        "END:VTODO",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


# --------------------------------------------------------------------------- data sets


@dataclass
class Hermes:
    """A Hermes instance for one N: config, database and timings of building it."""

    n: int
    db: str
    config: Path
    url: str
    pg_name: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None


def create_hermes(n: int, db: str, workdir: Path) -> Hermes:
    """Fresh database, schema and the demo data set (employees, registers, DEMO_TASKS tasks)."""
    pg_name = None
    if db == "postgresql":
        pg_name = f"hermes_bench_{os.getpid()}_{n}"
        pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{pg_name}"')
        url = PG_URL.format(name=pg_name)
    else:
        path = workdir / f"hermes-{n}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    config = workdir / f"hermes-{db}-{n}.toml"
    config.write_text(
        "[server]\ndemo = true\n"
        f'[database]\nurl = "{url}"\n'
        f'[files]\npath = "{workdir / f"files-{n}"}"\n'
        '[logging]\nlevel = "WARNING"\n'
    )
    hermes = Hermes(n=n, db=db, config=config, url=url, pg_name=pg_name)
    cli = [str(VENV / "bin" / "hermes-groupware"), "--config", str(config)]
    env, cwd = hermes_env(config), _source.directory
    run([*cli, "db", "upgrade"], env, cwd)
    started = time.perf_counter()
    run([*cli, "demo-data", "--tasks", str(min(DEMO_TASKS, n)), "--seed", "2026"], env, cwd)
    hermes.timings["demo_data_s"] = time.perf_counter() - started
    return hermes


def pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


def engine_for(url: str) -> Any:
    from sqlalchemy import create_engine

    if url.startswith("sqlite"):
        return create_engine(url, connect_args={"timeout": 60})
    return create_engine(url)


def live_count(url: str) -> int:
    from sqlalchemy import text

    engine = engine_for(url)
    with engine.connect() as conn:
        count = conn.scalar(
            text("SELECT count(*) FROM calendar_objects WHERE collection = :c AND NOT deleted"),
            {"c": f"register:{REGISTER}"},
        )
    engine.dispose()
    return int(count or 0)


def bulk_insert(url: str, count: int, seed: int) -> float:
    """``count`` more tasks in the register, written with plain INSERTs (no services, like the
    desktop application); the journal triggers record them. Returns seconds."""
    from sqlalchemy import insert, text

    from hermes_groupware.demo.corpus import NOTES, PRODUCTS, SUBJECTS
    from hermes_groupware.models import Task
    from hermes_groupware.models.enums import Priority, TaskStatus, Visibility

    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    engine = engine_for(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        register_id = conn.scalar(text("SELECT id FROM registers WHERE code = :c"), {"c": REGISTER})
        staff = [
            row[0]
            for row in conn.execute(
                text("SELECT id FROM employees WHERE login IN ('jkowalski','anowak','ebrown')")
            )
        ]
        customers = list(conn.execute(text("SELECT id, name FROM customers")))
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        today = now.replace(hour=0, minute=0, second=0)
        statuses = [TaskStatus.NEW, TaskStatus.IN_PROGRESS, TaskStatus.WAITING, TaskStatus.DONE]
        rows = []
        for i in range(count):
            customer_id, customer = rng.choice(customers)
            start = today + dt.timedelta(days=rng.randint(-180, 180))
            all_day = rng.random() < 0.5
            if all_day:
                due = start + dt.timedelta(days=rng.randint(0, 14))
            else:
                start += dt.timedelta(hours=rng.choice([7, 8, 9, 11, 13]))
                due = start + dt.timedelta(hours=rng.choice([1, 2, 4, 26, 74]))
            status = rng.choices(statuses, weights=[3, 3, 1, 3])[0]
            responsible = rng.choice(staff)
            created = now - dt.timedelta(days=rng.randint(1, 400))
            subject = rng.choice(SUBJECTS[REGISTER]).format(
                product=rng.choice(PRODUCTS), customer=customer, device=""
            )
            rows.append(
                {
                    "number": f"{REGISTER}/2025/{i + 1:05d}",
                    "register_id": register_id,
                    "subject": subject,
                    "description": rng.choice(NOTES),
                    "status": status,
                    "priority": rng.choices(list(Priority), weights=[1, 4, 1])[0],
                    "planned_start": start,
                    "due": due,
                    "all_day": all_day,
                    "completed_at": due if status is TaskStatus.DONE else None,
                    "responsible_id": responsible,
                    "creator_id": responsible,
                    "customer_id": customer_id,
                    "visibility": Visibility.NORMAL,
                    "categories": "",
                    "created_at": created,
                    "updated_at": created,
                    "version": 1,
                }
            )
        conn.execute(insert(Task), rows)
    engine.dispose()
    return time.perf_counter() - started


def time_window(url: str, share: float) -> tuple[str, str, int]:
    """A time range around now that overlaps about ``share`` of the collection's items."""
    from sqlalchemy import text

    engine = engine_for(url)
    with engine.connect() as conn:
        spans = [
            (s if s is not None else -(2**62), e if e is not None else 2**62)
            for s, e in conn.execute(
                text(
                    "SELECT start_ts, end_ts FROM calendar_objects "
                    "WHERE collection = :c AND NOT deleted"
                ),
                {"c": f"register:{REGISTER}"},
            )
        ]
    engine.dispose()
    centre = int(time.time()) // 3600 * 3600
    wanted = max(1, round(len(spans) * share))
    low, high = 0, 400 * 24  # half-width in hours
    while low < high:
        half = (low + high) // 2
        hits = sum(1 for s, e in spans if s < centre + half * 3600 and e > centre - half * 3600)
        if hits >= wanted:
            high = half
        else:
            low = half + 1
    fmt = "%Y%m%dT%H%M%SZ"
    start = dt.datetime.fromtimestamp(centre - low * 3600, dt.UTC).strftime(fmt)
    end = dt.datetime.fromtimestamp(centre + low * 3600, dt.UTC).strftime(fmt)
    expected = sum(1 for s, e in spans if s < centre + low * 3600 and e > centre - low * 3600)
    return start, end, expected


def start_hermes(hermes: Hermes, port: int, workdir: Path) -> str:
    gunicorn = ensure_project_gunicorn()
    logfile = workdir / f"hermes-{hermes.db}-{hermes.n}.log"
    command = gunicorn_command(gunicorn, port, "hermes_groupware.http.wsgi:application")
    # gunicorn puts its working directory first on sys.path: the source directory
    hermes.process = start_process(command, hermes_env(hermes.config), logfile, _source.directory)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, hermes.process, logfile)
    return base


def warm_workers(base: str, requests_each: int = 3) -> None:
    """Concurrent small requests so that both gunicorn workers build their app and log in."""

    def hit() -> None:
        dav = Dav(base)
        for _ in range(requests_each):
            dav.call("PROPFIND", COLLECTION, PROPFIND_CTAG, {**XML_TYPE, "Depth": "0"})

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def fill_hermes(hermes: Hermes, base: str) -> None:
    """Bulk-insert up to N items, then time the first request (the projection's catch-up)."""
    warm_workers(base)  # the demo data is caught up here, both workers are warm
    missing = hermes.n - live_count(hermes.url)
    hermes.timings["bulk_rows"] = max(0, missing)
    hermes.timings["bulk_insert_s"] = bulk_insert(hermes.url, missing, 17) if missing > 0 else 0
    dav = Dav(base)
    ms, _ = dav.call("PROPFIND", COLLECTION, PROPFIND_CTAG, {**XML_TYPE, "Depth": "0"})
    hermes.timings["catch_up_first_request_ms"] = ms
    ms, _ = dav.call("PROPFIND", COLLECTION, PROPFIND_CTAG, {**XML_TYPE, "Depth": "0"})
    hermes.timings["next_request_ms"] = ms
    # each request applies at most ~2 s of backlog: keep asking until all N are rendered
    started, last, seen = time.monotonic(), time.monotonic(), live_count(hermes.url)
    while seen < hermes.n and time.monotonic() - last < 60:
        dav.call("PROPFIND", COLLECTION, PROPFIND_CTAG, {**XML_TYPE, "Depth": "0"})
        now_seen = live_count(hermes.url)
        if now_seen > seen:
            seen, last = now_seen, time.monotonic()
    hermes.timings["catch_up_rest_s"] = time.monotonic() - started
    warm_workers(base)


def fetch_items(base: str) -> dict[str, str]:
    """href -> text of every item in the collection (the data set both servers serve)."""
    dav = Dav(base)
    _, reply = dav.call("PROPFIND", COLLECTION, PROPFIND_ETAG, {**XML_TYPE, "Depth": "1"})
    hrefs = item_hrefs(reply.content)
    texts: dict[str, str] = {}
    for start in range(0, len(hrefs), 500):
        body = multiget_body(hrefs[start : start + 500])
        _, reply = dav.call("REPORT", COLLECTION, body, {**XML_TYPE, "Depth": "1"})
        for href, props in parse_multistatus(reply.content):
            if "calendar-data" in props:
                texts[href] = props["calendar-data"]
    return texts


def multiget_body(hrefs: list[str]) -> str:
    return MULTIGET.format(hrefs="".join(f"<d:href>{h}</d:href>" for h in hrefs))


def whole_calendar(texts: dict[str, str]) -> str:
    """One VCALENDAR with every VTODO (Hermes renders times in UTC: no VTIMEZONE needed)."""
    parts = []
    for text in texts.values():
        match = re.search(r"BEGIN:VTODO\r?\n.*?END:VTODO\r?\n", text, re.DOTALL)
        if match is None:
            raise BenchError("an item without VTODO")
        parts.append(match.group(0).replace("\r\n", "\n").replace("\n", "\r\n"))
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Hermes Groupware//Hermes CRM//PL\r\n"
    return head + "".join(parts) + "END:VCALENDAR\r\n"


@dataclass
class Radicale:
    n: int
    folder: Path
    timings: dict[str, float] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None


def start_radicale(n: int, port: int, workdir: Path, venv: Path) -> tuple[Radicale, str]:
    folder = workdir / f"radicale-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "collections").mkdir(parents=True)
    (folder / "users").write_text(f"{USER}:{PASSWORD}\n")
    (folder / "config").write_text(
        "[server]\nmax_content_length = 500000000\n"
        "[auth]\ntype = htpasswd\n"
        f"htpasswd_filename = {folder / 'users'}\nhtpasswd_encryption = plain\n"
        "[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
        "[web]\ntype = none\n"
        "[logging]\nlevel = warning\nmask_passwords = True\n"
    )
    env = dict(os.environ)
    env["RADICALE_CONFIG"] = str(folder / "config")
    logfile = workdir / f"radicale-{n}.log"
    command = gunicorn_command(venv / "bin" / "gunicorn", port, "radicale")
    radicale = Radicale(n=n, folder=folder)
    radicale.process = start_process(command, env, logfile, folder)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, radicale.process, logfile)
    return radicale, base


def fill_radicale(radicale: Radicale, base: str, calendar: str) -> None:
    """One whole-collection PUT (item-by-item filling is O(N^2) in Radicale)."""
    dav = Dav(base)
    ms, _ = dav.call("PUT", COLLECTION, calendar, {"Content-Type": ICS_TYPE}, expect=(201,))
    radicale.timings["whole_put_s"] = ms / 1000
    warm_workers(base)


# --------------------------------------------------------------------------- operations


@dataclass
class Target:
    """One server under test, with the hrefs of its copy of the data set."""

    name: str
    dav: Dav
    hrefs: list[str]
    by_uid: dict[str, str]
    token: str = ""
    edits: int = 0


@dataclass
class Plan:
    """What every operation uses, the same for both servers."""

    window: tuple[str, str]
    get_uid: str
    put_uid: str
    edit_uids: list[str]
    rep: int = 0


def depth(value: str) -> dict[str, str]:
    return {**XML_TYPE, "Depth": value}


def op_getctag(t: Target, _p: Plan) -> tuple[float, int]:
    ms, reply = t.dav.call("PROPFIND", COLLECTION, PROPFIND_CTAG, depth("0"))
    return ms, len(parse_multistatus(reply.content))


def op_propfind_d1(t: Target, _p: Plan) -> tuple[float, int]:
    ms, reply = t.dav.call("PROPFIND", COLLECTION, PROPFIND_ETAG, depth("1"))
    return ms, len(item_hrefs(reply.content))


def op_query_range(t: Target, p: Plan) -> tuple[float, int]:
    body = QUERY_RANGE.format(start=p.window[0], end=p.window[1])
    ms, reply = t.dav.call("REPORT", COLLECTION, body, depth("1"))
    return ms, len(item_hrefs(reply.content))


def op_query_open(t: Target, _p: Plan) -> tuple[float, int]:
    ms, reply = t.dav.call("REPORT", COLLECTION, QUERY_OPEN, depth("1"))
    return ms, len(item_hrefs(reply.content))


def op_multiget_all(t: Target, _p: Plan) -> tuple[float, int]:
    total, count = 0.0, 0
    for start in range(0, len(t.hrefs), MULTIGET_BATCH):
        body = multiget_body(t.hrefs[start : start + MULTIGET_BATCH])
        ms, reply = t.dav.call("REPORT", COLLECTION, body, depth("1"))
        total += ms
        count += sum(1 for _, props in parse_multistatus(reply.content) if "calendar-data" in props)
    return total, count


def op_sync_initial(t: Target, _p: Plan) -> tuple[float, int]:
    ms, reply = t.dav.call("REPORT", COLLECTION, SYNC.format(token=""), depth("1"))
    t.token = sync_token_of(reply.content)
    return ms, len(item_hrefs(reply.content))


@contextlib.contextmanager
def unprofiled(dav: Dav) -> Iterator[None]:
    """Preparation inside an operation stays out of its profile."""
    profiler, dav.profiler = dav.profiler, None
    try:
        yield
    finally:
        dav.profiler = profiler


def edit(t: Target, uid: str) -> tuple[str, str, dict[str, str]]:
    """The item's current text with another SUMMARY, and If-Match with its current ETag."""
    path = t.by_uid[uid]
    with unprofiled(t.dav):
        _, reply = t.dav.call("GET", path, expect=(200,))
    t.edits += 1
    text = with_summary(reply.content.decode("utf-8"), f"Edycja z benchmarku nr {t.edits}")
    headers = {"Content-Type": ICS_TYPE, "If-Match": reply.headers.get("etag", "*")}
    return path, text, headers


def op_sync_after_10(t: Target, p: Plan) -> tuple[float, int]:
    with unprofiled(t.dav):
        if not t.token:
            op_sync_initial(t, p)
        for k in range(SYNC_EDITS):
            uid = p.edit_uids[(p.rep * SYNC_EDITS + k) % len(p.edit_uids)]
            path, text, headers = edit(t, uid)
            t.dav.call("PUT", path, text, headers, expect=(200, 201, 204))
    ms, reply = t.dav.call("REPORT", COLLECTION, SYNC.format(token=t.token), depth("1"))
    t.token = sync_token_of(reply.content)
    return ms, len(item_hrefs(reply.content))


def op_get_one(t: Target, p: Plan) -> tuple[float, int]:
    ms, reply = t.dav.call("GET", t.by_uid[p.get_uid], expect=(200,))
    return ms, int(b"BEGIN:VTODO" in reply.content)


def op_put_existing(t: Target, p: Plan) -> tuple[float, int]:
    path, text, headers = edit(t, p.put_uid)
    ms, _ = t.dav.call("PUT", path, text, headers, expect=(200, 201, 204))
    return ms, 1


def op_put_new(t: Target, _p: Plan) -> tuple[float, int]:
    uid = f"caldav-bench-{uuid.uuid4()}"
    headers = {"Content-Type": ICS_TYPE, "If-None-Match": "*"}
    body = new_vtodo(uid, dt.datetime.now(dt.UTC))
    ms, _ = t.dav.call("PUT", f"{COLLECTION}{uid}.ics", body, headers, expect=(201, 204))
    return ms, 1


OP_FUNCTIONS: dict[str, Callable[[Target, Plan], tuple[float, int]]] = {
    "getctag": op_getctag,
    "get_one": op_get_one,
    "propfind_d1": op_propfind_d1,
    "query_range": op_query_range,
    "query_open": op_query_open,
    "multiget_all": op_multiget_all,
    "sync_initial": op_sync_initial,
    "sync_after_10": op_sync_after_10,
    "put_existing": op_put_existing,
    "put_new": op_put_new,
}


@dataclass
class OpResult:
    samples: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def median(self, server: str) -> float:
        return statistics.median(self.samples[server])


def run_operations(
    targets: list[Target], plan: Plan, ops: list[str], reps: int, budget_s: float
) -> dict[str, OpResult]:
    """Each operation ``reps`` times, servers interleaved; a server whose samples of one
    operation took more than ``budget_s`` stops repeating it after 3 samples."""
    results: dict[str, OpResult] = {}
    for op in ops:
        function = OP_FUNCTIONS[op]
        for target in targets:
            # Hermes remembers a verified app password for 60 s per worker; the first request
            # after that pays for Argon2. Keep that out of the operations' samples.
            warm_workers(target.dav.base, requests_each=2)
        result = results.setdefault(op, OpResult())
        spent = dict.fromkeys((t.name for t in targets), 0.0)
        for rep in range(reps):
            plan.rep = rep
            for target in targets:
                samples = result.samples.setdefault(target.name, [])
                if len(samples) >= 3 and spent[target.name] > budget_s:
                    continue
                started = time.perf_counter()
                ms, count = function(target, plan)
                spent[target.name] += time.perf_counter() - started
                samples.append(ms)
                result.counts[target.name] = count
        log(
            f"  {op:14s} "
            + "  ".join(f"{t.name} {result.median(t.name):10.1f} ms" for t in targets)
        )
    return results


def concurrent_load(target: Target, clients: int, seconds: float) -> dict[str, float]:
    """``clients`` threads, each: PROPFIND depth 1 then a multiget of 100 random items, for
    ``seconds`` (requests in flight at the deadline finish and count)."""
    records: list[tuple[str, float]] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds

    def client(number: int) -> None:
        dav = Dav(target.dav.base)
        rng = random.Random(number)  # noqa: S311 - load pattern, not secrets
        while time.perf_counter() < deadline:
            try:
                ms, _ = dav.call("PROPFIND", COLLECTION, PROPFIND_ETAG, depth("1"))
                records.append(("propfind", ms))
                if time.perf_counter() >= deadline:
                    break
                hrefs = rng.sample(target.hrefs, min(MULTIGET_BATCH, len(target.hrefs)))
                ms, _ = dav.call("REPORT", COLLECTION, multiget_body(hrefs), depth("1"))
                records.append(("multiget", ms))
            except Exception as exc:
                errors.append(repr(exc)[:200])

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    every = [ms for _, ms in records]
    return {
        "requests": len(records),
        "errors": len(errors),
        "seconds": elapsed,
        "rps": len(records) / elapsed,
        "p50_ms": percentile(every, 50),
        "p95_ms": percentile(every, 95),
        "p95_propfind_ms": percentile([ms for op, ms in records if op == "propfind"], 95),
        "p95_multiget_ms": percentile([ms for op, ms in records if op == "multiget"], 95),
    }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return math.nan  # printed as "nan": no request of that kind finished
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * pct / 100) - 1)]


# --------------------------------------------------------------------------- profiling


PROJECT_CODE = ("caldav_backend", "/sync/", "hermes_groupware", "/radicale/")


def profile_hermes(
    hermes: Hermes, template: Target, plan: Plan, ops: list[str], outdir: Path
) -> dict[str, list[str]]:
    """Each operation once warm, then once under cProfile, against the app in this process."""
    from hermes_groupware.config import load_settings
    from hermes_groupware.http.app import create_app

    os.environ["HERMES_LOGGING_LEVEL"] = "WARNING"
    app = create_app(load_settings(hermes.config))
    dav = WsgiDav(app)
    target = Target("hermes-in-process", dav, template.hrefs, template.by_uid, template.token)
    summaries: dict[str, list[str]] = {}
    for op in ops:
        function = OP_FUNCTIONS[op]
        function(target, plan)
        profiler = cProfile.Profile()
        dav.profiler = profiler
        ms, _ = function(target, plan)
        dav.profiler = None
        path = outdir / f"profile-{RUN_STAMP}-{hermes.db}-{hermes.n}-{op}"
        profiler.dump_stats(f"{path}.pstats")
        summaries[op] = summarise(profiler, ms, path.with_suffix(".txt"))
        log(f"  profiled {op}: {ms:.0f} ms in-process -> {path}.pstats")
    return summaries


def summarise(profiler: cProfile.Profile, ms: float, textfile: Path) -> list[str]:
    """Full listings to ``textfile``; the heaviest project functions as a short summary."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(30)
    stats.print_callers(20)
    textfile.write_text(out.getvalue())
    entries = stats.stats  # type: ignore[attr-defined]
    total = max(getattr(stats, "total_tt", 0.0), 1e-9)
    lines = [f"in-process {ms:.0f} ms; profiled CPU {total * 1000:.0f} ms"]
    wrappers = {"app", "__call__", "_handle_request"}  # the WSGI layers around every request
    project = [
        (cum, calls, f"{Path(file).name}:{line} {name}")
        for (file, line, name), (_cc, calls, _tt, cum, _callers) in entries.items()
        if any(part in file for part in PROJECT_CODE) and "<" not in name and name not in wrappers
    ]
    for cum, calls, where in sorted(project, reverse=True)[:12]:
        lines.append(f"{cum * 1000:9.0f} ms cum {calls:8d} calls  {where}")
    heavy = sorted(
        (
            (tt, calls, f"{Path(file).name}:{line} {name}")
            for (file, line, name), (_cc, calls, tt, _cum, _callers) in entries.items()
        ),
        reverse=True,
    )[:6]
    lines.append("own time:")
    lines += [f"{tt * 1000:9.0f} ms own {calls:8d} calls  {where}" for tt, calls, where in heavy]
    return lines


# --------------------------------------------------------------------------- one size


@dataclass
class SizeResult:
    n: int
    items: dict[str, int]
    setup: dict[str, float]
    window: tuple[str, str, int]
    ops: dict[str, OpResult]
    concurrent: dict[str, dict[str, float]]
    profiles: dict[str, list[str]] = field(default_factory=dict)


def targets_for(hermes_base: str, radicale_base: str, texts: dict[str, str]) -> list[Target]:
    hermes_by_uid = {uid_of(text): href for href, text in texts.items()}
    _, reply = Dav(radicale_base).call("PROPFIND", COLLECTION, PROPFIND_ETAG, depth("1"))
    radicale_hrefs = item_hrefs(reply.content)
    by_name = {href.rsplit("/", 1)[-1]: href for href in radicale_hrefs}
    radicale_by_uid = {}
    for uid in hermes_by_uid:
        quoted = uid.replace("@", "%40")
        href = by_name.get(f"{uid}.ics") or by_name.get(f"{quoted}.ics")
        if href is not None:
            radicale_by_uid[uid] = href
    if len(radicale_by_uid) < len(hermes_by_uid) * 0.99:
        raise BenchError("Radicale's hrefs do not follow the UIDs; cannot pair items")
    return [
        Target("hermes", Dav(hermes_base), list(texts), hermes_by_uid),
        Target("radicale", Dav(radicale_base), radicale_hrefs, radicale_by_uid),
    ]


def make_plan(targets: list[Target], window: tuple[str, str, int], seed: int) -> Plan:
    rng = random.Random(seed)  # noqa: S311 - choice of items, not secrets
    common = sorted(set(targets[0].by_uid) & set(targets[1].by_uid))
    chosen = rng.sample(common, 2 + SYNC_EDITS * 3)
    return Plan(window=window[:2], get_uid=chosen[0], put_uid=chosen[1], edit_uids=chosen[2:])


def bench_size(n: int, args: argparse.Namespace, workdir: Path, radicale_venv: Path) -> SizeResult:
    log(f"N={n}: building the Hermes data set ({args.db})")
    hermes = create_hermes(n, args.db, workdir)
    radicale: Radicale | None = None
    try:
        hermes_base = start_hermes(hermes, args.hermes_port, workdir)
        fill_hermes(hermes, hermes_base)
        log(
            f"  demo-data {hermes.timings['demo_data_s']:.1f} s, bulk insert of "
            f"{hermes.timings['bulk_rows']:.0f} tasks {hermes.timings['bulk_insert_s']:.1f} s, "
            f"first request (catch-up) {hermes.timings['catch_up_first_request_ms'] / 1000:.1f} s, "
            f"the rest of the catch-up {hermes.timings['catch_up_rest_s']:.1f} s"
        )
        texts = fetch_items(hermes_base)
        window = time_window(hermes.url, RANGE_SHARE)
        log(f"N={n}: filling stock Radicale with {len(texts)} VTODOs (one whole-collection PUT)")
        radicale, radicale_base = start_radicale(n, args.radicale_port, workdir, radicale_venv)
        fill_radicale(radicale, radicale_base, whole_calendar(texts))
        log(f"  whole-collection PUT {radicale.timings['whole_put_s']:.1f} s")
        targets = targets_for(hermes_base, radicale_base, texts)
        plan = make_plan(targets, window, seed=n)
        log(f"N={n}: operations, {args.reps} repetitions (medians in ms)")
        ops = run_operations(targets, plan, args.op_list, args.reps, args.op_budget)
        concurrent = {}
        for target in targets if args.seconds > 0 else []:
            log(f"N={n}: {args.clients} concurrent clients for {args.seconds:.0f} s: {target.name}")
            concurrent[target.name] = concurrent_load(target, args.clients, args.seconds)
        result = SizeResult(
            n=n,
            items={t.name: len(t.hrefs) for t in targets},
            setup={**hermes.timings, **{f"radicale_{k}": v for k, v in radicale.timings.items()}},
            window=window,
            ops=ops,
            concurrent=concurrent,
        )
        wanted = profile_selection(args.profile, result)
        if wanted:
            log(f"N={n}: profiling Hermes in-process: {', '.join(wanted)}")
            profiling = time.perf_counter()
            result.profiles = profile_hermes(hermes, targets[0], plan, wanted, workdir)
            result.setup["profiling_s"] = time.perf_counter() - profiling
        return result
    finally:
        if radicale is not None and radicale.process is not None:
            stop_process(radicale.process)
        if hermes.process is not None:
            stop_process(hermes.process)
        if hermes.pg_name and not args.keep:
            pg_admin(f'DROP DATABASE IF EXISTS "{hermes.pg_name}" WITH (FORCE)')


def profile_selection(spec: str, result: SizeResult) -> list[str]:
    if not spec:
        return []
    if spec == "all":
        return list(result.ops)
    if spec == "missed":
        return [op for op in result.ops if speedup(result, op) < OPERATIONS[op][1]]
    return operations(spec, "--profile")


def operations(spec: str, option: str) -> list[str]:
    """The operations named in a comma-separated ``spec``."""
    names = [op.strip() for op in spec.split(",") if op.strip()]
    unknown = [op for op in names if op not in OP_FUNCTIONS]
    if unknown:
        raise BenchError(f"unknown operations for {option}: {unknown}")
    return names


def speedup(result: SizeResult, op: str) -> float:
    """How many times faster Hermes is (Radicale median / Hermes median)."""
    return result.ops[op].median("radicale") / result.ops[op].median("hermes")


# --------------------------------------------------------------------------- report


def print_size(result: SizeResult, db: str) -> None:
    s = result.setup
    print()
    print(
        f"## N = {result.n}, Hermes on {db}: {COLLECTION} holds {result.items['hermes']} items "
        f"(Radicale {result.items['radicale']})"
    )
    print(
        f"set-up: Hermes demo-data ({min(DEMO_TASKS, result.n)} tasks) {s['demo_data_s']:.1f} s, "
        f"plain-SQL insert of {s['bulk_rows']:.0f} tasks {s['bulk_insert_s']:.1f} s, "
        f"first request after it (projection catch-up) {s['catch_up_first_request_ms']:.0f} ms "
        f"(next request {s['next_request_ms']:.0f} ms); "
        f"Radicale whole-collection PUT {s['radicale_whole_put_s']:.1f} s"
    )
    print(f"time range {result.window[0]}..{result.window[1]} ({result.window[2]} items expected)")
    print()
    header = (
        f"| {'operation':40s} | {'Hermes ms':>10s} | {'Radicale ms':>11s} | {'H/R':>7s} "
        f"| {'speed-up':>8s} | {'target':>6s} | {'ok':4s} | {'items H/R':>13s} | {'n':>5s} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for op, r in result.ops.items():
        label, target, _flat = OPERATIONS[op]
        h, rad = r.median("hermes"), r.median("radicale")
        up = rad / h
        counts = f"{r.counts['hermes']}/{r.counts['radicale']}"
        reps = f"{len(r.samples['hermes'])}/{len(r.samples['radicale'])}"
        print(
            f"| {label:40s} | {h:10.1f} | {rad:11.1f} | {h / rad:7.3f} | {up:7.1f}x "
            f"| {'≥' + format(target, 'g') + 'x':>6s} | {'yes' if up >= target else 'NO':4s} "
            f"| {counts:>13s} | {reps:>5s} |"
        )
    if result.concurrent:
        print_concurrent(result.concurrent)
    for op, lines in result.profiles.items():
        print(f"\nprofile of Hermes, {OPERATIONS[op][0]} (N = {result.n}):")
        for line in lines:
            print("    " + line)


def print_concurrent(concurrent: dict[str, dict[str, float]]) -> None:
    print()
    print(
        f"| {'concurrent PROPFIND d1 + multiget':34s} | {'req/s':>7s} | {'p50 ms':>8s} "
        f"| {'p95 ms':>8s} | {'p95 PROPFIND':>12s} | {'p95 multiget':>12s} | {'requests':>8s} "
        f"| {'errors':>6s} |"
    )
    print("|" + "-" * 36 + "|" + "|".join("-" * w for w in (9, 10, 10, 14, 14, 10, 8)) + "|")
    for name, c in concurrent.items():
        print(
            f"| {name:34s} | {c['rps']:7.1f} | {c['p50_ms']:8.0f} | {c['p95_ms']:8.0f} "
            f"| {c['p95_propfind_ms']:12.0f} | {c['p95_multiget_ms']:12.0f} "
            f"| {c['requests']:8.0f} | {c['errors']:6.0f} |"
        )
    ratio = concurrent["hermes"]["rps"] / concurrent["radicale"]["rps"]
    verdict = "yes" if ratio >= CONCURRENT_TARGET else "NO"
    print(f"throughput Hermes/Radicale {ratio:.2f}x (target ≥{CONCURRENT_TARGET:g}x: {verdict})")


def print_scaling(results: list[SizeResult]) -> None:
    if len(results) < 2:
        return
    first, last = results[0], results[-1]
    print()
    print(f"## Growth from N = {first.n} to N = {last.n} (median ms; x = growth factor)")
    print()
    print(f"| {'operation':40s} | {'Hermes':>30s} | {'Radicale':>30s} | {'flat wanted':11s} |")
    print("|" + "|".join("-" * w for w in (42, 32, 32, 13)) + "|")
    for op in last.ops:
        label, _target, flat = OPERATIONS[op]
        cells = []
        for server in ("hermes", "radicale"):
            a, b = first.ops[op].median(server), last.ops[op].median(server)
            cells.append(f"{a:9.1f} -> {b:9.1f} ({b / a:5.1f}x)")
        print(f"| {label:40s} | {cells[0]:>30s} | {cells[1]:>30s} | {'yes' if flat else '':11s} |")


def environment() -> dict[str, str]:
    import sqlite3

    import radicale
    import sqlalchemy

    return {
        "hermes": _source.label,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "radicale": radicale.VERSION,
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
    }


def save(results: list[SizeResult], args: argparse.Namespace, workdir: Path) -> Path:
    path = workdir / f"results-{RUN_STAMP}-{args.db}.json"
    data = {
        "args": vars(args),
        "environment": environment(),
        "sizes": [
            {
                "n": r.n,
                "items": r.items,
                "setup": r.setup,
                "window": r.window,
                "ops": {
                    op: {"samples_ms": o.samples, "counts": o.counts} for op, o in r.ops.items()
                },
                "concurrent": r.concurrent,
                "profiles": r.profiles,
            }
            for r in results
        ],
    }
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated N (1000,10000)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="N=1000, 3 repetitions, 10 s load")
    parser.add_argument("--reps", type=int, default=5, help="repetitions per operation (5)")
    parser.add_argument(
        "--op-budget",
        type=float,
        default=40.0,
        help="seconds per operation and server after which only 3 samples are taken (40)",
    )
    parser.add_argument(
        "--ops",
        default=",".join(OP_FUNCTIONS),
        metavar="OPS",
        help="comma-separated operations to run (all of them)",
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="concurrent load time, 0 to skip it (20)"
    )
    parser.add_argument("--hermes-port", type=int, default=18232)
    parser.add_argument("--radicale-port", type=int, default=18233)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/caldav-bench"))  # noqa: S108
    parser.add_argument(
        "--profile",
        default="",
        metavar="OPS",
        help="after each size, cProfile Hermes in-process: 'missed' (operations under their "
        "target), 'all', or a comma-separated list of operations",
    )
    parser.add_argument(
        "--source",
        default="worktree",
        metavar="REV",
        help="Hermes code to measure: 'worktree' (default), or a git revision served from a "
        "snapshot under --workdir (unaffected by edits during the run)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.reps, args.seconds = "1000", 3, 10.0
    args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.op_list = operations(args.ops, "--ops")
    return args


def main(argv: list[str]) -> int:
    ensure_project_venv()
    args = parse_args(argv)
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, _on_signal)
    for port in (args.hermes_port, args.radicale_port):
        if not port_free(port):
            raise SystemExit(f"port {port} on 127.0.0.1 is in use")
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    use_source(args.source, workdir)
    radicale_venv = ensure_radicale_venv(workdir)
    ensure_project_gunicorn()
    started = time.perf_counter()
    results = []
    for n in args.size_list:
        results.append(bench_size(n, args, workdir, radicale_venv))
        print_size(results[-1], args.db)
        sys.stdout.flush()
    print_scaling(results)
    env = environment()
    print()
    print(
        f"gunicorn 2 sync workers each; {args.reps} repetitions; {args.clients} clients for "
        f"{args.seconds:.0f} s; " + ", ".join(f"{k} {v}" for k, v in env.items())
    )
    path = save(results, args, workdir)
    total = time.perf_counter() - started
    profiling = sum(r.setup.get("profiling_s", 0.0) for r in results)
    print(f"raw samples: {path}; total {total:.0f} s ({profiling:.0f} s of it profiling)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
