"""``GET``/``HEAD /feeds/<token>.ics``: subscription feeds on the CalDAV server's port.

Never a 401 (Google and Outlook.com cannot send credentials): the token is the credential.
Unknown, revoked and expired links all answer the same 404. ``If-None-Match`` and
``If-Modified-Since`` are answered from the change journal without rendering.

Two rate limits answer 429 with ``Retry-After``: per client address, in this process and
before the database is asked (a scan for links costs nothing but the refusal), and per link,
counted in the database so that every instance agrees (``feed_access.resolve``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import re
from typing import Any

from caldav_backend.runtime import Runtime
from hermes_groupware.db.session import Actor
from hermes_groupware.models import Feed
from hermes_groupware.models.enums import Redaction, Source, Visibility
from hermes_groupware.services import feed_access
from sync.feeds import FeedItem, FeedMeta, ItemTextCache, feed_body, item_text
from sync.ical import TaskData

_PATH = re.compile(r"^/feeds/([A-Za-z0-9_-]{16,64})\.ics$")
NOT_FOUND = b"Not found\n"
#: Rendered items of this process, about 1.7 KiB each with their keys (35 MiB when full):
#: room for the largest feeds, so a repeated render formats only what changed since.
ITEM_TEXTS = ItemTextCache(capacity=20_000)
Response = tuple[str, list[tuple[str, str]], bytes]


def handles(path: str) -> bool:
    """Whether the path is a feed URL (anything under /feeds/)."""
    return path.startswith("/feeds/")


def respond(runtime: Runtime, environ: dict[str, Any]) -> Response:
    """The whole feed response for one request."""
    method = environ.get("REQUEST_METHOD", "GET")
    refusal = _refusal(runtime, method, environ.get("REMOTE_ADDR", ""))
    if refusal is not None:
        return refusal
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
            return _too_many(fetch.retry_after)
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
    """The feed's body. An item's text is taken from the cache when the same inputs (the task's
    row, its notes, the redaction, the locale and the feed's meta) were rendered before."""
    rows = feed_access.feed_tasks(uow, feed.id)
    redaction = Redaction(feed.redaction).value
    notes = feed_access.recent_notes(uow, [r.id for r in rows]) if redaction == "full" else {}
    meta = FeedMeta(
        name=feed.name,
        description=f"Hermes CRM: {feed.name}",
        time_zone=feed.time_zone,
        ttl_minutes=feed.ttl_minutes,
        profile=str(feed.profile),
        colour=feed.colour,
        alarms=feed.alarms,
    )
    # the rest of every key, as one string per redaction: a string keeps its hash, and the
    # dataclass would hash its seven fields again for every item
    shapes = {shown: repr((shown, locale, meta)) for shown in (redaction, "busy")}
    texts = []
    for row in rows:
        shown = "busy" if row.visibility == Visibility.PRIVATE else redaction
        task_notes = tuple(notes.get(row.id, ()))
        key = (row, task_notes, shapes[shown])
        text = ITEM_TEXTS.get(key)
        if text is None:
            item = FeedItem(
                task=_task_data(row),
                version=row.version,
                redaction=shown,
                locale=locale,
                notes=task_notes,
            )
            text = item_text(meta, item)
            ITEM_TEXTS.put(key, text)
        texts.append(text)
    return feed_body(meta, texts)


def _task_data(row: feed_access.FeedTask) -> TaskData:
    """What the CalDAV projection would load for the task, as far as a feed shows it (no
    custom fields, URL or delegations: a feed never carries them)."""
    contact = None
    if row.contact_first_name is not None:
        contact = f"{row.contact_first_name} {row.contact_last_name}"
        if row.contact_email:
            contact += f" <{row.contact_email}>"
    return TaskData(
        task_id=row.id,
        number=row.number,
        subject=row.subject,
        description=row.description or "",
        status=row.status.value,
        priority=str(row.priority),
        planned_start=row.planned_start,
        due=row.due,
        all_day=row.all_day,
        completed_at=row.completed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        register_code=row.register_code,
        register_name=row.register_name,
        register_colour=row.register_colour,
        customer=row.customer,
        contact=contact,
        categories=tuple(c.strip() for c in (row.categories or "").split(",") if c.strip()),
        private=row.visibility == Visibility.PRIVATE,
    )


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


def _refusal(runtime: Runtime, method: str, client: str) -> Response | None:
    """405 for anything but GET and HEAD, 429 for a client address over its rate."""
    if method not in ("GET", "HEAD"):
        return "405 Method Not Allowed", [("Allow", "GET, HEAD")], b""
    wait = runtime.feed_clients.retry_after(client)
    return _too_many(wait) if wait else None


def _too_many(seconds: int) -> Response:
    return "429 Too Many Requests", [("Retry-After", str(seconds))], b""
