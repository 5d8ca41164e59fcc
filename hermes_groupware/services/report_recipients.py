"""Who a report schedule goes to, as typed and as stored: employees, groups, addresses.

A recipient is typed as a login, ``group:SLUG`` (or a bare group slug that is no login), or an
e-mail address; an employee's own address counts as that employee, so they get their own
rights and language. Outside addresses are accepted only while some register allows them.
Administrators send to anyone; an employee only to themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, PermissionDenied
from hermes_groupware.models import Employee, Group, Register, ReportRecipient
from hermes_groupware.services.lookups import group_by_slug
from hermes_groupware.services.registers import validate_email


@dataclass(frozen=True)
class Target:
    """One stored recipient: exactly one of the three is set."""

    employee_id: int | None = None
    group_id: int | None = None
    address: str | None = None


def parse_targets(uow: UnitOfWork, specs: Sequence[str]) -> list[Target]:
    """The recipients checked: known, allowed for the actor, outside ones only if allowed;
    InvalidInput ``to`` says what is wrong."""
    targets = list(dict.fromkeys(_parse(uow.session, s) for s in specs if s.strip()))
    if not targets:
        raise InvalidInput("to", "at least one recipient")
    actor = uow.actor
    if not actor.is_admin and any(t.employee_id != actor.employee_id for t in targets):
        raise PermissionDenied("you may schedule reports only to yourself; ask an administrator")
    outside = [t.address for t in targets if t.address]
    allowed = select(exists().where(Register.external_reports.is_(True)))
    if outside and not uow.session.scalar(allowed):
        raise InvalidInput(
            "to",
            f"{outside[0]} is outside the company and no register allows outside recipients "
            "(register update CODE --external-reports on)",
        )
    return targets


def store(session: Session, schedule_id: int, targets: list[Target]) -> None:
    """Replace the schedule's recipients."""
    session.execute(delete(ReportRecipient).where(ReportRecipient.schedule_id == schedule_id))
    session.add_all(
        ReportRecipient(
            schedule_id=schedule_id,
            employee_id=t.employee_id,
            group_id=t.group_id,
            address=t.address,
        )
        for t in targets
    )
    session.flush()


def labels(session: Session, schedule_id: int) -> tuple[str, ...]:
    """The recipients as they would be typed: ``login``, ``group:slug`` or the address."""
    rows = session.execute(
        select(ReportRecipient.address, Employee.login, Group.slug)
        .outerjoin(Employee, Employee.id == ReportRecipient.employee_id)
        .outerjoin(Group, Group.id == ReportRecipient.group_id)
        .where(ReportRecipient.schedule_id == schedule_id)
        .order_by(ReportRecipient.id)
    )
    return tuple(address or login or f"group:{slug}" for address, login, slug in rows)


def _parse(session: Session, spec: str) -> Target:
    spec = spec.strip()
    if spec.startswith("group:"):
        return Target(group_id=group_by_slug(session, spec[6:], field="to").id)
    if "@" in spec:
        address = validate_email(spec, field="to").lower()
        employee = session.scalar(select(Employee).where(func.lower(Employee.email) == address))
        return Target(employee_id=_active(employee).id) if employee else Target(address=address)
    employee = session.scalar(select(Employee).where(Employee.login == spec))
    if employee is not None:
        return Target(employee_id=_active(employee).id)
    group_id = session.scalar(select(Group.id).where(Group.slug == spec))
    if group_id is None:
        raise InvalidInput("to", f"no employee or group {spec!r} (LOGIN, group:SLUG or address)")
    return Target(group_id=group_id)


def _active(employee: Employee) -> Employee:
    if not employee.is_active:
        raise InvalidInput("to", f"{employee.login} is not active")
    return employee
