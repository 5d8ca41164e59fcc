"""RFC 8058 one-click unsubscribe from a report schedule: the signed link and its HTTP handler.

The token carries the schedule id and the recipient's address and is signed with a key derived
from ``[security] secret_key``, so no database row is needed to check it and a forged or
altered token is a plain 404. ``POST`` (what mail providers send for one click, and what the
page's button sends) unsubscribes; ``GET`` and ``HEAD`` (what link scanners and previews do)
only show a page with that button.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
from typing import Any
from urllib.parse import parse_qs

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.models import ReportSchedule
from hermes_groupware.models.enums import Source
from hermes_groupware.services import report_schedules

PATH = "/reports/unsubscribe"
_PURPOSE = b"hermes/reports/unsubscribe/v1"
_MAC_BYTES = 16
_MAX_TOKEN = 600
Response = tuple[str, list[tuple[str, str]], bytes]
_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Robots-Tag", "noindex"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    ),
]
_NOT_FOUND = b"Nie znaleziono.\nNot found.\n"


def _mac(secret_key: str, payload: bytes) -> bytes:
    key = hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(secret_key: str, schedule_id: int, address: str) -> str:
    """A URL-safe token naming (schedule, address); only our key can make a valid one."""
    payload = f"{schedule_id}:{address.lower()}".encode()
    return f"{_b64(payload)}.{_b64(_mac(secret_key, payload))}"


def read_token(secret_key: str, token: str) -> tuple[int, str] | None:
    """The (schedule id, address) a genuine token names; None for anything else."""
    if len(token) > _MAX_TOKEN or token.count(".") != 1:
        return None
    body, _, signature = token.partition(".")
    try:
        payload, mac = _unb64(body), _unb64(signature)
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(mac, _mac(secret_key, payload)):
        return None
    schedule, _, address = payload.decode().partition(":")
    return int(schedule), address


def unsubscribe_url(settings: Settings, schedule_id: int, address: str) -> str:
    """The link for ``List-Unsubscribe``, on the server's public URL."""
    token = make_token(settings.secret_key, schedule_id, address)
    return f"{settings.feeds.public_url.rstrip('/')}{PATH}?t={token}"


def handles(path: str) -> bool:
    """Whether the request is for the unsubscribe handler."""
    return path == PATH


def respond(database: Database, settings: Settings, environ: dict[str, Any]) -> Response:
    """The whole response for one request (the HTTP composition root sends it)."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD", "POST"):
        return "405 Method Not Allowed", [("Allow", "GET, HEAD, POST"), *_HEADERS], b""
    tokens = parse_qs(environ.get("QUERY_STRING", "")).get("t", [])
    target = read_token(settings.secret_key, tokens[0]) if len(tokens) == 1 else None
    if target is None:
        return _not_found()
    schedule_id, address = target
    actor = Actor.system("report-unsubscribe")
    with database.unit_of_work(actor, Source.SYSTEM, read_only=method != "POST") as uow:
        schedule = uow.session.get(ReportSchedule, schedule_id)
        name = schedule.name if schedule is not None else ""
        if schedule is None or (
            method == "POST" and not report_schedules.unsubscribe(uow, schedule_id, address)
        ):
            return _not_found()
    if method == "POST":
        return _page("200 OK", _done(name, address))
    status, headers, body = _page("200 OK", _confirm(name, address, tokens[0]))
    return status, headers, b"" if method == "HEAD" else body


def _not_found() -> Response:
    headers = [("Content-Type", "text/plain; charset=utf-8"), *_HEADERS]
    return "404 Not Found", [*headers, ("Content-Length", str(len(_NOT_FOUND)))], _NOT_FOUND


def _page(status: str, content: str) -> Response:
    body = (
        '<!DOCTYPE html>\n<html lang="pl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex"><title>Hermes</title><style>'
        "body{font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#222}"
        "button{font-size:1em;padding:.5em 1.2em}"
        "</style></head><body>" + content + "</body></html>\n"
    ).encode()
    headers = [("Content-Type", "text/html; charset=utf-8"), *_HEADERS]
    return status, [*headers, ("Content-Length", str(len(body)))], body


def _confirm(name: str, address: str, token: str) -> str:
    n, a = html.escape(name), html.escape(address)
    return (
        "<h1>Wypisanie z raportu</h1>"
        f"<p>Adres <b>{a}</b> przestanie dostawać raport „{n}”.</p>"
        '<h1 lang="en">Unsubscribe from a report</h1>'
        f'<p lang="en">The address <b>{a}</b> will no longer receive the report “{n}”.</p>'
        f'<form method="post" action="?t={html.escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Wypisz / Unsubscribe</button></form>'
    )


def _done(name: str, address: str) -> str:
    n, a = html.escape(name), html.escape(address)
    return (
        "<h1>Wypisano</h1>"
        f"<p>Adres <b>{a}</b> nie będzie już dostawać raportu „{n}”.</p>"
        '<h1 lang="en">Unsubscribed</h1>'
        f'<p lang="en">The address <b>{a}</b> will no longer receive the report “{n}”.</p>'
    )
