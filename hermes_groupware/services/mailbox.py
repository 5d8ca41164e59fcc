"""The durable side of e-mail: raw inbound store, quarantine, thread index, outbox, bounces.

Protocol code (``mail_gateway``) parses and routes; this module owns the tables, so that the
rules "stored before acknowledged", "processed once" and "at most one acknowledgement per
sender and day" hold whichever entry point or instance handles a message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.db.upsert import insert_unless_present
from hermes_groupware.errors import Conflict, InvalidInput, NotFound
from hermes_groupware.models import (
    InboundMessage,
    MailAcknowledgement,
    MailAddressState,
    MailThreadEntry,
    OutboundMessage,
    Register,
    TaskItem,
)
from hermes_groupware.models.enums import (
    InboundStatus,
    ItemKind,
    MailChannel,
    MailDirection,
    OutboundStatus,
)
from hermes_groupware.services import access, audit


@dataclass(frozen=True)
class Stored:
    """The inbound row a delivery maps to; ``duplicate`` when it was already stored."""

    id: int
    status: InboundStatus
    duplicate: bool


def store_raw(
    uow: UnitOfWork,
    raw: bytes,
    *,
    channel: MailChannel,
    envelope_from: str | None,
    recipients: Sequence[str],
    mailbox: str | None = None,
    uidvalidity: int | None = None,
    uid: int | None = None,
) -> Stored:
    """Store one delivery unless the same bytes or the same IMAP message were stored before.

    The insert ignores conflicts on both unique keys, so concurrent deliveries of one message
    on several instances leave exactly one row.
    """
    digest = hashlib.sha256(raw).hexdigest()
    existing = _existing(uow.session, digest, mailbox, uidvalidity, uid)
    if existing is not None:
        return Stored(existing.id, existing.status, duplicate=True)
    new_id = insert_unless_present(
        uow.session,
        InboundMessage,
        {
            "received_at": uow.now(),
            "channel": channel,
            "envelope_from": envelope_from,
            "recipients": "\n".join(recipients),
            "mailbox": mailbox,
            "uidvalidity": uidvalidity,
            "uid": uid,
            "raw_sha256": digest,
            "size": len(raw),
            "raw": raw,
            "status": InboundStatus.RECEIVED,
            "attempts": 0,
            "trail": [],
        },
        InboundMessage.id,
    )
    if new_id is None:  # another instance stored it between our check and our insert
        existing = _existing(uow.session, digest, mailbox, uidvalidity, uid)
        if existing is None:
            raise Conflict("inbound message vanished while storing it")
        return Stored(existing.id, existing.status, duplicate=True)
    return Stored(new_id, InboundStatus.RECEIVED, duplicate=False)


def _existing(
    session: Session, digest: str, mailbox: str | None, uidvalidity: int | None, uid: int | None
) -> InboundMessage | None:
    same = InboundMessage.raw_sha256 == digest
    if mailbox is not None and uidvalidity is not None and uid is not None:
        same = or_(
            same,
            (InboundMessage.mailbox == mailbox)
            & (InboundMessage.uidvalidity == uidvalidity)
            & (InboundMessage.uid == uid),
        )
    return session.scalars(select(InboundMessage).where(same).limit(1)).first()


def claim_for_processing(uow: UnitOfWork, message_id: int) -> InboundMessage | None:
    """The row locked for this transaction, or None when it is no longer waiting."""
    query = select(InboundMessage).where(
        InboundMessage.id == message_id, InboundMessage.status == InboundStatus.RECEIVED
    )
    if uow.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return uow.session.scalars(query).first()


def raw_bytes(uow: UnitOfWork, message_id: int) -> bytes:
    """The stored bytes of one inbound message (empty when it was deleted meanwhile)."""
    raw = uow.session.scalar(select(InboundMessage.raw).where(InboundMessage.id == message_id))
    return raw or b""


def pending_ids(uow: UnitOfWork, *, limit: int = 100) -> list[int]:
    """Messages stored but not processed yet (a crash, a failed try), oldest first."""
    query = (
        select(InboundMessage.id)
        .where(InboundMessage.status == InboundStatus.RECEIVED)
        .order_by(InboundMessage.received_at, InboundMessage.id)
        .limit(limit)
    )
    return list(uow.session.scalars(query))


def record_failure(uow: UnitOfWork, message_id: int, error: str, *, max_attempts: int) -> bool:
    """Count a failed processing try; after ``max_attempts`` the message is quarantined.

    Returns whether it was quarantined (a poison message stops being retried).
    """
    row = uow.session.get(InboundMessage, message_id)
    if row is None or row.status != InboundStatus.RECEIVED:
        return False
    row.attempts += 1
    row.trail = [*row.trail, f"processing failed (try {row.attempts}): {error}"]
    if row.attempts >= max_attempts:
        row.status = InboundStatus.QUARANTINED
        row.reason = f"processing failed {row.attempts} times: {error}"
        row.processed_at = uow.now()
        return True
    return False


# --- quarantine -------------------------------------------------------------------------------


def list_messages(
    uow: UnitOfWork, *, status: InboundStatus | None = InboundStatus.QUARANTINED, limit: int = 200
) -> list[InboundMessage]:
    """Inbound messages for admins, newest first."""
    access.require_admin(uow.actor)
    query = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(InboundMessage.status == status)
    return list(uow.session.scalars(query))


def message(uow: UnitOfWork, message_id: int) -> InboundMessage:
    """One inbound message with its raw bytes (admins only)."""
    access.require_admin(uow.actor)
    row = uow.session.get(InboundMessage, message_id)
    if row is None:
        raise NotFound(f"inbound message {message_id} not found")
    return row


def retry(uow: UnitOfWork, message_id: int) -> None:
    """Put a quarantined or recorded message back in the queue, e.g. after a fix or a grant."""
    row = message(uow, message_id)
    if row.status == InboundStatus.POSTED:
        raise Conflict(f"message {message_id} was already posted to a task")
    row.status = InboundStatus.RECEIVED
    row.attempts = 0
    row.reason = None
    row.trail = [*row.trail, f"retry requested by {uow.actor.login}"]
    audit.record(uow, "quarantine.release", "inbound_message", message_id)


def delete(uow: UnitOfWork, message_id: int) -> None:
    """Remove a quarantined message for good (spam); posted ones stay with their notes."""
    row = message(uow, message_id)
    if row.status not in (InboundStatus.QUARANTINED, InboundStatus.SYSTEM):
        raise Conflict(f"only quarantined or system messages can be deleted ({row.status})")
    uow.session.delete(row)
    audit.record(uow, "quarantine.delete", "inbound_message", message_id, sender=row.sender_address)


def count_by_status(uow: UnitOfWork) -> dict[str, int]:
    """Queue sizes for health checks and the console."""
    rows = uow.session.execute(
        select(InboundMessage.status, func.count()).group_by(InboundMessage.status)
    ).all()
    return {str(status): count for status, count in rows}


# --- routing helpers --------------------------------------------------------------------------


def tasks_for_message_ids(session: Session, message_ids: Iterable[str]) -> list[int]:
    """Tasks that sent or received any of these Message-IDs, in the order of the ids given."""
    ids = [m for m in message_ids if m]
    if not ids:
        return []
    rows = session.execute(
        select(MailThreadEntry.message_id, MailThreadEntry.task_id).where(
            MailThreadEntry.message_id.in_(ids[:200])
        )
    ).all()
    by_id: dict[str, int] = {}
    for message_id, task_id in rows:
        by_id.setdefault(message_id, task_id)
    return list(dict.fromkeys(by_id[m] for m in ids if m in by_id))


def record_thread_entry(
    uow: UnitOfWork,
    message_id: str,
    task_id: int,
    direction: MailDirection,
    recipient: str | None = None,
) -> None:
    """Remember a Message-ID for a task so that replies to it find the task."""
    exists = uow.session.scalar(
        select(MailThreadEntry.id).where(
            MailThreadEntry.message_id == message_id, MailThreadEntry.task_id == task_id
        )
    )
    if exists is None:
        uow.session.add(
            MailThreadEntry(
                message_id=message_id,
                task_id=task_id,
                direction=direction,
                recipient=recipient,
                created_at=uow.now(),
            )
        )
        uow.session.flush()


def register_for_addresses(session: Session, addresses: Iterable[str]) -> list[Register]:
    """Active registers whose inbound address is among these, in the order given."""
    wanted = [a.lower() for a in addresses]
    if not wanted:
        return []
    found = {
        r.inbound_email.lower(): r
        for r in session.scalars(
            select(Register).where(
                func.lower(Register.inbound_email).in_(wanted), Register.is_active
            )
        )
        if r.inbound_email
    }
    return list(dict.fromkeys(found[a] for a in wanted if a in found))


def claim_acknowledgement(uow: UnitOfWork, address: str, task_id: int) -> bool:
    """Whether this sender may get an acknowledgement today (first claim of the day wins)."""
    values = {"address": address.lower(), "day": uow.now().date(), "task_id": task_id}
    claimed = insert_unless_present(
        uow.session, MailAcknowledgement, values, MailAcknowledgement.id
    )
    return claimed is not None


def recent_from_sender(uow: UnitOfWork, address: str, *, since: dt.datetime) -> int:
    """Messages from this sender that opened tasks since ``since`` (the flood limit)."""
    return int(
        uow.session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(
                InboundMessage.sender_address == address.lower(),
                InboundMessage.received_at >= since,
                InboundMessage.status == InboundStatus.POSTED,
                InboundMessage.route == "register",
            )
        )
        or 0
    )


def recent_mail_notes(uow: UnitOfWork, task_id: int, *, since: dt.datetime) -> int:
    """Notes that e-mail added to a task since ``since`` (the ping-pong limit)."""
    return int(
        uow.session.scalar(
            select(func.count())
            .select_from(TaskItem)
            .where(
                TaskItem.task_id == task_id,
                TaskItem.kind == ItemKind.NOTE,
                TaskItem.inbound_message_id.is_not(None),
                TaskItem.created_at >= since,
            )
        )
        or 0
    )


def mark_bouncing(uow: UnitOfWork, address: str, reason: str) -> None:
    """Stop mailing an address that bounced permanently."""
    address = address.lower()
    state = uow.session.get(MailAddressState, address)
    if state is None:
        state = MailAddressState(address=address)
        uow.session.add(state)
    state.bouncing = True
    state.bounced_at = uow.now()
    state.reason = reason[:2000]


def addresses_mailed(session: Session, addresses: Iterable[str]) -> set[str]:
    """Those of the addresses the outbox ever mailed (bounces for others are not ours)."""
    wanted = {a.lower() for a in addresses}
    if not wanted:
        return set()
    rows = session.scalars(
        select(func.lower(OutboundMessage.recipient)).where(
            func.lower(OutboundMessage.recipient).in_(wanted)
        )
    )
    return set(rows)


def is_bouncing(session: Session, address: str) -> bool:
    """Whether mail to this address bounced and has not been cleared."""
    state = session.get(MailAddressState, address.lower())
    return bool(state and state.bouncing)


def clear_bouncing(uow: UnitOfWork, address: str) -> None:
    """A new message from the address proves it works again."""
    uow.session.execute(
        update(MailAddressState)
        .where(MailAddressState.address == address.lower())
        .values(bouncing=False)
    )


# --- outbox -----------------------------------------------------------------------------------


def enqueue(
    uow: UnitOfWork,
    *,
    message_id: str,
    recipient: str,
    raw: bytes,
    kind: str,
    task_id: int | None = None,
    channel: str = "email",
) -> OutboundMessage | None:
    """Queue a rendered message (or an SMS text); nothing is queued for a bouncing address."""
    if not recipient or "\n" in recipient or "\r" in recipient:
        raise InvalidInput("recipient", "a single address without line breaks")
    if is_bouncing(uow.session, recipient):
        return None
    row = OutboundMessage(
        message_id=message_id,
        task_id=task_id,
        channel=channel,
        recipient=recipient,
        kind=kind,
        raw=raw,
        status=OutboundStatus.QUEUED,
        attempts=0,
        next_attempt_at=uow.now(),
        created_at=uow.now(),
    )
    uow.session.add(row)
    if task_id is not None:
        record_thread_entry(uow, message_id, task_id, MailDirection.SENT, recipient)
    uow.session.flush()
    return row


def claim_due(uow: UnitOfWork, *, limit: int = 20) -> list[OutboundMessage]:
    """Queued messages due now, locked so that other instances skip them."""
    query = (
        select(OutboundMessage)
        .where(
            OutboundMessage.status == OutboundStatus.QUEUED,
            OutboundMessage.next_attempt_at <= uow.now(),
        )
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(limit)
    )
    if uow.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(uow.session.scalars(query))


def list_outbox(
    uow: UnitOfWork, *, status: OutboundStatus | None = None, limit: int = 200
) -> list[OutboundMessage]:
    """Outgoing messages for admins, newest first."""
    access.require_admin(uow.actor)
    query = select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboundMessage.status == status)
    return list(uow.session.scalars(query))


def retry_outbound(uow: UnitOfWork, message_id: int) -> None:
    """Queue a dead message again, now; it keeps its Message-ID."""
    access.require_admin(uow.actor)
    row = uow.session.get(OutboundMessage, message_id)
    if row is None:
        raise NotFound(f"outbound message {message_id} not found")
    if row.status == OutboundStatus.SENT:
        raise Conflict(f"message {message_id} was already sent")
    row.status = OutboundStatus.QUEUED
    row.attempts = 0
    row.next_attempt_at = uow.now()
    audit.record(uow, "outbox.retry", "outbound_message", message_id)


def purge_sent(uow: UnitOfWork, *, older_than_days: int) -> int:
    """Delete sent messages older than the given age; returns how many."""
    access.require_admin(uow.actor)
    if older_than_days < 0:
        raise InvalidInput("days", "must not be negative")
    cutoff = uow.now() - dt.timedelta(days=older_than_days)
    rows = list(
        uow.session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.status == OutboundStatus.SENT, OutboundMessage.sent_at < cutoff
            )
        )
    )
    for row in rows:
        uow.session.delete(row)
    return len(rows)


def sms_sent_since(uow: UnitOfWork, recipient: str, since: dt.datetime) -> int:
    """Text messages sent to this number since ``since`` (the per-recipient limit)."""
    return int(
        uow.session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(
                OutboundMessage.channel == "sms",
                OutboundMessage.recipient == recipient,
                OutboundMessage.status == OutboundStatus.SENT,
                OutboundMessage.sent_at >= since,
            )
        )
        or 0
    )
