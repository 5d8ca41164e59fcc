"""The SMS provider answers 500 for a while: texts stay queued, then drain once, in order."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware.config import SmsSettings, SmtpOutSettings
from hermes_groupware.models import OutboundMessage
from hermes_groupware.models.enums import OutboundStatus
from hermes_groupware.services import mailbox
from mail_gateway.addresses import new_message_id
from mail_gateway.outbox_sender import send_due
from tests.mail_gateway.gateway import Gateway
from tests.mail_gateway.sms_gateway import FakeGateway, running_gateway

NUMBERS = ["+48600100201", "+48600100202", "+48600100203"]


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGateway]:
    monkeypatch.setenv("no_proxy", "*")  # a proxy in the environment must not see 127.0.0.1
    with running_gateway() as fake:
        yield fake


def _queue(gateway: Gateway, number: str) -> str:
    message_id = new_message_id("hermes.test", None)
    with gateway.uow() as uow:
        mailbox.enqueue(
            uow,
            message_id=message_id,
            recipient=number,
            raw=f"Zadanie po terminie ({number})".encode(),
            kind="notification:overdue",
            channel="sms",
        )
    return message_id


def _rows(gateway: Gateway, ids: list[str]) -> list[OutboundMessage]:
    with gateway.uow() as uow:
        query = select(OutboundMessage).where(OutboundMessage.message_id.in_(ids))
        return list(uow.session.scalars(query.order_by(OutboundMessage.id)))


def test_texts_queue_while_the_provider_fails_and_drain_once_it_answers(
    gateway: Gateway, provider: FakeGateway
) -> None:
    sms = SmsSettings(provider="http", url=provider.url, quiet_hours="", timeout_seconds=5)
    relay = dataclasses.replace(SmtpOutSettings(), timeout_seconds=5)  # no mail: never opened
    provider.status = 500
    with freeze_time("2026-11-30 11:00:00"):
        ids = [_queue(gateway, number) for number in NUMBERS]
        assert send_due(gateway.database, relay, sms) == 0
        assert send_due(gateway.database, relay, sms) == 0  # backing off: not tried again yet
    assert len(provider.requests) == len(NUMBERS)
    rows = _rows(gateway, ids)
    assert {r.status for r in rows} == {OutboundStatus.QUEUED}
    assert all("500" in (r.last_error or "") and r.attempts == 1 for r in rows)
    provider.status = 200
    with freeze_time("2026-11-30 11:05:00"):
        assert send_due(gateway.database, relay, sms) == len(NUMBERS)
        assert send_due(gateway.database, relay, sms) == 0  # drained: nothing sent twice
    rows = _rows(gateway, ids)
    assert {r.status for r in rows} == {OutboundStatus.SENT}
    assert all(r.attempts == 2 and r.last_error is None for r in rows)
    numbers = [request.body.decode() for request in provider.requests[len(NUMBERS) :]]
    assert [sum(number in body for body in numbers) for number in NUMBERS] == [1, 1, 1]
