"""Login, logout, the session cookie and CSRF.

The cookie carries a random session token (its SHA-256 is what the database keeps); a login
always sets a new one and never adopts one the browser brought (no fixation). The cookie is
HttpOnly, SameSite=Lax, limited to ``/console/``, and Secure whenever the request came over
https (``wsgi.url_scheme``, which :mod:`hermes_groupware.http.proxies` sets from a trusted
proxy). Every POST carries the session's CSRF token, an HMAC of the session token, so it needs
no storage; a POST from another origin is refused before that.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.login_cache import LoginCache
from hermes_groupware.models.enums import Source
from hermes_groupware.services import console_sessions
from hermes_groupware.services.console_sessions import ConsoleUser, Guard, Lifetimes

COOKIE = "hermes_console"
COOKIE_PATH = "/console/"
SYSTEM = Actor.system("console")
log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Context:
    """What every view needs: the settings, the database, the process's cache of verified
    app-password logins, and the session limits."""

    settings: Settings
    database: Database
    logins: LoginCache

    @property
    def lifetimes(self) -> Lifetimes:
        """``[console]`` as the service takes it."""
        console = self.settings.console
        return Lifetimes(
            absolute=dt.timedelta(hours=console.session_hours),
            idle=dt.timedelta(minutes=console.idle_minutes),
        )

    @property
    def guard(self) -> Guard:
        """The login back-off (``[caldav] lockout_*``), for every password the console checks."""
        caldav = self.settings.caldav
        return Guard(caldav.lockout_failures, dt.timedelta(seconds=caldav.lockout_window_seconds))

    def uow(self, *, write: bool = False) -> AbstractContextManager[UnitOfWork]:
        """A unit of work as the logged-in employee (the services check their rights)."""
        return self.database.unit_of_work(user().actor, Source.API, read_only=not write)


def context() -> Context:
    """The console's context, set on the app at creation."""
    found: Context = g.console
    return found


def user() -> ConsoleUser:
    """The logged-in user (views behind :func:`login_required` only)."""
    found: ConsoleUser = g.user
    return found


def csrf_token() -> str:
    """The CSRF token of this session (empty before login)."""
    token = request.cookies.get(COOKIE, "")
    if not token or g.get("user") is None:
        return ""
    key = context().settings.secret_key.encode()
    return hmac.new(key, b"console-csrf:" + token.encode(), hashlib.sha256).hexdigest()


def load_user() -> None:
    """Before every request: who is logged in, and refuse a POST without a valid CSRF token."""
    g.user = None
    if request.endpoint == "static":  # the script and styles need no session
        return
    token = request.cookies.get(COOKIE)
    if token:
        with context().database.unit_of_work(SYSTEM, Source.API) as uow:
            g.user = console_sessions.resume(uow, token, lifetimes=context().lifetimes)
    if request.method == "POST":
        _check_origin()
        if request.endpoint != "console.login" and not hmac.compare_digest(
            request.form.get("csrf", ""), csrf_token() or "-"
        ):
            raise Forbidden("missing or wrong CSRF token; reload the page and try again")


def _check_origin() -> None:
    """A browser names the page a POST came from; another site's, or a hidden one ("null",
    a sandboxed frame), is refused (login CSRF)."""
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise Forbidden("cross-site request refused")


def login_required(view: F) -> F:
    """Send a visitor without a session to the login page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("console.login"))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Pages only administrators see; the services check again on every call."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("console.login"))
        if not user().actor.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def register(blueprint: Blueprint) -> None:
    """Add login and logout."""
    blueprint.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    blueprint.add_url_rule("/logout", "logout", logout, methods=["POST"])


def login() -> Any:
    """The login form; a right password opens a new session and replaces any old cookie."""
    if request.method == "GET":
        return render_template("login.html", error=None)
    name = request.form.get("login", "")
    password = request.form.get("password", "")
    ctx = context()
    with ctx.database.unit_of_work(SYSTEM, Source.API) as uow:
        outcome = console_sessions.log_in(
            uow, name, password, request.remote_addr, guard=ctx.guard, lifetimes=ctx.lifetimes
        )
        if outcome.token is not None:  # a mistyped password does not log anyone out
            _end_old_session(uow)
    if outcome.token is None:
        log.info("console login refused for %r from %s", name[:64], request.remote_addr)
        if outcome.locked_until is None:
            return render_template("login.html", error="wrong"), 401
        wait = max(1, int((outcome.locked_until - dt.datetime.now(dt.UTC)).total_seconds()))
        return render_template("login.html", error="locked"), 429, {"Retry-After": str(wait)}
    response = redirect(url_for("console.home"))
    _set_cookie(response, outcome.token)
    return response


def _end_old_session(uow: UnitOfWork) -> None:
    old = request.cookies.get(COOKIE)
    if old:
        console_sessions.log_out(uow, old)


def logout() -> Response:
    """End the session in the database and drop the cookie."""
    with context().database.unit_of_work(SYSTEM, Source.API) as uow:
        _end_old_session(uow)
    response = redirect(url_for("console.login"))
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="Lax")
    return response


def _set_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=context().settings.console.session_hours * 3600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=request.scheme == "https",
    )
