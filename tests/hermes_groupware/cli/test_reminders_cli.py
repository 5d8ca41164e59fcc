"""``task remind|reminders|unremind`` from the console."""

from __future__ import annotations

from tests.hermes_groupware.cli.conftest import Run, as_json


def test_reminder_life_cycle(demo: Run) -> None:
    task = as_json(
        demo(
            "--as",
            "jkowalski",
            "task",
            "create",
            "--register",
            "HAN",
            "--subject",
            "Oferta z przypomnieniem",
            "--due",
            "2099-12-04 15:00",
            "--json",
        )
    )
    number = task["task"]["number"]
    me = ("--as", "jkowalski")
    popup = as_json(demo(*me, "task", "remind", number, "--before-due", "30", "--json"))
    assert popup["employee"] == "jkowalski" and popup["channel"] == "popup"
    assert (popup["relative_to"], popup["offset_minutes"]) == ("due", -30)
    assert popup["trigger_at"] == "2099-12-04T13:30:00+00:00"  # 14:30 in Warsaw
    mail = demo(
        *me,
        "task",
        "remind",
        number,
        "--at",
        "2099-12-03 08:00",
        "--channel",
        "email",
        "--note",
        "Przygotuj wycenę",
    )
    assert "2099-12-03 08:00" in mail.stdout
    listing = demo(*me, "task", "reminders", number)
    assert "30 min before due" in listing.stdout and "Przygotuj wycenę" in listing.stdout
    rows = as_json(demo(*me, "task", "reminders", number, "--json"))
    assert [r["channel"] for r in rows] == ["popup", "email"]

    past = demo(*me, "task", "remind", number, "--at", "2001-01-01 10:00", expect=2)
    assert "future" in past.stderr
    no_start = demo(*me, "task", "remind", number, "--before-start", "10", expect=2)
    assert "no planned start" in no_start.stderr
    demo(*me, "task", "remind", number, "--at", "2099-12-01 10:00", "--before-due", "5", expect=2)
    # reminders are personal: another employee neither sees nor removes them
    assert as_json(demo("--as", "anowak", "task", "reminders", number, "--json")) == []
    demo("--as", "anowak", "task", "unremind", str(popup["id"]), expect=3)
    demo(*me, "task", "unremind", str(popup["id"]))
    assert [r["channel"] for r in as_json(demo("task", "reminders", number, "--json"))] == ["email"]
