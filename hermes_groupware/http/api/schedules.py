"""``/schedules``: report schedules one may manage (admins: all), their runs, and run-now.

Run-now queues a manual run, as ``schedule run-now`` does, and answers ``202``: the
scheduler of any ``serve`` process claims and delivers it (exactly once across instances).
Creating and changing schedules stays with ``schedule add|update`` for now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hermes_groupware.http.api.paging import Page
from hermes_groupware.http.api.registry import ID_PARAM, Api, Call, Operation
from hermes_groupware.services import report_schedule_admin, report_schedules


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


ScheduleList = Page[ScheduleOut]
RunList = Page[RunOut]


def register(api: Api) -> None:
    """Add the schedule operations."""
    tag, one = "schedules", {"schedule_id": ID_PARAM}
    api.add(Operation("GET", "/schedules", list_schedules, "Report schedules you manage", tag,
                      response=ScheduleList))
    api.add(Operation("GET", "/schedules/{schedule_id}", get_schedule, "One schedule", tag,
                      response=ScheduleOut, params=one))
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
