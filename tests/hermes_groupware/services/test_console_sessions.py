"""Console passwords and sessions: who may set them, back-off, expiry, idle timeout."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, PermissionDenied
from hermes_groupware.models import AuditEntry, ConsoleSession
from hermes_groupware.services import console_sessions
from hermes_groupware.services.console_sessions import Guard, Lifetimes
from tests.factories import Factory

GUARD = Guard(threshold=3, window=dt.timedelta(minutes=15))
LIFE = Lifetimes(absolute=dt.timedelta(hours=2), idle=dt.timedelta(minutes=30))
PASSWORD = "correct horse battery"


def _log_in(uow: UnitOfWork, login: str, password: str = PASSWORD) -> console_sessions.Login:
    return console_sessions.log_in(uow, login, password, "10.0.0.9", guard=GUARD, lifetimes=LIFE)


def test_only_oneself_or_an_administrator_sets_it(uow: UnitOfWork, make: Factory) -> None:
    jan, ola = make.employee("jan"), make.employee("ola")
    console_sessions.set_password(uow, "jan", PASSWORD)  # the system actor is an administrator
    console_sessions.set_password(make.as_(jan), "jan", PASSWORD + "!")
    actions = uow.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == "jan")
    ).all()
    assert actions.count("console_password.set") == 2
    with pytest.raises(PermissionDenied):
        console_sessions.set_password(make.as_(ola), "jan", PASSWORD)
    with pytest.raises(InvalidInput, match="password"):
        console_sessions.set_password(uow, "jan", "short")


def test_sessions_expire_and_idle_out(uow: UnitOfWork, make: Factory) -> None:
    make.employee("jan")
    console_sessions.set_password(uow, "jan", PASSWORD)
    with freeze_time("2026-03-02 08:00:00"):
        token = _log_in(uow, "jan").token
        assert token is not None
    with freeze_time("2026-03-02 08:25:00"):
        user = console_sessions.resume(uow, token, lifetimes=LIFE)
        assert user is not None
        assert user.actor.login == "jan"
    with freeze_time("2026-03-02 08:50:00"):  # 25 min after the last request: still fine
        assert console_sessions.resume(uow, token, lifetimes=LIFE) is not None
    with freeze_time("2026-03-02 10:01:00"):  # past the absolute lifetime, however active
        assert console_sessions.resume(uow, token, lifetimes=LIFE) is None
    with freeze_time("2026-03-02 11:00:00"):
        idle = _log_in(uow, "jan").token
        assert idle is not None
    with freeze_time("2026-03-02 11:31:00"):
        assert console_sessions.resume(uow, idle, lifetimes=LIFE) is None


def test_back_off_and_inactive_employees(uow: UnitOfWork, make: Factory) -> None:
    make.employee("jan")
    console_sessions.set_password(uow, "jan", PASSWORD)
    with freeze_time("2026-03-02 08:00:00"):
        for _ in range(GUARD.threshold):
            assert _log_in(uow, "jan", "wrong password!") == console_sessions.Login()
        locked = _log_in(uow, "jan")
        assert locked.token is None
        assert locked.locked_until is not None
    with freeze_time("2026-03-02 08:01:00"):
        assert _log_in(uow, "jan").token is not None
    assert _log_in(uow, "nobody").token is None  # no such login: the same refusal


def test_a_new_password_ends_every_session(uow: UnitOfWork, make: Factory) -> None:
    make.employee("jan")
    console_sessions.set_password(uow, "jan", PASSWORD)
    token = _log_in(uow, "jan").token
    assert token is not None
    console_sessions.set_password(uow, "jan", PASSWORD + "?")
    assert console_sessions.resume(uow, token, lifetimes=LIFE) is None
    console_sessions.log_out(uow, "unknown")  # nothing to end: no error


def test_own_change_needs_the_current_password(uow: UnitOfWork, make: Factory) -> None:
    jan = make.employee("jan")
    console_sessions.set_password(uow, "jan", PASSWORD)
    change = functools.partial(console_sessions.change_own_password, make.as_(jan), guard=GUARD)
    assert not change("not it at all", PASSWORD + "!")
    assert change(PASSWORD, PASSWORD + "!")
    assert _log_in(uow, "jan", PASSWORD + "!").token is not None
    with pytest.raises(PermissionDenied):  # the system is nobody
        console_sessions.change_own_password(uow, PASSWORD, PASSWORD, guard=GUARD)


def test_guessing_the_current_password_locks_like_failed_logins(
    uow: UnitOfWork, make: Factory
) -> None:
    """A borrowed session cannot try passwords without limit."""
    jan = make.employee("jan")
    console_sessions.set_password(uow, "jan", PASSWORD)
    change = functools.partial(console_sessions.change_own_password, make.as_(jan), guard=GUARD)
    for n in range(GUARD.threshold):
        assert not change(f"guess number {n}", PASSWORD + "!")
    assert not change(PASSWORD, PASSWORD + "!")  # locked: even the right one is refused now
    assert _log_in(uow, "jan", PASSWORD).locked_until is not None


def test_a_login_sweeps_dead_sessions(uow: UnitOfWork, make: Factory) -> None:
    make.employee("jan")
    make.employee("ola")
    console_sessions.set_password(uow, "jan", PASSWORD)
    console_sessions.set_password(uow, "ola", PASSWORD)
    with freeze_time("2026-03-02 08:00:00"):
        _log_in(uow, "ola")
    with freeze_time("2026-03-02 09:00:00"):  # ola's session idled out half an hour ago
        _log_in(uow, "jan")
        owners = uow.session.scalars(select(ConsoleSession.employee_id)).all()
    assert len(owners) == 1
