"""The pipeline end to end: store raw, route by the most trusted signal, write, record."""

from __future__ import annotations

from sqlalchemy import func, select

from hermes_groupware.models import (
    MailAddressState,
    MailThreadEntry,
    OutboundMessage,
    Task,
    TaskHistory,
    TaskItem,
)
from hermes_groupware.models.enums import (
    InboundStatus,
    ItemKind,
    MailChannel,
    MailDirection,
    TaskStatus,
)
from hermes_groupware.services import mailbox
from hermes_groupware.services.registers import RegisterChanges, update_register
from mail_gateway.addresses import new_message_id
from tests.mail_gateway.gateway import Gateway, message

KOWALSKI = "jkowalski@firma.pl"


def _reply_body(text: str) -> str:
    return (
        f"{text}\n\n"
        "W dniu pt., 12 sty 2024 o 10:15 Hermes <hermes@hermes.test> napisał(a):\n"
        "> Nowa notatka w zadaniu REK/2026/0001\n> Treść powiadomienia\n"
    )


def test_signed_reply_from_the_employee_becomes_a_clean_note(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    employee = gateway.employee("jkowalski")
    address = gateway.reply_address(task.id, employee.id)
    mail = message(
        sender=f"Jan Kowalski <{KOWALSKI}>",
        to=address,
        body=_reply_body("Klient potwierdził odbiór, zamykam w piątek."),
        verified=True,
    )
    receipt = gateway.deliver(mail, address)
    assert receipt.status is InboundStatus.POSTED and not receipt.duplicate
    notes = gateway.items(task.id)
    assert [n.body for n in notes] == ["Klient potwierdził odbiór, zamykam w piątek."]
    assert notes[0].author_id == employee.id and notes[0].is_public is False
    row = gateway.inbound(receipt.inbound_id)
    assert row.route == "token" and row.task_id == task.id
    assert "> Treść powiadomienia" in (row.stripped_text or "")
    assert notes[0].inbound_message_id == row.id  # the raw message stays with the note

    again = gateway.deliver(mail, address)  # the MTA delivers the same bytes again
    assert again.duplicate and again.inbound_id == receipt.inbound_id
    assert len(gateway.items(task.id)) == 1


def test_a_forwarded_notification_is_held_not_posted_as_its_recipient(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    address = gateway.reply_address(task.id, gateway.employee("jkowalski").id)
    mail = message(sender="obcy@example.com", to=address, body="Przekazuję dalej.")
    receipt = gateway.deliver(mail, address)
    assert receipt.status is InboundStatus.QUARANTINED
    assert "forwarded notification" in (gateway.inbound(receipt.inbound_id).reason or "")
    assert gateway.items(task.id) == []


def test_a_tampered_token_never_routes(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    address = gateway.reply_address(task.id, gateway.employee("jkowalski").id)
    local, _, domain = address.partition("@")
    flipped = local[:-1] + ("a" if local[-1] != "a" else "b")
    tampered = f"{flipped}@{domain}"
    receipt = gateway.deliver(
        message(sender=KOWALSKI, to=tampered, verified=True, body="Próba"), tampered
    )
    row = gateway.inbound(receipt.inbound_id)
    assert row.status is InboundStatus.QUARANTINED and row.reason.startswith("no route")
    assert any("signature does not verify" in entry for entry in row.trail)


def test_an_unverified_employee_address_is_not_trusted(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    address = gateway.reply_address(task.id, gateway.employee("jkowalski").id)
    forged = message(sender=KOWALSKI, to=address, body="Zmieniam wszystko")
    forged["Authentication-Results"] = "mx.firma.pl; dmarc=fail header.from=firma.pl"
    receipt = gateway.deliver(forged, address)
    assert receipt.status is InboundStatus.QUARANTINED
    assert "not verified" in (gateway.inbound(receipt.inbound_id).reason or "")


def test_reply_all_by_an_outsider_lands_by_references(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    sent_id = new_message_id("hermes.test", task.id)
    with gateway.uow() as uow:
        mailbox.record_thread_entry(uow, sent_id, task.id, MailDirection.SENT, KOWALSKI)
    mail = message(
        sender="Ewa Nowak <ewa@podwykonawca.pl>",
        to=KOWALSKI,
        subject="Re: termin dostawy (zmieniony temat)",
        body="Dostawa będzie we wtorek.",
        in_reply_to=sent_id,
    )
    receipt = gateway.deliver(mail, "hermes@hermes.test")
    assert receipt.status is InboundStatus.POSTED
    (note,) = gateway.items(task.id)
    assert note.author_id is None and note.sender == "Ewa Nowak <ewa@podwykonawca.pl>"
    assert gateway.inbound(receipt.inbound_id).route == "references"


def test_subject_tag_from_a_stranger_is_held(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    mail = message(
        sender="ktos@gdzies.pl", to="hermes@hermes.test", subject=f"Re: [{task.number}] pytanie"
    )
    receipt = gateway.deliver(mail, "hermes@hermes.test")
    assert receipt.status is InboundStatus.QUARANTINED
    assert "may not write" in (gateway.inbound(receipt.inbound_id).reason or "")
    assert gateway.items(task.id) == []


def test_subject_tag_from_a_verified_employee_is_posted(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    mail = message(
        sender=KOWALSKI,
        to="hermes@hermes.test",
        subject=f"ODP: [{task.number}] pytanie",
        body="Oddzwoniłem do klienta.",
        verified=True,
    )
    assert gateway.deliver(mail, "hermes@hermes.test").status is InboundStatus.POSTED
    assert [n.body for n in gateway.items(task.id)] == ["Oddzwoniłem do klienta."]


def test_register_address_opens_a_task_and_acknowledges_once_a_day(gateway: Gateway) -> None:
    first = message(
        sender="Anna Klient <anna@nowy-klient.pl>",
        to="reklamacje@firma.pl",
        subject="Reklamacja opłaty za październik",
        body="Proszę o korektę faktury.\nData: 2024-01-05\nPozdrawiam, Anna",
    )
    receipt = gateway.deliver(first, "reklamacje@firma.pl")
    assert receipt.status is InboundStatus.POSTED
    row = gateway.inbound(receipt.inbound_id)
    with gateway.uow() as uow:
        task = uow.session.get_one(Task, row.task_id)
        assert task.subject == "Reklamacja opłaty za październik"
        assert "Data: 2024-01-05" in task.description
        assert task.number.startswith("REK/")
        acks = list(
            uow.session.scalars(select(OutboundMessage).where(OutboundMessage.task_id == task.id))
        )
        assert [a.kind for a in acks] == ["acknowledgement"]
        assert task.number.encode() in acks[0].raw
        assert b"Auto-Submitted: auto-replied" in acks[0].raw
        thread = select(MailThreadEntry.task_id).where(
            MailThreadEntry.message_id == acks[0].message_id
        )
        assert uow.session.scalar(thread) == task.id
    second = message(sender="anna@nowy-klient.pl", to="reklamacje@firma.pl", subject="Druga sprawa")
    receipt2 = gateway.deliver(second, "reklamacje@firma.pl")
    assert receipt2.status is InboundStatus.POSTED
    assert any("already got one today" in e for e in gateway.inbound(receipt2.inbound_id).trail)


def test_out_of_office_is_recorded_but_never_posted(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    address = gateway.reply_address(task.id, gateway.employee("jkowalski").id)
    oof = message(
        sender=KOWALSKI,
        to=address,
        subject="Odpowiedź automatyczna: zadanie",
        body="Jestem na urlopie do 5 stycznia.",
        verified=True,
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )
    receipt = gateway.deliver(oof, address)
    assert receipt.status is InboundStatus.SYSTEM
    assert gateway.inbound(receipt.inbound_id).task_id == task.id
    assert gateway.items(task.id) == []


def test_mail_to_a_register_from_a_list_never_opens_a_task(gateway: Gateway) -> None:
    newsletter = message(
        sender="news@sklep.pl",
        to="reklamacje@firma.pl",
        subject="Promocja tygodnia",
        headers={"List-Id": "<promocje.sklep.pl>", "Precedence": "list"},
    )
    receipt = gateway.deliver(newsletter, "reklamacje@firma.pl")
    assert receipt.status is InboundStatus.SYSTEM
    assert gateway.inbound(receipt.inbound_id).task_id is None


def _dsn(failed: str) -> bytes:
    """A Postfix-style RFC 3464 delivery status notification."""
    return (
        "From: MAILER-DAEMON@mx.firma.pl (Mail Delivery System)\r\n"
        "To: hermes@hermes.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.firma.pl>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
        "This is the mail system at host mx.firma.pl.\r\n"
        "\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.firma.pl\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nOriginal-Recipient: rfc822; {failed}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "\r\n--B--\r\n"
    ).encode()


def test_a_bounce_marks_the_address_and_tells_the_task(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    with gateway.uow() as uow:
        mailbox.enqueue(
            uow,
            message_id=new_message_id("hermes.test", task.id),
            recipient="nieistnieje@klient.pl",
            raw=b"From: x\r\n\r\nx",
            kind="notification",
            task_id=task.id,
        )
    receipt = gateway.deliver(_dsn("nieistnieje@klient.pl"), "hermes@hermes.test")
    assert receipt.status is InboundStatus.SYSTEM
    with gateway.uow() as uow:
        state = uow.session.get_one(MailAddressState, "nieistnieje@klient.pl")
        assert state.bouncing
    (note,) = gateway.items(task.id)
    assert "nieistnieje@klient.pl" in (note.body or "")


def test_commands_apply_only_for_verified_employees_on_opted_in_registers(
    gateway: Gateway,
) -> None:
    with gateway.uow() as uow:
        update_register(uow, "REK", RegisterChanges(email_commands=True))
    task = gateway.task_of("jkowalski")
    address = gateway.reply_address(task.id, gateway.employee("jkowalski").id)
    unverified = message(
        sender=KOWALSKI, to=address, body="#status: zakończone\nZałatwione.", verified=False
    )
    gateway.deliver(unverified, address)
    with gateway.uow() as uow:
        assert uow.session.get_one(Task, task.id).status is TaskStatus.NEW
    verified = message(
        sender=KOWALSKI,
        to=address,
        body=_reply_body("#status: zakończone\n#termin: 2026-12-01\nKlient zadowolony."),
        verified=True,
    )
    receipt = gateway.deliver(verified, address)
    assert receipt.status is InboundStatus.POSTED
    with gateway.uow() as uow:
        changed = uow.session.get_one(Task, task.id)
        assert changed.status is TaskStatus.DONE
        assert changed.due is not None and changed.due.date().isoformat() == "2026-12-01"
        sources = set(
            uow.session.scalars(
                select(TaskHistory.source).where(
                    TaskHistory.task_id == task.id, TaskHistory.field == "status"
                )
            )
        )
        assert sources == {"email"}
        confirmations = uow.session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(OutboundMessage.task_id == task.id, OutboundMessage.kind == "command-results")
        )
        assert confirmations == 1
    notes = [n.body for n in gateway.items(task.id)]
    assert notes[-1] == "Klient zadowolony."
    with gateway.uow() as uow:
        update_register(uow, "REK", RegisterChanges(email_commands=False))


def test_the_same_logo_in_many_replies_is_stored_once_per_task(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    address = gateway.reply_address(task.id, gateway.employee("jkowalski").id)
    logo = b"\x89PNG\r\n\x1a\n" + b"logo" * 50
    for text in ("Pierwsza odpowiedź", "Druga odpowiedź", "Trzecia odpowiedź"):
        mail = message(sender=KOWALSKI, to=address, body=text, verified=True)
        mail.add_attachment(logo, maintype="image", subtype="png", filename="image001.png")
        assert gateway.deliver(mail, address).status is InboundStatus.POSTED
    files = gateway.items(task.id, ItemKind.FILE)
    assert [f.filename for f in files] == ["image001.png"]
    assert len(gateway.items(task.id)) == 3


def test_malformed_mail_is_quarantined_and_the_next_one_flows(gateway: Gateway) -> None:
    nested = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
        for i in range(1000)
    )
    raw = b"From: a@b.pl\r\nTo: reklamacje@firma.pl\r\nSubject: x\r\n" + nested
    receipt = gateway.deliver(raw, "reklamacje@firma.pl")
    row = gateway.inbound(receipt.inbound_id)
    assert row.status is InboundStatus.QUARANTINED and row.reason.startswith("malformed")
    fine = message(sender="b@klient.pl", to="reklamacje@firma.pl", subject="Normalna sprawa")
    assert gateway.deliver(fine, "reklamacje@firma.pl").status is InboundStatus.POSTED


def test_a_message_stored_before_a_crash_is_processed_once_later(gateway: Gateway) -> None:
    mail = message(sender="crash@klient.pl", to="reklamacje@firma.pl", subject="Po awarii")
    raw = mail.as_bytes()
    with gateway.uow() as uow:  # the process died right after storing (before processing)
        stored = mailbox.store_raw(
            uow,
            raw,
            channel=MailChannel.PIPE,
            envelope_from=None,
            recipients=["reklamacje@firma.pl"],
        )
    assert gateway.inbound(stored.id).status is InboundStatus.RECEIVED
    assert gateway.intake.process_pending() >= 1
    assert gateway.inbound(stored.id).status is InboundStatus.POSTED
    redelivered = gateway.deliver(raw, "reklamacje@firma.pl")  # the MTA had no 250 yet
    assert redelivered.duplicate and redelivered.status is InboundStatus.POSTED
    with gateway.uow() as uow:
        opened = uow.session.scalar(
            select(func.count()).select_from(Task).where(Task.subject == "Po awarii")
        )
    assert opened == 1


def test_a_flood_from_one_sender_is_held(gateway: Gateway) -> None:
    limit = gateway.settings.mail.new_tasks_per_sender_per_hour
    outcomes = [
        gateway.deliver(
            message(sender="spam@flood.pl", to="reklamacje@firma.pl", subject=f"Sprawa {i}"),
            "reklamacje@firma.pl",
        ).status
        for i in range(limit + 2)
    ]
    assert outcomes[:limit] == [InboundStatus.POSTED] * limit
    assert outcomes[limit:] == [InboundStatus.QUARANTINED] * 2


def test_a_note_keeps_its_raw_message_and_visibility(gateway: Gateway) -> None:
    task = gateway.task_of("jkowalski")
    address = gateway.reply_address(task.id, gateway.employee("jkowalski").id, public=True)
    mail = message(sender=KOWALSKI, to=address, body="Publiczna odpowiedź", verified=True)
    receipt = gateway.deliver(mail, address)
    with gateway.uow() as uow:
        note = uow.session.scalars(select(TaskItem).where(TaskItem.task_id == task.id)).one()
        assert note.is_public is True
    assert gateway.inbound(receipt.inbound_id).size == len(mail.as_bytes())


def test_a_reply_all_in_the_thread_with_someone_elses_address_is_an_outside_note(
    gateway: Gateway,
) -> None:
    task = gateway.task_of("jkowalski")
    address = gateway.reply_address(task.id, gateway.employee("jkowalski").id)
    sent_id = new_message_id("hermes.test", task.id)
    with gateway.uow() as uow:
        mailbox.record_thread_entry(uow, sent_id, task.id, MailDirection.SENT, KOWALSKI)
    mail = message(
        sender="przewoznik@transport.pl",
        to=address,
        body="Palety wrócą we wtorek.",
        in_reply_to=sent_id,
    )
    receipt = gateway.deliver(mail, address)
    assert receipt.status is InboundStatus.POSTED
    (note,) = gateway.items(task.id)
    assert note.author_id is None and note.sender == "przewoznik@transport.pl"
    assert note.is_public is False


def test_a_forged_bounce_for_an_address_we_never_mailed_changes_nothing(
    gateway: Gateway,
) -> None:
    receipt = gateway.deliver(_dsn("prezes@klient-vip.pl"), "hermes@hermes.test")
    assert receipt.status is InboundStatus.SYSTEM
    with gateway.uow() as uow:
        assert uow.session.get(MailAddressState, "prezes@klient-vip.pl") is None
    assert any("never mailed" in e for e in gateway.inbound(receipt.inbound_id).trail)
