"""Report schedules as admins and owners manage them: add, change, list, show, delete.

Who may do what: administrators manage every schedule and send to anyone. An employee may
manage the schedules they own and send them only to themselves (their login or their own
address): each recipient gets the report with their own rights anyway, but mailing other
people on a timer is an administrator's decision. Other people's schedules do not exist for
an employee (NotFound).

Every save re-plans ``next_fire_at`` in the same transaction, so an edit takes effect on the
next tick of any instance, without a restart. Re-planning starts at the earlier of now and an
occurrence that was already due but not yet picked up, so an edit never swallows it.

A schedule carries one or more distinct reports, sent together in one mail in the order
given; their parameters are kept per report kind. Each kind's parameters are checked by the
caller (``reports.registry.check_params``): the core does not import ``reports``, it checks
only their shape and that a view report names a saved view.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound, PermissionDenied
from hermes_groupware.models import (
    Employee,
    ReportRun,
    ReportSchedule,
    ReportUnsubscription,
    SavedView,
)
from hermes_groupware.models.enums import Locale, ReportFormat, ReportKind, ReportRunStatus
from hermes_groupware.services import audit, report_recipients, report_timing
from hermes_groupware.services.directory import validate_time_zone
from hermes_groupware.services.lookups import employee_by_login
from hermes_groupware.services.report_recipients import Target

DEFAULT_ZONE = "Europe/Warsaw"
MAX_GRACE_MINUTES = 31 * 24 * 60
_ONE_SECOND = dt.timedelta(seconds=1)
_E = TypeVar("_E", bound=enum.StrEnum)


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule's definition. On update None leaves a field alone; a new schedule needs
    ``name``, ``reports``, ``cron`` and ``recipients``.

    ``reports``: distinct kinds in the mail's order; on update the new list replaces the old.
    ``params``: by kind value (``{"pipeline": {"months": 3}}``); a kind given replaces that
    kind's parameters, a kind left out keeps its own (``{}`` for a new one), so changing the
    list does not lose the parameters of the reports that stay.
    ``recipients``: see :mod:`report_recipients`. ``owner``: a login; by default the acting
    employee, else the first employee among the recipients. Enum fields may come as their
    text (an API passes on what it got); unknown values are InvalidInput naming the field.
    """

    name: str | None = None
    reports: Sequence[ReportKind | str] | None = None
    params: Mapping[str, Mapping[str, Any]] | None = None
    cron: str | None = None
    time_zone: str | None = None
    recipients: Sequence[str] | None = None
    formats: Sequence[ReportFormat | str] | None = None
    skip_if_empty: bool | None = None
    enabled: bool | None = None
    grace_minutes: int | None = None
    default_grace: bool = False  # True: forget ``grace_minutes``, use ``[reports]``'s
    locale: Locale | str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class RunView:
    """One run as people read it."""

    id: int
    schedule_id: int
    occurrence_at: dt.datetime
    occurrence_local: str
    status: ReportRunStatus
    late: bool
    attempts: int
    recipients: int
    error: str | None
    claimed_by: str | None
    finished_at: dt.datetime | None


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as people read it; ``recipients`` in the form they are typed."""

    id: int
    name: str
    reports: tuple[ReportKind, ...]
    params: dict[str, dict[str, Any]]
    cron: str
    time_zone: str
    owner: str
    formats: tuple[ReportFormat, ...]
    locale: Locale
    skip_if_empty: bool
    enabled: bool
    grace_minutes: int | None
    next_fire_at: dt.datetime | None
    version: int
    recipients: tuple[str, ...]
    unsubscribed: tuple[str, ...]
    last_run: RunView | None


def create_schedule(uow: UnitOfWork, spec: ScheduleSpec) -> ScheduleView:
    """Validate and save a new schedule; its first fire time is planned from now."""
    for field in ("name", "reports", "cron", "recipients"):
        if not getattr(spec, field):
            raise InvalidInput(field, "required for a new schedule")
    targets = report_recipients.parse_targets(uow, spec.recipients or ())
    schedule = ReportSchedule(
        reports="",
        params="{}",
        time_zone=DEFAULT_ZONE,
        formats=ReportFormat.HTML.value,
        locale=Locale.PL,
        skip_if_empty=False,
        enabled=True,
        version=0,
        created_at=uow.now(),
    )
    _apply(uow, schedule, spec, targets)
    uow.session.add(schedule)
    uow.session.flush()
    report_recipients.store(uow.session, schedule.id, targets)
    audit.record(uow, "schedule.create", "schedule", schedule.id, name=schedule.name)
    return schedule_view(uow.session, schedule)


def update_schedule(uow: UnitOfWork, schedule_id: int, spec: ScheduleSpec) -> ScheduleView:
    """Change a schedule; the version goes up and the next fire time is re-planned."""
    schedule = manageable(uow, schedule_id)
    targets = (
        None if spec.recipients is None else report_recipients.parse_targets(uow, spec.recipients)
    )
    _apply(uow, schedule, spec, targets)
    if targets is not None:
        report_recipients.store(uow.session, schedule.id, targets)
    uow.session.flush()
    audit.record(uow, "schedule.update", "schedule", schedule.id, name=schedule.name)
    return schedule_view(uow.session, schedule)


def delete_schedule(uow: UnitOfWork, schedule_id: int) -> None:
    """Remove a schedule with its recipients and runs; a run being rendered is not sent."""
    schedule = manageable(uow, schedule_id)
    uow.session.delete(schedule)
    uow.session.flush()
    audit.record(uow, "schedule.delete", "schedule", schedule_id, name=schedule.name)


def list_schedules(uow: UnitOfWork) -> list[ScheduleView]:
    """Every schedule for admins, the own ones for an employee, by name."""
    query = select(ReportSchedule).order_by(ReportSchedule.name)
    if not uow.actor.is_admin:
        query = query.where(ReportSchedule.owner_id == uow.actor.employee_id)
    return [schedule_view(uow.session, s) for s in uow.session.scalars(query)]


def get_schedule(uow: UnitOfWork, schedule_id: int) -> ScheduleView:
    """One schedule the actor may manage."""
    return schedule_view(uow.session, manageable(uow, schedule_id))


def list_runs(uow: UnitOfWork, schedule_id: int, *, limit: int = 10) -> list[RunView]:
    """The newest runs of a schedule the actor may manage."""
    manageable(uow, schedule_id)
    query = (
        select(ReportRun)
        .where(ReportRun.schedule_id == schedule_id)
        .order_by(ReportRun.occurrence_at.desc(), ReportRun.id.desc())
        .limit(limit)
    )
    return [run_view(run) for run in uow.session.scalars(query)]


def get_run(uow: UnitOfWork, run_id: int) -> RunView:
    """One run of a schedule the actor may manage."""
    run = uow.session.get(ReportRun, run_id)
    if run is None:
        raise NotFound(f"report run {run_id} not found")
    manageable(uow, run.schedule_id)
    return run_view(run)


def upcoming(schedule: ScheduleView, moment: dt.datetime, count: int = 5) -> list[dt.datetime]:
    """The next fire times after ``moment`` in the schedule's zone (none while disabled)."""
    if not schedule.enabled:
        return []
    return report_timing.upcoming(schedule.cron, ZoneInfo(schedule.time_zone), moment, count)


def manageable(uow: UnitOfWork, schedule_id: int) -> ReportSchedule:
    """The schedule, if the actor is an admin or its owner; otherwise NotFound."""
    schedule = uow.session.get(ReportSchedule, schedule_id)
    if schedule is None or not (uow.actor.is_admin or schedule.owner_id == uow.actor.employee_id):
        raise NotFound(f"report schedule {schedule_id} not found")
    return schedule


def run_view(run: ReportRun) -> RunView:
    """The run as a read model."""
    return RunView(
        id=run.id,
        schedule_id=run.schedule_id,
        occurrence_at=run.occurrence_at,
        occurrence_local=run.occurrence_local,
        status=ReportRunStatus(run.status),
        late=run.late,
        attempts=run.attempts,
        recipients=run.recipients,
        error=run.error,
        claimed_by=run.claimed_by,
        finished_at=run.finished_at,
    )


def schedule_view(session: Session, schedule: ReportSchedule) -> ScheduleView:
    """The schedule as a read model, with its recipients and its newest run."""
    last = session.scalars(
        select(ReportRun)
        .where(ReportRun.schedule_id == schedule.id)
        .order_by(ReportRun.occurrence_at.desc(), ReportRun.id.desc())
        .limit(1)
    ).first()
    unsubscribed = session.scalars(
        select(ReportUnsubscription.address)
        .where(ReportUnsubscription.schedule_id == schedule.id)
        .order_by(ReportUnsubscription.address)
    )
    reports = parse_reports(schedule.reports)
    return ScheduleView(
        id=schedule.id,
        name=schedule.name,
        reports=reports,
        params=parse_params(schedule.params, reports),
        cron=schedule.cron,
        time_zone=schedule.time_zone,
        owner=session.scalar(select(Employee.login).where(Employee.id == schedule.owner_id)) or "?",
        formats=parse_formats(schedule.formats),
        locale=Locale(schedule.locale),
        skip_if_empty=schedule.skip_if_empty,
        enabled=schedule.enabled,
        grace_minutes=schedule.grace_minutes,
        next_fire_at=schedule.next_fire_at,
        version=schedule.version,
        recipients=report_recipients.labels(session, schedule.id),
        unsubscribed=tuple(unsubscribed),
        last_run=run_view(last) if last else None,
    )


def parse_formats(stored: str) -> tuple[ReportFormat, ...]:
    """The stored comma list as formats, HTML (the mail body) always first."""
    wanted = {ReportFormat(f) for f in stored.split(",") if f} | {ReportFormat.HTML}
    return tuple(f for f in ReportFormat if f in wanted)


def parse_reports(
    values: str | Iterable[ReportKind | str], *, field: str = "reports"
) -> tuple[ReportKind, ...]:
    """Report kinds from a comma list or a sequence, in the order given: at least one, each
    known and given once (one mail has one section per kind). Else InvalidInput on ``field``.
    """
    items = values.split(",") if isinstance(values, str) else values
    kinds: list[ReportKind] = []
    for item in items:
        text = item.strip()
        try:
            kind = ReportKind(text)
        except ValueError as exc:
            choices = ", ".join(k.value for k in ReportKind)
            raise InvalidInput(field, f"unknown report {text!r}; one of: {choices}") from exc
        if kind in kinds:
            raise InvalidInput(field, f"report {kind.value!r} is given twice")
        kinds.append(kind)
    if not kinds:
        raise InvalidInput(field, "at least one report")
    return tuple(kinds)


def parse_params(stored: str, reports: Sequence[ReportKind]) -> dict[str, dict[str, Any]]:
    """The stored JSON as parameters of every report of the schedule (``{}`` when none);
    InvalidInput when a hand-written value is not an object of objects."""
    try:
        loaded = json.loads(stored or "{}")
    except ValueError as exc:
        raise InvalidInput("params", f"not JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise InvalidInput("params", "expected a JSON object keyed by report")
    params = {kind.value: loaded.get(kind.value) or {} for kind in reports}
    for kind, values in params.items():
        if not isinstance(values, dict):
            raise InvalidInput(f"params.{kind}", "expected a JSON object")
    return params


# --- validation -------------------------------------------------------------------------------


def _apply(
    uow: UnitOfWork, schedule: ReportSchedule, spec: ScheduleSpec, targets: list[Target] | None
) -> None:
    """Copy the given fields after checking them, then bump the version and re-plan."""
    pending = schedule.next_fire_at if schedule.enabled else None
    _apply_content(uow.session, schedule, spec)
    _apply_timing(schedule, spec)
    if spec.owner is not None or schedule.owner_id is None:
        schedule.owner_id = _owner(uow, spec.owner, targets or [])
    schedule.version += 1
    schedule.updated_at = uow.now()
    _plan(schedule, uow.now(), pending)


def _apply_content(session: Session, schedule: ReportSchedule, spec: ScheduleSpec) -> None:
    """What is sent: name, reports and their parameters, formats, language, empty reports."""
    if spec.name is not None:
        schedule.name = _name(session, spec.name, schedule.id)
    if spec.reports is not None or spec.params is not None:
        current = parse_reports(schedule.reports) if schedule.reports else ()
        kept = parse_params(schedule.params, current) if current else {}
        reports = current if spec.reports is None else parse_reports(spec.reports)
        schedule.params = _params(reports, kept, spec.params or {})
        schedule.reports = ",".join(reports)
        if ReportKind.VIEW in reports:
            _require_view(session, json.loads(schedule.params)[ReportKind.VIEW.value].get("view"))
    if spec.formats is not None:
        wanted = {_member(ReportFormat, f, "formats") for f in spec.formats}
        schedule.formats = ",".join(parse_formats(",".join(wanted)))
    if spec.locale is not None:
        schedule.locale = _member(Locale, spec.locale, "locale")
    if spec.skip_if_empty is not None:
        schedule.skip_if_empty = spec.skip_if_empty


def _apply_timing(schedule: ReportSchedule, spec: ScheduleSpec) -> None:
    """When it is sent: cron, zone, paused or not, how late it may still go out."""
    if spec.cron is not None:
        schedule.cron = report_timing.validate_cron(spec.cron)
    if spec.time_zone is not None:
        schedule.time_zone = validate_time_zone(spec.time_zone)
    if spec.enabled is not None:
        schedule.enabled = spec.enabled
    if spec.grace_minutes is not None or spec.default_grace:
        schedule.grace_minutes = None if spec.default_grace else _grace(spec.grace_minutes)


def _plan(schedule: ReportSchedule, now: dt.datetime, pending: dt.datetime | None) -> None:
    if not schedule.enabled:
        schedule.next_fire_at = None
        return
    since = min(now, pending - _ONE_SECOND) if pending else now
    schedule.next_fire_at = report_timing.next_after(
        schedule.cron, ZoneInfo(schedule.time_zone), since
    )


def _member(cls: type[_E], value: str, field: str) -> _E:
    try:
        return cls(value)
    except ValueError as exc:
        choices = ", ".join(m.value for m in cls)
        raise InvalidInput(field, f"unknown {field} {value!r}; one of: {choices}") from exc


def _name(session: Session, name: str, schedule_id: int | None) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("name", "1 to 200 characters")
    taken = select(ReportSchedule.id).where(
        ReportSchedule.name == name, ReportSchedule.id != (schedule_id or 0)
    )
    if session.scalar(taken) is not None:
        raise InvalidInput("name", f"a schedule named {name!r} already exists")
    return name


def _params(
    reports: Sequence[ReportKind],
    kept: Mapping[str, dict[str, Any]],
    given: Mapping[str, Mapping[str, Any]],
) -> str:
    """Every report's parameters as JSON: the given ones, else those kept, else none."""
    if not isinstance(given, Mapping):
        raise InvalidInput("params", "expected a JSON object keyed by report")
    names = [kind.value for kind in reports]
    for kind, values in given.items():
        if kind not in names:
            listed = ", ".join(names)
            raise InvalidInput(f"params.{kind}", f"not a report of this schedule ({listed})")
        if not isinstance(values, Mapping):
            raise InvalidInput(f"params.{kind}", "expected a JSON object")
    merged = {name: dict(given[name] if name in given else kept.get(name, {})) for name in names}
    try:
        return json.dumps(merged, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("params", f"not representable as JSON: {exc}") from exc


def _require_view(session: Session, name: object) -> None:
    """A view report needs a saved view of that name (each reader's rights apply later)."""
    if not session.scalar(select(exists().where(SavedView.name == name))):
        raise InvalidInput("params.view.view", f"no saved view named {name!r}")


def _grace(minutes: int | None) -> int:
    if minutes is None or not 0 <= minutes <= MAX_GRACE_MINUTES:
        raise InvalidInput("grace_minutes", f"0 to {MAX_GRACE_MINUTES} minutes")
    return minutes


def _owner(uow: UnitOfWork, login: str | None, targets: list[Target]) -> int:
    actor = uow.actor
    if login is not None:
        owner = employee_by_login(uow.session, login, field="owner")
        if not owner.is_active:
            raise InvalidInput("owner", f"{owner.login} is not active")
        if not actor.is_admin and owner.id != actor.employee_id:
            raise PermissionDenied("only administrators may give a schedule another owner")
        return owner.id
    if actor.employee_id is not None:
        return actor.employee_id
    first = next((t.employee_id for t in targets if t.employee_id is not None), None)
    if first is None:
        raise InvalidInput("owner", "give the owner's login (no employee among the recipients)")
    return first
