"""Which tasks a report reader may see: their own rights, or for an outside address the owner's
rights narrowed to the registers that allow outside recipients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import Register, Task
from hermes_groupware.models.enums import AccessLevel, Locale
from hermes_groupware.services import access
from reports.model import ReportContext


def reader_context(
    uow: UnitOfWork,
    *,
    locale: Locale,
    zone: ZoneInfo,
    params: Mapping[str, Any],
    outside: bool = False,
    now: dt.datetime | None = None,
) -> ReportContext:
    """A context for ``uow.actor``; ``outside``: the actor is the schedule's owner and the
    reader an address outside the company."""
    clause = access.visible_tasks_clause(uow.session, uow.actor, AccessLevel.READ)
    if outside:
        allowed = select(Register.id).where(Register.external_reports.is_(True))
        clause = and_(clause, Task.register_id.in_(allowed))
    return ReportContext(
        uow=uow,
        scope=clause,
        locale=locale,
        zone=zone,
        now=now or uow.now(),
        params=params,
    )
