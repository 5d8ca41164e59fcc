"""``audit list``: the console script shows the admin actions other commands recorded."""

from __future__ import annotations

from tests.hermes_groupware.cli.conftest import Run, as_json


def test_actions_through_the_cli_are_listed_newest_first_and_filtered(run: Run) -> None:
    run("db", "upgrade")
    run("employee", "add", "szef", "--first-name", "Anna", "--last-name", "Szef", "--admin")
    run("employee", "add", "jan", "--first-name", "Jan", "--last-name", "Kowalski")
    run("--as", "szef", "register", "add", "REK", "--name", "Reklamacje", "--colour", "#FF0000")
    created = as_json(run("token", "create", "--owner", "jan", "--name", "ERP", "--json"))
    run("--as", "szef", "token", "revoke", str(created["id"]))

    everything = as_json(run("audit", "list", "--json"))
    assert [e["action"] for e in everything] == [
        "api_token.revoke",
        "api_token.create",
        "register.create",
        "employee.create",
        "employee.create",
    ]
    assert {e["source"] for e in everything} == {"cli"}
    assert [e["actor"] for e in everything[:3]] == ["szef", "system", "szef"]
    assert created["token"] not in str(everything)

    by_szef = as_json(run("audit", "list", "--actor", "szef", "--json"))
    assert [e["action"] for e in by_szef] == ["api_token.revoke", "register.create"]
    assert as_json(run("audit", "list", "--since", "2999-01-01", "--json")) == []
    assert "register.create" in run("audit", "list", "--limit", "3").stdout

    refused = run("--as", "jan", "audit", "list", expect=4)
    assert "administrators" in refused.stderr
    bad = run("audit", "list", "--since", "yesterday", expect=2)
    assert "since" in bad.stderr
