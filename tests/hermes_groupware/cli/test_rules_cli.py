"""``rule …`` and ``outbox …`` from the console, as an admin would use them."""

from __future__ import annotations

from tests.hermes_groupware.cli.conftest import Run, as_json


def test_rule_life_cycle(demo: Run) -> None:
    added = as_json(
        demo(
            "rule",
            "add",
            "--event",
            "status-changed",
            "--to",
            "assignee,manager",
            "--to",
            "kierownik@firma.pl",
            "--register",
            "REK",
            "--to-status",
            "done",
            "--json",
        )
    )
    assert added["to"] == ["assignee", "manager", "email:kierownik@firma.pl"]
    assert added["to_status"] == "done"
    bad = demo("rule", "add", "--event", "assigned", "--to", "nikt", expect=2)
    assert "no employee 'nikt'" in bad.stderr
    bad_time = demo("rule", "add", "--event", "overdue", "--to", "assignee", "--at", "8", expect=2)
    assert "HH:MM" in bad_time.stderr
    demo("rule", "update", str(added["id"]), "--event", "assigned", "--to", "creator", "--inactive")
    shown = as_json(demo("rule", "show", str(added["id"]), "--json"))
    assert shown["event"] == "assigned" and shown["active"] is False
    assert [r["id"] for r in as_json(demo("rule", "list", "--json"))] == [added["id"]]
    demo("rule", "delete", str(added["id"]))
    demo("rule", "show", str(added["id"]), expect=3)
    demo("--as", "jkowalski", "rule", "list", expect=4)


def test_outbox_commands(demo: Run) -> None:
    assert as_json(demo("outbox", "list", "--json")) == []
    mail = (
        "From: anna@klient-x.pl\nTo: reklamacje@firma.pl\nSubject: Zgłoszenie\n"
        "Message-ID: <outbox-cli@klient-x.pl>\n\nTreść\n"
    )
    demo("mail", "deliver", stdin=mail)
    (ack,) = as_json(demo("outbox", "list", "--json"))
    assert ack["kind"] == "acknowledgement" and ack["status"] == "queued"
    demo("outbox", "retry", str(ack["id"]))
    assert "purged 0" in demo("outbox", "purge", "--days", "0").stdout
    demo("outbox", "retry", "999999", expect=3)


def test_absences_from_the_cli(demo: Run) -> None:
    added = as_json(
        demo(
            "employee",
            "absence",
            "add",
            "jkowalski",
            "--from",
            "2026-12-20",
            "--to",
            "2027-01-02",
            "--substitute",
            "anowak",
            "--json",
        )
    )
    assert (added["substitute"], added["notify_absentee"]) == ("anowak", False)
    demo(
        "employee",
        "absence",
        "add",
        "jkowalski",
        "--from",
        "2026-12-20",
        "--to",
        "2026-12-01",
        expect=2,
    )
    demo(
        "--as",
        "anowak",
        "employee",
        "absence",
        "add",
        "jkowalski",
        "--from",
        "2026-12-20",
        "--to",
        "2026-12-21",
        expect=4,
    )
    listed = as_json(demo("--as", "jkowalski", "employee", "absence", "list", "--json"))
    assert [a["id"] for a in listed] == [added["id"]]
    assert as_json(demo("--as", "anowak", "employee", "absence", "list", "--json")) == []
    demo("employee", "absence", "delete", str(added["id"]))
