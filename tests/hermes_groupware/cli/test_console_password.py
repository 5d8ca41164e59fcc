"""``employee console-password``: the first console password, generated or typed."""

from __future__ import annotations

from tests.hermes_groupware.cli.conftest import Run


def test_generated_then_typed(run: Run) -> None:
    run("db", "upgrade")
    run("employee", "add", "jan", "--first-name", "Jan", "--last-name", "Kowalski")
    shown = run("employee", "console-password", "jan").stdout
    assert "console password for jan: " in shown
    assert len(shown.split(": ", 1)[1].splitlines()[0]) >= 12
    typed = run("employee", "console-password", "jan", "--password-stdin",
                stdin="my console password\n")  # fmt: skip
    assert typed.stdout.strip() == "console password for jan set"
    short = run("employee", "console-password", "jan", "--password-stdin", stdin="x\n", expect=2)
    assert "password" in short.stderr
    run("employee", "console-password", "nobody", expect=2)
