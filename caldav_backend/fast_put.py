"""PUT of one plain item into one of the user's own calendars, written without Radicale.

A client that creates or edits a task sends one VCALENDAR with one VTODO or VEVENT. Radicale
parses it with vobject, checks and re-serialises it, and only then calls the storage plugin,
which parses it again (icalendar) to hand it to the services: about a sixth of a PUT. Here
the text goes to :meth:`~caldav_backend.storage.Collection.store` directly, under the same
write transaction, preconditions and UID rules.

Only a success is answered here. Anything Radicale would answer otherwise, or might treat
differently, gets ``None`` before or after the (rolled back) attempt and goes to Radicale as
before, which then words the 400, 403, 409 or 412: a body that is not plainly one component
of the collection's type, recurrence and durations (Radicale rewrites those), another
charset or a compressed body, a failed ``If-Match``/``If-None-Match``, a UID clash, a refusal
by the services.
"""

from __future__ import annotations

from typing import Any

from caldav_backend import request_body
from caldav_backend.storage import Collection
from hermes_groupware.errors import HermesError
from hermes_groupware.models import CalendarObject
from hermes_groupware.models.enums import AccessLevel
from sync import ical, projection

#: status line, headers, body
Answer = tuple[str, list[tuple[str, str]], bytes]
#: components a plain item may hold besides its one VTODO or VEVENT
_INNER = frozenset({"VALARM", "VTIMEZONE", "STANDARD", "DAYLIGHT"})
#: properties Radicale rewrites or checks on its own (recurrence, zero durations)
_RADICALE_CHECKS = frozenset({"RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID", "DURATION"})


class _Declined(Exception):
    """Radicale answers this request (the write so far is rolled back)."""


def put(collection: Collection, href: str, environ: dict[str, Any]) -> Answer | None:
    """201 or 204 when the item was stored, else None (Radicale answers)."""
    info = collection.info
    if info is None or info.access is not AccessLevel.EDIT:
        return None
    component = projection.component_of(info.key)
    text = _plain_text(environ, component)
    if text is None:
        return None
    try:
        fields = ical.read_client(text, component)
    except ical.InvalidCalendarData:
        return None
    login = collection.path.split("/", 1)[0]
    try:
        with collection.runtime.writing(login) as uow:
            old, clash = collection.placing(uow, href, fields.uid)
            if clash or not _preconditions_hold(environ, old):
                raise _Declined
            collection.store(uow, href, text, fields, old)
    except (_Declined, ValueError, HermesError):
        return None
    return ("201 Created" if old is None else "204 No Content"), [], b""


def _plain_text(environ: dict[str, Any], component: str) -> str | None:
    """The body as text when it is plainly one ``component`` in UTF-8 (put back for Radicale
    either way), else None."""
    body = request_body.read(environ)
    parameters = environ.get("CONTENT_TYPE", "").partition(";")[2]
    charset = parameters.partition("charset=")[2].strip().strip('"').lower()
    if environ.get("HTTP_CONTENT_ENCODING") or charset not in ("", "utf-8", "utf8"):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    components: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            continue  # a folded line's continuation
        name = line.split(":", 1)[0].split(";", 1)[0].upper()
        if name == "BEGIN":
            components.append(line[6:].strip().upper())
        elif name in _RADICALE_CHECKS:
            return None
    inner = components[1:]
    if components[:1] != ["VCALENDAR"] or inner.count(component) != 1:
        return None
    if not set(inner) - {component} <= _INNER:
        return None
    return "\r\n".join(lines)


def _preconditions_hold(environ: dict[str, Any], old: CalendarObject | None) -> bool:
    """``If-Match`` and ``If-None-Match: *`` as Radicale checks them."""
    etag = environ.get("HTTP_IF_MATCH", "")
    if etag and (old is None or etag not in ("*", old.etag)):
        return False
    return not (old is not None and environ.get("HTTP_IF_NONE_MATCH", "") == "*")
