"""Radicale auth plugin: employee app passwords, with a short cache and back-off.

A verified (login, password) pair is remembered in the runtime's
:class:`~hermes_groupware.login_cache.LoginCache` (shared with the fast path and the API):
trusted for ``[caldav] login_cache_seconds``, then re-checked with one read instead of an
Argon2 hash, so clients that send Basic auth on every request and sync every few minutes
are not hashed each time.
Failures count per login and per address in the database; while locked, even the right
password is refused (a device whose pair was verified before the lock keeps working).
Database errors propagate (a 500 the client retries), never a silent 401 that makes iOS ask
for the password again.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

from radicale import auth as radicale_auth

from caldav_backend.runtime import Runtime
from hermes_groupware.db.session import Actor
from hermes_groupware.models.enums import Source
from hermes_groupware.services import login_guard

log = logging.getLogger(__name__)


class Auth(radicale_auth.BaseAuth):
    """Checks ``login`` + app password against the Hermes database."""

    def __init__(self, configuration: Any, runtime: Runtime) -> None:
        super().__init__(configuration)
        self.runtime = runtime

    def _login_ext(self, login: str, password: str, context: Any) -> str:
        logins, settings = self.runtime.logins, self.runtime.settings.caldav
        if logins.knows(login, password):
            return login
        in_force = functools.partial(login_guard.in_force, self.runtime.database, Source.CALDAV)
        known = logins.recheck(login, password, in_force, settings.login_cache_seconds)
        if known is not None:
            return known.login
        address = getattr(context, "remote_addr", None)
        with self.runtime.database.unit_of_work(Actor.system("caldav"), Source.CALDAV) as uow:
            attempt = login_guard.attempt(
                uow,
                login,
                password,
                address,
                threshold=settings.lockout_failures,
                window=dt.timedelta(seconds=settings.lockout_window_seconds),
            )
        if attempt.locked_until is not None:
            log.info("login refused while locked out: %s from %s", login, address)
        if attempt.login is None:
            return ""
        logins.remember(
            login,
            password,
            settings.login_cache_seconds,
            password_id=attempt.login.password_id,
            keep_seconds=settings.login_keep_seconds,
        )
        return attempt.login.actor.login
