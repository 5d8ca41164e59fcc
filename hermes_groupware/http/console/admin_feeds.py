"""Administrators' feed pages: list, create with a preview of what the feed will show,
show links, rotate, revoke."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from hermes_groupware.http.api.feeds import links
from hermes_groupware.http.console import forms
from hermes_groupware.http.console.auth import admin_required, context, user
from hermes_groupware.models.enums import FeedProfile, Redaction, TaskStatus, Visibility
from hermes_groupware.services import feed_access, feeds
from hermes_groupware.services.feeds import FeedSpec

PREVIEW_ROWS = 50
_CLOSED = (TaskStatus.DONE, TaskStatus.CANCELLED)


class _Preview(Exception):  # a signal, not an error: leaving the block rolls the trial back
    def __init__(self, rows: list[feed_access.FeedTask]) -> None:
        super().__init__("preview")
        self.rows = rows


def register(blueprint: Blueprint) -> None:
    """Add the feed pages."""
    rule = blueprint.add_url_rule
    rule("/admin/feeds", "feeds", admin_required(list_feeds))
    rule("/admin/feeds/new", "new_feed", admin_required(new_feed), methods=["POST"])
    rule("/admin/feeds/<int:feed_id>", "feed", admin_required(show_feed))
    rule(
        "/admin/feeds/<int:feed_id>/rotate",
        "rotate_feed",
        admin_required(rotate_feed),
        methods=["POST"],
    )
    rule(
        "/admin/feeds/<int:feed_id>/revoke",
        "revoke_feed",
        admin_required(revoke_feed),
        methods=["POST"],
    )


def list_feeds() -> str:
    """Every feed, with when and by which client it was last fetched."""
    with context().uow() as uow:
        rows = feeds.list_feeds(uow)
    return render_template("admin_feeds.html", feeds=rows, form={}, preview=None)


def _spec() -> FeedSpec:
    return FeedSpec(
        name=forms.text("name", required=True),
        owner=forms.text("owner", limit=64) or user().actor.login,
        employee=forms.optional("employee", limit=64),
        group=forms.optional("group", limit=64),
        registers=tuple(code.upper() for code in forms.words("registers")),
        view=forms.optional("view"),
        profile=forms.choice("profile", FeedProfile, FeedProfile.EVENT_DUE),
        redaction=forms.choice("redaction", Redaction, Redaction.FULL),
        days_back=forms.number("days_back", low=0, high=3650, default=90),
        days_ahead=forms.number("days_ahead", low=0, high=3650, default=365),
    )


def new_feed() -> Any:
    """``action=preview`` creates the feed in a transaction that is rolled back and shows the
    tasks it would carry (the very query the feed runs); ``action=create`` keeps it."""
    spec = _spec()
    ctx = context()
    if forms.text("action") != "preview":
        with ctx.uow(write=True) as uow:
            view, _token = feeds.create_feed(uow, spec, secret=ctx.settings.secret_key)
        return redirect(url_for("console.feed", feed_id=view.id))
    try:
        with ctx.uow(write=True) as uow:
            view, _token = feeds.create_feed(uow, spec, secret=ctx.settings.secret_key)
            raise _Preview(feed_access.feed_tasks(uow, view.id))
    except _Preview as preview:
        rows = preview.rows
    with ctx.uow() as uow:
        existing = feeds.list_feeds(uow)
    return render_template(
        "admin_feeds.html",
        feeds=existing,
        form=spec,
        preview=_shown(rows[:PREVIEW_ROWS], spec.redaction),
        total=len(rows),
    )


def _shown(rows: list[feed_access.FeedTask], redaction: Redaction) -> list[dict[str, Any]]:
    """What a subscriber sees of each task: its subject, or just "busy"; overdue ones marked
    (due passed, still open), as everywhere tasks are listed."""
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "number": row.number,
            "subject": row.subject,
            "busy": redaction is Redaction.BUSY or row.visibility == Visibility.PRIVATE,
            "register": row.register_code,
            "due": row.due or row.planned_start,
            "status": row.status.value,
            "overdue": row.due is not None and row.due < now and row.status not in _CLOSED,
        }
        for row in rows
    ]


def show_feed(feed_id: int) -> str:
    """A feed with its working links and the tasks it shows now."""
    ctx = context()
    with ctx.uow() as uow:
        view = feeds.get_feed(uow, feed_id)
        tokens = feeds.current_tokens(uow, feed_id, secret=ctx.settings.secret_key)
        rows = feed_access.feed_tasks(uow, feed_id) if view.revoked_at is None else []
    public = ctx.settings.feeds.public_url
    return render_template(
        "admin_feed.html",
        feed=view,
        links=[links(public, token) for token in tokens],
        preview=_shown(rows[:PREVIEW_ROWS], Redaction(view.redaction)),
        total=len(rows),
    )


def rotate_feed(feed_id: int) -> Response:
    """A new link; the old ones end after the grace hours given (at once by default)."""
    grace = dt.timedelta(hours=forms.number("grace_hours", low=0, high=720, default=0))
    with context().uow(write=True) as uow:
        feeds.rotate(uow, feed_id, secret=context().settings.secret_key, grace=grace)
    return redirect(url_for("console.feed", feed_id=feed_id))


def revoke_feed(feed_id: int) -> Response:
    """Every link answers 404 from now on."""
    with context().uow(write=True) as uow:
        feeds.revoke(uow, feed_id)
    return redirect(url_for("console.feed", feed_id=feed_id))
