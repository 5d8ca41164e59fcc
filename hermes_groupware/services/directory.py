"""Employees, groups and app passwords."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound
from hermes_groupware.models import AppPassword, Employee, Group, group_members
from hermes_groupware.models.enums import Locale
from hermes_groupware.services import access, audit
from hermes_groupware.services.lookups import employee_by_login, group_by_slug, logins_by_id
from hermes_groupware.services.registers import validate_email

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class EmployeeView:
    """What people see of an employee."""

    id: int
    login: str
    name: str
    email: str | None
    mobile: str | None
    locale: str
    time_zone: str
    is_active: bool
    is_admin: bool
    substitute: str | None
    groups: list[str]


def validate_time_zone(name: str) -> str:
    """An IANA zone name or InvalidInput."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput("time_zone", f"unknown time zone {name!r}") from exc
    return name


def add_employee(
    uow: UnitOfWork,
    *,
    login: str,
    first_name: str,
    last_name: str,
    email: str | None = None,
    mobile: str | None = None,
    locale: Locale = Locale.PL,
    time_zone: str = "Europe/Warsaw",
    is_admin: bool = False,
    groups: tuple[str, ...] = (),
) -> EmployeeView:
    """Create an employee (admins only); the login becomes the CalDAV user name."""
    access.require_admin(uow.actor)
    session = uow.session
    if not _LOGIN.match(login):
        raise InvalidInput(
            "login", "2-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
        )
    if session.scalar(select(exists().where(Employee.login == login))):
        raise InvalidInput("login", f"login {login!r} is taken")
    if not first_name.strip() or not last_name.strip():
        raise InvalidInput("name", "first and last name are required")
    if email:
        email = validate_email(email)
        if session.scalar(select(exists().where(Employee.email == email))):
            raise InvalidInput("email", f"{email} belongs to another employee")
    employee = Employee(
        login=login,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email or None,
        mobile=mobile,
        locale=locale,
        time_zone=validate_time_zone(time_zone),
        is_admin=is_admin,
    )
    session.add(employee)
    session.flush()
    for slug in groups:
        _join(session, group_by_slug(session, slug).id, employee.id)
    audit.record(uow, "employee.create", "employee", login, is_admin=is_admin, groups=groups)
    return employee_view(session, employee)


def add_group(uow: UnitOfWork, slug: str, name: str) -> None:
    """Create a group (admins only)."""
    access.require_admin(uow.actor)
    if not re.match(r"^[a-z0-9][a-z0-9_-]{1,63}$", slug):
        raise InvalidInput("slug", "2-64 of a-z, 0-9, '_', '-'")
    if uow.session.scalar(select(exists().where(Group.slug == slug))):
        raise InvalidInput("slug", f"group {slug!r} exists")
    uow.session.add(Group(slug=slug, name=name))
    uow.session.flush()
    audit.record(uow, "group.create", "group", slug, name=name)


def add_member(uow: UnitOfWork, slug: str, login: str) -> None:
    """Put an employee into a group (idempotent)."""
    access.require_admin(uow.actor)
    session = uow.session
    _join(session, group_by_slug(session, slug).id, employee_by_login(session, login).id)
    audit.record(uow, "group.add_member", "group", slug, login=login)


def _join(session: Session, group_id: int, employee_id: int) -> None:
    member = exists().where(
        group_members.c.group_id == group_id, group_members.c.employee_id == employee_id
    )
    if not session.scalar(select(member)):
        session.execute(insert(group_members).values(group_id=group_id, employee_id=employee_id))


def list_employees(uow: UnitOfWork, *, include_inactive: bool = False) -> list[EmployeeView]:
    """Employees by login; any active employee may see the directory."""
    query = select(Employee).order_by(Employee.login)
    if not include_inactive:
        query = query.where(Employee.is_active)
    return [employee_view(uow.session, e) for e in uow.session.scalars(query)]


def employee_view(session: Session, employee: Employee) -> EmployeeView:
    """The employee as a read model."""
    groups = session.scalars(
        select(Group.slug)
        .join(group_members, group_members.c.group_id == Group.id)
        .where(group_members.c.employee_id == employee.id)
        .order_by(Group.slug)
    )
    substitute = logins_by_id(session, (employee.substitute_id,)).get(employee.substitute_id or 0)
    return EmployeeView(
        id=employee.id,
        login=employee.login,
        name=employee.full_name,
        email=employee.email,
        mobile=employee.mobile,
        locale=Locale(employee.locale).value,
        time_zone=employee.time_zone,
        is_active=employee.is_active,
        is_admin=employee.is_admin,
        substitute=substitute,
        groups=list(groups),
    )


def set_app_password(
    uow: UnitOfWork, login: str, *, label: str = "default", password: str | None = None
) -> str:
    """Create (or replace, by label) an app password; returns the clear text once.

    Admins set anyone's; an employee sets their own. A generated password has 144 random bits.
    """
    employee = employee_by_login(uow.session, login)
    if not uow.actor.is_admin and uow.actor.employee_id != employee.id:
        access.require_admin(uow.actor)
    if password is None:
        password = secrets.token_urlsafe(18)
    elif len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"at least {MIN_PASSWORD_LENGTH} characters")
    for old in uow.session.scalars(
        select(AppPassword).where(
            AppPassword.employee_id == employee.id,
            AppPassword.label == label,
            AppPassword.revoked_at.is_(None),
        )
    ):
        old.revoked_at = uow.now()
    uow.session.add(
        AppPassword(employee_id=employee.id, label=label, password_hash=_HASHER.hash(password))
    )
    uow.session.flush()
    audit.record(uow, "app_password.create", "employee", login, label=label)
    return password


@dataclass(frozen=True)
class AppLogin:
    """A login with an app password: who, and which of their app passwords matched."""

    actor: Actor
    password_id: int


def check_app_password(uow: UnitOfWork, login: str, password: str) -> AppLogin | None:
    """Who logs in, and with which app password, when ``password`` is one of an active
    employee's app passwords; else None."""
    employee = uow.session.scalar(
        select(Employee).where(Employee.login == login, Employee.is_active)
    )
    if employee is None:
        _HASHER.hash(password)  # same cost as a real check, so timing does not reveal logins
        return None
    candidates = uow.session.scalars(
        select(AppPassword).where(
            AppPassword.employee_id == employee.id, AppPassword.revoked_at.is_(None)
        )
    )
    for candidate in candidates:
        try:
            _HASHER.verify(candidate.password_hash, password)
        except (VerificationError, InvalidHashError):
            continue
        candidate.last_used_at = uow.now()
        if _HASHER.check_needs_rehash(candidate.password_hash):
            candidate.password_hash = _HASHER.hash(password)
        return AppLogin(actor_for(employee), candidate.id)
    return None


def app_login_in_force(uow: UnitOfWork, password_id: int) -> Actor | None:
    """The actor while app password ``password_id`` is not revoked and its employee active:
    one indexed read, where checking the password itself costs an Argon2 hash."""
    employee = uow.session.scalar(
        select(Employee)
        .join(AppPassword, AppPassword.employee_id == Employee.id)
        .where(AppPassword.id == password_id, AppPassword.revoked_at.is_(None), Employee.is_active)
    )
    return actor_for(employee) if employee is not None else None


def active_actor(uow: UnitOfWork, login: str) -> Actor | None:
    """The actor of an active employee (a login verified moments ago may have been disabled)."""
    employee = active_employee(uow, login)
    return actor_for(employee) if employee is not None else None


def active_employee(uow: UnitOfWork, login: str) -> Employee | None:
    """The employee with ``login`` while active."""
    return uow.session.scalar(select(Employee).where(Employee.login == login, Employee.is_active))


def actor_for(employee: Employee) -> Actor:
    """The actor an employee acts as."""
    return Actor(employee_id=employee.id, login=employee.login, is_admin=employee.is_admin)


def get_employee(uow: UnitOfWork, login: str) -> EmployeeView:
    """One employee of the directory by login (any employee may read it, like the list).

    Raises:
        NotFound: no employee with that login.
    """
    employee = uow.session.scalar(select(Employee).where(Employee.login == login))
    if employee is None:
        raise NotFound(f"employee {login} not found")
    return employee_view(uow.session, employee)
