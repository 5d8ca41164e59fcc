"""Feeds over HTTP on the running server: caching, gzip, links' life cycle, rights, limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import http.client
from urllib.parse import urlsplit

from icalendar import Calendar
from sqlalchemy import select, text

from hermes_groupware.models import Feed, Task
from hermes_groupware.models.enums import AccessLevel
from hermes_groupware.services import feeds
from hermes_groupware.services.feeds import FeedSpec
from hermes_groupware.services.lookups import register_by_code
from tests.caldav_backend.conftest import Server, start_server


def _get(
    server: Server, token: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        connection.request(method, f"/feeds/{token}.ics", headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _feed(server: Server, **spec: object) -> tuple[int, str]:
    values: dict[str, object] = {"name": "Test", "owner": "admin", "registers": ("REK",)}
    values.update(spec)
    with server.uow() as uow:
        view, token = feeds.create_feed(uow, FeedSpec(**values), secret=server.settings.secret_key)  # type: ignore[arg-type]
    return view.id, token


def _numbers(body: bytes) -> set[str]:
    calendar = Calendar.from_ical(body)
    return {str(c["SUMMARY"]) for c in calendar.walk("VEVENT")}


def test_feed_serves_a_calendar_and_never_asks_for_credentials(dav_server: Server) -> None:
    _, token = _feed(dav_server)
    status, headers, body = _get(
        dav_server, token, headers={"User-Agent": "Google-Calendar-Importer"}
    )
    assert status == 200
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert headers["cache-control"] == "private, max-age=3600"
    assert "www-authenticate" not in headers
    assert headers["etag"].startswith('"')
    assert _numbers(body)
    assert all(s.startswith("[REK]") for s in _numbers(body))


def test_etag_and_last_modified_give_304_and_head_has_no_body(dav_server: Server) -> None:
    _, token = _feed(dav_server)
    _, headers, _ = _get(dav_server, token)
    assert _get(dav_server, token, headers={"If-None-Match": headers["etag"]})[0] == 304
    assert (
        _get(dav_server, token, headers={"If-Modified-Since": headers["last-modified"]})[0] == 304
    )
    status, head_headers, body = _get(dav_server, token, "HEAD")
    assert (status, body) == (200, b"")
    assert head_headers["etag"] == headers["etag"]


def test_gzip_when_asked(dav_server: Server) -> None:
    _, token = _feed(dav_server)
    plain = _get(dav_server, token)[2]
    status, headers, body = _get(dav_server, token, headers={"Accept-Encoding": "gzip"})
    assert (status, headers["content-encoding"]) == (200, "gzip")
    assert gzip.decompress(body) == plain


def test_plain_sql_change_changes_the_etag(dav_server: Server) -> None:
    _, token = _feed(dav_server)
    before = _get(dav_server, token)[1]["etag"]
    with dav_server.database.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE tasks SET subject = subject || ' (SQL)' WHERE id = "
                "(SELECT min(id) FROM tasks WHERE number LIKE 'REK/%')"
            )
        )
    status, headers, body = _get(dav_server, token, headers={"If-None-Match": before})
    assert status == 200
    assert headers["etag"] != before
    assert any(s.endswith("(SQL)") for s in _numbers(body))


def test_unknown_revoked_and_expired_links_look_the_same(dav_server: Server) -> None:
    feed_id, token = _feed(dav_server)
    _, expired = _feed(dav_server, expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    unknown = _get(dav_server, "A" * 32)
    with dav_server.uow() as uow:
        feeds.revoke(uow, feed_id)
    for miss in (_get(dav_server, token), _get(dav_server, expired)):
        assert (miss[0], miss[2]) == (unknown[0], unknown[2]) == (404, b"Not found\n")


def test_rotation_keeps_the_old_link_for_the_grace_period(dav_server: Server) -> None:
    feed_id, old = _feed(dav_server)
    with dav_server.uow() as uow:
        new = feeds.rotate(
            uow, feed_id, secret=dav_server.settings.secret_key, grace=dt.timedelta(hours=1)
        )
    assert _get(dav_server, old)[0] == 200
    assert _get(dav_server, new)[0] == 200
    with dav_server.uow() as uow:
        newest = feeds.rotate(uow, feed_id, secret=dav_server.settings.secret_key)
        assert feeds.current_tokens(uow, feed_id, secret=dav_server.settings.secret_key) == [newest]
    assert _get(dav_server, old)[0] == 404
    assert _get(dav_server, new)[0] == 404


def test_owner_losing_access_shrinks_the_feed_at_once(dav_server: Server) -> None:
    _, token = _feed(dav_server, owner="ebrown", registers=("REK", "HAN"))
    before = _numbers(_get(dav_server, token)[2])
    assert any(s.startswith("[REK]") for s in before)
    _set_default_access(dav_server, "REK", AccessLevel.NONE)
    try:
        after = _numbers(_get(dav_server, token)[2])
        assert after
        assert not any(s.startswith("[REK]") for s in after)
    finally:
        _set_default_access(dav_server, "REK", AccessLevel.READ)


def _set_default_access(server: Server, code: str, level: AccessLevel) -> None:
    with server.uow() as uow:
        register_by_code(uow.session, code).default_access = level


def test_private_tasks_are_always_busy(dav_server: Server) -> None:
    _, token = _feed(dav_server, owner="jkowalski", registers=(), employee="jkowalski")
    body = _get(dav_server, token)[2].decode()
    assert "Przetarg poufny" not in body
    with dav_server.uow() as uow:
        private = uow.session.scalar(select(Task).where(Task.subject.like("Przetarg poufny%")))
        assert private is not None
        has_date = private.due is not None or private.planned_start is not None
    if has_date:
        assert "Zajęty" in body


def test_rate_limit_answers_429_with_retry_after(dav_server: Server) -> None:
    _, token = _feed(dav_server)
    limit = dav_server.settings.feeds.rate_limit_per_minute
    statuses = [_get(dav_server, token, "HEAD")[0] for _ in range(limit)]
    assert set(statuses) == {200}
    status, headers, _ = _get(dav_server, token, "HEAD")
    assert status == 429
    assert 1 <= int(headers["retry-after"]) <= 60


def test_fetch_time_and_client_are_recorded(dav_server: Server) -> None:
    feed_id, token = _feed(dav_server)
    _get(dav_server, token, headers={"User-Agent": "Microsoft Office/16.0"})
    with dav_server.uow() as uow:
        feed = uow.session.get_one(Feed, feed_id)
        assert feed.last_user_agent == "Microsoft Office/16.0"
        assert feed.last_fetched_at is not None


def test_a_client_address_over_its_rate_gets_429_before_any_lookup(dav_server: Server) -> None:
    """Behind a trusted proxy each client has its own budget, for known and unknown links
    alike (a scan for links is refused as early as a flood on one link)."""
    _, token = _feed(dav_server)
    settings = dataclasses.replace(
        dav_server.settings,
        feeds=dataclasses.replace(dav_server.settings.feeds, address_limit_per_minute=3),
        http=dataclasses.replace(dav_server.settings.http, trusted_proxies=("127.0.0.1",)),
    )
    base, server = start_server(settings)
    limited = dataclasses.replace(dav_server, url=base, clients=[])
    scanner = {"X-Forwarded-For": "203.0.113.7"}
    try:
        guesses = [_get(limited, "A" * 43, "HEAD", scanner)[0] for _ in range(3)]
        status, headers, _ = _get(limited, token, "HEAD", scanner)
        other = _get(limited, token, "HEAD", {"X-Forwarded-For": "198.51.100.1"})[0]
    finally:
        server.stop()
    assert guesses == [404, 404, 404]
    assert status == 429
    assert 1 <= int(headers["retry-after"]) <= 20  # one request back every 20 s
    assert other == 200
