"""Find objects by the names people type (login, register code, task number)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Customer, Employee, Group, Register


def employee_by_login(session: Session, login: str, *, field: str = "login") -> Employee:
    """The employee, or InvalidInput naming ``field``."""
    employee = session.scalar(select(Employee).where(Employee.login == login))
    if employee is None:
        raise InvalidInput(field, f"no employee with login {login!r}")
    return employee


def register_by_code(session: Session, code: str, *, field: str = "register") -> Register:
    """The register, or InvalidInput naming ``field``."""
    register = session.scalar(select(Register).where(Register.code == code.upper()))
    if register is None:
        raise InvalidInput(field, f"no register with code {code!r}")
    return register


def group_by_slug(session: Session, slug: str, *, field: str = "group") -> Group:
    """The group, or InvalidInput naming ``field``."""
    group = session.scalar(select(Group).where(Group.slug == slug))
    if group is None:
        raise InvalidInput(field, f"no group {slug!r}")
    return group


def customer_by_id(session: Session, customer_id: int, *, field: str = "customer") -> Customer:
    """The customer, or InvalidInput naming ``field``."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise InvalidInput(field, f"no customer with id {customer_id}")
    return customer


def logins_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Employee logins for the given ids (Nones ignored), in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Employee.id, Employee.login).where(Employee.id.in_(wanted)))
    return {employee_id: login for employee_id, login in rows}
