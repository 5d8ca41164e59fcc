"""A claimed report run, rendered for each recipient with that reader's rights, into the outbox.

A schedule's reports go out together: each recipient gets one mail with every report of the
schedule, in its order. Each employee gets the reports built in a unit of work acting as them,
so nobody reads tasks they could not open themselves (hidden parents included); an outside
address gets what the schedule's owner may see in the registers that allow outside
recipients. Readers who would see the same thing share one build: every employee is their own
reader, outside addresses share one per language and zone. "Skip if empty" skips a reader
only when every report of theirs is empty.

Exactly once: the slow work (queries, charts, attachments) runs outside any write transaction;
then one transaction finishes the run, fenced by this instance's claim, and queues one mail
per recipient. An instance that lost its lease rolls back and queues nothing, and every mail's
Message-ID is fixed by run and address, which the outbox keeps unique. A run that fails is
retried on a later tick; after the last attempt its owner gets a short note with the error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.errors import HermesError, InvalidInput, NotFound
from hermes_groupware.models import Employee
from hermes_groupware.models.enums import Locale, ReportKind, ReportRunStatus, Source
from hermes_groupware.services import mailbox, report_schedules
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.report_schedules import Recipient, RunJob
from reports import mail, registry
from reports.model import ReportResult
from reports.scope import reader_context
from reports.unsubscribe import unsubscribe_url

log = logging.getLogger(__name__)
_SYSTEM = Actor.system("reports")
_MAX_ERROR = 1000
#: ``outbound_messages.kind`` is String(40): a long list of report kinds is cut to fit
KIND_LENGTH = 40

#: One reader: an employee's id, or (locale, zone) of outside addresses.
_Reader = int | tuple[Locale, str]


class _LeaseLost(Exception):
    """Another instance took the run over; this one must not queue anything."""


@dataclass(frozen=True)
class _Letter:
    """One recipient's rendered mail, waiting for the write transaction."""

    address: str
    message_id: str
    raw: bytes


def deliver_run(db: Database, settings: Settings, job: RunJob, *, instance: str) -> ReportRunStatus:
    """Render and queue one claimed run; returns what this instance recorded.

    ``SENT`` or ``EMPTY``; ``QUEUED`` when it failed and will be tried again, ``FAILED`` when
    that was the last attempt; ``RENDERING`` when the lease was lost and another instance owns
    the run (nothing was recorded or queued here).
    """
    try:
        letters = _render(db, settings, job)
        return _queue(db, job, letters, instance)
    except _LeaseLost:
        log.warning("report run %s: lease lost to another instance, nothing queued", job.run_id)
        return ReportRunStatus.RENDERING
    except Exception as exc:
        log.exception("report run %s (%s) failed", job.run_id, job.schedule_name)
        return _fail(db, settings, job, instance, _describe(exc))


def _render(db: Database, settings: Settings, job: RunJob) -> list[_Letter]:
    readers: dict[_Reader, list[Recipient]] = {}
    for recipient in job.recipients:
        key = recipient.employee_id or (recipient.locale, recipient.time_zone)
        readers.setdefault(key, []).append(recipient)
    actors = _actors(db, {r for r in readers if isinstance(r, int)} | {job.owner_id})
    params = _checked_params(job)
    letters, now = [], dt.datetime.now(dt.UTC)
    for recipients in readers.values():
        results = _build(db, job, params, recipients[0], actors)
        if job.skip_if_empty and all(result.is_empty for result in results):
            continue
        for recipient in recipients:
            owner = recipient.employee_id == job.owner_id
            link = None if owner else unsubscribe_url(settings, job.schedule_id, recipient.address)
            raw = mail.report_mail(settings, job, recipient, results, now=now, unsubscribe_url=link)
            identifier = mail.message_id(settings, job.run_id, recipient.address)
            letters.append(_Letter(recipient.address, identifier, raw))
    return letters


def _checked_params(job: RunJob) -> dict[ReportKind, dict[str, Any]]:
    """Each report's parameters, checked again: what was stored may predate a default or a
    rule of the current version. An error names the report (``params.pipeline.months``)."""
    checked = {}
    for kind in job.reports:
        try:
            checked[kind] = registry.check_params(kind, job.params.get(kind.value, {}))
        except InvalidInput as exc:
            reason = exc.message.removeprefix(f"{exc.field}: ")
            key = exc.field.removeprefix("params.")
            raise InvalidInput(f"params.{kind.value}.{key}", reason) from exc
    return checked


def _actors(db: Database, employee_ids: set[int]) -> dict[int, Actor]:
    with db.unit_of_work(_SYSTEM, Source.SYSTEM, read_only=True) as uow:
        employees = uow.session.scalars(select(Employee).where(Employee.id.in_(employee_ids)))
        return {employee.id: actor_for(employee) for employee in employees}


def _build(
    db: Database,
    job: RunJob,
    params: Mapping[ReportKind, Mapping[str, Any]],
    recipient: Recipient,
    actors: dict[int, Actor],
) -> list[ReportResult]:
    """The schedule's reports, in its order, as this recipient may see them (outside addresses:
    through the owner); one unit of work, so they share one moment and one scope."""
    reader = recipient.employee_id or job.owner_id
    if reader not in actors:
        raise NotFound(f"employee {reader} no longer exists")
    with db.unit_of_work(actors[reader], Source.SYSTEM, read_only=True) as uow:
        ctx = reader_context(
            uow,
            locale=recipient.locale,
            zone=ZoneInfo(recipient.time_zone),
            params={},
            outside=recipient.employee_id is None,
        )
        return [
            registry.build(kind, dataclasses.replace(ctx, params=params[kind]))
            for kind in job.reports
        ]


def outbox_kind(reports: Sequence[ReportKind]) -> str:
    """``report:overdue+pipeline``: what the outbox row says it carries. A list too long for
    the column keeps its first kinds whole and ends in ``+more``."""
    kinds = [kind.value for kind in reports]
    for keep in range(len(kinds), 0, -1):
        label = "report:" + "+".join(kinds[:keep]) + ("" if keep == len(kinds) else "+more")
        if len(label) <= KIND_LENGTH:
            return label
    return "report:more"


def _queue(db: Database, job: RunJob, letters: list[_Letter], instance: str) -> ReportRunStatus:
    with db.unit_of_work(_SYSTEM, Source.SYSTEM) as uow:
        letters = [x for x in letters if not mailbox.is_bouncing(uow.session, x.address)]
        status = ReportRunStatus.SENT if letters else ReportRunStatus.EMPTY
        if not report_schedules.finish_run(
            uow, job.run_id, instance=instance, status=status, recipients=len(letters)
        ):
            raise _LeaseLost(job.run_id)
        for letter in letters:
            mailbox.enqueue(
                uow,
                message_id=letter.message_id,
                recipient=letter.address,
                raw=letter.raw,
                kind=outbox_kind(job.reports),
            )
    return status


def _fail(
    db: Database, settings: Settings, job: RunJob, instance: str, error: str
) -> ReportRunStatus:
    """Record the error; after the last attempt tell the owner (in the same transaction)."""
    with db.unit_of_work(_SYSTEM, Source.SYSTEM) as uow:
        final = report_schedules.fail_run(
            uow,
            job.run_id,
            instance=instance,
            error=error,
            max_attempts=settings.reports.max_attempts,
        )
        owner = uow.session.get(Employee, job.owner_id)
        if final and owner is not None and job.owner_address:
            identifier, raw = mail.failure_mail(
                settings,
                job,
                to=job.owner_address,
                locale=owner.locale,
                zone=ZoneInfo(owner.time_zone),
                error=error,
                now=uow.now(),
            )
            mailbox.enqueue(
                uow,
                message_id=identifier,
                recipient=job.owner_address,
                raw=raw,
                kind="report-failed",
            )
    return ReportRunStatus.FAILED if final else ReportRunStatus.QUEUED


def _describe(exc: Exception) -> str:
    """What the owner and ``schedule show`` read: our own errors as they are, others typed."""
    text = exc.message if isinstance(exc, HermesError) else f"{type(exc).__name__}: {exc}"
    return text[:_MAX_ERROR]
