"""``mail deliver`` as an MTA pipe transport runs it, and the quarantine commands."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from tests.hermes_groupware.cli.conftest import Run, as_json


def _mail(sender: str, to: str, subject: str, body: str = "Treść zgłoszenia") -> str:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = make_msgid(domain="klient.pl")
    msg.set_content(body)
    return msg.as_string()


def test_deliver_follows_sysexits_and_opens_a_task(demo: Run) -> None:
    mail = _mail("anna@klient-testowy.pl", "reklamacje@firma.pl", "Uszkodzona przesyłka")
    receipt = as_json(
        demo("mail", "deliver", "--recipient", "reklamacje@firma.pl", "--json", stdin=mail)
    )
    assert receipt["status"] == "posted" and receipt["duplicate"] is False
    again = as_json(
        demo("mail", "deliver", "--recipient", "reklamacje@firma.pl", "--json", stdin=mail)
    )
    assert again["duplicate"] is True and again["inbound_id"] == receipt["inbound_id"]
    tasks = as_json(demo("task", "list", "--register", "REK", "--json"))
    assert [t["subject"] for t in tasks].count("Uszkodzona przesyłka") == 1

    unknown = demo("mail", "deliver", "--recipient", "nikt@firma.pl", stdin=mail, expect=67)
    assert "unknown recipient" in unknown.stderr


def test_deliver_exits_75_when_the_database_is_down(run: Run, cli_env: dict[str, str]) -> None:
    cli_env["HERMES_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    mail = _mail("a@b.pl", "reklamacje@firma.pl", "x")
    result = run("mail", "deliver", "--recipient", "reklamacje@firma.pl", stdin=mail, expect=75)
    assert "database unavailable" in result.stderr


def test_quarantine_list_show_release_and_delete(demo: Run) -> None:
    held = _mail("obcy@nieznany.pl", "hermes@firma.pl", "Bez adresu rejestru", "Proszę o pomoc")
    receipt = as_json(demo("mail", "deliver", "--json", stdin=held))
    assert receipt["status"] == "quarantined"
    listed = as_json(demo("mail", "quarantine", "list", "--json"))
    assert [m["id"] for m in listed] == [receipt["inbound_id"]]
    assert listed[0]["reason"].startswith("no route")
    shown = as_json(demo("mail", "quarantine", "show", str(receipt["inbound_id"]), "--json"))
    assert any(entry.startswith("outcome: quarantined") for entry in shown["trail"])
    raw = demo("mail", "quarantine", "show", str(receipt["inbound_id"]), "--raw").stdout
    assert "Subject: Bez adresu rejestru" in raw

    number = as_json(demo("task", "list", "--register", "REK", "--json"))[0]["number"]
    released = demo("mail", "quarantine", "release", str(receipt["inbound_id"]), "--task", number)
    assert "posted" in released.stdout
    detail = as_json(demo("task", "show", number, "--json"))
    assert "Proszę o pomoc" in [n["body"] for n in detail["notes"]]
    assert as_json(demo("mail", "quarantine", "list", "--json")) == []

    spam_mail = EmailMessage()
    spam_mail["From"], spam_mail["To"], spam_mail["Subject"] = "spam@spam.pl", "x@firma.pl", "Kup"
    spam_mail.set_content("Kup teraz")
    spam_mail.add_alternative(
        '<p onclick="x()">Kup <b>teraz</b></p><script>alert(1)</script>'
        '<img src="https://tracker.example/p.gif">',
        subtype="html",
    )
    spam = spam_mail.as_string()
    spam_id = as_json(demo("mail", "deliver", "--json", stdin=spam))["inbound_id"]
    html = demo("mail", "show", str(spam_id), "--html").stdout
    assert "<b>teraz</b>" in html
    assert "script" not in html and "onclick" not in html and "tracker.example" not in html
    demo("mail", "quarantine", "delete", str(spam_id))
    demo("mail", "quarantine", "show", str(spam_id), expect=3)
    demo("--as", "jkowalski", "mail", "quarantine", "list", expect=4)


def test_register_addresses_are_set_with_register_update(demo: Run) -> None:
    updated = as_json(
        demo(
            "register",
            "update",
            "SER",
            "--email",
            "Serwis@Firma.PL",
            "--email-commands",
            "on",
            "--json",
        )
    )
    assert updated["inbound_email"] == "Serwis@firma.pl" and updated["email_commands"] is True
    listed = {r["code"]: r for r in as_json(demo("register", "list", "--json"))}
    assert listed["REK"]["inbound_email"] == "reklamacje@firma.pl"
    assert listed["SER"]["inbound_email"] == "Serwis@firma.pl"
    taken = demo("register", "update", "SER", "--email", "reklamacje@firma.pl", expect=2)
    assert "already belongs to register REK" in taken.stderr
    mail = _mail("klient@serwis-test.pl", "serwis@firma.pl", "Przegląd")
    assert as_json(demo("mail", "deliver", "--json", stdin=mail))["status"] == "posted"
