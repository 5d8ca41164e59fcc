"""``GET``/``HEAD /feeds/<token>.ics``: subscription feeds on the CalDAV server's port.

Never a 401 (Google and Outlook.com cannot send credentials): the token is the credential.
Unknown, revoked and expired links all answer the same 404. ``If-None-Match`` and
``If-Modified-Since`` are answered from the change journal without rendering.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from caldav_backend.runtime import Runtime
from hermes_groupware.db.session import Actor
from hermes_groupware.models import Feed, Task
from hermes_groupware.models.enums import Redaction, Source
from hermes_groupware.services import feed_access
from sync import projection
from sync.feeds import FeedItem, FeedMeta, render_feed

_PATH = re.compile(r"^/feeds/([A-Za-z0-9_-]{16,64})\.ics$")
NOT_FOUND = b"Not found\n"
Response = tuple[str, list[tuple[str, str]], bytes]


def handles(path: str) -> bool:
    """Whether the path is a feed URL (anything under /feeds/)."""
    return path.startswith("/feeds/")


def respond(runtime: Runtime, environ: dict[str, Any]) -> Response:
    """The whole feed response for one request."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD"):
        return "405 Method Not Allowed", [("Allow", "GET, HEAD")], b""
    match = _PATH.match(environ.get("PATH_INFO", ""))
    if match is None:
        return _not_found()
    settings = runtime.settings
    with runtime.database.unit_of_work(Actor.system("feeds"), Source.SYSTEM) as uow:
        fetch = feed_access.resolve(
            uow, match.group(1), rate_limit=settings.feeds.rate_limit_per_minute
        )
        if fetch is None:
            return _not_found()
        if fetch.retry_after is not None:
            return "429 Too Many Requests", [("Retry-After", str(fetch.retry_after))], b""
        feed_access.record_fetch(uow, fetch.feed_id, environ.get("HTTP_USER_AGENT"))
        tag, changed = feed_access.fingerprint(uow, fetch.feed_id)
        feed = uow.session.get_one(Feed, fetch.feed_id)
        headers = [
            ("ETag", f'"{tag}"'),
            ("Last-Modified", email.utils.format_datetime(changed, usegmt=True)),
            ("Cache-Control", f"private, max-age={feed.ttl_minutes * 60}"),
            ("Vary", "Accept-Encoding"),
        ]
        if _not_modified(environ, tag, changed):
            return "304 Not Modified", headers, b""
        body = _render(uow, feed, fetch.owner_locale)
    headers.append(("Content-Type", "text/calendar; charset=utf-8"))
    if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
        body = gzip.compress(body, compresslevel=6)
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Length", str(len(body))))
    return "200 OK", headers, b"" if method == "HEAD" else body


def _render(uow: Any, feed: Feed, locale: str) -> bytes:
    ids, private = feed_access.visible_task_ids(uow, feed.id)
    data = projection.task_data_for(uow.session, ids)
    redaction = Redaction(feed.redaction).value
    notes = feed_access.recent_notes(uow, ids) if redaction == "full" else {}
    versions = {tid: v for tid, v in uow.session.execute(_versions(ids))} if ids else {}
    items = [
        FeedItem(
            task=data[task_id],
            version=versions.get(task_id, 1),
            redaction="busy" if task_id in private else redaction,
            locale=locale,
            notes=tuple(notes.get(task_id, ())),
        )
        for task_id in ids
        if task_id in data
    ]
    meta = FeedMeta(
        name=feed.name,
        description=f"Hermes CRM: {feed.name}",
        time_zone=feed.time_zone,
        ttl_minutes=feed.ttl_minutes,
        profile=str(feed.profile),
        colour=feed.colour,
        alarms=feed.alarms,
    )
    return render_feed(meta, items)


def _versions(ids: Iterable[int]) -> Any:
    return select(Task.id, Task.version).where(Task.id.in_(list(ids)))


def _not_modified(environ: dict[str, Any], tag: str, changed: dt.datetime) -> bool:
    match = environ.get("HTTP_IF_NONE_MATCH")
    if match is not None:
        return f'"{tag}"' in [m.strip() for m in match.split(",")] or match.strip() == "*"
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            return bool(changed.replace(microsecond=0) <= email.utils.parsedate_to_datetime(since))
        except (TypeError, ValueError):
            return False
    return False


def _not_found() -> Response:
    return "404 Not Found", [("Content-Type", "text/plain; charset=utf-8")], NOT_FOUND
