"""``/schedules``: report schedules one may manage (admins: all), their runs, and run-now.

Run-now queues a manual run, as ``schedule run-now`` does, and answers ``202``: the
scheduler of any ``serve`` process claims and delivers it (exactly once across instances).
Create, change and delete go through the same service as ``schedule add|update|delete``: an
employee schedules reports to themselves, administrators to anyone.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from hermes_groupware.http.api.errors import fields_renamed
from hermes_groupware.http.api.fields import JsonObject, Text, refuse_nulls
from hermes_groupware.http.api.paging import Page
from hermes_groupware.http.api.registry import ID_PARAM, Api, Call, Operation
from hermes_groupware.models.enums import Locale, ReportFormat, ReportKind
from hermes_groupware.services import report_schedule_admin, report_schedules
from hermes_groupware.services.report_schedule_admin import MAX_GRACE_MINUTES, ScheduleSpec


class RunOut(BaseModel):
    """One run of a schedule."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    schedule_id: int
    occurrence_at: dt.datetime
    occurrence_local: str
    status: str
    late: bool
    attempts: int
    recipients: int
    error: str | None
    claimed_by: str | None
    finished_at: dt.datetime | None


class ScheduleOut(BaseModel):
    """A schedule: reports, cron in its zone, recipients as typed, next and last run."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    reports: list[str]
    params: dict[str, dict[str, Any]]
    cron: str
    time_zone: str
    owner: str
    formats: list[str]
    locale: str
    skip_if_empty: bool
    enabled: bool
    grace_minutes: int | None
    next_fire_at: dt.datetime | None
    version: int
    recipients: list[str]
    unsubscribed: list[str]
    last_run: RunOut | None


class RunsQuery(BaseModel):
    """How many of the newest runs."""

    limit: int = Field(10, ge=1, le=200)


Name = Annotated[Text, Field(min_length=1, max_length=200)]
Cron = Annotated[
    Text, Field(min_length=1, max_length=100, description="five fields, e.g. 0 8 * * MON")
]
Zone = Annotated[Text, Field(min_length=1, max_length=64, description="IANA time zone")]
Reports = Annotated[list[ReportKind], Field(min_length=1, max_length=7)]
Recipients = Annotated[
    list[Annotated[Text, Field(min_length=1, max_length=320)]],
    Field(min_length=1, max_length=100, description="LOGIN, group:SLUG or an e-mail address"),
]
Formats = Annotated[list[ReportFormat], Field(max_length=4)]
Params = Annotated[JsonObject, Field(description="by report: {\"pipeline\": {\"months\": 3}}")]
Grace = Annotated[int, Field(ge=0, le=MAX_GRACE_MINUTES)]
Login = Annotated[Text, Field(min_length=1, max_length=64)]
_FIELDS = {"to": "recipients"}


class ScheduleCreate(BaseModel):
    """A new schedule; without ``owner`` it is yours."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    reports: Reports
    cron: Cron
    recipients: Recipients
    params: Params = Field(default_factory=dict)
    time_zone: Zone = report_schedule_admin.DEFAULT_ZONE
    formats: Formats = Field(default_factory=lambda: [ReportFormat.HTML])
    locale: Locale = Locale.PL
    skip_if_empty: bool = False
    enabled: bool = True
    grace_minutes: Grace | None = Field(None, description="null: [reports] default")
    owner: Login | None = Field(None, description="login; defaults to you")


class ScheduleUpdate(BaseModel):
    """What to change; left out stays. ``grace_minutes`` null goes back to the default."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    reports: Reports | None = None
    cron: Cron | None = None
    recipients: Recipients | None = None
    params: Params | None = None
    time_zone: Zone | None = None
    formats: Formats | None = None
    locale: Locale | None = None
    skip_if_empty: bool | None = None
    enabled: bool | None = None
    grace_minutes: Grace | None = None
    owner: Login | None = None


ScheduleList = Page[ScheduleOut]
RunList = Page[RunOut]


def register(api: Api) -> None:
    """Add the schedule operations."""
    tag, one = "schedules", {"schedule_id": ID_PARAM}
    api.add(Operation("GET", "/schedules", list_schedules, "Report schedules you manage", tag,
                      response=ScheduleList))
    api.add(Operation("POST", "/schedules", create_schedule, "Create a schedule", tag,
                      scope="write", body=ScheduleCreate, response=ScheduleOut, status=201))
    api.add(Operation("GET", "/schedules/{schedule_id}", get_schedule, "One schedule", tag,
                      response=ScheduleOut, params=one))
    api.add(Operation("PATCH", "/schedules/{schedule_id}", update_schedule, "Change a schedule",
                      tag, scope="write", body=ScheduleUpdate, response=ScheduleOut, params=one))
    api.add(Operation("DELETE", "/schedules/{schedule_id}", delete_schedule,
                      "Delete a schedule with its runs", tag, scope="write", status=204,
                      params=one))
    api.add(Operation("GET", "/schedules/{schedule_id}/runs", list_runs, "Its newest runs", tag,
                      query=RunsQuery, response=RunList, params=one))
    api.add(Operation("POST", "/schedules/{schedule_id}/run-now", run_now,
                      "Queue a run now (delivered by the scheduler)", tag, scope="write",
                      response=RunOut, status=202, params=one))  # fmt: skip


def list_schedules(call: Call) -> ScheduleList:
    """By name."""
    with call.uow() as uow:
        rows = report_schedule_admin.list_schedules(uow)
    return ScheduleList(items=[ScheduleOut.model_validate(r) for r in rows], next=None)


def create_schedule(call: Call) -> ScheduleOut:
    """Its first fire time is planned from now."""
    spec = ScheduleSpec(**call.body_as(ScheduleCreate).model_dump())
    with call.uow(write=True) as uow, fields_renamed(_FIELDS):
        return ScheduleOut.model_validate(report_schedule_admin.create_schedule(uow, spec))


def update_schedule(call: Call, schedule_id: int) -> ScheduleOut:
    """The version rises and the next fire time is planned again."""
    given = call.body_as(ScheduleUpdate).model_dump(exclude_unset=True)
    refuse_nulls(given, allowed=frozenset({"grace_minutes"}))  # null: back to the default
    default_grace = "grace_minutes" in given and given["grace_minutes"] is None
    spec = ScheduleSpec(**given, default_grace=default_grace)
    with call.uow(write=True) as uow, fields_renamed(_FIELDS):
        view = report_schedule_admin.update_schedule(uow, schedule_id, spec)
        return ScheduleOut.model_validate(view)


def delete_schedule(call: Call, schedule_id: int) -> None:
    """404 for a schedule one may not manage."""
    with call.uow(write=True) as uow:
        report_schedule_admin.delete_schedule(uow, schedule_id)


def get_schedule(call: Call, schedule_id: int) -> ScheduleOut:
    """404 for a schedule one may not manage."""
    with call.uow() as uow:
        return ScheduleOut.model_validate(report_schedule_admin.get_schedule(uow, schedule_id))


def list_runs(call: Call, schedule_id: int) -> RunList:
    """Newest first."""
    limit = call.query_as(RunsQuery).limit
    with call.uow() as uow:
        rows = report_schedule_admin.list_runs(uow, schedule_id, limit=limit)
    return RunList(items=[RunOut.model_validate(r) for r in rows], next=None)


def run_now(call: Call, schedule_id: int) -> RunOut:
    """The queued run."""
    with call.uow(write=True) as uow:
        run_id = report_schedules.run_now(uow, schedule_id)
        return RunOut.model_validate(report_schedule_admin.get_run(uow, run_id))
