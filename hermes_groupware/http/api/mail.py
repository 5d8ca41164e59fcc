"""``/quarantine`` and ``/outbox``: the mail queues administrators look after (admin scope).

Lists are the newest ``limit`` messages (the queues are worked down, not paged through), in
the usual envelope with ``next`` null. The raw message is served as ``message/rfc822`` (it
is never rendered here); releasing one to a task posts it as an outside sender's note, as
``mail quarantine release`` does (:mod:`mail_gateway.release`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from hermes_groupware.http.api.fields import Text
from hermes_groupware.http.api.paging import Page
from hermes_groupware.http.api.registry import ID_PARAM, Api, Call, Download, Operation
from hermes_groupware.http.api.tasks import task_id_of
from hermes_groupware.models.enums import InboundStatus, OutboundStatus, Source
from hermes_groupware.services import mailbox
from mail_gateway.processing import GatewayConfig
from mail_gateway.release import Release, release


class InboundOut(BaseModel):
    """An inbound message: who sent it, where it stands and why."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    received_at: dt.datetime
    channel: str
    envelope_from: str | None
    sender_address: str | None
    subject: str | None
    message_id: str | None
    size: int
    status: str
    attempts: int
    reason: str | None
    route: str | None
    task_id: int | None
    processed_at: dt.datetime | None


class InboundDetail(InboundOut):
    """With the decision trail and the text that would become the note."""

    trail: list[Any]
    stripped_text: str | None


class OutboundOut(BaseModel):
    """An outgoing message in the outbox."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: dt.datetime
    message_id: str
    task_id: int | None
    channel: str
    recipient: str
    kind: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    sent_at: dt.datetime | None


class QuarantineQuery(BaseModel):
    """Which inbound messages (default: quarantined), newest first."""

    status: InboundStatus = InboundStatus.QUARANTINED
    limit: int = Field(50, ge=1, le=200)


class OutboxQuery(BaseModel):
    """Which outgoing messages (default: all), newest first."""

    status: OutboundStatus | None = None
    limit: int = Field(50, ge=1, le=200)


class ReleaseBody(BaseModel):
    """The task to post the message to."""

    model_config = ConfigDict(extra="forbid")

    task: Annotated[Text, Field(min_length=1, max_length=40)] = Field(
        description="a task number such as REK/2026/0042, or the numeric id"
    )


InboundList = Page[InboundOut]
OutboundList = Page[OutboundOut]


def register(api: Api) -> None:
    """Add the mail queue operations (admin scope; the services check admin rights too)."""
    q, o, one = "quarantine", "outbox", {"message_id": ID_PARAM}
    api.add(Operation("GET", "/quarantine", list_quarantine, "Inbound messages held or kept", q,
                      scope="admin", query=QuarantineQuery, response=InboundList))
    api.add(Operation("GET", "/quarantine/{message_id}", get_inbound, "One inbound message", q,
                      scope="admin", response=InboundDetail, params=one))
    api.add(Operation("POST", "/quarantine/{message_id}/retry", retry_inbound,
                      "Process it again", q, scope="admin", status=204, params=one))
    api.add(Operation("GET", "/quarantine/{message_id}/raw", raw_inbound,
                      "The message as received (message/rfc822)", q, scope="admin",
                      produces="message/rfc822", params=one))
    api.add(Operation("POST", "/quarantine/{message_id}/release", release_inbound,
                      "Post it to a task as a note", q, scope="admin", body=ReleaseBody,
                      response=InboundDetail, params=one))
    api.add(Operation("DELETE", "/quarantine/{message_id}", delete_inbound,
                      "Delete a quarantined message", q, scope="admin", status=204, params=one))
    api.add(Operation("GET", "/outbox", list_outbox, "Outgoing messages", o, scope="admin",
                      query=OutboxQuery, response=OutboundList))
    api.add(Operation("POST", "/outbox/{message_id}/retry", retry_outbound,
                      "Queue a dead message again", o, scope="admin", status=204,
                      params=one))  # fmt: skip


def list_quarantine(call: Call) -> InboundList:
    """Newest first."""
    query = call.query_as(QuarantineQuery)
    with call.uow() as uow:
        rows = mailbox.list_messages(uow, status=query.status, limit=query.limit)
        return InboundList(items=[InboundOut.model_validate(r) for r in rows], next=None)


def get_inbound(call: Call, message_id: int) -> InboundDetail:
    """With its trail."""
    with call.uow() as uow:
        return InboundDetail.model_validate(mailbox.message(uow, message_id))


def raw_inbound(call: Call, message_id: int) -> Download:
    """As stored (at most ``[mail] max_message_bytes``), to open in a mail program."""
    with call.uow() as uow:
        raw = mailbox.message(uow, message_id).raw
    return Download(raw, "message/rfc822", f"message-{message_id}.eml")


def release_inbound(call: Call, message_id: int) -> InboundDetail:
    """Posted as an outside sender's note (409 when it was already posted)."""
    ref = call.body_as(ReleaseBody).task
    with call.uow() as uow:
        task_id = task_id_of(uow, ref)
    config = GatewayConfig.from_settings(call.settings)
    release(call.database, Release(call.principal.actor, Source.API, message_id, task_id), config)
    with call.uow() as uow:
        return InboundDetail.model_validate(mailbox.message(uow, message_id))


def retry_inbound(call: Call, message_id: int) -> None:
    """Back into the queue (409 when it was already posted)."""
    with call.uow(write=True) as uow:
        mailbox.retry(uow, message_id)


def delete_inbound(call: Call, message_id: int) -> None:
    """For good (409 unless quarantined or a system message)."""
    with call.uow(write=True) as uow:
        mailbox.delete(uow, message_id)


def list_outbox(call: Call) -> OutboundList:
    """Newest first."""
    query = call.query_as(OutboxQuery)
    with call.uow() as uow:
        rows = mailbox.list_outbox(uow, status=query.status, limit=query.limit)
        return OutboundList(items=[OutboundOut.model_validate(r) for r in rows], next=None)


def retry_outbound(call: Call, message_id: int) -> None:
    """Now, keeping its Message-ID (409 when it was already sent)."""
    with call.uow(write=True) as uow:
        mailbox.retry_outbound(uow, message_id)
