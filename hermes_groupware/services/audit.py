"""The audit log of admin actions: one call, :func:`record`, inside the service that acts.

Written in the service's own transaction, so an action and its entry commit or vanish
together, whichever surface (CLI, API, console, CalDAV) called the service. Details are a
small JSON object of what changed; secrets (tokens, passwords) are never passed in.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import AuditEntry, Employee
from hermes_groupware.models.enums import AuditSource
from hermes_groupware.services import access
from hermes_groupware.services.lookups import employee_by_login

_MAX_DETAIL = 4000
_SOURCES = {source.value: source for source in AuditSource}


def record(
    uow: UnitOfWork, action: str, object_type: str, object_id: object, **details: Any
) -> None:
    """Log ``action`` (``feed.rotate``) on ``object_type`` ``object_id`` by the unit's actor.

    The system acting on its own (CLI without ``--as``) has no actor id and counts as ``cli``.
    """
    text = json.dumps(details, default=str, ensure_ascii=False, sort_keys=True)
    uow.session.add(
        AuditEntry(
            at=uow.now(),
            actor_id=uow.actor.employee_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:100],
            details=text
            if len(text) <= _MAX_DETAIL
            else json.dumps({"truncated": text[:_MAX_DETAIL]}),
            source=_SOURCES.get(uow.source.value, AuditSource.CLI),
        )
    )


@dataclass(frozen=True)
class AuditView:
    """One entry as the CLI and API show it (``actor`` is a login, or ``system``)."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    source: str


def entries(
    uow: UnitOfWork,
    *,
    since: dt.datetime | None = None,
    actor: str | None = None,
    limit: int = 1000,
) -> list[AuditView]:
    """The newest entries first (admins only), from ``since`` on and by ``actor`` (a login)."""
    access.require_admin(uow.actor)
    who = aliased(Employee)
    query = (
        select(AuditEntry, who.login)
        .outerjoin(who, who.id == AuditEntry.actor_id)
        .order_by(AuditEntry.id.desc())
        .limit(max(1, min(limit, 10_000)))
    )
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if actor is not None:
        query = query.where(AuditEntry.actor_id == employee_by_login(uow.session, actor).id)
    return [
        AuditView(
            id=entry.id,
            at=entry.at,
            actor=login or "system",
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            details=json.loads(entry.details),
            source=entry.source.value,
        )
        for entry, login in uow.session.execute(query)
    ]
