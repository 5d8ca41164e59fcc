"""Calendar invitations by e-mail (iMIP, RFC 6047): REQUEST/CANCEL out, REPLY in.

Outgoing: the VEVENT is the CalDAV event rendering of ``sync.ical`` (summary, description,
categories, priority, class), overlaid with what makes it an invitation: ``METHOD`` (the same
in the MIME parameter and the body: a mismatch is the classic "Outlook shows a plain .ics"),
``ORGANIZER``, one ``ATTENDEE`` with ``RSVP=TRUE``, ``SEQUENCE``, ``DTSTAMP`` and wall-clock
times with an RRULE-style ``VTIMEZONE`` from ``sync.timezones`` (what Outlook reads right).

* UID ``hermes-invite-<task id>@<domain>``: stable per task and distinct from the CalDAV and
  feed UIDs (``hermes-<id>-<collection>@…``), so an invitation never merges with the same
  task seen through CalDAV or a feed in one client.
* SEQUENCE is the task's ``version`` column. It rises on every update of the task row (the ORM
  bumps it, and a trigger does for the desktop application's plain SQL) and never goes down,
  so every REQUEST after a change, and the CANCEL after a status change, carry a higher
  number than anything sent before; no counter of our own to keep. Edits that do not show in
  the invitation make it jump by more than one, which RFC 5546 allows. Two mails rendered
  from one version carry the same SEQUENCE and differ by ``DTSTAMP``, which clients use as
  the tie-break. For the same reason a REPLY's SEQUENCE cannot be compared with the current
  version to call it stale (the version also moves on changes that sent no invitation);
  compare it with the last REQUEST sent, if that ever matters.

Incoming: :func:`parse_reply` reads a ``METHOD:REPLY`` from what ``mime.parse_message``
already produced (a text/calendar part or an .ics file becomes an :class:`Attachment`). It
takes Outlook.com's replies without ``ORGANIZER`` and Google's ``X-RESPONSE-COMMENT``, and
returns None for anything else, never raising: a reply is hostile input like any mail.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal, cast
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, vCalAddress

from mail_gateway.errors import MalformedMessage
from mail_gateway.mime import Attachment, Limits, ParsedMessage, parse_message
from sync.ical import Placement, TaskData, render
from sync.timezones import vtimezone

Method = Literal["REQUEST", "CANCEL"]
PartStat = Literal["ACCEPTED", "DECLINED", "TENTATIVE"]

UID_PREFIX = "hermes-invite-"
ATTACHMENT_NAME = "invite.ics"
DEFAULT_SLOT = dt.timedelta(hours=1)
#: A REPLY is a few KB (Outlook's with an HTML description some tens); more is not one.
MAX_ICS_BYTES = 512 * 1024
_MAX_CANDIDATES = 8
_METHODS = frozenset(
    {"PUBLISH", "REQUEST", "REPLY", "ADD", "CANCEL", "REFRESH", "COUNTER", "DECLINECOUNTER"}
)
_PARTSTATS: frozenset[str] = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE"})
_ICS_TYPES = frozenset(
    {"text/calendar", "application/ics", "text/x-vcalendar", "application/x-ics"}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS = re.compile(r"[^\s@:;,<>\"]{1,64}@[^\s@:;,<>\"]{1,255}")


# --------------------------------------------------------------------------- outgoing


def invitation_uid(task_id: int, domain: str) -> str:
    """The invitation UID of a task (the same for every REQUEST and CANCEL of it)."""
    return f"{UID_PREFIX}{task_id}@{domain}"


def task_id_from_uid(uid: str, domain: str) -> int | None:
    """The task an invitation UID of ours names; None for anyone else's UID.

    The UID is not a secret: whoever answers must still be the attendee we invited.
    """
    local, at, host = uid.strip().rpartition("@")
    if not at or host.lower() != domain.lower() or not local.startswith(UID_PREFIX):
        return None
    number = local[len(UID_PREFIX) :]
    return int(number) if number.isascii() and number.isdigit() and len(number) < 12 else None


def invitation(
    task: TaskData,
    *,
    method: Method,
    organizer: tuple[str, str],
    attendee: tuple[str, str],
    sequence: int,
    domain: str,
    zone: ZoneInfo | str,
    now: dt.datetime,
) -> bytes:
    """The iCalendar object of one invitation (REQUEST) or its withdrawal (CANCEL).

    ``organizer`` and ``attendee`` are (display name, address). Times run from the planned
    start to the due time, or one hour from the planned start when there is no later due.

    Raises:
        ValueError: no planned start, an unknown method, a negative sequence, or an address
            that is not one (task data must never break the calendar syntax).
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"not an invitation method: {method!r}")
    if sequence < 0:
        raise ValueError("SEQUENCE must not be negative")
    if task.planned_start is None:
        raise ValueError(f"task {task.number} has no planned start to invite to")
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    uid = invitation_uid(task.task_id, domain)
    calendar = Calendar.from_ical(render(task, Placement(uid, "VEVENT"), None, now))
    event = calendar.walk("VEVENT")[0]
    for name in ("DTSTAMP", "SEQUENCE", "STATUS"):
        del event[name]
    # reminders are the attendee's own (Hermes's reach them through CalDAV), not the invite's
    event.subcomponents = [c for c in event.subcomponents if c.name != "VALARM"]
    year = task.planned_start.astimezone(tz).year
    if not task.all_day:  # all-day events keep the mapping's VALUE=DATE span
        del event["DTSTART"]
        del event["DTEND"]
        start, end = _slot(task.planned_start, task.due)
        event.add("DTSTART", _wall_clock(start, tz))
        event.add("DTEND", _wall_clock(end, tz))
    event.add("DTSTAMP", now.astimezone(dt.UTC))
    event.add("SEQUENCE", sequence)
    event.add("STATUS", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("ORGANIZER", _address(*organizer, {}))
    event.add(
        "ATTENDEE",
        _address(
            *attendee,
            {
                "CUTYPE": "INDIVIDUAL",
                "ROLE": "REQ-PARTICIPANT",
                "PARTSTAT": "NEEDS-ACTION",
                "RSVP": "TRUE",
            },
        ),
    )
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", method)
    calendar.subcomponents.insert(0, vtimezone(tz.key, year))
    return bytes(calendar.to_ical())


def _slot(start: dt.datetime, due: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """Planned start to due; one hour when due is missing or not later. Counted in UTC, so
    the hour stays an hour across a DST change (wall-clock arithmetic would not)."""
    start = start.astimezone(dt.UTC)
    if due is not None and due > start:
        return start, due.astimezone(dt.UTC)
    return start, start + DEFAULT_SLOT


def _wall_clock(instant: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Local time with TZID; UTC for the repeated hour after DST ends, because a TZID time
    there means its first occurrence (RFC 5545 §3.3.5) and the second could not be said."""
    local = instant.astimezone(tz)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return instant.astimezone(dt.UTC)
    return local


def _address(name: str, address: str, params: dict[str, str]) -> vCalAddress:
    """A ``mailto:`` value; the CN loses quotes and control characters Outlook cannot take."""
    address = address.strip()
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"not an e-mail address: {address!r}")
    value = vCalAddress(f"mailto:{address}")
    for key, param in params.items():
        value.params[key] = param
    cn = " ".join(_CONTROL.sub(" ", name).replace('"', "'").split())
    if cn:
        value.params["CN"] = cn
    return value


def attach_invitation(message: EmailMessage, ics: bytes, method: str) -> None:
    """Add the calendar the way Outlook, Gmail and Apple Mail recognise an invitation.

    ``multipart/mixed`` → [``multipart/alternative`` → text/plain, text/html,
    ``text/calendar; charset=UTF-8; method=…``], ``invite.ics`` (``application/ics``) — the
    layout Gmail sends. The calendar part has no Content-Disposition (with ``inline`` and a
    Content-ID Thunderbird shows a file, not an invitation) and ``method`` is written unquoted,
    as Outlook and Gmail write it.

    Raises:
        ValueError: ``method`` is not the METHOD in ``ics``, or the message has no text
            body to sit beside, or already carries a calendar.
    """
    method = method.strip().upper()
    if method not in _METHODS:
        raise ValueError(f"not an iTIP method: {method!r}")
    found = _body_method(ics)
    if found != method:
        raise ValueError(f"METHOD in the calendar is {found!r}, not {method!r}")
    alternative = _alternative(message)
    if any(p.get_content_type() == "text/calendar" for p in alternative.iter_parts()):
        raise ValueError("the message already carries a calendar")
    alternative.add_alternative(ics, maintype="text", subtype="calendar", cte="base64")
    part = cast(EmailMessage, list(alternative.iter_parts())[-1])
    encoding = part["Content-Transfer-Encoding"]
    for name in ("Content-Type", "Content-Transfer-Encoding", "MIME-Version"):
        del part[name]
    # set_raw keeps the value as written; the modern policy would quote the parameters
    part.set_raw("Content-Type", f"text/calendar; charset=UTF-8; method={method}")
    part.set_raw("Content-Transfer-Encoding", str(encoding))
    message.add_attachment(
        ics,
        maintype="application",
        subtype="ics",
        filename=ATTACHMENT_NAME,
        params={"name": ATTACHMENT_NAME},
        cte="base64",
    )


def _body_method(ics: bytes) -> str | None:
    try:
        calendar = Calendar.from_ical(ics)
    except ValueError:
        return None
    value = calendar.get("METHOD")
    return str(value).strip().upper() if value is not None else None


def _alternative(message: EmailMessage) -> EmailMessage:
    """The multipart/alternative that holds the body; a lone text body is turned into one."""
    ctype = message.get_content_type()
    if ctype == "multipart/alternative":
        return message
    if ctype in ("text/plain", "text/html"):
        message.make_alternative()
        return message
    if ctype == "multipart/mixed":
        for part in message.iter_parts():
            child = cast(EmailMessage, part)
            if child.get_content_type() == "multipart/alternative":
                return child
            if child.get_content_type() in ("text/plain", "text/html"):
                child.make_alternative()
                return child
    raise ValueError(f"no text body to put the calendar beside in a {ctype} message")


# --------------------------------------------------------------------------- incoming


@dataclass(frozen=True)
class ImipReply:
    """An attendee's answer: who, to which invitation (UID, SEQUENCE), what, and why."""

    uid: str
    attendee: str  # the address, lower-cased
    attendee_name: str | None
    partstat: PartStat
    sequence: int
    comment: str | None
    organizer: str | None  # None in Outlook.com's replies

    def task_id(self, domain: str) -> int | None:
        """The task this answers, when the UID is one of our invitations."""
        return task_id_from_uid(self.uid, domain)


def parse_reply(
    message: ParsedMessage | bytes, *, sender: str | None = None, limits: Limits | None = None
) -> ImipReply | None:
    """The REPLY a message carries (inline text/calendar or an .ics file); None otherwise.

    ``message`` is what the pipeline already parsed, or the raw bytes. ``sender`` picks the
    attendee when a client lists several (default: the single From address). Never raises.
    """
    if isinstance(message, bytes | bytearray):
        try:
            message = parse_message(bytes(message), limits or Limits())
        except MalformedMessage:
            return None
    if sender is None and len(message.from_) == 1:
        sender = message.from_[0].email
    for attachment in _candidates(message.attachments):
        found = read_reply(attachment.data, sender=sender)
        if found is not None:
            return found
    return None


def _candidates(attachments: tuple[Attachment, ...]) -> list[Attachment]:
    """Calendar parts first (the inline one), then files named .ics, within the size cap."""
    typed = [a for a in attachments if a.content_type.lower() in _ICS_TYPES]
    named = [
        a for a in attachments if a not in typed and a.filename.lower().endswith((".ics", ".vcs"))
    ]
    return [a for a in typed + named if len(a.data) <= MAX_ICS_BYTES][:_MAX_CANDIDATES]


def read_reply(ics: bytes, *, sender: str | None = None) -> ImipReply | None:
    """The REPLY in one calendar object; None for other methods, garbage or no decision."""
    if len(ics) > MAX_ICS_BYTES:
        return None
    try:
        return _read_reply(ics.decode("utf-8", errors="replace"), sender)
    except Exception:  # icalendar on hostile input: any failure means "not a usable reply"
        return None


def _read_reply(text: str, sender: str | None) -> ImipReply | None:
    for calendar in Calendar.from_ical(text, multiple=True):
        if calendar.name != "VCALENDAR":
            continue
        if str(calendar.get("METHOD", "")).strip().upper() != "REPLY":
            continue
        event = _master(calendar)
        if event is None:
            continue
        uid = str(event.get("UID", "")).strip()
        attendee = _replying_attendee(event, sender)
        if not uid or attendee is None:
            continue
        address, partstat = attendee
        return ImipReply(
            uid=uid[:998],
            attendee=_email_of(address) or "",
            attendee_name=_param(address, "CN"),
            partstat=partstat,
            sequence=_sequence(event),
            comment=_comment(event, address),
            organizer=_email_of(event.get("ORGANIZER")),
        )
    return None


def _master(calendar: Component) -> Component | None:
    """The VEVENT (or VTODO) answered: the one without RECURRENCE-ID, else the first."""
    events = [c for c in calendar.subcomponents if c.name in ("VEVENT", "VTODO")]
    masters = [c for c in events if "RECURRENCE-ID" not in c]
    return (masters or events)[0] if events else None


def _replying_attendee(event: Component, sender: str | None) -> tuple[vCalAddress, PartStat] | None:
    """The attendee who answers: the one the sender is, else the only one with a decision.

    RFC 5546 puts exactly one ATTENDEE in a REPLY; some clients list everyone.
    """
    raw = event.get("ATTENDEE")
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    decided: list[tuple[vCalAddress, PartStat]] = []
    for value in values:
        if not isinstance(value, vCalAddress) or not _email_of(value):
            continue
        partstat = (_param(value, "PARTSTAT") or "NEEDS-ACTION").upper()
        if partstat not in _PARTSTATS:
            continue
        entry = (value, cast(PartStat, partstat))
        if sender is not None and _email_of(value) == sender.strip().lower():
            return entry
        decided.append(entry)
    return decided[0] if len(decided) == 1 else None


def _email_of(value: object) -> str | None:
    """The address of ``mailto:x`` (any case), a bare address, or Apple's EMAIL parameter."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :].strip()
    if not _ADDRESS.fullmatch(text):
        text = (_param(value, "EMAIL") or "").strip()
    return text.lower() if _ADDRESS.fullmatch(text) else None


def _param(value: object, name: str) -> str | None:
    params = getattr(value, "params", None)
    found = params.get(name) if params is not None else None
    if isinstance(found, list):
        found = found[0] if found else None
    text = str(found).strip() if found is not None else ""
    return text or None


def _sequence(event: Component) -> int:
    try:
        return max(0, int(str(event.get("SEQUENCE", 0))))
    except ValueError:
        return 0


def _comment(event: Component, attendee: vCalAddress) -> str | None:
    """COMMENT (Outlook, Apple), else Google's X-RESPONSE-COMMENT (HTML-escaped by Google)."""
    raw = event.get("COMMENT")
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    text = "\n".join(str(v).strip() for v in values if str(v).strip())
    if not text:
        text = html.unescape(_param(attendee, "X-RESPONSE-COMMENT") or "").strip()
    return text[:4000] or None
