"""Releasing a quarantined message to a task: checked as the administrator, posted as the
gateway (an outside sender's note), so the CLI, the API and the console share one seam."""

from __future__ import annotations

from dataclasses import dataclass

from hermes_groupware.db.session import Actor, Database
from hermes_groupware.errors import Conflict
from hermes_groupware.models.enums import InboundStatus, Source
from hermes_groupware.services import access, mailbox
from mail_gateway.intake import GATEWAY
from mail_gateway.processing import GatewayConfig, release_message


@dataclass(frozen=True)
class Release:
    """Who releases which message to which task, through which entry point."""

    actor: Actor
    source: Source
    message_id: int
    task_id: int


def release(database: Database, decision: Release, config: GatewayConfig) -> InboundStatus:
    """Post the message to the task; returns the message's new status.

    Raises:
        PermissionDenied: the actor is not an administrator.
        NotFound: no such message, or a task the actor may not see.
        Conflict: the message was already posted.
    """
    with database.unit_of_work(decision.actor, decision.source, read_only=True) as uow:
        access.require_admin(uow.actor)
        mailbox.message(uow, decision.message_id)
        access.readable_task(uow.session, uow.actor, decision.task_id)
    with database.unit_of_work(GATEWAY, Source.EMAIL) as uow:
        row = mailbox.message(uow, decision.message_id)
        # locked and read again: a second release at once, or a worker that holds the message,
        # must finish first and leave it POSTED, or it would be posted twice
        uow.session.refresh(row, with_for_update=True)
        if row.status is InboundStatus.POSTED:
            raise Conflict(f"message {decision.message_id} was already posted to a task")
        release_message(uow, row, config, decision.task_id, released_by=decision.actor.login)
        return row.status
