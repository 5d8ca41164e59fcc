"""Back-off after failed logins, per login and per client address, kept in the database so
that every process and host sees the same counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select

from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.models import LoginFailure
from hermes_groupware.models.enums import Source
from hermes_groupware.services import directory

MAX_LOCK = dt.timedelta(minutes=15)
FIRST_LOCK = dt.timedelta(seconds=30)
#: An address (often a whole office behind NAT) gets this many times the per-login allowance.
ADDRESS_FACTOR = 4


@dataclass(frozen=True)
class Attempt:
    """What one login attempt came to."""

    #: the employee and the app password that matched, when no lock held
    login: directory.AppLogin | None
    #: when refused because a lock holds (the password was not even checked)
    locked_until: dt.datetime | None = None


def attempt(
    uow: UnitOfWork,
    login: str,
    password: str,
    address: str | None,
    *,
    threshold: int,
    window: dt.timedelta,
) -> Attempt:
    """An app-password login with back-off, as CalDAV and the API take it: refused while a lock
    holds; a wrong password counts against the login and the address; a right one clears the
    login's count. Commit the unit of work even when it failed, so the count stays."""
    counters = keys(login, address)
    locked = locked_until(uow, counters)
    if locked is not None:
        return Attempt(login=None, locked_until=locked)
    found = directory.check_app_password(uow, login, password)
    if found is None:
        record_failure(uow, counters, threshold=threshold, window=window)
    else:
        record_success(uow, login)
    return Attempt(login=found)


def in_force(database: Database, source: Source, password_id: int) -> Actor | None:
    """:func:`directory.app_login_in_force` in a read transaction of its own: the login
    cache's re-check of a pair it verified earlier."""
    with database.unit_of_work(Actor.system(source.value), source, read_only=True) as uow:
        return directory.app_login_in_force(uow, password_id)


def keys(login: str, address: str | None) -> list[str]:
    """The counters one attempt touches."""
    found = [f"login:{login.lower()[:250]}"]
    if address:
        found.append(f"addr:{address[:250]}")
    return found


def locked_until(uow: UnitOfWork, counters: list[str]) -> dt.datetime | None:
    """When the latest lock on any of the counters ends, or None when free to try."""
    now = uow.now()
    ends = [
        row.locked_until
        for row in uow.session.scalars(select(LoginFailure).where(LoginFailure.key.in_(counters)))
        if row.locked_until is not None and row.locked_until > now
    ]
    return max(ends, default=None)


def record_failure(
    uow: UnitOfWork, counters: list[str], *, threshold: int, window: dt.timedelta
) -> None:
    """Count a failure; from ``threshold`` failures within ``window`` on, lock for 30 s,
    doubling with each further failure, at most 15 minutes."""
    now = uow.now()
    for key in counters:
        row = uow.session.get(LoginFailure, key)
        if row is None or now - row.first_failure_at > window:
            if row is not None:
                uow.session.delete(row)
                uow.session.flush()
            row = LoginFailure(key=key, failures=0, first_failure_at=now, locked_until=None)
            uow.session.add(row)
        row.failures += 1
        limit = threshold * ADDRESS_FACTOR if key.startswith("addr:") else threshold
        if row.failures >= limit:
            lock = min(FIRST_LOCK * 2 ** min(row.failures - limit, 10), MAX_LOCK)
            row.locked_until = now + lock
    uow.session.flush()


def record_success(uow: UnitOfWork, login: str) -> None:
    """A good password clears the login's counter (an address's counter runs its course)."""
    uow.session.execute(delete(LoginFailure).where(LoginFailure.key == keys(login, None)[0]))
