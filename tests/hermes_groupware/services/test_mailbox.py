"""The durable side of e-mail: raw store, duplicates, failed tries, quarantine rights."""

from __future__ import annotations

import pytest

from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.errors import Conflict, PermissionDenied
from hermes_groupware.models import InboundMessage
from hermes_groupware.models.enums import InboundStatus, MailChannel
from hermes_groupware.services import mailbox
from tests.factories import Factory


def _store(uow: UnitOfWork, raw: bytes, **imap: object) -> mailbox.Stored:
    return mailbox.store_raw(
        uow,
        raw,
        channel=MailChannel.IMAP,
        envelope_from=None,
        recipients=[],
        **imap,  # type: ignore[arg-type]
    )


def test_the_same_bytes_or_the_same_imap_message_are_stored_once(uow: UnitOfWork) -> None:
    first = _store(uow, b"Subject: a\r\n\r\nx", mailbox="box", uidvalidity=7, uid=1)
    assert not first.duplicate and first.status is InboundStatus.RECEIVED
    assert _store(uow, b"Subject: a\r\n\r\nx").duplicate
    refetched = _store(
        uow, b"Subject: a\r\nX-Changed: 1\r\n\r\nx", mailbox="box", uidvalidity=7, uid=1
    )
    assert refetched.duplicate and refetched.id == first.id
    other_validity = _store(uow, b"Subject: b\r\n\r\ny", mailbox="box", uidvalidity=8, uid=1)
    assert not other_validity.duplicate


def test_a_poison_message_is_quarantined_after_the_last_try(uow: UnitOfWork) -> None:
    stored = _store(uow, b"Subject: poison\r\n\r\n")
    assert not mailbox.record_failure(uow, stored.id, "boom", max_attempts=2)
    assert mailbox.pending_ids(uow) == [stored.id]
    assert mailbox.record_failure(uow, stored.id, "boom", max_attempts=2)
    row = uow.session.get_one(InboundMessage, stored.id)
    assert row.status is InboundStatus.QUARANTINED and "2 times" in (row.reason or "")
    assert mailbox.pending_ids(uow) == []
    mailbox.retry(uow, stored.id)
    assert mailbox.pending_ids(uow) == [stored.id]


def test_only_admins_see_and_manage_the_quarantine(uow: UnitOfWork, make: Factory) -> None:
    stored = _store(uow, b"Subject: held\r\n\r\n")
    employee = make.employee("pracownik")
    as_employee = uow.acting_as(Actor(employee.id, employee.login, is_admin=False))
    with pytest.raises(PermissionDenied):
        mailbox.list_messages(as_employee)
    with pytest.raises(PermissionDenied):
        mailbox.message(as_employee, stored.id)
    with pytest.raises(Conflict):
        mailbox.delete(uow, stored.id)  # still waiting to be processed


def test_one_acknowledgement_per_sender_and_day(uow: UnitOfWork, make: Factory) -> None:
    task = make.task(make.register(), make.employee())
    assert mailbox.claim_acknowledgement(uow, "Anna@Klient.pl", task.id)
    assert not mailbox.claim_acknowledgement(uow, "anna@klient.pl", task.id)


def test_nothing_is_queued_for_a_bouncing_address(uow: UnitOfWork) -> None:
    mailbox.mark_bouncing(uow, "zly@adres.pl", "550 user unknown")
    queued = mailbox.enqueue(
        uow, message_id="m1@hermes.test", recipient="ZLY@adres.pl", raw=b"x", kind="notification"
    )
    assert queued is None
    mailbox.clear_bouncing(uow, "zly@adres.pl")
    assert mailbox.enqueue(
        uow, message_id="m2@hermes.test", recipient="zly@adres.pl", raw=b"x", kind="notification"
    )
