"""Absence periods with a substitute: who hears an absent employee's notifications."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound, PermissionDenied
from hermes_groupware.models import Employee, EmployeeAbsence
from hermes_groupware.services.lookups import employee_by_login, logins_by_id


@dataclass(frozen=True)
class AbsenceView:
    """An absence as people read it."""

    id: int
    employee: str
    starts_on: dt.date
    ends_on: dt.date
    substitute: str | None
    notify_absentee: bool


def add_absence(
    uow: UnitOfWork,
    login: str,
    *,
    starts_on: dt.date,
    ends_on: dt.date,
    substitute: str | None,
    notify_absentee: bool = False,
) -> AbsenceView:
    """Record an absence (admins, or employees for themselves)."""
    session = uow.session
    employee = employee_by_login(session, login)
    if not uow.actor.is_admin and uow.actor.employee_id != employee.id:
        raise PermissionDenied("you may record only your own absence")
    if ends_on < starts_on:
        raise InvalidInput("to", "the absence must end on or after its first day")
    substitute_id = None
    if substitute:
        stand_in = employee_by_login(session, substitute, field="substitute")
        if stand_in.id == employee.id or not stand_in.is_active:
            raise InvalidInput("substitute", "an active employee other than the absent one")
        substitute_id = stand_in.id
    absence = EmployeeAbsence(
        employee_id=employee.id,
        starts_on=starts_on,
        ends_on=ends_on,
        substitute_id=substitute_id,
        notify_absentee=notify_absentee,
        created_at=uow.now(),
    )
    session.add(absence)
    session.flush()
    return _view(session, absence)


def list_absences(uow: UnitOfWork, *, login: str | None = None) -> list[AbsenceView]:
    """Absences, latest first; employees see only their own."""
    query = select(EmployeeAbsence).order_by(EmployeeAbsence.starts_on.desc())
    if login is not None:
        query = query.where(EmployeeAbsence.employee_id == employee_by_login(uow.session, login).id)
    if not uow.actor.is_admin:
        query = query.where(EmployeeAbsence.employee_id == uow.actor.employee_id)
    return [_view(uow.session, a) for a in uow.session.scalars(query)]


def delete_absence(uow: UnitOfWork, absence_id: int) -> None:
    """End an absence record (admins, or the employee)."""
    absence = uow.session.get(EmployeeAbsence, absence_id)
    if absence is None or not (uow.actor.is_admin or absence.employee_id == uow.actor.employee_id):
        raise NotFound(f"absence {absence_id} not found")
    uow.session.delete(absence)


def stand_ins(
    session: Session, employee_ids: list[int], today: dt.date
) -> dict[int, tuple[int | None, bool]]:
    """For each absent employee today: (substitute id, whether the absentee is told too).

    The absence's own substitute wins; without one, the employee's standing substitute (set
    by a handover) stands in.
    """
    if not employee_ids:
        return {}
    rows = session.execute(
        select(EmployeeAbsence, Employee.substitute_id)
        .join(Employee, Employee.id == EmployeeAbsence.employee_id)
        .where(
            EmployeeAbsence.employee_id.in_(employee_ids),
            EmployeeAbsence.starts_on <= today,
            EmployeeAbsence.ends_on >= today,
        )
    )
    return {
        absence.employee_id: (absence.substitute_id or standing, absence.notify_absentee)
        for absence, standing in rows
    }


def _view(session: Session, absence: EmployeeAbsence) -> AbsenceView:
    names = logins_by_id(session, (absence.employee_id, absence.substitute_id))
    return AbsenceView(
        id=absence.id,
        employee=names[absence.employee_id],
        starts_on=absence.starts_on,
        ends_on=absence.ends_on,
        substitute=names.get(absence.substitute_id or 0),
        notify_absentee=absence.notify_absentee,
    )
