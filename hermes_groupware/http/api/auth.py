"""Who is calling: HTTP Basic with an app password, or ``Authorization: Bearer hgt_…``.

Basic goes through the same check and lockout as CalDAV (``directory.check_app_password``,
``login_guard``) and the same cache of logins verified moments ago (:mod:`login_cache`, one
per process, so Argon2 does not run on every request), and grants every scope the employee
may hold. A bearer token grants at
most its own scopes. Every failure is the same 401, so nothing tells a bad login from a bad
password, or a revoked token from an unknown one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import logging
from dataclasses import dataclass

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.http.api.errors import ApiError
from hermes_groupware.login_cache import LoginCache
from hermes_groupware.models.enums import Source
from hermes_groupware.services import api_tokens, directory, login_guard

log = logging.getLogger(__name__)
CHALLENGE = 'Basic realm="Hermes Groupware", charset="UTF-8", Bearer realm="Hermes Groupware"'
SYSTEM = Actor.system("api")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: the actor services see, and the scopes of the credential."""

    actor: Actor
    scopes: frozenset[str]
    via: str
    #: the credential can do all the owner can (app passwords and tokens are made only by such)
    full: bool


@dataclass(frozen=True)
class Verifier:
    """What checking credentials needs: the database, the lockout settings, the login cache."""

    database: Database
    settings: Settings
    logins: LoginCache


def authenticate(verifier: Verifier, header: str | None, address: str | None) -> Principal:
    """The principal for an ``Authorization`` header, or a 401/429 ApiError."""
    scheme, _, credentials = (header or "").strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return _bearer(verifier.database, credentials.strip())
    if scheme.lower() == "basic" and credentials.strip():
        login, password = _basic_pair(credentials.strip())
        return _basic(verifier, login, password, address)
    raise _unauthorized("authentication required: HTTP Basic (app password) or a bearer token")


def _basic_pair(credentials: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _unauthorized("malformed Basic credentials") from exc
    login, colon, password = decoded.partition(":")
    if not colon or not login or not password or "\x00" in decoded or len(login) > 64:
        raise _unauthorized("malformed Basic credentials")
    return login, password


def _basic(verifier: Verifier, login: str, password: str, address: str | None) -> Principal:
    guard = verifier.settings.caldav
    if verifier.logins.knows(login, password):
        with verifier.database.unit_of_work(SYSTEM, Source.API, read_only=True) as uow:
            actor = directory.active_actor(uow, login)
        if actor is None:
            raise _unauthorized("wrong login or app password")
        return _basic_principal(actor)
    in_force = functools.partial(login_guard.in_force, verifier.database, Source.API)
    known = verifier.logins.recheck(login, password, in_force, guard.login_cache_seconds)
    if known is not None:
        return _basic_principal(known)
    with verifier.database.unit_of_work(SYSTEM, Source.API) as uow:
        attempt = login_guard.attempt(
            uow,
            login,
            password,
            address,
            threshold=guard.lockout_failures,
            window=dt.timedelta(seconds=guard.lockout_window_seconds),
        )
        now = uow.now()
    if attempt.locked_until is not None:
        log.info("API login refused while locked out: %s from %s", login, address)
        wait = max(1, int((attempt.locked_until - now).total_seconds()))
        raise ApiError(
            429,
            "too_many_attempts",
            "too many failed logins; try again later",
            headers={"Retry-After": str(wait)},
        )
    if attempt.login is None:  # outside the unit of work, so the failure count is committed
        raise _unauthorized("wrong login or app password")
    verifier.logins.remember(
        login,
        password,
        guard.login_cache_seconds,
        password_id=attempt.login.password_id,
        keep_seconds=guard.login_keep_seconds,
    )
    return _basic_principal(attempt.login.actor)


def _basic_principal(actor: Actor) -> Principal:
    scopes = api_tokens.allowed_scopes(actor)
    return Principal(actor=actor, scopes=scopes, via="basic", full=True)


def _bearer(database: Database, token: str) -> Principal:
    with database.unit_of_work(SYSTEM, Source.API) as uow:
        found = api_tokens.authenticate(uow, token)
    if found is None:
        raise _unauthorized("unknown, expired or revoked token", error="invalid_token")
    owner_scopes = frozenset(api_tokens.SCOPES if found.owner_is_admin else ("read", "write"))
    return Principal(
        actor=found.actor,
        scopes=found.scopes & owner_scopes,
        via="token",
        full=found.scopes >= owner_scopes,
    )


def _unauthorized(message: str, *, error: str | None = None) -> ApiError:
    challenge = CHALLENGE + (f', error="{error}"' if error else "")
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})
