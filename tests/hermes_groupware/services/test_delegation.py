"""Handover: every open task of one employee moves to another in one step, with history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, PermissionDenied
from hermes_groupware.models import Employee, TaskHistory
from hermes_groupware.models.enums import TaskStatus
from hermes_groupware.services.delegation import handover
from hermes_groupware.services.tasks import set_status
from tests.factories import Factory


def test_handover_moves_open_tasks_only(uow: UnitOfWork, make: Factory) -> None:
    leaving, successor, bystander = make.employee(), make.employee(), make.employee()
    reg = make.register()
    open_a, open_b = make.task(reg, leaving), make.task(reg, leaving)
    done = make.task(reg, leaving)
    set_status(uow, done.id, TaskStatus.DONE)
    untouched = make.task(reg, bystander)

    result = handover(uow, leaving.login, successor.login)

    assert sorted(result.task_numbers) == sorted([open_a.number, open_b.number])
    assert open_a.responsible_id == open_b.responsible_id == successor.id
    assert done.responsible_id == leaving.id and untouched.responsible_id == bystander.id
    assert uow.session.get_one(Employee, leaving.id).substitute_id == successor.id
    moves = uow.session.execute(
        select(TaskHistory.task_id, TaskHistory.old_value, TaskHistory.new_value).where(
            TaskHistory.field == "responsible_id"
        )
    ).all()
    assert sorted(moves) == sorted(
        [(t.id, str(leaving.id), str(successor.id)) for t in (open_a, open_b)]
    )


def test_handover_checks(uow: UnitOfWork, make: Factory) -> None:
    a, b = make.employee(), make.employee()
    with pytest.raises(InvalidInput, match="same"):
        handover(uow, a.login, a.login)
    with pytest.raises(InvalidInput, match="nobody"):
        handover(uow, a.login, "nobody")
    with pytest.raises(PermissionDenied):
        handover(make.as_(a), a.login, b.login)
