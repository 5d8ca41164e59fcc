#!/usr/bin/env python3
"""Feed benchmark: ``GET /feeds/<token>.ics`` rendered by Hermes, against stock Radicale 3.9.

Not a test. For each N it builds N tasks in register HAN with ``bench/caldav_bench.py``'s
helpers (a throw-away SQLite database under ``--workdir``), creates one feed over the register
and measures, in this process through the WSGI app (no network): the full render (median after
a warm-up; also with the feed's per-process cache of item texts emptied first), the peak
memory of one render (tracemalloc), memory over 30 renders, and the ``If-None-Match`` path
(304) over 200 calls. For comparison it serves the same N VTODOs from
stock Radicale 3.9 (multifilesystem, gunicorn, 127.0.0.1) and times a GET of the collection;
it also times the feed over HTTP from Hermes under gunicorn. See bench/README.md.

Run it with the project's venv (it re-executes itself there when started otherwise):

    .venv/bin/python bench/feeds_bench.py --sizes 1000,10000
"""

# Imports of Hermes and SQLAlchemy sit inside functions: the script first re-executes itself
# with the project venv (caldav_bench.ensure_project_venv).
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import atexit
import cProfile
import gc
import importlib.util
import json
import os
import shlex
import signal
import statistics
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import caldav_bench  # this script's directory is on sys.path

REPO = Path(__file__).resolve().parents[1]
#: bulk_insert spreads planned starts over today ± 180 days, dues up to 14 days later
FEED_DAYS = 400
MAX_ITEMS = 20_000
RATE_LIMIT = 100_000  # [feeds] rate_limit_per_minute of the bench config (default 30)
NOT_MODIFIED_CALLS = 200
GROWTH_MARKS = (1, 10, 30)
RADICALE_WARMUPS = 2
MIB = 1024 * 1024
RUN_STAMP = time.strftime("%Y%m%d-%H%M%S")
SPEED_UP_TARGET = 3.0


cb: Any = caldav_bench
log = cb.log


def rss_mib() -> float:
    """Resident set size of this process now (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --------------------------------------------------------------------------- set-up


@dataclass
class SizeResult:
    n: int
    caldav_items: int = 0
    feed_items: int = 0
    feed_bytes: int = 0
    radicale_items: int = 0
    radicale_bytes: int = 0
    tasks: dict[str, int] = field(default_factory=dict)
    setup: dict[str, float] = field(default_factory=dict)
    render_ms: list[float] = field(default_factory=list)
    render_gzip_ms: list[float] = field(default_factory=list)
    #: renders after emptying the feed's per-process cache of item texts (if it has one)
    render_cold_ms: list[float] = field(default_factory=list)
    peak_mib: float = 0.0
    memory: list[tuple[int, float, float]] = field(default_factory=list)  # (render, traced, rss)
    not_modified_ms: list[float] = field(default_factory=list)
    radicale_ms: list[float] = field(default_factory=list)
    hermes_http_ms: list[float] = field(default_factory=list)
    profiles: dict[str, list[str]] = field(default_factory=dict)

    def render(self) -> float:
        return statistics.median(self.render_ms)

    def radicale(self) -> float:
        return statistics.median(self.radicale_ms)

    def speed_up(self) -> float:
        return self.radicale() / self.render()


def limit_rate(config: Path) -> None:
    """Raise the per-link rate limit in the bench config (hundreds of fetches a minute)."""
    with config.open("a") as out:
        out.write(f"[feeds]\nrate_limit_per_minute = {RATE_LIMIT}\n")


def make_feed(config: Path, n: int) -> str:
    """One feed over register HAN owned by admin, wide enough for every task; its token."""
    from hermes_groupware.bootstrap import database_from_settings
    from hermes_groupware.config import load_settings
    from hermes_groupware.db.session import Actor
    from hermes_groupware.models.enums import Source
    from hermes_groupware.services.feeds import FeedSpec, create_feed

    settings = load_settings(config)
    if settings.feeds.rate_limit_per_minute < RATE_LIMIT:
        raise cb.BenchError(f"{config}: the feeds rate limit was not raised")
    spec = FeedSpec(
        name=f"feeds-bench HAN {n}",
        owner="admin",
        registers=(cb.REGISTER,),
        include_completed=True,  # a third of bulk_insert's tasks are done
        days_back=FEED_DAYS,
        days_ahead=FEED_DAYS,
        max_items=MAX_ITEMS,
    )
    database = database_from_settings(settings)
    try:
        with database.unit_of_work(Actor.system("feeds-bench"), Source.SYSTEM) as uow:
            _view, token = create_feed(uow, spec, secret=settings.secret_key)
    finally:
        database.engine.dispose()
    return str(token)


def task_counts(url: str) -> dict[str, int]:
    """What the feed should show: HAN's tasks, minus cancelled ones and ones without a due."""
    from sqlalchemy import text

    engine = cb.engine_for(url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT count(*), "
                "sum(CASE WHEN t.status = 'cancelled' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN t.due IS NULL THEN 1 ELSE 0 END) "
                "FROM tasks t JOIN registers r ON r.id = t.register_id WHERE r.code = :c"
            ),
            {"c": cb.REGISTER},
        ).one()
    engine.dispose()
    return {"tasks": int(row[0]), "cancelled": int(row[1] or 0), "without_due": int(row[2] or 0)}


# --------------------------------------------------------------------------- measurements


def feed_path(token: str) -> str:
    return f"/feeds/{token}.ics"


def over_http(
    result: SizeResult, token: str, hermes_base: str, radicale_base: str, reps: int
) -> None:
    """Radicale's GET of the collection and Hermes's feed under gunicorn, warm, interleaved."""
    radicale, hermes = cb.Dav(radicale_base), cb.Dav(hermes_base)
    for _ in range(RADICALE_WARMUPS):
        _, reply = radicale.call("GET", cb.COLLECTION, expect=(200,))
        hermes.call("GET", feed_path(token), expect=(200,))
    result.radicale_items = reply.content.count(b"BEGIN:VTODO")
    result.radicale_bytes = len(reply.content)
    for _ in range(reps):
        ms, _ = radicale.call("GET", cb.COLLECTION, expect=(200,))
        result.radicale_ms.append(ms)
        ms, _ = hermes.call("GET", feed_path(token), expect=(200,))
        result.hermes_http_ms.append(ms)
    log(
        f"  Radicale GET {cb.COLLECTION}: {result.radicale():.1f} ms ({result.radicale_items} "
        f"VTODOs); Hermes feed over HTTP {statistics.median(result.hermes_http_ms):.1f} ms"
    )


def in_process(
    result: SizeResult, config: Path, token: str, reps: int, profile_dir: Path | None
) -> None:
    """Render time, memory and the 304 path through the WSGI app in this process."""
    from hermes_groupware.config import load_settings
    from hermes_groupware.http.app import create_app

    app = create_app(load_settings(config))
    dav = cb.WsgiDav(app)
    path = feed_path(token)
    _, reply = dav.call("GET", path, expect=(200,))  # warm-up
    result.feed_items = reply.content.count(b"BEGIN:VEVENT")
    result.feed_bytes = len(reply.content)
    etag = reply.headers["etag"]
    for _ in range(reps):
        ms, _ = dav.call("GET", path, expect=(200,))
        result.render_ms.append(ms)
    for _ in range(3):
        ms, _ = dav.call("GET", path, headers={"Accept-Encoding": "gzip"}, expect=(200,))
        result.render_gzip_ms.append(ms)
    # the feed keeps rendered items per process: also time renders that start without them
    cache = getattr(importlib.import_module("caldav_backend.feeds_http"), "ITEM_TEXTS", None)
    if cache is not None:
        for _ in range(3):
            cache.clear()
            ms, _ = dav.call("GET", path, expect=(200,))
            result.render_cold_ms.append(ms)
    log(
        f"  render {result.render():.1f} ms in-process ({result.feed_items} VEVENTs, "
        f"{result.feed_bytes / MIB:.1f} MiB); with gzip "
        f"{statistics.median(result.render_gzip_ms):.1f} ms; {cold_text(result)}"
    )
    measure_memory(result, dav, path)
    for _ in range(NOT_MODIFIED_CALLS):
        ms, _ = dav.call("GET", path, headers={"If-None-Match": etag}, expect=(304,))
        result.not_modified_ms.append(ms)
    log(
        f"  304: median {statistics.median(result.not_modified_ms):.2f} ms, "
        f"p95 {cb.percentile(result.not_modified_ms, 95):.2f} ms"
    )
    if profile_dir is not None:
        result.profiles["render"] = profile(dav, path, {}, profile_dir / f"render-{result.n}")
        result.profiles["304"] = profile(
            dav, path, {"If-None-Match": etag}, profile_dir / f"304-{result.n}", calls=50
        )
    del dav, app
    gc.collect()


def cold_text(result: SizeResult) -> str:
    """The median render with an empty item cache, for the report."""
    if not result.render_cold_ms:
        return "no item cache"
    return f"with an empty item cache {statistics.median(result.render_cold_ms):.1f} ms"


def measure_memory(result: SizeResult, dav: Any, path: str) -> None:
    """30 traced renders: the highest peak of one render, and the traced memory after gc at
    renders 1, 10 and 30 (with the RSS), to show that nothing accumulates."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result.memory.append((0, before / MIB, rss_mib()))
        for render in range(1, max(GROWTH_MARKS) + 1):
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            _, reply = dav.call("GET", path, expect=(200,))
            peak = tracemalloc.get_traced_memory()[1] - base
            result.peak_mib = max(result.peak_mib, peak / MIB)
            del reply
            if render in GROWTH_MARKS:
                gc.collect()
                result.memory.append((render, tracemalloc.get_traced_memory()[0] / MIB, rss_mib()))
    finally:
        tracemalloc.stop()
    log(
        f"  peak of a render {result.peak_mib:.1f} MiB; traced after gc "
        + ", ".join(f"#{r} {t:.2f} MiB (RSS {s:.0f})" for r, t, s in result.memory)
    )


def profile(dav: Any, path: str, headers: dict[str, str], stem: Path, calls: int = 1) -> list[str]:
    """cProfile of ``calls`` requests; full listing to ``stem``.txt/.pstats, a summary back."""
    profiler = cProfile.Profile()
    dav.profiler = profiler
    expect = (304,) if headers else (200,)
    total = 0.0
    try:
        for _ in range(calls):
            ms, _ = dav.call("GET", path, headers=headers, expect=expect)
            total += ms
    finally:
        dav.profiler = None
    profiler.dump_stats(f"{stem}.pstats")
    lines: list[str] = cb.summarise(profiler, total, stem.with_suffix(".txt"))
    if calls > 1:
        lines[0] += f" ({calls} calls)"
    return lines


# --------------------------------------------------------------------------- one size


def bench_size(n: int, args: argparse.Namespace, workdir: Path, radicale_venv: Path) -> SizeResult:
    result = SizeResult(n=n)
    log(f"N={n}: building the Hermes data set (sqlite)")
    hermes = cb.create_hermes(n, "sqlite", workdir)
    limit_rate(hermes.config)
    radicale = None
    try:
        hermes_base = cb.start_hermes(hermes, args.hermes_port, workdir)
        cb.fill_hermes(hermes, hermes_base)
        result.setup = dict(hermes.timings)
        texts = cb.fetch_items(hermes_base)
        result.caldav_items = len(texts)
        token = make_feed(hermes.config, n)
        result.tasks = task_counts(hermes.url)
        log(
            f"  {len(texts)} items in {cb.COLLECTION}; HAN tasks {result.tasks}; "
            f"feed {feed_path(token[:6] + '…')}"
        )
        log(f"N={n}: filling stock Radicale with {len(texts)} VTODOs (one whole-collection PUT)")
        radicale, radicale_base = cb.start_radicale(n, args.radicale_port, workdir, radicale_venv)
        cb.fill_radicale(radicale, radicale_base, cb.whole_calendar(texts))
        result.setup["radicale_whole_put_s"] = radicale.timings["whole_put_s"]
        over_http(result, token, hermes_base, radicale_base, args.reps)
    finally:
        if radicale is not None and radicale.process is not None:
            cb.stop_process(radicale.process)
        if hermes.process is not None:
            cb.stop_process(hermes.process)
    log(f"N={n}: in-process measurements (servers stopped)")
    profile_dir = workdir / f"profile-{RUN_STAMP}" if n in args.profile_sizes else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    in_process(result, hermes.config, token, args.reps, profile_dir)
    if result.feed_items < 0.95 * n:
        raise cb.BenchError(f"the feed holds {result.feed_items} items, expected about {n}")
    return result


# --------------------------------------------------------------------------- report


def print_table(results: list[SizeResult]) -> None:
    print()
    header = (
        f"| {'N':>6s} | {'feed items':>10s} | {'render ms':>9s} | {'peak MiB':>8s} "
        f"| {'304 median ms':>13s} | {'304 p95 ms':>10s} | {'Radicale GET ms':>15s} "
        f"| {'speed-up':>8s} | {'feed via gunicorn ms':>20s} |"
    )
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    for r in results:
        print(
            f"| {r.n:6d} | {r.feed_items:10d} | {r.render():9.1f} | {r.peak_mib:8.1f} "
            f"| {statistics.median(r.not_modified_ms):13.2f} "
            f"| {cb.percentile(r.not_modified_ms, 95):10.2f} | {r.radicale():15.1f} "
            f"| {r.speed_up():7.1f}x | {statistics.median(r.hermes_http_ms):20.1f} |"
        )
    print()
    for r in results:
        verdict = "yes" if r.speed_up() >= SPEED_UP_TARGET else "NO"
        print(
            f"N={r.n}: feed {r.feed_items} VEVENTs ({r.feed_bytes / MIB:.1f} MiB) of "
            f"{r.tasks['tasks']} HAN tasks ({r.tasks['cancelled']} cancelled, "
            f"{r.tasks['without_due']} without due); CalDAV collection {r.caldav_items} items; "
            f"Radicale GET {r.radicale_items} VTODOs ({r.radicale_bytes / MIB:.1f} MiB); "
            f"speed-up ≥{SPEED_UP_TARGET:g}x: {verdict}; render with gzip "
            f"{statistics.median(r.render_gzip_ms):.1f} ms; {cold_text(r)}"
        )
        marks = ", ".join(
            f"{'before' if k == 0 else f'#{k}'} {t:.2f} MiB / RSS {s:.0f} MiB"
            for k, t, s in r.memory
        )
        print(f"    tracemalloc current after gc: {marks}")
    if len(results) >= 2:
        first, last = results[0], results[-1]
        nm = statistics.median(last.not_modified_ms) / statistics.median(first.not_modified_ms)
        p95 = cb.percentile(last.not_modified_ms, 95) / cb.percentile(first.not_modified_ms, 95)
        print(
            f"growth {first.n} -> {last.n}: render {last.render() / first.render():.1f}x, "
            f"peak memory {last.peak_mib / first.peak_mib:.1f}x, 304 median {nm:.2f}x "
            f"(p95 {p95:.2f}x), Radicale GET {last.radicale() / first.radicale():.1f}x"
        )
    for r in results:
        for name, lines in r.profiles.items():
            print(f"\nprofile of Hermes, {name} (N = {r.n}):")
            for line in lines:
                print("    " + line)


def command_line() -> str:
    python = Path(sys.executable)
    with_venv = python if not python.is_relative_to(REPO) else python.relative_to(REPO)
    script = Path(__file__).resolve()
    shown = script.relative_to(REPO) if Path.cwd() == REPO else script
    prefix = "" if Path.cwd() == REPO else f"cd {REPO} && "
    return prefix + shlex.join([str(with_venv), str(shown), *sys.argv[1:]])


def save(results: list[SizeResult], args: argparse.Namespace, workdir: Path) -> Path:
    path = workdir / f"results-{RUN_STAMP}.json"
    data = {
        "command": command_line(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "environment": cb.environment(),
        "sizes": [asdict(r) for r in results],
    }
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated N (1000,10000)")
    parser.add_argument("--reps", type=int, default=5, help="timed renders and GETs (5, min 5)")
    parser.add_argument("--hermes-port", type=int, default=19232)
    parser.add_argument("--radicale-port", type=int, default=19233)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/feeds-bench"))  # noqa: S108
    parser.add_argument(
        "--profile",
        default="largest",
        metavar="N",
        help="cProfile a render and 50 304s at these sizes: 'largest' (default), 'none', or N,N",
    )
    parser.add_argument(
        "--source",
        default="worktree",
        metavar="REV",
        help="Hermes code to measure: 'worktree' (default) or a git revision (see caldav_bench)",
    )
    args = parser.parse_args(argv)
    args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.reps < 5:
        parser.error("--reps must be at least 5")
    if args.profile == "largest":
        args.profile_sizes = {max(args.size_list)}
    elif args.profile == "none":
        args.profile_sizes = set()
    else:
        args.profile_sizes = {int(s) for s in args.profile.split(",") if s.strip()}
    return args


def main(argv: list[str]) -> int:
    cb.ensure_project_venv(Path(__file__))
    args = parse_args(argv)
    atexit.register(cb.stop_all)
    signal.signal(signal.SIGTERM, cb._on_signal)
    for port in (args.hermes_port, args.radicale_port):
        if not cb.port_free(port):
            raise SystemExit(f"port {port} on 127.0.0.1 is in use")
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["HERMES_LOGGING_LEVEL"] = "WARNING"
    cb.use_source(args.source, workdir)
    radicale_venv = cb.ensure_radicale_venv(workdir)
    cb.ensure_project_gunicorn()
    started = time.perf_counter()
    results = [bench_size(n, args, workdir, radicale_venv) for n in args.size_list]
    print(f"# Feeds: GET /feeds/<token>.ics, Hermes in-process vs stock Radicale GET ({RUN_STAMP})")
    print_table(results)
    env = cb.environment()
    print()
    print(
        f"render: median of {args.reps} after a warm-up, in-process WSGI; peak: tracemalloc, "
        f"highest of 30 renders; 304: {NOT_MODIFIED_CALLS} calls with If-None-Match; Radicale: "
        f"gunicorn 2 sync workers, {RADICALE_WARMUPS} warm-up GETs, median of {args.reps}"
    )
    print(", ".join(f"{k} {v}" for k, v in env.items()))
    path = save(results, args, workdir)
    print(f"command: {command_line()}")
    print(f"raw samples: {path}; total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
