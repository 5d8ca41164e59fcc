"""Web console credentials and sessions (issue 9).

An employee logs in to the console with a console password (Argon2, like app passwords; set
by themselves, or first by an administrator or the CLI). A login gets a new random session
token (no fixation: nothing a browser brought along is reused); only its SHA-256 is stored.
A session ends at its absolute expiry, after ``idle`` without requests, or at logout.
Failed logins count in :mod:`login_guard`, the same back-off CalDAV and the API use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select

from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.errors import InvalidInput, PermissionDenied
from hermes_groupware.models import ConsolePassword, ConsoleSession, Employee
from hermes_groupware.services import audit, login_guard
from hermes_groupware.services.directory import MIN_PASSWORD_LENGTH, actor_for
from hermes_groupware.services.lookups import employee_by_login

_HASHER = PasswordHasher()
MAX_PASSWORD_LENGTH = 256
#: last_seen_at is written at most this often, so page views do not all turn into writes
SEEN_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetimes:
    """How long a session lives at most, and without requests."""

    absolute: dt.timedelta
    idle: dt.timedelta


@dataclass(frozen=True)
class Guard:
    """The login back-off settings (``[caldav] lockout_*``, shared by every login)."""

    threshold: int
    window: dt.timedelta


@dataclass(frozen=True)
class Login:
    """A login's outcome: the new session token, or when a lock ends, or neither (wrong)."""

    token: str | None = None
    locked_until: dt.datetime | None = None


@dataclass(frozen=True)
class ConsoleUser:
    """Who a session belongs to, as the console pages need it."""

    actor: Actor
    name: str
    locale: str
    time_zone: str
    session_id: int


def hash_token(token: str) -> str:
    """The stored form of a session token (256 random bits, so SHA-256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def set_password(uow: UnitOfWork, login: str, password: str) -> None:
    """Set ``login``'s console password: one's own, or anyone's for an administrator.

    Every session of that employee ends, so a stolen session dies with the old password.

    Raises:
        InvalidInput: the password is too short or too long; PermissionDenied: someone
        else's password and not an administrator.
    """
    employee = employee_by_login(uow.session, login)
    if not uow.actor.is_admin and uow.actor.employee_id != employee.id:
        raise PermissionDenied("only administrators set others' console passwords")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("password", f"at most {MAX_PASSWORD_LENGTH} characters")
    row = uow.session.get(ConsolePassword, employee.id)
    if row is None:
        row = ConsolePassword(employee_id=employee.id, password_hash="")
        uow.session.add(row)
    row.password_hash = _HASHER.hash(password)
    row.updated_at = uow.now()
    uow.session.execute(delete(ConsoleSession).where(ConsoleSession.employee_id == employee.id))
    audit.record(uow, "console_password.set", "employee", login)
    uow.session.flush()


def change_own_password(uow: UnitOfWork, current: str, new: str, *, guard: Guard) -> bool:
    """An employee's own change: the current password first, so a borrowed session cannot
    lock the owner out, and wrong guesses count toward the login's back-off like failed
    logins, so it cannot guess the password either.

    Returns False when the current password is wrong or a lock holds; commit the unit of
    work all the same, so the count stays.

    Raises:
        InvalidInput: the new password breaks the rules.
    """
    if uow.actor.employee_id is None:
        raise PermissionDenied("console passwords belong to employees; act as one")
    employee = uow.session.get_one(Employee, uow.actor.employee_id)
    counters = login_guard.keys(employee.login, None)
    if login_guard.locked_until(uow, counters) is not None:
        return False
    if _check(uow, employee.login, current) is None:
        login_guard.record_failure(uow, counters, threshold=guard.threshold, window=guard.window)
        return False
    set_password(uow, employee.login, new)
    return True


def log_in(
    uow: UnitOfWork,
    login: str,
    password: str,
    address: str | None,
    *,
    guard: Guard,
    lifetimes: Lifetimes,
) -> Login:
    """Check a console password with back-off and open a session; commit even on failure,
    so the failure count stays."""
    login = login.strip().lower()[:64]
    counters = login_guard.keys(login, address)
    locked = login_guard.locked_until(uow, counters)
    if locked is not None:
        return Login(locked_until=locked)
    employee = _check(uow, login, password)
    if employee is None:
        login_guard.record_failure(uow, counters, threshold=guard.threshold, window=guard.window)
        return Login()
    login_guard.record_success(uow, login)
    now = uow.now()
    token = secrets.token_urlsafe(32)
    uow.session.add(
        ConsoleSession(
            token_hash=hash_token(token),
            employee_id=employee.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetimes.absolute,
        )
    )
    uow.session.execute(  # sweep every dead session while here: logins are rare, tables small
        delete(ConsoleSession).where(
            or_(
                ConsoleSession.expires_at <= now,
                ConsoleSession.last_seen_at < now - lifetimes.idle,
            )
        )
    )
    uow.session.flush()
    return Login(token=token)


def _check(uow: UnitOfWork, login: str, password: str) -> Employee | None:
    employee = uow.session.scalar(
        select(Employee).where(Employee.login == login, Employee.is_active)
    )
    row = uow.session.get(ConsolePassword, employee.id) if employee is not None else None
    if employee is None or row is None or len(password) > MAX_PASSWORD_LENGTH:
        _HASHER.hash(password[:MAX_PASSWORD_LENGTH])  # same cost: timing reveals no login
        return None
    try:
        _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = _HASHER.hash(password)
    return employee


def resume(uow: UnitOfWork, token: str, *, lifetimes: Lifetimes) -> ConsoleUser | None:
    """The user of a live session token; None when unknown, expired, idle too long or the
    employee was deactivated (an expired one is deleted)."""
    if not token or len(token) > 100:
        return None
    row = uow.session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_hash == hash_token(token))
    )
    if row is None:
        return None
    now = uow.now()
    employee = uow.session.get(Employee, row.employee_id)
    if (
        employee is None
        or not employee.is_active
        or row.expires_at <= now
        or now - row.last_seen_at > lifetimes.idle
    ):
        uow.session.delete(row)
        uow.session.flush()
        return None
    if now - row.last_seen_at >= SEEN_RESOLUTION:
        row.last_seen_at = now
        uow.session.flush()
    return ConsoleUser(
        actor=actor_for(employee),
        name=employee.full_name,
        locale=str(employee.locale),
        time_zone=employee.time_zone,
        session_id=row.id,
    )


def log_out(uow: UnitOfWork, token: str) -> None:
    """End the session of ``token`` (nothing happens for an unknown one)."""
    uow.session.execute(
        delete(ConsoleSession).where(ConsoleSession.token_hash == hash_token(token))
    )
