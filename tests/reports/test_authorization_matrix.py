"""Every report and saved view, run by each employee of the matrix office, holds only what the
table in ``tests.authz_world`` lets them see (the hidden parent never, for its delegate)."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest
from freezegun import freeze_time

from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.models.enums import ReportKind
from hermes_groupware.services import saved_views
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import employee_by_login
from reports.registry import MODULES
from tests.authz_world import ALL_TASKS_VIEW, LOGINS, SUBJECTS, AuthzWorld, build
from tests.reports.reading import everything_readable, run_report

PARAMS: dict[ReportKind, dict[str, str]] = {
    ReportKind.VIEW: {"view": ALL_TASKS_VIEW},
    ReportKind.COMPLAINTS: {"register": "ZAS"},
    ReportKind.AGENDA: {"period": "week"},
}


@pytest.fixture
def world(uow: UnitOfWork) -> AuthzWorld:
    return build(uow)


def _actor(uow: UnitOfWork, login: str) -> Actor:
    return actor_for(employee_by_login(uow.session, login))


def test_saved_view_rows_are_the_visible_tasks(uow: UnitOfWork, world: AuthzWorld) -> None:
    for login in LOGINS:  # the inactive employee may open the shared view, and sees nothing
        rows = saved_views.run_view(uow.acting_as(_actor(uow, login)), ALL_TASKS_VIEW).rows
        keys = {world.key_of(r.task_id) for r in rows if r.task_id in world.task_ids.values()}
        assert keys == world.visible(login), login


@pytest.mark.parametrize("kind", list(MODULES))
def test_reports_hold_nothing_their_reader_may_not_see(
    uow: UnitOfWork, world: AuthzWorld, kind: ReportKind
) -> None:
    module = MODULES[kind]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=5)  # the tasks are overdue then
    for login in LOGINS:
        actor = _actor(uow, login)
        for moment in (None, later):
            frozen: AbstractContextManager[Any] = freeze_time(moment) if moment else nullcontext()
            with frozen:
                result = run_report(module, uow, actor, **PARAMS.get(kind, {}))
            text = everything_readable(result)
            for key in set(world.task_ids) - world.visible(login):
                assert world.numbers[key] not in text, (kind, login, key)
                assert SUBJECTS[key] not in text, (kind, login, key)
            if kind in (ReportKind.VIEW, ReportKind.OVERDUE) and moment:
                shown = {k for k in world.task_ids if world.numbers[k] in text}
                assert shown == world.visible(login), (kind, login)
