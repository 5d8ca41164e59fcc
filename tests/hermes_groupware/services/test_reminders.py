"""Individual reminders: who may set them for whom, validation, the hidden parent, firing once."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound, PermissionDenied
from hermes_groupware.models import ChangeJournal, TaskReminder
from hermes_groupware.models.enums import AccessLevel, DelegationMode, TaskStatus
from hermes_groupware.models.reminder import ReminderAnchor, ReminderChannel
from hermes_groupware.services import reminders
from hermes_groupware.services.delegation import delegate
from hermes_groupware.services.reminders import ReminderSpec
from hermes_groupware.services.tasks import TaskChanges, set_status, update_task
from tests.factories import Factory

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)


def _at(minutes: int) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def _clock() -> object:
    with freeze_time(NOW) as frozen:
        yield frozen


def test_an_employee_reminds_themselves_absolute_or_relative(
    uow: UnitOfWork, make: Factory
) -> None:
    rep, reg = make.employee(), make.register()
    task = make.task(reg, rep, "Oferta dla Łukasza", due=DUE)
    me = make.as_(rep)
    absolute = reminders.add_reminder(me, task.id, ReminderSpec(at=_at(60), note=" Zadzwoń "))
    relative = reminders.add_reminder(
        me,
        task.id,
        ReminderSpec(
            relative_to=ReminderAnchor.DUE, offset_minutes=-30, channel=ReminderChannel.EMAIL
        ),
    )
    views = {v.id: v for v in reminders.list_reminders(me, task.id)}
    assert views[absolute.id].trigger_at == _at(60)
    assert views[absolute.id].note == "Zadzwoń" and views[absolute.id].employee == rep.login
    assert views[absolute.id].channel is ReminderChannel.POPUP
    assert views[relative.id].trigger_at == DUE - dt.timedelta(minutes=30)
    assert views[relative.id].created_by == rep.login

    update_task(me, task.id, TaskChanges(due=DUE + dt.timedelta(days=1)))
    (moved,) = [v for v in reminders.list_reminders(me, task.id) if v.id == relative.id]
    assert moved.trigger_at == DUE + dt.timedelta(days=1, minutes=-30)  # follows the due date


def test_validation(uow: UnitOfWork, make: Factory) -> None:
    rep, reg = make.employee(mobile=None), make.register()
    undated = make.task(reg, rep)
    me = make.as_(rep)
    with pytest.raises(InvalidInput, match="future"):
        reminders.add_reminder(me, undated.id, ReminderSpec(at=_at(-1)))
    with pytest.raises(InvalidInput, match="no due date"):
        reminders.add_reminder(
            me, undated.id, ReminderSpec(relative_to=ReminderAnchor.DUE, offset_minutes=-10)
        )
    with pytest.raises(InvalidInput, match="no planned start"):
        reminders.add_reminder(
            me,
            undated.id,
            ReminderSpec(relative_to=ReminderAnchor.PLANNED_START, offset_minutes=-10),
        )
    with pytest.raises(InvalidInput, match="when"):
        reminders.add_reminder(me, undated.id, ReminderSpec())
    with pytest.raises(InvalidInput, match="not both"):
        reminders.add_reminder(
            me, undated.id, ReminderSpec(at=_at(5), relative_to=ReminderAnchor.DUE)
        )
    with pytest.raises(InvalidInput, match="mobile"):
        reminders.add_reminder(me, undated.id, ReminderSpec(at=_at(5), channel=ReminderChannel.SMS))
    dated = make.task(reg, rep, due=DUE)
    with pytest.raises(InvalidInput, match="offset"):
        reminders.add_reminder(
            me, dated.id, ReminderSpec(relative_to=ReminderAnchor.DUE, offset_minutes=-(10**7))
        )
    with pytest.raises(InvalidInput, match="note"):
        reminders.add_reminder(me, undated.id, ReminderSpec(at=_at(5), note="x" * 1001))
    with pytest.raises(InvalidInput, match="whom"):  # the CLI admin is nobody to remind
        reminders.add_reminder(uow, undated.id, ReminderSpec(at=_at(5)))
    # a relative reminder whose time has passed is allowed: it counts from the date
    dated = make.task(reg, rep, due=_at(10))
    reminders.add_reminder(
        me, dated.id, ReminderSpec(relative_to=ReminderAnchor.DUE, offset_minutes=-30)
    )


def test_the_time_form_is_checked_by_the_database_too(uow: UnitOfWork, make: Factory) -> None:
    rep, reg = make.employee(), make.register()
    task = make.task(reg, rep, due=DUE)
    with pytest.raises(IntegrityError), uow.session.begin_nested():
        uow.session.execute(
            text(
                "INSERT INTO task_reminders (task_id, employee_id, remind_at, relative_to, "
                "offset_minutes) VALUES (:t, :e, '2026-12-02 10:00:00', 'due', -5)"
            ),
            {"t": task.id, "e": rep.id},
        )


def test_reminding_someone_else_needs_edit_rights(uow: UnitOfWork, make: Factory) -> None:
    rep, colleague, reader = make.employee(), make.employee(), make.employee()
    reg = make.register(default_access=AccessLevel.READ)
    task = make.task(reg, rep, due=DUE)
    spec = ReminderSpec(at=_at(60), channel=ReminderChannel.EMAIL, employee_id=colleague.id)
    with pytest.raises(PermissionDenied, match="edit rights"):
        reminders.add_reminder(make.as_(reader), task.id, spec)
    # a reader may remind themselves by e-mail (the task is not in their own calendars)
    mine = ReminderSpec(at=_at(60), channel=ReminderChannel.EMAIL)
    reminders.add_reminder(make.as_(reader), task.id, mine)
    with pytest.raises(InvalidInput, match="pop-up"):
        reminders.add_reminder(make.as_(reader), task.id, ReminderSpec(at=_at(60)))
    # the responsible (edit rights) may remind a colleague who can read the register
    made = reminders.add_reminder(make.as_(rep), task.id, spec)
    assert made.employee_id == colleague.id and made.created_by == rep.id


def test_private_tasks_and_invisible_people(uow: UnitOfWork, make: Factory) -> None:
    rep, outsider = make.employee(), make.employee()
    reg = make.register()
    private = make.task(reg, rep, due=DUE, private=True)
    with pytest.raises(NotFound):
        reminders.add_reminder(
            make.as_(outsider), private.id, ReminderSpec(at=_at(5), channel=ReminderChannel.EMAIL)
        )
    spec = ReminderSpec(at=_at(5), channel=ReminderChannel.EMAIL, employee_id=outsider.id)
    with pytest.raises(InvalidInput, match="may not see"):
        reminders.add_reminder(make.as_(rep), private.id, spec)


def test_a_hidden_parent_delegate_is_never_reminded_of_the_parent(
    uow: UnitOfWork, make: Factory
) -> None:
    boss, helper = make.employee(), make.employee()
    reg = make.register(default_access=AccessLevel.NONE)
    parent = make.task(reg, boss, "Tajny kontrakt", due=DUE)
    child = make.task(reg, boss, "Wycena części", parent=parent, due=DUE)
    delegate(uow, child.id, helper.login, DelegationMode.HIDE_PARENT)
    as_boss = make.as_(boss)
    spec = ReminderSpec(relative_to=ReminderAnchor.DUE, offset_minutes=-60, employee_id=helper.id)
    with pytest.raises(InvalidInput, match="may not see"):
        reminders.add_reminder(as_boss, parent.id, spec)
    made = reminders.add_reminder(as_boss, child.id, spec)  # a pop-up: the sub-task is theirs
    as_helper = make.as_(helper)
    with pytest.raises(NotFound):
        reminders.list_reminders(as_helper, parent.id)
    assert [v.id for v in reminders.list_reminders(as_helper, child.id)] == [made.id]
    assert [r.id for r in reminders.own_popups(as_helper, child.id)] == [made.id]


def test_reminders_are_personal(uow: UnitOfWork, make: Factory) -> None:
    rep, colleague = make.employee(), make.employee()
    reg = make.register(default_access=AccessLevel.EDIT)
    task = make.task(reg, rep, due=DUE)
    delegate(uow, task.id, colleague.login, DelegationMode.WITH_HISTORY)
    mine = reminders.add_reminder(make.as_(rep), task.id, ReminderSpec(at=_at(30)))
    theirs = reminders.add_reminder(make.as_(colleague), task.id, ReminderSpec(at=_at(40)))
    assert [v.id for v in reminders.list_reminders(make.as_(rep), task.id)] == [mine.id]
    assert {v.id for v in reminders.list_reminders(uow, task.id)} == {mine.id, theirs.id}
    with pytest.raises(NotFound):
        reminders.delete_reminder(make.as_(rep), theirs.id)
    with pytest.raises(NotFound):
        reminders.acknowledge(make.as_(rep), theirs.id, _at(50))
    # whoever set a reminder for someone may take it back; only the reminded one dismisses it
    for_colleague = reminders.add_reminder(
        make.as_(rep), task.id, ReminderSpec(at=_at(45), employee_id=colleague.id)
    )
    with pytest.raises(NotFound):
        reminders.snooze(make.as_(rep), for_colleague.id, _at(60))
    reminders.delete_reminder(make.as_(rep), for_colleague.id)
    assert uow.session.get(TaskReminder, for_colleague.id) is None


def test_acknowledge_moves_forward_and_snooze_clears(uow: UnitOfWork, make: Factory) -> None:
    rep, reg = make.employee(), make.register()
    task = make.task(reg, rep, due=DUE)
    me = make.as_(rep)
    reminder = reminders.add_reminder(me, task.id, ReminderSpec(at=_at(30)))
    reminders.acknowledge(me, reminder.id, _at(31).replace(microsecond=123))
    reminders.acknowledge(me, reminder.id, _at(5))  # an older acknowledgement changes nothing
    assert reminder.acknowledged_at == _at(31)
    reminders.snooze(me, reminder.id, _at(40))
    assert reminder.snoozed_until == _at(40)
    reminders.snooze(me, reminder.id, None)
    assert reminder.snoozed_until is None
    with pytest.raises(InvalidInput, match="zone"):
        reminders.acknowledge(me, reminder.id, dt.datetime(2026, 12, 1, 10, 0))  # noqa: DTZ001


def test_reminder_changes_are_journaled(uow: UnitOfWork, make: Factory) -> None:
    rep, reg = make.employee(), make.register()
    task = make.task(reg, rep, due=DUE)
    me = make.as_(rep)
    reminder = reminders.add_reminder(me, task.id, ReminderSpec(at=_at(30)))
    reminders.snooze(me, reminder.id, _at(40))
    reminders.delete_reminder(me, reminder.id)
    entries = uow.session.scalars(
        select(ChangeJournal).where(
            ChangeJournal.task_id == task.id, ChangeJournal.entity == "reminder"
        )
    )
    assert [(e.op, e.entity_id, e.actor_id, e.register_id) for e in entries] == [
        (op, reminder.id, rep.id, reg.id) for op in ("insert", "update", "delete")
    ]


def test_all_day_dates_count_from_local_midnight(uow: UnitOfWork, make: Factory) -> None:
    rep, reg = make.employee(time_zone="Europe/Warsaw"), make.register()
    day = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    task = make.task(reg, rep, due=day, all_day=True)
    reminder = reminders.add_reminder(
        make.as_(rep),
        task.id,
        ReminderSpec(relative_to=ReminderAnchor.DUE, offset_minutes=-15),
    )
    zone = reminders.zone_of("Europe/Warsaw")
    assert reminders.trigger_time(reminder, task, zone) == dt.datetime(
        2026, 12, 3, 22, 45, tzinfo=dt.UTC
    )  # 23:45 in Warsaw the evening before


def test_due_reminders_claim_each_occurrence_once(uow: UnitOfWork, make: Factory) -> None:
    rep, reg = make.employee(), make.register()
    task = make.task(reg, rep, due=DUE)
    me = make.as_(rep)
    email = ReminderSpec(
        relative_to=ReminderAnchor.DUE, offset_minutes=-60, channel=ReminderChannel.EMAIL
    )
    reminder = reminders.add_reminder(me, task.id, email)
    popup = reminders.add_reminder(me, task.id, ReminderSpec(at=DUE - dt.timedelta(hours=2)))
    assert reminders.due_reminders(uow, DUE - dt.timedelta(minutes=61)) == []
    (due,) = reminders.due_reminders(uow, DUE - dt.timedelta(minutes=59))
    assert (due.reminder_id, due.occurrence) == (reminder.id, DUE - dt.timedelta(hours=1))
    assert due.reminder_id != popup.id  # pop-ups are the calendars' job
    assert reminders.due_reminders(uow, DUE - dt.timedelta(minutes=58)) == []
    # a new due date is a new occurrence
    update_task(uow, task.id, TaskChanges(due=DUE + dt.timedelta(days=1)))
    assert reminders.due_reminders(uow, DUE + dt.timedelta(minutes=1)) == []
    (again,) = reminders.due_reminders(uow, DUE + dt.timedelta(days=1, minutes=-1))
    assert again.occurrence == DUE + dt.timedelta(days=1, hours=-1)
    (view,) = [v for v in reminders.list_reminders(uow, task.id) if v.id == reminder.id]
    assert view.last_fired_at == again.occurrence


def test_no_reminders_for_closed_tasks_late_ones_or_lost_access(
    uow: UnitOfWork, make: Factory
) -> None:
    rep, reg = make.employee(), make.register()
    done = make.task(reg, rep, due=DUE)
    late = make.task(reg, rep, due=DUE)
    me = make.as_(rep)
    spec = ReminderSpec(at=DUE - dt.timedelta(hours=1), channel=ReminderChannel.EMAIL)
    reminders.add_reminder(me, done.id, spec)
    reminders.add_reminder(me, late.id, spec)
    set_status(uow, done.id, TaskStatus.DONE)
    assert reminders.due_reminders(uow, DUE + dt.timedelta(hours=30)) == []  # over a day late
    (fired,) = reminders.due_reminders(uow, DUE)
    assert fired.task_id == late.id
