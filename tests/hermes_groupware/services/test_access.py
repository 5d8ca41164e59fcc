"""Who sees and edits what: registers, private tasks, delegations and the hidden parent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound
from hermes_groupware.models import Employee, Task
from hermes_groupware.models.enums import AccessLevel, DelegationMode, Visibility
from hermes_groupware.services import access, custom_fields, delegation, directory, items, registers
from hermes_groupware.services.task_views import TaskFilter, list_tasks, task_detail
from hermes_groupware.services.tasks import TaskChanges, add_subtask, update_task
from tests.factories import Factory


def _numbers(uow: UnitOfWork) -> set[str]:
    return {t.number for t in list_tasks(uow, TaskFilter())}


def test_register_default_grants_and_groups(uow: UnitOfWork, make: Factory) -> None:
    owner, rep, tech = make.employee(), make.employee(), make.employee()
    directory.add_group(uow, "serwis", "Serwis")
    directory.add_member(uow, "serwis", tech.login)
    open_reg = make.register("OPEN", default_access=AccessLevel.READ)
    closed = make.register("SER", default_access=AccessLevel.NONE)
    registers.grant(uow, "SER", AccessLevel.EDIT, group="serwis")
    a, b = make.task(open_reg, owner), make.task(closed, owner)
    assert _numbers(make.as_(rep)) == {a.number}
    assert _numbers(make.as_(tech)) == {a.number, b.number}
    assert access.can_edit(uow.session, make.actor(tech), b.id)
    assert not access.can_edit(uow.session, make.actor(tech), a.id)


def test_private_tasks_only_for_the_people_on_them(uow: UnitOfWork, make: Factory) -> None:
    owner, colleague = make.employee(), make.employee()
    reg = make.register(default_access=AccessLevel.EDIT)
    private = make.task(reg, owner, private=True)
    assert access.can_see(uow.session, make.actor(owner), private.id)
    assert not access.can_see(uow.session, make.actor(colleague), private.id)
    delegation.delegate(uow, private.id, colleague.login, DelegationMode.WITH_HISTORY)
    assert access.can_see(uow.session, make.actor(colleague), private.id)


def test_inactive_employees_see_nothing(uow: UnitOfWork, make: Factory) -> None:
    owner = make.employee()
    reg = make.register(default_access=AccessLevel.EDIT)
    task = make.task(reg, owner)
    from hermes_groupware.models import Employee

    uow.session.get_one(Employee, owner.id).is_active = False
    assert not access.can_see(uow.session, make.actor(owner), task.id)


def test_delegation_with_history_shows_items_and_subtasks(uow: UnitOfWork, make: Factory) -> None:
    owner, helper = make.employee(), make.employee()
    reg = make.register(default_access=AccessLevel.NONE)
    task = make.task(reg, owner, "Sprawa")
    items.add_note(uow, task.id, "notatka sprzed delegacji")
    sub = add_subtask(uow, task.id, subject="pod-zadanie", responsible_id=owner.id)
    assert _numbers(make.as_(helper)) == set()
    delegation.delegate(uow, task.id, helper.login, DelegationMode.WITH_HISTORY)
    as_helper = make.as_(helper)
    assert _numbers(as_helper) == {task.number, sub.number}
    detail = task_detail(as_helper, task.id)
    assert [n.body for n in detail.notes] == ["notatka sprzed delegacji"]
    items.add_note(as_helper, task.id, "delegat może dopisać")  # delegates may work on it


def test_revoked_delegation_ends_access(uow: UnitOfWork, make: Factory) -> None:
    owner, helper = make.employee(), make.employee()
    reg = make.register(default_access=AccessLevel.NONE)
    task = make.task(reg, owner)
    item = delegation.delegate(uow, task.id, helper.login, DelegationMode.WITH_HISTORY)
    delegation.revoke_delegation(uow, item.id)
    assert not access.can_see(uow.session, make.actor(helper), task.id)


def test_hidden_parent_delegate_never_learns_the_parent(uow: UnitOfWork, make: Factory) -> None:
    """The seed: a sub-task is delegated without revealing the main task's content."""
    rep, tech = make.employee(), make.employee()
    sales = make.register("HAN", default_access=AccessLevel.NONE)
    custom_fields.define_field(uow, "HAN", key="rabat", label="Rabat", field_type="number")  # type: ignore[arg-type]
    parent = make.task(sales, rep, "Przetarg poufny", description="rabat 18%")
    items.add_note(uow, parent.id, "nie ujawniać serwisowi")
    custom_fields.set_values(uow, parent.id, {"rabat": "18"})
    sub = add_subtask(uow, parent.id, subject="Ocena techniczna", responsible_id=rep.id)
    other = make.task(sales, rep, "Przeniesiona")
    update_task(uow, sub.id, TaskChanges(parent_id=other.id))  # history now mentions parents
    update_task(uow, sub.id, TaskChanges(parent_id=parent.id))
    delegation.delegate(uow, sub.id, tech.login, DelegationMode.HIDE_PARENT)
    as_tech = make.as_(tech)

    detail = task_detail(as_tech, sub.id)
    assert detail.task.subject == "Ocena techniczna"
    assert detail.task.parent is None
    parent_changes = [h for h in detail.history if h.field == "parent_id"]
    assert parent_changes and all(h.old is None and h.new is None for h in parent_changes)
    assert _numbers(as_tech) == {sub.number}
    assert [t.parent for t in list_tasks(as_tech, TaskFilter())] == [None]
    for attempt in (
        lambda: access.readable_task(uow.session, as_tech.actor, parent.id),
        lambda: access.readable_task_id(uow.session, as_tech.actor, parent.number),
        lambda: task_detail(as_tech, parent.id),
        lambda: items.add_note(as_tech, parent.id, "?"),
        lambda: add_subtask(as_tech, parent.id, subject="?"),
        lambda: update_task(as_tech, parent.id, TaskChanges(subject="?")),
        lambda: delegation.delegate(as_tech, parent.id, tech.login, DelegationMode.WITH_HISTORY),
    ):
        with pytest.raises(NotFound) as error:
            attempt()
        assert parent.subject not in error.value.message
    with pytest.raises(NotFound) as missing:
        access.readable_task_id(uow.session, as_tech.actor, "HAN/1999/9999")
    with pytest.raises(NotFound) as hidden:
        access.readable_task_id(uow.session, as_tech.actor, parent.number)
    assert str(missing.value).replace("HAN/1999/9999", "N") == str(hidden.value).replace(
        parent.number, "N"
    )
    # the owner still sees the whole tree
    assert task_detail(make.as_(rep), sub.id).task.parent == parent.number


def test_hide_parent_needs_a_subtask(uow: UnitOfWork, make: Factory) -> None:
    owner, helper = make.employee(), make.employee()
    task = make.task(make.register(), owner)
    with pytest.raises(InvalidInput, match="sub-task"):
        delegation.delegate(uow, task.id, helper.login, DelegationMode.HIDE_PARENT)


def test_visibility_private_is_kept_on_subtask_listing(uow: UnitOfWork, make: Factory) -> None:
    owner, reader = make.employee(), make.employee()
    reg = make.register(default_access=AccessLevel.READ)
    parent = make.task(reg, owner)
    add_subtask(uow, parent.id, subject="jawne", responsible_id=owner.id)
    add_subtask(
        uow,
        parent.id,
        subject="prywatne",
        responsible_id=owner.id,
        changes=TaskChanges(visibility=Visibility.PRIVATE),
    )
    assert [s.subject for s in task_detail(make.as_(reader), parent.id).subtasks] == ["jawne"]


def test_an_actor_whose_employee_left_is_shut_out_admins_too(
    uow: UnitOfWork, make: Factory
) -> None:
    """Protocol adapters cache an actor for a few seconds; the services decide on the row."""
    admin, rep = make.employee(is_admin=True), make.employee()
    register = make.register(default_access=AccessLevel.EDIT)
    task = make.task(register, rep)
    as_admin, as_rep = make.actor(admin), make.actor(rep)
    assert access.can_edit(uow.session, as_admin, task.id)
    assert access.can_edit(uow.session, as_rep, task.id)
    for employee in (admin, rep):
        uow.session.get_one(Employee, employee.id).is_active = False
    uow.session.flush()
    for actor in (as_admin, as_rep):
        assert not access.can_see(uow.session, actor, task.id)
        assert set(access.register_levels(uow.session, actor).values()) == {AccessLevel.NONE}
        assert list_tasks(uow.acting_as(actor), TaskFilter()) == []


def test_task_access_agrees_with_the_visibility_clause(uow: UnitOfWork, make: Factory) -> None:
    """One task's access is decided in Python and one query; lists use the SQL clause. Both
    must give the same answer for every actor and task: register levels by default, by a
    personal and by a group grant, private tasks, creators, both delegation modes, a revoked
    delegation, an admin and a deactivated employee."""
    owner, creator, reader, editor, grouped = (make.employee() for _ in range(5))
    history, hidden, revoked, gone = (make.employee() for _ in range(4))
    admin = make.employee(is_admin=True)
    directory.add_group(uow, "zespol", "Zespół")
    directory.add_member(uow, "zespol", grouped.login)
    shut = make.register("SHUT", default_access=AccessLevel.NONE)
    seen = make.register("SEEN", default_access=AccessLevel.READ)
    open_ = make.register("OPEN", default_access=AccessLevel.EDIT)
    registers.grant(uow, "SHUT", AccessLevel.READ, login=reader.login)
    registers.grant(uow, "SEEN", AccessLevel.EDIT, login=editor.login)
    registers.grant(uow, "SHUT", AccessLevel.EDIT, group="zespol")
    tasks = []
    for register in (shut, seen, open_):
        registers.grant(uow, register.code, AccessLevel.EDIT, login=creator.login)  # to create
        for private in (False, True):
            parent = make.task(register, owner, private=private)
            child = add_subtask(uow, parent.id, subject="pod", responsible_id=owner.id)
            by_creator = make.task(register, owner, private=private, actor=make.actor(creator))
            delegation.delegate(uow, parent.id, history.login, DelegationMode.WITH_HISTORY)
            delegation.delegate(uow, child.id, hidden.login, DelegationMode.HIDE_PARENT)
            item = delegation.delegate(
                uow, by_creator.id, revoked.login, DelegationMode.WITH_HISTORY
            )
            delegation.revoke_delegation(uow, item.id)
            tasks += [parent, child, by_creator]
        registers.grant(uow, register.code, AccessLevel.NONE, login=creator.login)  # no more
    uow.session.get_one(Employee, gone.id).is_active = False
    uow.session.flush()
    people = (owner, creator, reader, editor, grouped, history, hidden, revoked, admin, gone)
    for person in people:
        actor = make.actor(person)
        wanted = {
            level: set(
                uow.session.scalars(
                    select(Task.id).where(access.visible_tasks_clause(uow.session, actor, level))
                )
            )
            for level in (AccessLevel.READ, AccessLevel.EDIT)
        }
        levels = access.register_levels(uow.session, actor)
        for register_id, level in levels.items():
            assert access.register_level(uow.session, actor, register_id) is level, person.login
        for task in tasks:
            decided, where = (
                access.task_access(uow.session, actor, task),
                (person.login, task.number),
            )
            assert decided.see == (task.id in wanted[AccessLevel.READ]), where
            assert decided.edit == (task.id in wanted[AccessLevel.EDIT]), where
    # the world is varied enough to test something: every answer occurs
    answers = {
        (d.see, d.edit)
        for d in (access.task_access(uow.session, make.actor(p), t) for p in people for t in tasks)
    }
    assert answers == {(True, True), (True, False), (False, False)}
