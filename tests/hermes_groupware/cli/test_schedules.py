"""``schedule …`` from the console script, on demo data, and ``serve`` sending a queued run."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import time
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hermes_groupware.db.session import Actor, Database, make_engine
from hermes_groupware.filestore import FileStore
from hermes_groupware.models import OutboundMessage
from hermes_groupware.models.enums import Source
from hermes_groupware.services import report_schedules
from tests.hermes_groupware.cli.conftest import SCRIPT, Run, as_json
from tests.ports import free_port

WEEKLY = ["--report", "overdue", "--cron", "0 8 * * MON"]


def _add(run: Run, *args: str, expect: int = 0) -> Any:
    result = run("schedule", "add", *WEEKLY, *args, "--json", expect=expect)
    return as_json(result) if expect == 0 else result.stderr


def test_one_command_schedules_monday_eight_for_the_director(demo: Run) -> None:
    """The issue's "done when": the overdue and the pipeline reports, one schedule."""
    result = demo(
        "schedule",
        "add",
        "--report",
        "overdue,pipeline",
        "--cron",
        "0 8 * * MON",
        "--to",
        "tdabrowski",
        "--format",
        "html,xlsx,pdf",
    )
    first, second = result.stdout.splitlines()
    assert first == (
        "added schedule 1 (overdue+pipeline to tdabrowski at 0 8 * * MON): "
        "overdue, pipeline at 0 8 * * MON Europe/Warsaw"
    )
    shown = as_json(demo("schedule", "show", "1", "--json"))
    assert shown["reports"] == ["overdue", "pipeline"]
    assert shown["params"] == {
        "overdue": {},
        "pipeline": {"register": None, "assignee": None, "months": 6},  # checked, defaults
    }
    local = dt.datetime.fromisoformat(shown["next_fire_local"])
    utc = dt.datetime.fromisoformat(shown["next_fire_at"])
    assert (local.weekday(), local.hour, local.minute) == (0, 8, 0)
    assert local == utc and dt.timedelta(0) < utc - dt.datetime.now(dt.UTC) <= dt.timedelta(7)
    warsaw = local.astimezone(ZoneInfo("Europe/Warsaw"))
    assert second == f"next run: {warsaw:%Y-%m-%d %H:%M %Z} ({utc:%Y-%m-%d %H:%M} UTC)"
    assert shown["formats"] == ["html", "xlsx", "pdf"] and shown["recipients"] == ["tdabrowski"]
    assert shown["owner"] == "tdabrowski" and shown["time_zone"] == "Europe/Warsaw"
    upcoming = [dt.datetime.fromisoformat(u) for u in shown["upcoming"]]
    assert upcoming[0] == local and len(upcoming) == 5
    assert {later - earlier for earlier, later in pairwise(upcoming)} <= {
        dt.timedelta(7),
        dt.timedelta(days=7, hours=1),  # over the spring change
        dt.timedelta(days=6, hours=23),  # over the autumn change
    }
    assert shown["runs"] == [] and shown["last_run"] is None


def test_bad_input_is_refused_with_the_field_named(demo: Run) -> None:
    cases = {
        ("--cron", "0 25 * * MON", "--to", "admin"): "cron: bad value in the hour field",
        ("--to", "nobody"): "to: no employee or group 'nobody'",
        ("--to", "group:ghosts"): "to: no group 'ghosts'",
        ("--to", "jan@@x"): "to: not an e-mail address",
        ("--to", "szef@klient.pl", "--owner", "admin"): "no register allows outside recipients",
        ("--to", "admin", "--tz", "Europe/Atlantis"): "time_zone: unknown time zone",
        ("--to", "admin", "--param", "colour=red"): "params.overdue.colour: unknown parameter",
        ("--to", "admin", "--format", "docx"): "formats: unknown formats 'docx'",
        ("--to", "admin", "--grace", "soon"): "grace: minutes or 'default'",
    }
    for args, message in cases.items():
        assert message in _add(demo, *args, expect=2), args
    unknown = demo(
        "schedule", "add", "--report", "forecast", "--cron", "* * * * *", "--to", "a", expect=2
    )
    assert "report: unknown report 'forecast'; one of: overdue, pipeline" in unknown.stderr
    nothing = demo("schedule", "add", "--cron", "* * * * *", "--to", "admin", expect=2)
    assert "report: give --report (or --view)" in nothing.stderr
    assert as_json(demo("schedule", "list", "--json")) == []
    demo("schedule", "show", "99", expect=3)


def test_outside_addresses_once_a_register_allows_them(demo: Run) -> None:
    demo("register", "update", "HAN", "--external-reports", "on")
    added = _add(
        demo, "--to", "Szef@Klient.pl,jkowalski", "--locale", "en", "--param", "register=han"
    )
    assert added["recipients"] == ["szef@klient.pl", "jkowalski"]
    assert added["owner"] == "jkowalski" and added["locale"] == "en"
    assert added["params"] == {"overdue": {"register": "HAN"}}  # normalised by the report
    listed = [r for r in as_json(demo("register", "list", "--json")) if r["code"] == "HAN"]
    assert listed[0]["external_reports"] is True


def test_update_re_plans_and_changes_only_what_is_given(demo: Run) -> None:
    added = _add(demo, "--to", "tdabrowski", "--param", "register=HAN", "--grace", "60")
    schedule = str(added["id"])
    paused = as_json(demo("schedule", "update", schedule, "--enabled", "off", "--json"))
    assert paused["next_fire_at"] is None and paused["version"] == 2
    moved = as_json(
        demo("schedule", "update", schedule, "--cron", "0 7 * * MON", "--enabled", "on", "--json")
    )
    local = dt.datetime.fromisoformat(moved["next_fire_local"])
    assert (local.weekday(), local.hour) == (0, 7)
    assert moved["params"] == {"overdue": {"register": "HAN"}} and moved["grace_minutes"] == 60
    changed = as_json(
        demo(
            "schedule",
            "update",
            schedule,
            "--param",
            "register=",
            "--to",
            "sprzedaz",
            "--grace",
            "default",
            "--skip-if-empty",
            "on",
            "--json",
        )
    )
    assert changed["params"] == {"overdue": {}} and changed["recipients"] == ["group:sprzedaz"]
    assert changed["grace_minutes"] is None and changed["skip_if_empty"] is True
    assert changed["cron"] == "0 7 * * MON" and changed["version"] == 4
    demo("schedule", "delete", schedule)
    demo("schedule", "show", schedule, expect=3)


def test_several_reports_take_their_parameters_by_name(demo: Run) -> None:
    both = ("--report", "pipeline", "--to", "admin")  # with WEEKLY's overdue: two reports
    cases = {
        ("--param", "months=3"): (
            "param: 'months=3' is ambiguous with several reports (overdue, pipeline): "
            "give overdue.months=3 or pipeline.months=3"
        ),
        ("--param", "pipeline.months=99"): "params.pipeline.months: a whole number from 1 to 24",
        ("--param", "overdue.colour=red"): "params.overdue.colour: unknown parameter",
        ("--param", "turnover.period=week"): "'turnover' is not one of the reports (overdue,",
        ("--param", "pipeline.=3"): "expected [REPORT.]KEY=VALUE",
        ("--report", "overdue"): "report: report 'overdue' is given twice",
    }
    for args, message in cases.items():
        assert message in _add(demo, *both, *args, expect=2), args
    assert as_json(demo("schedule", "list", "--json")) == []
    added = _add(
        demo,
        *both,
        "--report",
        "activity",
        "--param",
        "pipeline.months=3",
        "--param",
        "overdue.register=han",
        "--name",
        "Poniedziałek",
    )
    assert added["reports"] == ["overdue", "pipeline", "activity"]
    assert added["params"]["overdue"] == {"register": "HAN"}
    assert added["params"]["pipeline"]["months"] == 3
    assert added["params"]["activity"]["weeks"] == 4  # the report's default
    schedule = str(added["id"])
    listed = demo("schedule", "list").stdout
    assert "overdue, pipeline, activity" in listed
    shown = demo("schedule", "show", schedule).stdout
    assert "reports:       overdue, pipeline, activity\n" in shown
    assert "overdue.register=HAN, pipeline.months=3" in shown
    demo("view", "add", "Zaległe HAN", "--register", "HAN", "--overdue", "--owner", "admin")
    swapped = as_json(
        demo(
            "schedule",
            "update",
            schedule,
            "--report",
            "activity,pipeline",
            "--view",
            "Zaległe HAN",
            "--param",
            "activity.weeks=2",
            "--json",
        )
    )
    assert swapped["reports"] == ["activity", "pipeline", "view"]
    assert swapped["params"]["pipeline"]["months"] == 3  # it stayed, so did its parameter
    assert swapped["params"]["activity"]["weeks"] == 2
    assert swapped["params"]["view"] == {"view": "Zaległe HAN"}
    dropped = as_json(demo("schedule", "update", schedule, "--param", "pipeline.months=", "--json"))
    assert dropped["reports"] == swapped["reports"] and dropped["params"]["pipeline"]["months"] == 6
    single = as_json(demo("schedule", "update", schedule, "--report", "pipeline", "--json"))
    assert single["reports"] == ["pipeline"] and list(single["params"]) == ["pipeline"]
    months = as_json(demo("schedule", "update", schedule, "--param", "months=12", "--json"))
    assert months["params"]["pipeline"]["months"] == 12  # one report: no name needed


def test_run_now_sends_two_reports_as_one_mail_per_recipient(demo: Run) -> None:
    schedule = str(
        _add(demo, "--report", "pipeline", "--to", "tdabrowski,ebrown", "--format", "xlsx")["id"]
    )
    ran = as_json(demo("schedule", "run-now", schedule, "--json"))
    assert ran["status"] == "sent" and ran["recipients"] == 2
    outbox = as_json(demo("outbox", "list", "--json"))
    reports = [m for m in outbox if m["kind"].startswith("report")]
    assert sorted((m["recipient"], m["kind"]) for m in reports) == [
        ("ebrown@firma.pl", "report:overdue+pipeline"),
        ("tdabrowski@firma.pl", "report:overdue+pipeline"),
    ]


def test_run_now_renders_at_once_and_queues_the_mail(demo: Run) -> None:
    schedule = str(_add(demo, "--to", "tdabrowski,ebrown", "--format", "xlsx")["id"])
    ran = as_json(demo("schedule", "run-now", schedule, "--json"))
    assert ran["status"] == "sent" and ran["recipients"] == 2 and ran["attempts"] == 1
    assert ran["occurrence_local"].startswith("manual:")
    outbox = as_json(demo("outbox", "list", "--json"))
    assert sorted(m["recipient"] for m in outbox if m["kind"] == "report:overdue") == [
        "ebrown@firma.pl",
        "tdabrowski@firma.pl",
    ]
    listed = as_json(demo("schedule", "list", "--json"))
    assert listed[0]["last_run"]["status"] == "sent"
    runs = as_json(demo("schedule", "runs", schedule, "--json"))
    assert [r["id"] for r in runs] == [ran["id"]]
    text = demo("schedule", "run-now", schedule).stdout
    assert "sent, 2 recipient(s)" in text


def test_an_employee_schedules_reports_only_for_themselves(demo: Run) -> None:
    mine = as_json(demo("--as", "anowak", "schedule", "add", *WEEKLY, "--to", "anowak", "--json"))
    assert mine["owner"] == "anowak"
    demo("--as", "anowak", "schedule", "add", *WEEKLY, "--to", "jkowalski", "--name", "x", expect=4)
    theirs = _add(demo, "--to", "tdabrowski")
    demo("--as", "anowak", "schedule", "show", str(theirs["id"]), expect=3)
    demo("--as", "anowak", "schedule", "run-now", str(theirs["id"]), expect=3)
    assert [s["id"] for s in as_json(demo("--as", "anowak", "schedule", "list", "--json"))] == [
        mine["id"]
    ]


def test_serve_delivers_a_queued_run_on_its_first_tick(demo: Run, cli_env: dict[str, str]) -> None:
    schedule = _add(demo, "--to", "tdabrowski")["id"]
    database = Database(
        make_engine(cli_env["HERMES_DATABASE_URL"]),
        FileStore(Path(cli_env["HERMES_FILES_PATH"]), 1),
    )
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        run_id = report_schedules.run_now(uow, schedule)  # queued, nobody delivers it yet
    cli_env.update(
        HERMES_HTTP_PORT=str(free_port()),
        HERMES_SMTP_OUT_PORT=str(free_port()),  # nobody listens: the mail stays queued
    )
    with subprocess.Popen(
        [SCRIPT, "serve"], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        assert server.stdout is not None
        assert server.stdout.readline().split()[-1] == "reports"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with database.unit_of_work(Actor.system("test"), Source.CLI, read_only=True) as uow:
                queued = uow.session.scalars(
                    select(OutboundMessage.recipient).where(
                        OutboundMessage.message_id.startswith(f"report.{run_id}.")
                    )
                ).all()
            if queued:
                break
            time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    database.engine.dispose()
    assert queued == ["tdabrowski@firma.pl"]
    (run,) = as_json(demo("schedule", "runs", str(schedule), "--json"))
    assert (run["id"], run["status"], run["claimed_by"].count(":")) == (run_id, "sent", 2)
