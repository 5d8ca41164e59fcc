"""The console script, run as a separate process against a fresh database, as an admin would."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.hermes_groupware.cli.conftest import SCRIPT, Run, as_json


def test_help_needs_no_config_or_database(tmp_path: Path) -> None:
    result = subprocess.run(
        [SCRIPT, "--help"], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert "task" in result.stdout and "Exit codes" in result.stdout


def test_demo_data_is_realistic(demo: Run, cli_env: dict[str, str]) -> None:
    employees = as_json(demo("employee", "list", "--json"))
    assert len(employees) >= 5
    registers = {r["code"]: r for r in as_json(demo("register", "list", "--json"))}
    assert {"HAN", "REK", "WEW", "SER"} <= set(registers)
    assert len({r["colour"] for r in registers.values()}) == len(registers)
    assert registers["REK"]["inbound_email"] == "reklamacje@firma.pl"
    customers = as_json(demo("customer", "list", "--json"))
    assert len(customers) >= 30
    assert all(c["contacts"] and all("@" in p["email"] for p in c["contacts"]) for c in customers)
    tasks = as_json(demo("task", "list", "--json"))
    assert len(tasks) == 80
    assert any(t["parent"] for t in tasks)
    assert any(set("łąęśżźćńó") & set(t["subject"]) for t in tasks)
    overdue = as_json(demo("task", "list", "--overdue", "--json"))
    assert overdue and all(
        t["overdue"] and t["status"] not in ("done", "cancelled") for t in overdue
    )
    engine = create_engine(cli_env["HERMES_DATABASE_URL"])
    with engine.connect() as conn:
        notes = conn.scalar(text("SELECT count(*) FROM task_items WHERE kind = 'note'"))
        opportunities = conn.scalar(
            text("SELECT count(*) FROM tasks WHERE opportunity_value IS NOT NULL")
        )
    engine.dispose()
    assert notes and notes > 40 and opportunities and opportunities > 5
    assert "skipped" in demo("demo-data", "--if-empty").stderr


def test_plain_sql_change_shows_in_history_with_source_database(
    demo: Run, cli_env: dict[str, str]
) -> None:
    created = as_json(
        demo(
            "task",
            "create",
            "--register",
            "REK",
            "--subject",
            "Reklamacja: pęknięta obudowa",
            "--assignee",
            "mzielinska",
            "--due",
            "2026-12-01",
            "--json",
        )
    )
    number = created["task"]["number"]
    engine = create_engine(cli_env["HERMES_DATABASE_URL"])
    with engine.begin() as conn:  # the desktop application: plain SQL, no Hermes code
        conn.execute(
            text("UPDATE tasks SET status = 'in_progress' WHERE number = :n"), {"n": number}
        )
    engine.dispose()
    shown = as_json(demo("task", "show", number, "--json"))
    assert shown["task"]["status"] == "in_progress"
    assert {
        "field": "status",
        "old": "new",
        "new": "in_progress",
        "source": "database",
    }.items() <= next(h for h in shown["history"] if h["field"] == "status").items()
    assert shown["history"][0]["field"] == "created" and shown["history"][0]["source"] == "cli"


def test_task_lifecycle_and_errors(demo: Run) -> None:
    created = as_json(
        demo(
            "task",
            "create",
            "--register",
            "HAN",
            "--subject",
            "Oferta dla Łodzi",
            "--start",
            "2026-12-01 09:00",
            "--due",
            "2026-12-01 10:30",
            "--json",
        )
    )
    number = created["task"]["number"]
    assert created["task"]["planned_start"] == "2026-12-01T08:00:00+00:00"  # Warsaw is UTC+1
    assert not created["task"]["all_day"]
    demo("task", "update", number, "--status", "done", "--assignee", "anowak")
    shown = as_json(demo("task", "show", number, "--json"))
    assert shown["task"]["status"] == "done" and shown["task"]["completed_at"]
    assert {h["field"] for h in shown["history"]} >= {
        "created",
        "status",
        "responsible_id",
        "completed_at",
    }
    responsible = next(h for h in shown["history"] if h["field"] == "responsible_id")
    assert responsible["new"] == "anowak" and responsible["source"] == "cli"
    bad = demo("task", "update", number, "--due", "2026-11-30", expect=2)
    assert "due" in bad.stderr and "before the planned start" in bad.stderr
    assert (
        "register" in demo("task", "create", "--register", "XYZ", "--subject", "x", expect=2).stderr
    )
    assert "not found" in demo("task", "show", "HAN/1999/0001", expect=3).stderr
    demo("--as", "kwojcik", "task", "update", number, "--subject", "?", expect=4)
    conflict = demo("task", "update", number, "--subject", "x", "--expected-version", "1", expect=5)
    assert "changed by someone else" in conflict.stderr


def test_hidden_parent_through_the_cli(demo: Run) -> None:
    tasks = as_json(
        demo("--as", "kwojcik", "task", "list", "--search", "Ocena techniczna", "--json")
    )
    assert len(tasks) == 1 and tasks[0]["parent"] is None
    parents = as_json(demo("task", "list", "--search", "Przetarg poufny", "--json"))
    hidden = demo("--as", "kwojcik", "task", "show", parents[0]["number"], expect=3)
    assert "Przetarg" not in hidden.stderr + hidden.stdout


def test_employees_passwords_and_handover(demo: Run) -> None:
    demo(
        "employee",
        "add",
        "jnowy",
        "--first-name",
        "Jerzy",
        "--last-name",
        "Nowy",
        "--email",
        "jnowy@firma.pl",
        "--group",
        "sprzedaz",
    )
    generated = as_json(demo("employee", "set-password", "jnowy", "--label", "iPhone", "--json"))
    assert len(generated["password"]) >= 24
    demo("employee", "set-password", "jnowy", "--password-stdin", stdin="bardzo-tajne-haslo\n")
    moved = as_json(demo("employee", "handover", "anowak", "jnowy", "--json"))
    assert moved["task_numbers"]
    left = as_json(demo("task", "list", "--assignee", "anowak", "--json"))
    assert all(t["status"] in ("done", "cancelled") for t in left)
    listed = {e["login"]: e for e in as_json(demo("employee", "list", "--json"))}
    assert listed["anowak"]["substitute"] == "jnowy"
    assert demo("employee", "add", "jnowy", "--first-name", "J", "--last-name", "N", expect=2)


def test_customers_and_registers_from_the_cli(run: Run) -> None:
    run("db", "upgrade")
    run(
        "register",
        "add",
        "WYS",
        "--name",
        "Wysyłki",
        "--colour",
        "#00897B",
        "--email",
        "wysylki@firma.pl",
    )
    assert (
        "colour"
        in run("register", "add", "BAD", "--name", "x", "--colour", "zielony", expect=2).stderr
    )
    customer = as_json(
        run(
            "customer",
            "add",
            "--name",
            "Żabka Polska sp. z o.o.",
            "--tax-id",
            "526-000-12-46",
            "--domain",
            "zabka.pl",
            "--json",
        )
    )
    run(
        "customer",
        "add-contact",
        str(customer["id"]),
        "--first-name",
        "Łucja",
        "--last-name",
        "Śliwa",
        "--email",
        "lucja.sliwa@zabka.pl",
    )
    (listed,) = as_json(run("customer", "list", "--json"))
    assert listed["contacts"][0]["email"] == "lucja.sliwa@zabka.pl"
    assert (
        "tax_id" in run("customer", "add", "--name", "X", "--tax-id", "1234567890", expect=2).stderr
    )


def test_config_error_is_one_line_with_key_and_source(run: Run, cli_env: dict[str, str]) -> None:
    Path(cli_env["HERMES_CONFIG"]).write_text("[http]\nport = 'osiemdziesiąt'\n", encoding="utf-8")
    result = run("employee", "list", expect=2)
    assert result.stderr.count("\n") == 1
    assert "[http] port" in result.stderr and cli_env["HERMES_CONFIG"] in result.stderr
    cli_env["HERMES_HTTP_PORT"] = "x"
    Path(cli_env["HERMES_CONFIG"]).write_text("[server]\ndemo = true\n", encoding="utf-8")
    assert "HERMES_HTTP_PORT" in run("employee", "list", expect=2).stderr


def test_status_tells_when_the_schema_is_old(run: Run) -> None:
    assert as_json(run("db", "status", "--json", expect=1))["up_to_date"] is False
    assert "run: hermes-groupware db upgrade" in run("task", "list", expect=2).stderr
    run("db", "upgrade")
    assert as_json(run("db", "status", "--json"))["up_to_date"] is True


def test_serve_stops_cleanly_on_sigterm(run: Run, cli_env: dict[str, str]) -> None:
    run("db", "upgrade")
    with subprocess.Popen(
        [SCRIPT, "serve"], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        assert server.stdout is not None
        assert server.stdout.readline().startswith("ready http://")
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0


def test_feed_life_cycle_from_the_cli(demo: Run) -> None:
    created = as_json(
        demo(
            "feed",
            "create",
            "--name",
            "Reklamacje dla dyrektora",
            "--owner",
            "admin",
            "--register",
            "REK",
            "--colour",
            "#C62828",
            "--json",
        )
    )
    feed_id = str(created["feed"]["id"])
    (link,) = created["links"]
    assert link["https"].endswith(".ics")
    assert link["webcal"].startswith("webcal://")
    assert "cid=webcal%3A%2F%2F" in link["google"]
    shown = as_json(demo("feed", "show", feed_id, "--json"))
    assert shown["links"] == [link]
    rotated = as_json(demo("feed", "rotate", feed_id, "--grace", "2", "--json"))
    assert rotated["links"][0] != link
    assert len(as_json(demo("feed", "show", feed_id, "--json"))["links"]) == 2
    listed = as_json(demo("feed", "list", "--json"))
    assert [f["scope_detail"] for f in listed] == ["REK"]
    updated = as_json(
        demo("feed", "update", feed_id, "--profile", "both", "--redaction", "busy", "--json")
    )
    assert (updated["feed"]["profile"], updated["feed"]["redaction"]) == ("both", "busy")
    demo("feed", "revoke", feed_id)
    assert as_json(demo("feed", "show", feed_id, "--json"))["links"] == []
    assert "scope" in demo("feed", "create", "--name", "x", "--owner", "admin", expect=2).stderr
