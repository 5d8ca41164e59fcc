"""Which messages were sent by machines, and which recipients a bounce reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from mail_gateway.automatic import AutoKind, Automatic, bounced_recipients, classify
from mail_gateway.mime import parse_message

DATA = Path(__file__).parents[1] / "data" / "mail" / "mime"
MARKER = "firma-hermes-1"


def message(headers: str, body: str = "Treść\n") -> bytes:
    text = "From: Jan <jan@klient.pl>\nTo: biuro@firma.pl\n" + headers
    text += "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body
    return text.replace("\n", "\r\n").encode()


def classify_raw(raw: bytes, envelope_from: str | None = "jan@klient.pl") -> Automatic | None:
    return classify(parse_message(raw), envelope_from=envelope_from, loop_marker=MARKER)


def test_person_mail_is_not_automatic() -> None:
    assert classify_raw(message("Subject: Zamówienie na auto części\n")) is None
    assert classify_raw(message("Subject: Nieobecność pracownika w dniu 5.11 – prośba\n")) is None
    assert classify_raw(message("Subject: x\nAuto-Submitted: no\nPrecedence: normal\n")) is None


def test_our_own_loop_marker() -> None:
    found = classify_raw(message(f"Subject: Re: x\nX-Hermes-Loop: {MARKER}\nList-Id: <a.b>\n"))
    assert found == Automatic(AutoKind.LOOP, f"X-Hermes-Loop: {MARKER} is our own marker")


def test_foreign_loop_marker_is_still_a_loop() -> None:
    found = classify_raw(message("Subject: x\nX-Hermes-Loop: other-install\n"))
    assert found is not None and found.kind is AutoKind.LOOP
    assert "'other-install'" in found.reason and "foreign" in found.reason


def test_postfix_dsn_is_a_bounce() -> None:
    found = classify_raw((DATA / "postfix_dsn.eml").read_bytes(), envelope_from="")
    assert found == Automatic(AutoKind.BOUNCE, "Content-Type: multipart/report (delivery-status)")


def test_loop_wins_over_bounce() -> None:
    raw = (
        (DATA / "postfix_dsn.eml")
        .read_bytes()
        .replace(b"Auto-Submitted:", f"X-Hermes-Loop: {MARKER}\r\nAuto-Submitted:".encode())
    )
    found = classify_raw(raw)
    assert found is not None and found.kind is AutoKind.LOOP


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("From: MAILER-DAEMON@mx.klient.pl\nSubject: x\n", "From: MAILER-DAEMON@mx.klient.pl"),
        ("From: postmaster@klient.pl\nSubject: x\n", "From: postmaster@klient.pl"),
        (
            "Subject: Undelivered Mail Returned to Sender\n",
            "Subject: 'Undelivered Mail Returned to Sender'",
        ),
        ("Subject: Delivery Status Notification (Failure)\n", None),
        ("Subject: Niedostarczona wiadomość: Zamówienie\n", None),
        ("Subject: Zwrot niedostarczonej wiadomości\n", None),
        ("Subject: Mail delivery failed: returning message to sender\n", None),
        ("Subject: Niedostarczalne: Oferta\n", "Subject: 'Niedostarczalne:'"),
        ("Subject: Undeliverable: Oferta\n", "Subject: 'Undeliverable:'"),
    ],
)
def test_bounce_signals(headers: str, reason: str | None) -> None:
    raw = message(headers)
    if headers.startswith("From:"):
        raw = raw.replace(b"From: Jan <jan@klient.pl>\r\n", b"", 1)
    found = classify_raw(raw)
    assert found is not None and found.kind is AutoKind.BOUNCE
    if reason is not None:
        assert found.reason == reason


def test_exchange_oof_is_an_auto_reply_even_from_the_null_sender() -> None:
    found = classify_raw((DATA / "exchange_oof_pl.eml").read_bytes(), envelope_from="")
    assert found == Automatic(AutoKind.AUTO_REPLY, "Auto-Submitted: auto-replied")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (
            "Subject: x\nAuto-Submitted: auto-generated (calendar)\n",
            "Auto-Submitted: auto-generated",
        ),
        ("Subject: x\nX-Auto-Response-Suppress: DR, RN, NRN, OOF\n", None),
        ("Subject: x\nX-Auto-Response-Suppress: All\n", "X-Auto-Response-Suppress: All"),
        ("Subject: x\nX-Autoreply: yes\n", "X-Autoreply: yes"),
        ("Subject: x\nX-Autorespond: Urlop\n", "X-Autorespond: Urlop"),
        ("Subject: x\nPrecedence: auto_reply\n", "Precedence: auto_reply"),
        ("Subject: Odpowiedź automatyczna: Zamówienie\n", None),
        ("Subject: Automatyczna odpowiedź: Zamówienie\n", None),
        ("Subject: Autoodpowiedź\n", None),
        ("Subject: Nieobecność: Re: Oferta\n", None),
        ("Subject: Poza biurem: Re: Oferta\n", None),
        ("Subject: Out of Office: Re: Oferta\n", None),
        ("Subject: Out of Office AutoReply: Oferta\n", None),
        ("Subject: Automatic reply: Oferta\n", None),
        ("Subject: AutoReply\n", None),
    ],
)
def test_auto_reply_signals(headers: str, reason: str | None) -> None:
    """Each signal alone marks an auto-reply."""
    found = classify_raw(message(headers))
    assert found is not None and found.kind is AutoKind.AUTO_REPLY, headers
    if reason is not None:
        assert found.reason == reason


def test_read_receipt_is_an_auto_reply() -> None:
    raw = message("Subject: Przeczytano: Oferta\n").replace(
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Type: multipart/report; report-type=disposition-notification; boundary=X",
    )
    found = classify_raw(raw)
    assert found is not None and found.kind is AutoKind.AUTO_REPLY


def test_null_sender_without_other_signals_is_a_bounce() -> None:
    assert classify_raw(message("Subject: x\n"), envelope_from="<>") == Automatic(
        AutoKind.BOUNCE, "empty envelope sender <>"
    )
    assert classify_raw(message("Subject: x\nReturn-Path: <>\n"), envelope_from=None) == (
        Automatic(AutoKind.BOUNCE, "empty Return-Path <>")
    )
    assert classify_raw(message("Subject: x\n"), envelope_from=None) is None


def test_mailing_list() -> None:
    found = classify_raw((DATA / "mailing_list.eml").read_bytes())
    assert found == Automatic(AutoKind.LIST, "List-Id: Branza dyskusje <branza.lists.branza.pl>")
    found = classify_raw(message("Subject: x\nList-Unsubscribe: <mailto:u@l.pl>\n"))
    assert found == Automatic(AutoKind.LIST, "List-Unsubscribe: <mailto:u@l.pl>")
    assert classify_raw(message("Subject: x\nPrecedence: list\n")) == Automatic(
        AutoKind.LIST, "Precedence: list"
    )


@pytest.mark.parametrize("value", ["bulk", "junk", "Bulk"])
def test_bulk(value: str) -> None:
    assert classify_raw(message(f"Subject: x\nPrecedence: {value}\n")) == Automatic(
        AutoKind.BULK, f"Precedence: {value.lower()}"
    )


def test_auto_reply_wins_over_list() -> None:
    found = classify_raw(message("Subject: x\nAuto-Submitted: auto-replied\nList-Id: <a.b>\n"))
    assert found is not None and found.kind is AutoKind.AUTO_REPLY


def test_bounced_recipients_from_postfix_dsn() -> None:
    raw = (DATA / "postfix_dsn.eml").read_bytes()
    assert bounced_recipients(raw) == {"nie.istnieje@klient.pl"}


QMAIL_BOUNCE = (
    "From: Serwer pocztowy – zwrot <MAILER-DAEMON@poczta.klient.pl>\n"
    "To: biuro@firma.pl\nSubject: failure notice\n\n"
    "Hi. This is the qmail-send program at poczta.klient.pl.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
    "<Zly.Adres@Klient.pl>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
    "--- Below this line is a copy of the message.\n"
)


def test_bounced_recipients_survive_8bit_headers() -> None:
    # the raw 8-bit From makes some flufl detectors crash on compat32 Header objects, which
    # ends the scan before the qmail detector runs, unless the report is parsed from text
    raw = QMAIL_BOUNCE.replace("\n", "\r\n").encode()
    assert bounced_recipients(raw) == {"zly.adres@klient.pl"}


def test_bounced_recipients_of_ordinary_or_broken_mail() -> None:
    assert bounced_recipients(message("Subject: x\n")) == set()
    assert bounced_recipients(b"\x00\xff garbage") == set()
    assert bounced_recipients(b"") == set()


@pytest.mark.parametrize(
    "subject", ["Auto: naprawa gwarancyjna", "Poza biurem zostawiłem dokumenty", "Nieobecność"]
)
def test_customer_subjects_that_merely_look_automatic_are_not(subject: str) -> None:
    """In Polish "auto" is a car; an absence can be the customer's topic."""
    assert classify_raw(message(f"Subject: {subject}\n")) is None
