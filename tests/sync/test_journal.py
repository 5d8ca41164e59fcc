"""Reading the journal: in order, from a position, bounded, with the source of each change."""

from __future__ import annotations

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.services import items
from hermes_groupware.services.tasks import TaskChanges, update_task
from sync import projection
from sync.journal import changes_since, current_seq
from tests.factories import Factory


def test_changes_since_a_position(uow: UnitOfWork, make: Factory) -> None:
    rep, other = make.employee(), make.employee()
    reg, reg2 = make.register(), make.register()
    start = current_seq(uow.session)
    task = make.task(reg, rep)
    items.add_note(uow, task.id, "notatka")
    update_task(uow, task.id, TaskChanges(register_id=reg2.id, responsible_id=other.id))
    changes = changes_since(uow.session, start)
    assert [c.seq for c in changes] == [start + 1, start + 2, start + 3]
    assert [(c.entity, c.op) for c in changes] == [
        ("task", "insert"),
        ("task_item", "insert"),
        ("task", "update"),
    ]
    moved = changes[-1]
    assert (moved.old_register_id, moved.register_id) == (reg.id, reg2.id)
    assert (moved.old_responsible_id, moved.responsible_id) == (rep.id, other.id)
    assert current_seq(uow.session) == start + 3
    assert changes_since(uow.session, start + 3) == []
    assert [c.seq for c in changes_since(uow.session, start, limit=2)] == [start + 1, start + 2]


def test_catch_up_in_bounded_steps(uow: UnitOfWork, make: Factory) -> None:
    """A backlog is applied a bounded number of journal entries per transaction."""
    rep, reg = make.employee(), make.register()
    for n in range(6):
        make.task(reg, rep, f"zadanie {n}")
    projection.catch_up(uow.session, uow.now())
    start = projection.state(uow.session, lock=False).applied_seq
    for n in range(6):
        make.task(reg, rep, f"kolejne {n}")
    done = projection.catch_up(uow.session, uow.now(), max_entries=4)
    applied = projection.state(uow.session, lock=False).applied_seq
    assert (done, applied) == (False, start + 4)
    assert projection.catch_up(uow.session, uow.now(), max_entries=4) is True  # the last 2
    assert projection.state(uow.session, lock=False).applied_seq == start + 6
    assert not projection.is_behind(uow.session)
