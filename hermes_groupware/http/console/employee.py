"""Employee pages: "Connect your calendar" (app passwords, instructions, Apple profile),
"My feeds" and the console password."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hermes_groupware.http.api.feeds import links
from hermes_groupware.http.console import forms, mobileconfig
from hermes_groupware.http.console.auth import context, login_required, user
from hermes_groupware.services import app_passwords, console_sessions, directory, feeds

MAX_LABEL = 100


def register(blueprint: Blueprint) -> None:
    """Add the employee pages."""
    rule = blueprint.add_url_rule
    rule("/connect", "connect", login_required(connect))
    rule(
        "/app-passwords",
        "create_app_password",
        login_required(create_app_password),
        methods=["POST"],
    )
    rule(
        "/app-passwords/<int:password_id>/revoke",
        "revoke_app_password",
        login_required(revoke_app_password),
        methods=["POST"],
    )
    rule("/apple-profile", "apple_profile", login_required(apple_profile), methods=["POST"])
    rule("/feeds", "my_feeds", login_required(my_feeds))
    rule("/password", "password", login_required(password), methods=["GET", "POST"])


def caldav_address() -> str:
    """The CalDAV address as the browser reached this server (clients find the rest)."""
    return request.host_url


def connect() -> str:
    """Instructions per client, with this server's address and the employee's app passwords."""
    with context().uow() as uow:
        passwords = app_passwords.list_own(uow)
    return render_template(
        "connect.html", passwords=passwords, address=caldav_address(), login=user().actor.login
    )


def _new_password(label: str) -> str:
    with context().uow(write=True) as uow:
        return directory.set_app_password(uow, user().actor.login, label=label)


def create_app_password() -> str:
    """A generated app password for one device, shown on this page once."""
    label = forms.text("label", limit=MAX_LABEL) or "default"
    password = _new_password(label)
    return render_template(
        "app_password.html",
        label=label,
        password=password,
        address=caldav_address(),
        login=user().actor.login,
    )


def revoke_app_password(password_id: int) -> Response:
    """Revoke one of one's own app passwords (someone else's is not found); this process
    forgets the employee's verified logins (others within ``[caldav] login_cache_seconds``)."""
    with context().uow(write=True) as uow:
        app_passwords.revoke_own(uow, password_id)
    context().logins.forget(user().actor.login)  # CalDAV in this process stops at once
    return redirect(url_for("console.connect"))


def apple_profile() -> Response:
    """A ``.mobileconfig`` with a fresh app password for the device (revocable by label)."""
    label = forms.text("label", limit=MAX_LABEL) or "Apple"
    address = urlsplit(request.host_url)
    ssl = address.scheme == "https"
    account = mobileconfig.Account(
        host=address.hostname or "localhost",
        port=address.port or (443 if ssl else 80),
        ssl=ssl,
        login=user().actor.login,
        password=_new_password(label),
        description=f"Hermes ({user().actor.login})",
    )
    response = Response(mobileconfig.profile(account), mimetype=mobileconfig.CONTENT_TYPE)
    response.headers["Content-Disposition"] = 'attachment; filename="hermes-calendar.mobileconfig"'
    return response


def my_feeds() -> str:
    """The feeds one owns, each link in its https://, webcal:// and Google forms."""
    ctx = context()
    with ctx.uow() as uow:
        own = [f for f in feeds.list_feeds(uow) if f.owner == user().actor.login]
        tokens = {
            f.id: feeds.current_tokens(uow, f.id, secret=ctx.settings.secret_key)
            for f in own
            if f.revoked_at is None
        }
    public = ctx.settings.feeds.public_url
    rows = [(f, [links(public, token) for token in tokens.get(f.id, [])]) for f in own]
    return render_template("my_feeds.html", rows=rows)


def password() -> Any:
    """Change one's console password (every session ends, this one too: log in again)."""
    if request.method == "GET":
        return render_template("password.html")
    new = request.form.get("password", "")
    if new != request.form.get("repeat", ""):
        return render_template("password.html", mismatch=True), 400
    with context().uow(write=True) as uow:  # committed when refused too: the guess counts
        changed = console_sessions.change_own_password(
            uow, request.form.get("current", ""), new, guard=context().guard
        )
    if not changed:
        return render_template("password.html", wrong_current=True), 400
    return redirect(url_for("console.login"))
