"""The one-line rule syntax of ``[notifications] default_rules``, checked when config loads.

``EVENT[@HH:MM][+MINUTES] [in CODE] -> RECIPIENT[,RECIPIENT…] [by sms]``, for example
``overdue@08:00 -> assignee``, ``due-soon+120 in SER -> assignee,manager by sms``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hermes_groupware.models.enums import NotificationChannel, NotificationEvent

_LINE = re.compile(
    r"^\s*(?P<event>[a-z-]+)(?:@(?P<at>\d{2}:\d{2}))?(?:\+(?P<lead>\d{1,6}))?"
    r"(?:\s+in\s+(?P<register>[A-Za-z][A-Za-z0-9]{1,9}))?"
    r"\s*->\s*(?P<to>[^\s,]+(?:\s*,\s*[^\s,]+)*)"
    r"(?:\s+by\s+(?P<channel>email|sms))?\s*$"
)


@dataclass(frozen=True)
class RuleLine:
    """A parsed rule line (recipients are validated against the directory when installed)."""

    text: str
    event: NotificationEvent
    recipients: tuple[str, ...]
    channel: NotificationChannel
    register: str | None
    lead_minutes: int | None
    at_local_time: str | None


def parse_rule_line(text: str) -> RuleLine:
    """Parse one line; ValueError says what is wrong."""
    match = _LINE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not EVENT[@HH:MM][+MINUTES] [in CODE] -> RECIPIENTS")
    try:
        event = NotificationEvent(match["event"])
    except ValueError as exc:
        events = ", ".join(e.value for e in NotificationEvent)
        raise ValueError(f"unknown event {match['event']!r} (one of {events})") from exc
    if event is NotificationEvent.DUE_SOON and not match["lead"]:
        raise ValueError(f"{text!r}: due-soon needs +MINUTES")
    return RuleLine(
        text=text.strip(),
        event=event,
        recipients=tuple(r.strip() for r in match["to"].split(",")),
        channel=NotificationChannel(match["channel"] or "email"),
        register=match["register"].upper() if match["register"] else None,
        lead_minutes=int(match["lead"]) if match["lead"] else None,
        at_local_time=match["at"],
    )
