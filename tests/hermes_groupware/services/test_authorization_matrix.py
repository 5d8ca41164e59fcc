"""The policy itself against the matrix table: ``access`` agrees with ``EXPECTED`` for every
employee and task, so every surface test that agrees with the table agrees with the policy."""

from __future__ import annotations

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.services import access
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import employee_by_login
from tests.authz_world import EXPECTED, LOGINS, build


def test_access_agrees_with_the_table(uow: UnitOfWork) -> None:
    world = build(uow)
    for login in LOGINS:
        actor = actor_for(employee_by_login(uow.session, login))
        for key, task_id in world.task_ids.items():
            rights = EXPECTED[key]
            assert access.can_see(uow.session, actor, task_id) == rights.may_read(login), key
            assert access.can_edit(uow.session, actor, task_id) == rights.may_edit(login), key
