"""The console's Flask application, mounted by :mod:`hermes_groupware.http.app` at ``/console/``."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, g, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from hermes_groupware.config import Settings
from hermes_groupware.db.outage import DATABASE_UNAVAILABLE
from hermes_groupware.db.session import Database
from hermes_groupware.errors import Conflict, HermesError, InvalidInput, PermissionDenied
from hermes_groupware.errors import NotFound as Missing
from hermes_groupware.http.api.fields import MAX_ID
from hermes_groupware.http.console import (
    admin_feeds,
    admin_mail,
    admin_people,
    admin_registers,
    admin_rules,
    admin_schedules,
    auth,
    employee,
)
from hermes_groupware.http.console.i18n import browser_locale, t
from hermes_groupware.login_cache import LoginCache

PREFIX = "/console"
#: Only our own script and styles; no framing (clickjacking), no plugins, forms post here only
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_STATUS = {InvalidInput: 400, PermissionDenied: 403, Missing: 404, Conflict: 409}


def create_console(
    settings: Settings, database: Database, logins: LoginCache | None = None
) -> Flask:
    """The WSGI application serving ``/console/``; ``logins``: the process's cache of verified
    app-password logins, shared with CalDAV and the API (a revoked password leaves it)."""
    app = Flask(__name__, static_url_path=f"{PREFIX}/static")
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # forms only; no uploads
    console = auth.Context(settings=settings, database=database, logins=logins or LoginCache())
    blueprint = Blueprint("console", __name__, url_prefix=PREFIX)
    blueprint.add_url_rule("/", "home", _home)
    for module in (
        auth,
        employee,
        admin_feeds,
        admin_schedules,
        admin_mail,
        admin_people,
        admin_registers,
        admin_rules,
    ):
        module.register(blueprint)
    app.register_blueprint(blueprint)
    app.jinja_env.globals.update(t=t, csrf_token=auth.csrf_token, local_time=local_time)

    @app.before_request
    def start() -> None:
        g.console = console
        g.locale = browser_locale()
        _refuse_unstorable()
        auth.load_user()
        if g.user is not None:
            g.locale = g.user.locale if g.user.locale in ("pl", "en") else "pl"

    for unavailable in DATABASE_UNAVAILABLE:
        app.register_error_handler(unavailable, _database_unavailable)
    app.register_error_handler(HermesError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_secure)
    return app


def _refuse_unstorable() -> None:
    """Ids the database cannot hold are not found, and text with NUL (PostgreSQL refuses it)
    is a bad request, before any query could fail on them."""
    for value in (request.view_args or {}).values():
        if (isinstance(value, int) and value > MAX_ID) or (
            isinstance(value, str) and "\x00" in value
        ):
            raise NotFound()
    if any("\x00" in value for _, values in request.form.lists() for value in values):
        raise BadRequest("form fields must not contain NUL characters")


def _home() -> Any:
    return redirect(url_for("console.connect"))


def local_time(moment: dt.datetime | None) -> str:
    """A time in the employee's zone (Warsaw before login), to the minute."""
    if moment is None:
        return "—"
    zone = g.user.time_zone if g.get("user") is not None else "Europe/Warsaw"
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _domain_error(error: HermesError) -> tuple[str, int]:
    status = next((code for cls, code in _STATUS.items() if isinstance(error, cls)), 400)
    return render_template("error.html", status=status, message=error.message), status


def _database_unavailable(_error: Exception) -> tuple[str, int, dict[str, str]]:
    message = t(
        "The database is not reachable just now; try again in a moment.",
        "Baza danych jest chwilowo niedostępna; spróbuj za chwilę.",
    )
    return render_template("error.html", status=503, message=message), 503, {"Retry-After": "5"}


def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    return render_template("error.html", status=status, message=error.description), status


def _secure(response: Response) -> Response:
    response.headers.update(_SECURITY_HEADERS)
    return response
