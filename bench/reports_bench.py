#!/usr/bin/env python3
"""Reports benchmark: every report on 10,000 tasks / 1,000 opportunities, and a 10,000-row view
exported to CSV, XLSX and PDF; time and peak Python memory, each against a baseline.

Not a test. For each database (SQLite, and PostgreSQL when reachable) it builds a fresh
database with the demo data (300 tasks through the services), then adds tasks with plain SQL
INSERTs (as the desktop application would; the journal triggers record them) until there are
``--tasks`` tasks, ``--opportunities`` of them open sales opportunities, with ERP invoices and
notes. Then, in this process:

* each report is built for the administrator (sees everything) and for a sales rep (sees
  what their rights allow). The baseline is one plain ``SELECT`` of the same reader's visible
  tasks with the columns a report needs: the ratio says what the report's aggregation and
  layout cost on top of reading the data once;
* a saved view of all tasks (10,000 rows, 9 columns) is built and exported. The baseline is
  ``csv.writer`` writing the same rows to memory: the ratio says what each format costs on top
  of the cheapest possible export.

Peak memory is tracemalloc's peak of Python allocations during the step (the PDF step's
Pango/cairo memory is native and not counted; the process RSS growth is printed beside it).

    .venv/bin/python bench/reports_bench.py [--tasks 10000] [--opportunities 1000] [--db sqlite]
"""

# Hermes and SQLAlchemy come from the project venv the script re-executes into.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import json
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import caldav_bench as cb
from bench_postgres import fresh_database, pg_reachable

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEMO_TASKS = 300
REP = "jkowalski"  # a sales rep: HAN and his own tasks, not every register


@dataclass
class Step:
    """One measured step."""

    name: str
    seconds: float
    peak_mib: float
    rss_growth_mib: float
    baseline_s: float | None = None
    note: str = ""

    @property
    def ratio(self) -> str:
        """How many baselines the step costs."""
        if not self.baseline_s:
            return ""
        return f"{self.seconds / self.baseline_s:.1f}x"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, work: Callable[[], Any], *, repeat: int = 1) -> tuple[Step, Any]:
    """Peak Python memory from one run under tracemalloc (which slows Python down several
    times), then the best time of ``repeat`` runs without it."""
    rss = _rss_mib()
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return Step(name, best, peak, _rss_mib() - rss), result


def build_data(url: str, tasks: int, opportunities: int, seed: int, files: Path) -> None:
    """Demo data through the services, then plain-SQL tasks, invoices and notes up to ``tasks``."""
    from sqlalchemy import func, insert, select, text

    from hermes_groupware import demo
    from hermes_groupware.db.migrate import upgrade
    from hermes_groupware.db.session import Actor, Database, make_engine
    from hermes_groupware.filestore import FileStore
    from hermes_groupware.models import Task, TaskItem
    from hermes_groupware.models.enums import Source

    engine = make_engine(url)
    upgrade(engine)
    database = Database(engine, FileStore(files, 10 * 2**20))
    with database.unit_of_work(Actor.system("bench"), Source.CLI) as uow:
        demo.load(uow, tasks=DEMO_TASKS, seed=seed, demo_mode=True)
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with engine.begin() as conn:
        registers = dict(conn.execute(text("SELECT code, id FROM registers")).all())
        staff = [row[0] for row in conn.execute(text("SELECT id FROM employees"))]
        customers = [row[0] for row in conn.execute(text("SELECT id FROM customers"))]
        have = conn.scalar(select(func.count()).select_from(Task)) or 0
        have_opps = conn.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.opportunity_value.is_not(None), Task.status.in_(("new", "in_progress")))
        )
        missing, opps_missing = max(0, tasks - have), max(0, opportunities - (have_opps or 0))
        rows = task_rows(
            missing,
            opps_missing,
            registers=registers,
            staff=staff,
            customers=customers,
            rng=rng,
            now=now,
        )
        for chunk in range(0, len(rows), 2000):
            conn.execute(insert(Task), rows[chunk : chunk + 2000])
        new_ids = [
            row[0]
            for row in conn.execute(text("SELECT id FROM tasks WHERE number LIKE '%/2025/%'"))
        ]
        documents, notes = item_rows(new_ids, staff, rng, now)
        for items in (documents, notes):
            for chunk in range(0, len(items), 2000):
                conn.execute(insert(TaskItem), items[chunk : chunk + 2000])
    engine.dispose()


def task_rows(
    missing: int,
    opportunities: int,
    *,
    registers: dict[str, int],
    staff: list[int],
    customers: list[int],
    rng: random.Random,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """``missing`` tasks across the registers; the first ``opportunities`` are open HAN
    opportunities in a stage before won/lost."""
    from hermes_groupware.demo.corpus import NOTES, PRODUCTS, STAGES, SUBJECTS
    from hermes_groupware.models.enums import Priority, TaskStatus

    today = now.replace(hour=0, minute=0, second=0)
    codes = [c for c in registers if c in SUBJECTS]
    rows = []
    for i in range(missing):
        sales = i < opportunities
        code = "HAN" if sales else rng.choice(codes)
        start = today + dt.timedelta(days=rng.randint(-120, 60))
        status = (
            rng.choice([TaskStatus.NEW, TaskStatus.IN_PROGRESS])
            if sales
            else rng.choices(list(TaskStatus), weights=[3, 3, 1, 3, 1])[0]
        )
        responsible = rng.choice(staff)
        created = now - dt.timedelta(days=rng.randint(1, 300))
        due = start + dt.timedelta(days=rng.randint(0, 21))
        rows.append(
            {
                "number": f"{code}/2025/{i + 1:05d}",
                "register_id": registers[code],
                "subject": rng.choice(SUBJECTS[code]).format(
                    product=rng.choice(PRODUCTS), customer="", device=""
                ),
                "description": rng.choice(NOTES),
                "status": status,
                "priority": rng.choices(list(Priority), weights=[1, 4, 1])[0],
                "planned_start": start,
                "due": due,
                "all_day": True,
                "completed_at": due if status is TaskStatus.DONE else None,
                "responsible_id": responsible,
                "creator_id": responsible,
                "customer_id": rng.choice(customers),
                "created_at": created,
                "updated_at": created,
                "version": 1,
                "opportunity_value": Decimal(rng.randrange(5_000, 500_000, 500)) if sales else None,
                "opportunity_probability": rng.choice([10, 25, 50, 75, 90]) if sales else None,
                "opportunity_stage": rng.choice(STAGES[:3]) if sales else None,
                "opportunity_expected_close": (
                    today + dt.timedelta(days=rng.randint(-20, 150))
                ).date()
                if sales
                else None,
            }
        )
    return rows


def item_rows(
    task_ids: list[int], staff: list[int], rng: random.Random, now: dt.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An ERP invoice on every sixth task and a note on every second one (two lists: each is
    inserted with one executemany, which wants rows of one shape)."""
    from hermes_groupware.demo.corpus import NOTES
    from hermes_groupware.models.enums import ItemKind, Source

    documents = [
        {
            "task_id": task_id,
            "kind": ItemKind.DOCUMENT,
            "source": Source.DATABASE,
            "document_type": "FV",
            "document_number": f"FV/2025/{n:06d}",
            "document_date": (now - dt.timedelta(days=rng.randint(0, 400))).date(),
            "document_amount": Decimal(rng.randrange(100_000, 9_000_000)) / 100,
            "currency": "PLN",
            "created_at": now,
        }
        for n, task_id in enumerate(task_ids)
        if n % 6 == 0
    ]
    notes = [
        {
            "task_id": task_id,
            "kind": ItemKind.NOTE,
            "source": Source.DATABASE,
            "author_id": rng.choice(staff),
            "body": rng.choice(NOTES),
            "created_at": now - dt.timedelta(days=rng.randint(0, 40)),
        }
        for n, task_id in enumerate(task_ids)
        if n % 2 == 0
    ]
    return documents, notes


@contextlib.contextmanager
def unit_of_work(url: str, files: Path, login: str | None) -> Iterator[Any]:
    """A read-only unit of work as ``login`` (None: the administrator)."""
    from hermes_groupware.db.session import Actor, Database, make_engine
    from hermes_groupware.filestore import FileStore
    from hermes_groupware.models.enums import Source
    from hermes_groupware.services.directory import actor_for
    from hermes_groupware.services.lookups import employee_by_login

    engine = make_engine(url)
    database = Database(engine, FileStore(files, 10 * 2**20))
    actor = Actor.system("bench")
    if login:
        with database.unit_of_work(actor, Source.CLI, read_only=True) as uow:
            actor = actor_for(employee_by_login(uow.session, login, field="login"))
    try:
        with database.unit_of_work(actor, Source.CLI, read_only=True) as uow:
            yield uow
    finally:
        engine.dispose()


REPORT_PARAMS: dict[str, dict[str, Any]] = {
    "overdue": {},
    "pipeline": {},
    "activity": {},
    "complaints": {},
    "agenda": {"period": "week"},
    "turnover": {},
}


def bench_reports(url: str, files: Path, login: str | None) -> list[Step]:
    """Each report for one reader, against one plain SELECT of the reader's visible tasks."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from hermes_groupware.models import Task
    from hermes_groupware.models.enums import Locale, ReportKind
    from reports import registry
    from reports.scope import reader_context

    steps = []
    with unit_of_work(url, files, login) as uow:
        zone = ZoneInfo("Europe/Warsaw")

        def context(kind: ReportKind) -> Any:
            params = dict(REPORT_PARAMS[kind.value])
            if kind is ReportKind.AGENDA and login is None:
                params["employee"] = REP
            return reader_context(
                uow, locale=Locale.PL, zone=zone, params=registry.check_params(kind, params)
            )

        scope = context(ReportKind.OVERDUE).scope
        columns = (Task.id, Task.status, Task.due, Task.responsible_id, Task.register_id)
        columns += (Task.customer_id, Task.opportunity_value, Task.opportunity_probability)
        baseline, visible = measure(
            "baseline: SELECT visible tasks",
            lambda: uow.session.execute(select(*columns).where(scope)).all(),
            repeat=3,
        )
        baseline.note = f"{len(visible)} rows"
        steps.append(baseline)
        for name in REPORT_PARAMS:
            kind = ReportKind(name)
            ctx = context(kind)
            step, result = measure(
                f"report {name}", lambda ctx=ctx, kind=kind: registry.build(kind, ctx), repeat=3
            )
            step.baseline_s = baseline.seconds
            step.note = ", ".join(f"{len(t.data_rows)}" for t in result.tables) + " rows"
            steps.append(step)
    return steps


def bench_view_export(url: str, files: Path, rows: int) -> list[Step]:
    """A saved view of every task, exported to each format, against csv.writer."""
    from zoneinfo import ZoneInfo

    from hermes_groupware.db.session import Actor, Database, make_engine
    from hermes_groupware.filestore import FileStore
    from hermes_groupware.models.enums import Locale, ReportFormat, ReportKind, Source
    from hermes_groupware.services import saved_views
    from reports import formats, registry
    from reports.scope import reader_context

    engine = make_engine(url)
    database = Database(engine, FileStore(files, 10 * 2**20))
    with database.unit_of_work(Actor.system("bench"), Source.CLI) as uow:
        saved_views.create_view(
            uow,
            name="bench-all",
            definition={"include_closed": True},
            columns=[
                "number",
                "register",
                "subject",
                "status",
                "priority",
                "due",
                "responsible",
                "customer",
                "opportunity_value",
            ],
            owner="admin",
        )
    engine.dispose()
    steps = []
    with unit_of_work(url, files, None) as uow:
        params = registry.check_params(ReportKind.VIEW, {"view": "bench-all", "limit": rows})
        ctx = reader_context(uow, locale=Locale.PL, zone=ZoneInfo("Europe/Warsaw"), params=params)
        build, result = measure(
            "view: build 10,000 rows", lambda: registry.build(ReportKind.VIEW, ctx)
        )
        table = result.tables[0]
        build.note = f"{len(table.data_rows)} rows x {len(table.columns)} columns"
        steps.append(build)

        def plain_csv() -> bytes:
            out = io.StringIO()
            writer = csv.writer(out)
            keys = [c.key for c in table.columns]
            writer.writerow(keys)
            for row in table.rows:
                writer.writerow([row.values.get(k) for k in keys])
            return out.getvalue().encode()

        baseline, data = measure("baseline: csv.writer", plain_csv, repeat=3)
        baseline.note = f"{len(data) / 2**20:.1f} MiB"
        steps.append(baseline)
        for fmt in (ReportFormat.CSV, ReportFormat.XLSX, ReportFormat.PDF, ReportFormat.HTML):
            step, attachment = measure(
                f"view: export {fmt.value}", lambda fmt=fmt: formats.export(result, fmt)
            )
            step.baseline_s = baseline.seconds
            step.note = f"{len(attachment.data) / 2**20:.1f} MiB"
            steps.append(step)
    return steps


def print_steps(title: str, steps: list[Step]) -> None:
    """A Markdown table for docs/benchmarks.md."""
    print(f"\n### {title}\n")
    print("| step | time | vs baseline | peak Python memory | RSS growth | notes |")
    print("|---|---:|---:|---:|---:|---|")
    for s in steps:
        print(
            f"| {s.name} | {s.seconds * 1000:,.0f} ms | {s.ratio} | {s.peak_mib:,.1f} MiB | "
            f"{s.rss_growth_mib:,.1f} MiB | {s.note} |"
        )


def main(argv: list[str]) -> int:
    """Run the benchmark and print Markdown tables (and JSON with --json)."""
    cb.ensure_project_venv(Path(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--opportunities", type=int, default=1_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--json", action="store_true", help="also print every figure as JSON")
    args = parser.parse_args(argv)
    dialects = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if "postgresql" in dialects and not pg_reachable(ADMIN_URL, print):
        dialects.remove("postgresql")
    figures: dict[str, Any] = {}
    for dialect in dialects:
        with (
            tempfile.TemporaryDirectory() as tmp,
            fresh_database(dialect, ADMIN_URL, Path(tmp), keep=args.keep, log=print) as url,
        ):
            files = Path(tmp) / "files"
            print(f"\n## {dialect}: building {args.tasks:,} tasks ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            build_data(url, args.tasks, args.opportunities, args.seed, files)
            print(f"   data ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            for login in (None, REP):
                reader = login or "admin"
                steps = bench_reports(url, files, login)
                print_steps(f"{dialect}: reports as {reader}", steps)
                figures[f"{dialect}/reports/{reader}"] = [vars(s) for s in steps]
            steps = bench_view_export(url, files, args.tasks)
            print_steps(f"{dialect}: 10,000-row view export", steps)
            figures[f"{dialect}/view"] = [vars(s) for s in steps]
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
