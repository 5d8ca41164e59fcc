"""The outbox hands mail to a real SMTP relay: sent once, retried on 4xx, dead on 5xx."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

from aiosmtpd.controller import Controller
from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware.config import SmsSettings, SmtpOutSettings
from hermes_groupware.models import OutboundMessage
from hermes_groupware.models.enums import OutboundStatus
from hermes_groupware.services import mailbox
from mail_gateway.addresses import new_message_id
from mail_gateway.outbox_sender import send_due
from tests.mail_gateway.gateway import Gateway
from tests.mail_gateway.relay import Relay
from tests.ports import free_port


def _queue(gateway: Gateway, recipient: str) -> str:
    message_id = new_message_id("hermes.test", None)
    raw = (
        f"From: Hermes <hermes@hermes.test>\r\nTo: {recipient}\r\nSubject: Test\r\n"
        f"Message-ID: <{message_id}>\r\n\r\nTreść\r\n"
    ).encode()
    with gateway.uow() as uow:
        mailbox.enqueue(uow, message_id=message_id, recipient=recipient, raw=raw, kind="test")
    return message_id


def _row(gateway: Gateway, message_id: str) -> OutboundMessage:
    with gateway.uow() as uow:
        query = select(OutboundMessage).where(OutboundMessage.message_id == message_id)
        return uow.session.scalars(query).one()


def test_a_queued_message_is_sent_once(
    gateway: Gateway, relay: tuple[Relay, SmtpOutSettings]
) -> None:
    sink, settings = relay
    message_id = _queue(gateway, "anna@klient.pl")
    assert send_due(gateway.database, settings) >= 1
    assert send_due(gateway.database, settings) == 0
    sent = [r for r in sink.received if message_id.encode() in r[2]]
    assert len(sent) == 1 and sent[0][0] == "hermes@hermes.test"
    assert _row(gateway, message_id).status is OutboundStatus.SENT


def test_a_temporary_refusal_retries_later_with_the_same_message_id(
    gateway: Gateway, relay: tuple[Relay, SmtpOutSettings]
) -> None:
    sink, settings = relay
    with freeze_time("2026-11-27 10:00:00"):
        message_id = _queue(gateway, "jan@klient.pl")
        sink.answer = "451 4.3.0 try later"
        assert send_due(gateway.database, settings) == 0
        row = _row(gateway, message_id)
        assert row.status is OutboundStatus.QUEUED and row.attempts == 1
        sink.answer = "250 OK"
        assert send_due(gateway.database, settings) == 0  # not due yet: backoff
    with freeze_time("2026-11-27 10:05:00"):
        assert send_due(gateway.database, settings) == 1
    assert _row(gateway, message_id).status is OutboundStatus.SENT
    assert sum(message_id.encode() in r[2] for r in sink.received) == 1


def test_a_permanent_refusal_is_dead_and_marks_the_address(
    gateway: Gateway, relay: tuple[Relay, SmtpOutSettings]
) -> None:
    sink, settings = relay
    sink.answer = "550 5.1.1 no such user"
    message_id = _queue(gateway, "nikt@klient.pl")
    send_due(gateway.database, settings)
    row = _row(gateway, message_id)
    assert row.status is OutboundStatus.DEAD and "550" in (row.last_error or "")
    with gateway.uow() as uow:
        assert mailbox.is_bouncing(uow.session, "nikt@klient.pl")


def _queue_sms(gateway: Gateway, number: str) -> str:
    message_id = new_message_id("hermes.test", None)
    with gateway.uow() as uow:
        mailbox.enqueue(
            uow,
            message_id=message_id,
            recipient=number,
            raw="Zadanie REK/2026/0001 jest po terminie: wymiana żółtego zamka".encode(),
            kind="notification:overdue",
            channel="sms",
        )
    return message_id


def test_texts_wait_for_the_end_of_quiet_hours(
    gateway: Gateway, relay: tuple[Relay, SmtpOutSettings]
) -> None:
    _, smtp = relay
    sms = SmsSettings(provider="log", quiet_hours="21:00-07:00")
    with freeze_time("2026-12-01 21:30:00"):  # 22:30 in Warsaw
        message_id = _queue_sms(gateway, "+48600100200")
        send_due(gateway.database, smtp, sms)
        row = _row(gateway, message_id)
        assert row.status is OutboundStatus.QUEUED and row.attempts == 0
        assert row.next_attempt_at == dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)
    with freeze_time("2026-12-02 06:01:00"):
        assert send_due(gateway.database, smtp, sms) == 1
    assert _row(gateway, message_id).status is OutboundStatus.SENT


def test_two_workers_send_each_message_once(
    gateway: Gateway, relay: tuple[Relay, SmtpOutSettings]
) -> None:
    sink, settings = relay
    queued = [_queue(gateway, f"klient{n}@firma-y.pl") for n in range(30)]

    def worker() -> None:
        while send_due(gateway.database, settings, limit=4):
            pass

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    received = [mid for mid in queued for r in sink.received if f"<{mid}>".encode() in r[2]]
    assert sorted(received) == sorted(queued)


def test_mail_waits_while_the_relay_is_down_and_goes_once_it_is_back(gateway: Gateway) -> None:
    port = free_port()
    settings = dataclasses.replace(SmtpOutSettings(), port=port, timeout_seconds=5)
    with freeze_time("2026-11-30 12:00:00"):
        message_id = _queue(gateway, "czeka@klient.pl")
        assert send_due(gateway.database, settings) == 0  # nobody listens: connection refused
    row = _row(gateway, message_id)
    assert row.status is OutboundStatus.QUEUED and "Connection" in (row.last_error or "")
    sink = Relay()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with freeze_time("2026-11-30 12:10:00"):
            while send_due(gateway.database, settings):
                pass
    finally:
        controller.stop()
    assert _row(gateway, message_id).status is OutboundStatus.SENT
    assert sum(f"<{message_id}>".encode() in r[2] for r in sink.received) == 1
