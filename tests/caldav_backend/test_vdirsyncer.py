"""Round trips with the real command-line clients: vdirsyncer syncs a collection to a folder of
``.ics`` files, todoman and khal work on that folder, and vdirsyncer brings the edits back.

Every tool runs as a subprocess with its configuration, data, cache and home in ``tmp_path``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hermes_groupware.models import CalendarObject, Task
from hermes_groupware.services.lookups import employee_by_login
from hermes_groupware.services.task_views import task_detail
from hermes_groupware.services.tasks import TaskChanges, update_task
from tests.caldav_backend.conftest import PASSWORD, Server

LOGIN = "jkowalski"
ZONE = ZoneInfo("Europe/Warsaw")  # the clients' local zone (TZ in their environment)
TIMEOUT = 120
NUMBERED = re.compile(r"^\[(?P<number>[A-Z]+/\d{4}/\d+)\] (?P<subject>.*)$", re.S)

# todoman has no --summary: `todo edit --raw` opens the file in $EDITOR, and this is the editor
RENAME = """\
import re, sys
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    text = re.sub(r"\\r?\\n[ \\t]", "", f.read())  # unfold
text = re.sub(r"^(SUMMARY:[^\\r\\n]*)", r"\\1 (poprawione)", text, count=1, flags=re.M)
with open(sys.argv[1], "w", encoding="utf-8", newline="") as f:
    f.write(text)
"""


@dataclass
class Sandbox:
    """A home of its own for the command-line clients, and a runner with timeouts."""

    root: Path
    env: dict[str, str]
    executables: dict[str, Path]

    def run(self, tool: str, *args: str | Path) -> str:
        """Run ``tool`` without a terminal (prompts get end of file); fail on a non-zero exit."""
        command = [str(self.executables[tool]), *map(str, args)]
        try:
            done = subprocess.run(
                command,
                cwd=self.root,
                env=self.env,
                input="",
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{shlex.join(command)} took over {TIMEOUT} s:\n{exc.stdout}{exc.stderr}")
        if done.returncode != 0:
            pytest.fail(
                f"{shlex.join(command)} exited {done.returncode}\n"
                f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
            )
        return done.stdout + done.stderr

    def vdirsyncer(self, *args: str) -> str:
        """``vdirsyncer`` on our config; its errors and warnings (bad answers) fail the test."""
        output = self.run("vdirsyncer", "-c", self.root / "vdirsyncer.conf", *args)
        problems = [
            line for line in output.splitlines() if line.lower().startswith(("error", "warning"))
        ]
        assert not problems, output
        return output

    def settle(self) -> None:
        """Sync twice after a sync that sent changes: nothing more goes to the server, and the
        second run has nothing to do at all. (The first may fetch the server's rendering of what
        was just put: a server that rewrites a PUT body should not answer with an ETag.)"""
        first = self.vdirsyncer("sync")
        assert "_remote" not in first, first
        second = self.vdirsyncer("sync")
        assert "Copying" not in second, second
        assert "Deleting" not in second, second


def _sandbox(tmp_path: Path, tools: dict[str, str]) -> Sandbox:
    """Skip when a tool's package is not installed; its script must then sit next to Python."""
    for module in tools:
        pytest.importorskip(module, reason=f"{module} is not installed (pip install -e '.[test]')")
    executables = {name: Path(sys.executable).parent / name for name in tools.values()}
    for path in executables.values():
        assert path.is_file(), f"{path} is missing although its package imports"
    home = tmp_path / "home"
    for sub in ("config", "data", "cache"):
        (home / sub).mkdir(parents=True)
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "TZ": "Europe/Warsaw",
        "LC_ALL": "C.UTF-8",
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "EDITOR": f"{shlex.quote(sys.executable)} {shlex.quote(str(tmp_path / 'rename.py'))}",
    }
    (tmp_path / "rename.py").write_text(RENAME, encoding="utf-8")
    return Sandbox(root=tmp_path, env=env, executables=executables)


def _pair(sandbox: Sandbox, server: Server, slug: str) -> Path:
    """A vdirsyncer pair of ``/<login>/<slug>/`` and a local folder; discover and first sync."""
    local = sandbox.root / "calendars" / slug
    local.mkdir(parents=True)
    (sandbox.root / "vdirsyncer.conf").write_text(
        f"""[general]
status_path = "{sandbox.root / "vdirsyncer-status"}"

[pair hermes_{slug}]
a = "{slug}_local"
b = "{slug}_remote"
collections = null
conflict_resolution = "b wins"

[storage {slug}_local]
type = "filesystem"
path = "{local}"
fileext = ".ics"

[storage {slug}_remote]
type = "caldav"
url = "{server.url}{LOGIN}/{slug}/"
username = "{LOGIN}"
password = "{PASSWORD}"
""",
        encoding="utf-8",
    )
    sandbox.vdirsyncer("discover")
    sandbox.vdirsyncer("sync")
    return local


def _served(server: Server, slug: str) -> dict[str, Task]:
    """The tasks the server has in ``/jkowalski/<slug>/``, by number."""
    with server.uow() as uow:
        live = select(CalendarObject.task_id).where(
            CalendarObject.collection == f"{LOGIN}/{slug}", CalendarObject.deleted.is_(False)
        )
        tasks = list(uow.session.scalars(select(Task).where(Task.id.in_(live))))
        for task in tasks:
            uow.session.expunge(task)
    return {task.number: task for task in tasks}


def _task(server: Server, number: str) -> Task:
    with server.uow() as uow:
        task = uow.session.scalar(select(Task).where(Task.number == number))
        assert task is not None, number
        uow.session.expunge(task)
        return task


def _history(server: Server, task_id: int) -> list[tuple[str, str, str | None]]:
    with server.uow() as uow:
        return [(h.field, h.source, h.actor) for h in task_detail(uow, task_id).history]


def _my_id(server: Server) -> int:
    with server.uow() as uow:
        return employee_by_login(uow.session, LOGIN).id


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


def _later(days: int, hour: int, minute: int = 0) -> dt.datetime:
    """A local time ``days`` from today, past every demo date (the demo is relative to now)."""
    day = dt.datetime.now(ZONE).date() + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


# -- vdirsyncer + todoman -------------------------------------------------------------------


def _todoman(sandbox: Sandbox, local: Path) -> Path:
    config = sandbox.root / "todoman.py"
    config.write_text(
        f'path = "{local.parent}/*"\n'
        'date_format = "%Y-%m-%d"\n'
        'time_format = "%H:%M"\n'
        'default_list = "tasks"\n'
        f'cache_path = "{sandbox.root / "todoman-cache.sqlite3"}"\n',
        encoding="utf-8",
    )
    return config


def _todos(sandbox: Sandbox, config: Path, *args: str) -> dict[str, dict[str, object]]:
    """``todo --porcelain list``, keyed by the Hermes number in the summary (or the summary)."""
    output = sandbox.run("todo", "--config", config, "--porcelain", "list", *args)
    todos = json.loads(output)
    keyed: dict[str, dict[str, object]] = {}
    for todo in todos:
        match = NUMBERED.match(str(todo["summary"]))
        keyed[match["number"] if match else str(todo["summary"])] = todo
    assert len(keyed) == len(todos), output
    return keyed


def _timestamp(value: dt.datetime | None, all_day: bool) -> int | None:
    """What ``--porcelain`` prints for a date: dates are local midnight, times are instants."""
    if value is None:
        return None
    if all_day:
        return int(dt.datetime.combine(value.date(), dt.time(), ZONE).timestamp())
    return int(value.timestamp())


def _assert_todos_match(server: Server, todos: dict[str, dict[str, object]]) -> None:
    """Every task of the collection, and only those, with the database's subject and dates."""
    served = _served(server, "tasks")
    assert set(todos) == set(served)
    mine = {n for n, t in served.items() if t.responsible_id == _my_id(server)}
    assert mine, "jkowalski has tasks of his own"
    for number, task in served.items():
        todo = todos[number]
        assert todo["summary"] == f"[{number}] {task.subject}"
        assert todo["completed"] == (task.status.value == "done"), number
        assert todo["due"] == _timestamp(task.due, task.all_day), number


def test_vdirsyncer_and_todoman_round_trip(dav_server: Server, tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path, {"vdirsyncer": "vdirsyncer", "todoman": "todo"})
    local = _pair(sandbox, dav_server, "tasks")
    assert len(list(local.glob("*.ics"))) == len(_served(dav_server, "tasks"))
    config = _todoman(sandbox, local)

    everything = _todos(sandbox, config, "--status", "ANY")
    _assert_todos_match(dav_server, everything)
    open_ones = _todos(sandbox, config)
    assert set(open_ones) == {n for n, t in everything.items() if not t["completed"]}
    mine = sorted(n for n in open_ones if _task(dav_server, n).responsible_id == _my_id(dav_server))
    assert len(mine) >= 2, open_ones
    finished, edited = mine[0], mine[1]
    before = {n: _task(dav_server, n) for n in (finished, edited)}

    # complete one, move and raise another and rename it, create a new one
    new_due, start, due = _later(120, 14), _later(90, 8), _later(90, 10, 30)
    todo = functools.partial(sandbox.run, "todo", "--config", config)
    todo("done", str(open_ones[finished]["id"]))
    edited_id = str(open_ones[edited]["id"])
    todo("edit", edited_id, "--due", _local(new_due), "--priority", "high")
    todo("edit", "--raw", edited_id)
    title = "Nowe zadanie z todomana – żółw"
    todo("new", "--list", "tasks", "--start", _local(start), "--due", _local(due), title)
    assert _task(dav_server, finished).status.value != "done"  # nothing left the laptop yet

    output = sandbox.vdirsyncer("sync")
    assert output.count("to tasks_remote") == 3, output

    done = _task(dav_server, finished)
    assert done.status.value == "done"
    assert done.completed_at is not None
    assert ("status", "caldav", LOGIN) in _history(dav_server, done.id)

    changed = _task(dav_server, edited)
    assert changed.due == new_due.astimezone(dt.UTC)
    assert not changed.all_day
    assert changed.priority.value == "high"
    assert changed.subject == f"{before[edited].subject} (poprawione)"
    assert changed.planned_start == before[edited].planned_start
    history = _history(dav_server, changed.id)
    assert {("due", "caldav", LOGIN), ("subject", "caldav", LOGIN)} <= set(history)

    with dav_server.uow() as uow:
        created = uow.session.scalar(select(Task).where(Task.subject == title))
        assert created is not None
        uow.session.expunge(created)
    assert created.number.startswith("WEW/")
    assert created.responsible_id == _my_id(dav_server)
    assert created.planned_start == start.astimezone(dt.UTC)
    assert created.due == due.astimezone(dt.UTC)
    assert _history(dav_server, created.id) == [("created", "caldav", LOGIN)]

    # syncing again sends nothing back and changes nothing
    versions = {n: _task(dav_server, n).version for n in (finished, edited, created.number)}
    sandbox.settle()
    assert {n: _task(dav_server, n).version for n in versions} == versions

    # a change made in Hermes reaches todoman (and with it the number of the new task)
    later = _later(150, 9)
    with dav_server.uow() as uow:
        update_task(uow, created.id, TaskChanges(subject="Zmienione w Hermesie"))
        update_task(uow, changed.id, TaskChanges(due=later.astimezone(dt.UTC)))
    output = sandbox.vdirsyncer("sync")
    assert output.count("to tasks_local") == 2, output
    todos = _todos(sandbox, config, "--status", "ANY")
    assert todos[created.number]["summary"] == f"[{created.number}] Zmienione w Hermesie"
    assert todos[edited]["due"] == int(later.timestamp())
    assert todos[finished]["completed"] is True
    _assert_todos_match(dav_server, todos)


# -- vdirsyncer + khal ----------------------------------------------------------------------

KHAL_FORMAT = "{uid}|{title}|{start}|{end}"


def _khal(sandbox: Sandbox, local: Path) -> Path:
    config = sandbox.root / "khal.conf"
    config.write_text(
        f"""[calendars]
[[planned]]
path = {local}
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = Europe/Warsaw
default_timezone = Europe/Warsaw

[default]
default_calendar = planned

[sqlite]
path = {sandbox.root / "khal.db"}
""",
        encoding="utf-8",
    )
    return config


def _events(sandbox: Sandbox, config: Path, start: dt.date, end: dt.date) -> dict[str, list[str]]:
    """``khal list`` from ``start`` to ``end``, each event once, keyed by its title."""
    output = sandbox.run(
        "khal", "-c", config, "list", "--once", "--format", KHAL_FORMAT, "--day-format", "",
        start.isoformat(), end.isoformat(),
    )  # fmt: skip
    events: dict[str, list[str]] = {}
    for line in filter(None, output.splitlines()):
        uid, title, first, last = line.split("|")
        assert title not in events, output
        events[title] = [uid, first, last]
    return events


def _expected_events(server: Server) -> tuple[dict[str, tuple[str, str | None]], dt.date, dt.date]:
    """Title -> (start, end) as khal prints them (the end only for timed events), and the span."""
    expected: dict[str, tuple[str, str | None]] = {}
    days: list[dt.date] = []
    for number, task in _served(server, "planned").items():
        start = task.planned_start or task.due
        assert start is not None, number
        end = task.due if task.due and task.due >= start else start
        if task.all_day:
            expected[f"[{number}] {task.subject}"] = (start.date().isoformat(), None)
        else:
            end = end if end > start else start + dt.timedelta(minutes=30)
            expected[f"[{number}] {task.subject}"] = (_local(start), _local(end))
        days += [start.astimezone(ZONE).date(), end.astimezone(ZONE).date()]
    assert expected, "jkowalski has planned tasks"
    return expected, min(days) - dt.timedelta(days=2), max(days) + dt.timedelta(days=2)


def _assert_events_match(server: Server, sandbox: Sandbox, config: Path) -> dict[str, list[str]]:
    expected, first, last = _expected_events(server)
    events = _events(sandbox, config, first, last)
    assert set(events) == set(expected)
    for title, (start, end) in expected.items():
        assert events[title][1] == start, title
        if end is not None:
            assert events[title][2] == end, title
    return events


def test_vdirsyncer_and_khal_round_trip(dav_server: Server, tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path, {"vdirsyncer": "vdirsyncer", "khal": "khal"})
    local = _pair(sandbox, dav_server, "planned")
    assert len(list(local.glob("*.ics"))) == len(_served(dav_server, "planned"))
    config = _khal(sandbox, local)
    _assert_events_match(dav_server, sandbox, config)

    start, end = _later(100, 9), _later(100, 10, 30)
    sandbox.run(
        "khal", "-c", config, "new", "-a", "planned", start.strftime("%Y-%m-%d"),
        start.strftime("%H:%M"), end.strftime("%H:%M"), "Spotkanie z khal – żółw :: ustalić cenę",
    )  # fmt: skip
    events = _events(sandbox, config, start.date(), start.date() + dt.timedelta(days=1))
    assert events["Spotkanie z khal – żółw"][1:] == [_local(start), _local(end)]

    output = sandbox.vdirsyncer("sync")
    assert output.count("to planned_remote") == 1, output
    with dav_server.uow() as uow:
        task = uow.session.scalar(select(Task).where(Task.subject == "Spotkanie z khal – żółw"))
        assert task is not None
        uow.session.expunge(task)
    assert task.number.startswith("WEW/")
    assert task.responsible_id == _my_id(dav_server)
    assert (task.planned_start, task.due) == (start.astimezone(dt.UTC), end.astimezone(dt.UTC))
    assert not task.all_day
    assert task.description == "ustalić cenę"
    assert _history(dav_server, task.id) == [("created", "caldav", LOGIN)]
    assert task.number in _served(dav_server, "tasks")  # and it is a task in "my tasks" too

    version = _task(dav_server, task.number).version
    sandbox.settle()
    assert _task(dav_server, task.number).version == version

    # moved in Hermes: khal shows it at the new time, with its number
    start, end = start + dt.timedelta(days=1), end + dt.timedelta(days=1, hours=1)
    with dav_server.uow() as uow:
        changes = TaskChanges(planned_start=start.astimezone(dt.UTC), due=end.astimezone(dt.UTC))
        update_task(uow, task.id, changes)
    output = sandbox.vdirsyncer("sync")
    assert output.count("to planned_local") == 1, output
    events = _assert_events_match(dav_server, sandbox, config)
    assert events[f"[{task.number}] Spotkanie z khal – żółw"][1:] == [_local(start), _local(end)]
