"""Runs of report schedules: which occurrences are due, who renders them, how they end.

Exactly-once comes from the database, not from the in-process timer: every occurrence is one
``report_runs`` row, unique per (schedule, local wall-clock time) and inserted with ON CONFLICT
DO NOTHING; due schedules and queued runs are taken with FOR UPDATE SKIP LOCKED on PostgreSQL
(on SQLite the writer lock of BEGIN IMMEDIATE serialises instances). A claimed run carries a
lease; when its instance dies, another one takes it over after the lease. Finishing is fenced
by the claim, so a run whose lease was taken over cannot be finished twice.

Catching up after downtime: of the occurrences missed while no instance ran, the newest is
sent once (marked late) if it is within the grace window; every other one is recorded as
``missed`` and never sent, so a long outage never ends in a burst of stale reports.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass
from itertools import takewhile
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.db.upsert import insert_unless_present
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import (
    Employee,
    ReportRecipient,
    ReportRun,
    ReportSchedule,
    ReportUnsubscription,
    group_members,
)
from hermes_groupware.models.enums import Locale, ReportFormat, ReportKind, ReportRunStatus
from hermes_groupware.services import report_timing
from hermes_groupware.services.directory import validate_time_zone
from hermes_groupware.services.report_schedule_admin import (
    manageable,
    parse_formats,
    parse_params,
    parse_reports,
)

#: An occurrence picked up later than this after its time is marked late in the mail.
LATE_AFTER = dt.timedelta(minutes=5)
#: Missed occurrences further back are not looked at, and at most this many are recorded.
MISSED_HORIZON = dt.timedelta(days=31)
MAX_MISSED_RECORDED = 100
#: A failed run waits this long times its attempts before it is tried again.
RETRY_DELAY = dt.timedelta(minutes=1)
MANUAL = "manual:"
_MAX_ERROR = 2000


@dataclass(frozen=True)
class Recipient:
    """Who gets one copy; ``employee_id`` None is an outside address (the owner's rights,
    narrowed to registers that allow outside recipients)."""

    address: str
    employee_id: int | None
    locale: Locale
    time_zone: str


@dataclass(frozen=True)
class RunJob:
    """A claimed run with everything the delivery needs; recipients resolved at claim time.

    ``reports`` go into one mail in this order; ``params`` holds each one's parameters by
    kind value, every kind present (``{}`` when none).
    """

    run_id: int
    schedule_id: int
    schedule_name: str
    reports: tuple[ReportKind, ...]
    params: dict[str, dict[str, Any]]
    formats: tuple[ReportFormat, ...]
    skip_if_empty: bool
    owner_id: int
    owner_address: str | None
    occurrence_at: dt.datetime
    occurrence_local: str
    time_zone: str
    locale: Locale
    late: bool
    attempt: int
    recipients: tuple[Recipient, ...]


# --- timing -----------------------------------------------------------------------------------


def materialise_due(
    uow: UnitOfWork, *, default_grace_minutes: int, late_after: dt.timedelta = LATE_AFTER
) -> int:
    """Insert the runs of every enabled schedule whose next fire time has come; the count of
    new rows (queued and missed). Each schedule's next fire time moves past now."""
    now = uow.now()
    query = (
        select(ReportSchedule)
        .where(ReportSchedule.enabled.is_(True), ReportSchedule.next_fire_at <= now)
        .order_by(ReportSchedule.next_fire_at, ReportSchedule.id)
    )
    if _on_postgresql(uow.session):
        query = query.with_for_update(skip_locked=True)
    created = 0
    for schedule in uow.session.scalars(query).all():
        minutes = schedule.grace_minutes
        grace = dt.timedelta(minutes=default_grace_minutes if minutes is None else minutes)
        try:
            report_timing.validate_cron(schedule.cron)
            validate_time_zone(schedule.time_zone)
            parse_params(schedule.params, parse_reports(schedule.reports))
        except InvalidInput as exc:  # written around the service: stop it, say why, go on
            created += _unplannable(uow.session, schedule, now, exc.message)
            continue
        created += _materialise(uow.session, schedule, now, max(grace, late_after), late_after)
    return created


def _unplannable(session: Session, schedule: ReportSchedule, now: dt.datetime, error: str) -> int:
    """A failed run that tells ``schedule show`` why the schedule stopped firing."""
    schedule.next_fire_at = None
    values = {
        "schedule_id": schedule.id,
        "occurrence_at": now,
        "occurrence_local": now.strftime("invalid:%Y-%m-%dT%H:%M:%S.%fZ"),
        "status": ReportRunStatus.FAILED,
        "error": f"not scheduled any more: {error}",
        "created_at": now,
        "finished_at": now,
    }
    return insert_unless_present(session, ReportRun, values, ReportRun.id) is not None


def _materialise(
    session: Session,
    schedule: ReportSchedule,
    now: dt.datetime,
    grace: dt.timedelta,
    late_after: dt.timedelta,
) -> int:
    """The schedule's due occurrences as rows: the newest queued when within ``grace``,
    the older ones missed; then the next fire time after now."""
    zone = ZoneInfo(schedule.time_zone)
    since = max(schedule.next_fire_at or now, now - MISSED_HORIZON)
    fired = report_timing.occurrences(schedule.cron, zone, since=since)
    due = list(deque(takewhile(lambda when: when <= now, fired), maxlen=MAX_MISSED_RECORDED + 1))
    schedule.next_fire_at = report_timing.next_after(schedule.cron, zone, now)
    created = 0
    for when in due:
        on_time = when is due[-1] and now - when <= grace
        status = ReportRunStatus.QUEUED if on_time else ReportRunStatus.MISSED
        values = {
            "schedule_id": schedule.id,
            "occurrence_at": when.astimezone(dt.UTC),
            "occurrence_local": report_timing.local_label(when, zone),
            "status": status,
            "late": on_time and now - when > late_after,
            "created_at": now,
            "finished_at": None if on_time else now,
        }
        created += insert_unless_present(session, ReportRun, values, ReportRun.id) is not None
    return created


def run_now(uow: UnitOfWork, schedule_id: int) -> int:
    """Queue a manual run of a schedule the actor may manage (even a disabled one).

    Its key is ``manual:`` and the UTC time to the microsecond, moved on by one microsecond
    in the unlikely case that another manual run holds it.
    """
    schedule = manageable(uow, schedule_id)
    now = at = uow.now()
    while True:
        values = {
            "schedule_id": schedule.id,
            "occurrence_at": at,
            "occurrence_local": MANUAL + at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "status": ReportRunStatus.QUEUED,
            "created_at": now,
        }
        run_id = insert_unless_present(uow.session, ReportRun, values, ReportRun.id)
        if run_id is not None:
            return int(run_id)
        at += dt.timedelta(microseconds=1)


# --- claiming and finishing -------------------------------------------------------------------


def claim_runs(
    uow: UnitOfWork,
    *,
    instance: str,
    lease_seconds: int,
    limit: int = 5,
    max_attempts: int | None = None,
    run_id: int | None = None,
) -> list[RunJob]:
    """Take queued runs that are not waiting for a retry, and runs whose renderer's lease
    expired, for ``instance``.

    A scheduled run of a schedule disabled meanwhile ends ``cancelled``; with ``max_attempts``
    a run whose renderers keep dying ends ``failed`` instead of being taken again. ``run_id``
    takes only that run (``schedule run-now``).
    """
    session, now = uow.session, uow.now()
    query = (
        select(ReportRun)
        .where(
            or_(
                and_(
                    ReportRun.status == ReportRunStatus.QUEUED,
                    or_(ReportRun.lease_until.is_(None), ReportRun.lease_until <= now),
                ),
                and_(ReportRun.status == ReportRunStatus.RENDERING, ReportRun.lease_until < now),
            )
        )
        .order_by(ReportRun.id)
        .limit(limit)
    )
    if run_id is not None:
        query = query.where(ReportRun.id == run_id)
    if _on_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    jobs = []
    for run in session.scalars(query).all():
        schedule = session.get_one(ReportSchedule, run.schedule_id)
        if not schedule.enabled and not run.occurrence_local.startswith(MANUAL):
            _end(run, ReportRunStatus.CANCELLED, now, "the schedule was disabled")
        elif max_attempts is not None and run.attempts >= max_attempts:
            _end(run, ReportRunStatus.FAILED, now, f"abandoned after {run.attempts} attempts")
        else:
            try:
                reports = parse_reports(schedule.reports)
                params = parse_params(schedule.params, reports)
            except InvalidInput as exc:  # written around the service: one run fails, not all
                _end(run, ReportRunStatus.FAILED, now, exc.message)
                continue
            run.status = ReportRunStatus.RENDERING
            run.claimed_by = instance
            run.lease_until = now + dt.timedelta(seconds=lease_seconds)
            run.attempts += 1
            jobs.append(_job(session, run, schedule, reports, params))
    session.flush()
    return jobs


def finish_run(
    uow: UnitOfWork, run_id: int, *, instance: str, status: ReportRunStatus, recipients: int
) -> bool:
    """Record a rendered run (``sent`` or ``empty``); False when ``instance`` lost its claim,
    and then the caller must roll back what it queued."""
    if status not in (ReportRunStatus.SENT, ReportRunStatus.EMPTY):
        raise ValueError(f"a run finishes sent or empty, not {status}")
    run = _claimed(uow.session, run_id, instance)
    if run is None:
        return False
    _end(run, status, uow.now(), None)
    run.recipients = recipients
    uow.session.flush()
    return True


def fail_run(uow: UnitOfWork, run_id: int, *, instance: str, error: str, max_attempts: int) -> bool:
    """Record a failed attempt; the run is queued again until ``max_attempts``, then it is
    ``failed``. True when that failure is final (the owner should be told).

    A queued run's ``lease_until`` is the earliest time of its retry, so a failure that
    would happen again right away does not use up every attempt within one tick.
    """
    run = _claimed(uow.session, run_id, instance)
    if run is None:
        return False
    final = run.attempts >= max_attempts
    if final:
        _end(run, ReportRunStatus.FAILED, uow.now(), error)
    else:
        run.status = ReportRunStatus.QUEUED
        run.claimed_by = None
        run.lease_until = uow.now() + RETRY_DELAY * run.attempts
        run.error = error[:_MAX_ERROR]
    uow.session.flush()
    return final


# --- unsubscribing ----------------------------------------------------------------------------


def unsubscribe(uow: UnitOfWork, schedule_id: int, address: str) -> bool:
    """Stop sending one schedule to one address (idempotent); False for an unknown schedule.

    The caller has checked the signed token, so no actor check here.
    """
    if uow.session.get(ReportSchedule, schedule_id) is None:
        return False
    values = {"schedule_id": schedule_id, "address": address.lower(), "unsubscribed_at": uow.now()}
    insert_unless_present(uow.session, ReportUnsubscription, values, ReportUnsubscription.address)
    return True


def is_subscribed(session: Session, schedule_id: int, address: str) -> bool:
    """Whether the schedule exists and the address has not unsubscribed from it."""
    if session.get(ReportSchedule, schedule_id) is None:
        return False
    return session.get(ReportUnsubscription, (schedule_id, address.lower())) is None


# --- helpers ----------------------------------------------------------------------------------


def _job(
    session: Session,
    run: ReportRun,
    schedule: ReportSchedule,
    reports: tuple[ReportKind, ...],
    params: dict[str, dict[str, Any]],
) -> RunJob:
    owner_address = session.scalar(select(Employee.email).where(Employee.id == schedule.owner_id))
    return RunJob(
        run_id=run.id,
        schedule_id=schedule.id,
        schedule_name=schedule.name,
        reports=reports,
        params=params,
        formats=parse_formats(schedule.formats),
        skip_if_empty=schedule.skip_if_empty,
        owner_id=schedule.owner_id,
        owner_address=owner_address.lower() if owner_address else None,
        occurrence_at=run.occurrence_at,
        occurrence_local=run.occurrence_local,
        time_zone=schedule.time_zone,
        locale=Locale(schedule.locale),
        late=run.late,
        attempt=run.attempts,
        recipients=_recipients(session, schedule),
    )


def _recipients(session: Session, schedule: ReportSchedule) -> tuple[Recipient, ...]:
    """Groups expanded; inactive employees, those without e-mail and unsubscribed addresses
    left out; one copy per address, an employee's own rights winning over an outside copy."""
    targets = session.scalars(
        select(ReportRecipient).where(ReportRecipient.schedule_id == schedule.id)
    ).all()
    group_ids = [t.group_id for t in targets if t.group_id is not None]
    members = select(group_members.c.employee_id).where(group_members.c.group_id.in_(group_ids))
    employees = session.scalars(
        select(Employee)
        .where(
            or_(
                Employee.id.in_([t.employee_id for t in targets if t.employee_id is not None]),
                Employee.id.in_(members),
            ),
            Employee.is_active.is_(True),
            Employee.email.is_not(None),
        )
        .order_by(Employee.id)
    )
    by_address: dict[str, Recipient] = {}
    for e in employees:
        address = (e.email or "").lower()
        by_address.setdefault(address, Recipient(address, e.id, Locale(e.locale), e.time_zone))
    for address in (t.address.lower() for t in targets if t.address):
        by_address.setdefault(
            address, Recipient(address, None, schedule.locale, schedule.time_zone)
        )
    gone = set(
        session.scalars(
            select(ReportUnsubscription.address).where(
                ReportUnsubscription.schedule_id == schedule.id
            )
        )
    )
    return tuple(by_address[a] for a in sorted(by_address) if a not in gone)


def _claimed(session: Session, run_id: int, instance: str) -> ReportRun | None:
    """The run locked, if ``instance`` still holds its claim."""
    query = select(ReportRun).where(
        ReportRun.id == run_id,
        ReportRun.claimed_by == instance,
        ReportRun.status == ReportRunStatus.RENDERING,
    )
    if _on_postgresql(session):
        query = query.with_for_update()
    return session.scalars(query).first()


def _end(run: ReportRun, status: ReportRunStatus, now: dt.datetime, error: str | None) -> None:
    run.status = status
    run.finished_at = now
    run.lease_until = None
    run.error = error[:_MAX_ERROR] if error else None


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
