"""Registers: creation, access grants and per-year task numbering."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Register, RegisterCounter, RegisterPermission, Task
from hermes_groupware.models.enums import AccessLevel
from hermes_groupware.services import access, audit
from hermes_groupware.services.lookups import (
    employee_by_login,
    group_by_slug,
    logins_by_id,
    register_by_code,
)

_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


@dataclass(frozen=True)
class RegisterView:
    """What people see of a register."""

    id: int
    code: str
    name: str
    colour: str
    inbound_email: str | None
    default_assignee: str | None
    manager: str | None
    default_access: str
    is_active: bool
    email_commands: bool
    send_invitations: bool
    external_reports: bool


def validate_colour(colour: str) -> str:
    """``#RRGGBB`` or InvalidInput."""
    if not _COLOUR.match(colour):
        raise InvalidInput("colour", f"expected #RRGGBB, got {colour!r}")
    return colour.upper()


def validate_email(address: str, field: str = "email") -> str:
    """A plain ``local@domain`` address, lower-cased domain, or InvalidInput."""
    address = address.strip()
    if not _EMAIL.match(address) or len(address) > 254:
        raise InvalidInput(field, f"not an e-mail address: {address!r}")
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def add_register(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    colour: str,
    inbound_email: str | None = None,
    default_assignee: str | None = None,
    manager: str | None = None,
    default_access: AccessLevel = AccessLevel.READ,
) -> RegisterView:
    """Create a register (admins only)."""
    access.require_admin(uow.actor)
    session = uow.session
    code = code.strip().upper()
    if not _CODE.match(code):
        raise InvalidInput("code", "2-10 letters or digits, starting with a letter")
    if session.scalar(select(exists().where(Register.code == code))):
        raise InvalidInput("code", f"register {code} already exists")
    if not name.strip():
        raise InvalidInput("name", "must not be empty")
    register = Register(
        code=code,
        name=name.strip(),
        colour=validate_colour(colour),
        inbound_email=validate_email(inbound_email, "email") if inbound_email else None,
        default_assignee_id=(
            employee_by_login(session, default_assignee, field="default_assignee").id
            if default_assignee
            else None
        ),
        manager_id=employee_by_login(session, manager, field="manager").id if manager else None,
        default_access=default_access,
    )
    session.add(register)
    session.flush()
    audit.record(uow, "register.create", "register", code, name=register.name)
    return view(session, register)


@dataclass(frozen=True)
class RegisterChanges:
    """Fields of a register to change; None leaves one alone, "" clears an optional one."""

    name: str | None = None
    colour: str | None = None
    inbound_email: str | None = None
    default_assignee: str | None = None
    manager: str | None = None
    email_commands: bool | None = None
    send_invitations: bool | None = None
    #: scheduled reports may go to addresses outside the company (only this register's tasks)
    external_reports: bool | None = None


def update_register(uow: UnitOfWork, code: str, changes: RegisterChanges) -> RegisterView:
    """Change a register (admins only); its code and task numbers never change."""
    access.require_admin(uow.actor)
    session = uow.session
    register = register_by_code(session, code)
    if changes.name is not None:
        if not changes.name.strip():
            raise InvalidInput("name", "must not be empty")
        register.name = changes.name.strip()
    if changes.colour is not None:
        register.colour = validate_colour(changes.colour)
    if changes.inbound_email is not None:
        email = validate_email(changes.inbound_email) if changes.inbound_email else None
        taken = session.scalar(
            select(Register.code).where(
                func.lower(Register.inbound_email) == (email or "").lower(),
                Register.id != register.id,
            )
        )
        if email and taken:
            raise InvalidInput("email", f"{email} already belongs to register {taken}")
        register.inbound_email = email
    if changes.default_assignee is not None:
        register.default_assignee_id = (
            employee_by_login(session, changes.default_assignee, field="default_assignee").id
            if changes.default_assignee
            else None
        )
    if changes.manager is not None:
        register.manager_id = (
            employee_by_login(session, changes.manager, field="manager").id
            if changes.manager
            else None
        )
    if changes.email_commands is not None:
        register.email_commands = changes.email_commands
    if changes.send_invitations is not None:
        register.send_invitations = changes.send_invitations
    if changes.external_reports is not None:
        register.external_reports = changes.external_reports
    session.flush()
    changed = {k: v for k, v in asdict(changes).items() if v is not None}
    audit.record(uow, "register.update", "register", register.code, **changed)
    return view(session, register)


def grant(
    uow: UnitOfWork,
    code: str,
    level: AccessLevel,
    *,
    login: str | None = None,
    group: str | None = None,
) -> None:
    """Give one employee or one group a level on a register (replacing an earlier grant)."""
    access.require_admin(uow.actor)
    session = uow.session
    if (login is None) == (group is None):
        raise InvalidInput("grantee", "give exactly one of login or group")
    register = register_by_code(session, code)
    employee_id = employee_by_login(session, login).id if login else None
    group_id = group_by_slug(session, group).id if group else None
    grantee = (
        RegisterPermission.employee_id == employee_id
        if employee_id is not None
        else RegisterPermission.group_id == group_id
    )
    existing = session.scalar(
        select(RegisterPermission).where(RegisterPermission.register_id == register.id, grantee)
    )
    if existing is None:
        session.add(
            RegisterPermission(
                register_id=register.id, employee_id=employee_id, group_id=group_id, level=level
            )
        )
    else:
        existing.level = level
    session.flush()
    audit.record(
        uow, "register.grant", "register", register.code, level=level, login=login, group=group
    )


def list_registers(uow: UnitOfWork) -> list[RegisterView]:
    """Registers the actor may read, by code."""
    levels = access.register_levels(uow.session, uow.actor)
    registers = uow.session.scalars(select(Register).order_by(Register.code))
    return [
        view(uow.session, r)
        for r in registers
        if levels.get(r.id, AccessLevel.NONE).rank >= AccessLevel.READ.rank
    ]


def view(session: Session, register: Register) -> RegisterView:
    """The register as a read model."""
    names = logins_by_id(session, (register.default_assignee_id, register.manager_id))
    return RegisterView(
        id=register.id,
        code=register.code,
        name=register.name,
        colour=register.colour.upper(),
        inbound_email=register.inbound_email,
        default_assignee=names.get(register.default_assignee_id or 0),
        manager=names.get(register.manager_id or 0),
        default_access=AccessLevel(register.default_access).value,
        is_active=register.is_active,
        email_commands=register.email_commands,
        send_invitations=register.send_invitations,
        external_reports=register.external_reports,
    )


def allocate_number(session: Session, register: Register, year: int) -> str:
    """The next free ``CODE/YEAR/NNNN``.

    The counter row is bumped with an upsert, so concurrent writers on PostgreSQL queue on its
    row lock. Numbers the desktop application wrote directly are skipped, not reused.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(RegisterCounter)
        .values(register_id=register.id, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[RegisterCounter.register_id, RegisterCounter.year],
            set_={"last_number": RegisterCounter.last_number + 1},
        )
        .returning(RegisterCounter.last_number)
    )
    while True:
        number = f"{register.code}/{year}/{session.scalar(statement):04d}"
        if not session.scalar(select(exists().where(Task.number == number))):
            return number
