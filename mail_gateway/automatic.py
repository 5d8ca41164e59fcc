"""Recognising mail no human wrote: our own echoes, bounces, auto-replies, lists and bulk.

Answering any of these risks a mail loop or a task per newsletter, so the pipeline asks
here first.  The checks run strongest first (our loop marker, then bounces) and every answer
carries the header or pattern that decided it, for the decision trail.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from enum import StrEnum

from flufl.bounce import all_failures

from mail_gateway.mime import Limits, ParsedMessage

LOOP_HEADER = "X-Hermes-Loop"

_BOUNCE_SUBJECTS = re.compile(
    r"undelivered mail returned to sender|delivery status notification \(failure\)"
    r"|niedostarczona wiadomość|zwrot niedostarczonej wiadomości|mail delivery failed"
    r"|^\s*(?:niedostarczalne|undeliverable)\s*:",
    re.IGNORECASE,
)
# "Auto:" alone is left out on purpose: in Polish "auto" is a car ("Auto: naprawa gwarancyjna"),
# and "Nieobecność"/"Poza biurem" need a colon, as a customer may well write about an absence.
_AUTO_SUBJECTS = re.compile(
    r"^\s*(?:odpowiedź automatyczna|automatyczna odpowiedź|automatic reply|nieobecność"
    r"|poza biurem)\s*:"
    r"|^\s*(?:autoodpowiedź|autoreply|out of office(?: autoreply)?)\s*(?::|$|-|–|\()",
    re.IGNORECASE,
)
_DAEMONS = frozenset({"mailer-daemon", "postmaster"})
_SUPPRESS = frozenset({"all", "oof", "autoreply", "dr"})


class AutoKind(StrEnum):
    AUTO_REPLY = "auto-reply"
    BOUNCE = "bounce"
    LIST = "list"
    BULK = "bulk"
    LOOP = "loop"


@dataclass(frozen=True)
class Automatic:
    """Why a message counts as machine-sent."""

    kind: AutoKind
    reason: str


def classify(
    msg: ParsedMessage, *, envelope_from: str | None, loop_marker: str
) -> Automatic | None:
    """The kind of automatic message this is, or None for mail from a person.

    Order: loop, bounce, auto-reply, list, bulk.  A null envelope sender alone counts as a
    bounce only after the auto-reply checks, because RFC 3834 auto-responders (Exchange OOF)
    send from ``<>`` too.
    """
    for check in (_loop, _bounce, _auto_headers, _auto_content, _null_sender, _list, _bulk):
        found = check(msg, envelope_from, loop_marker)
        if found is not None:
            return found
    return None


def _first(msg: ParsedMessage, name: str) -> str | None:
    values = msg.header(name)
    return values[0].strip() if values else None


def _token(value: str) -> str:
    """The leading keyword of a header value, without parameters or comments."""
    return re.split(r"[;(\s]", value.strip(), maxsplit=1)[0].lower()


def _loop(msg: ParsedMessage, _envelope: str | None, marker: str) -> Automatic | None:
    for value in msg.header(LOOP_HEADER):
        if value.strip() == marker:
            return Automatic(AutoKind.LOOP, f"{LOOP_HEADER}: {value.strip()} is our own marker")
        return Automatic(
            AutoKind.LOOP,
            f"{LOOP_HEADER}: {value.strip()!r} present (our outbound header, foreign value)",
        )
    return None


def _bounce(msg: ParsedMessage, _envelope: str | None, _marker: str) -> Automatic | None:
    ctype = (_first(msg, "Content-Type") or "").lower()
    if ctype.startswith("multipart/report") and re.search(
        r"report-type\s*=\s*\"?delivery-status", ctype
    ):
        return Automatic(AutoKind.BOUNCE, "Content-Type: multipart/report (delivery-status)")
    for address in msg.from_:
        local = address.email.rpartition("@")[0].lower()
        if local in _DAEMONS:
            return Automatic(AutoKind.BOUNCE, f"From: {address.email}")
    found = _BOUNCE_SUBJECTS.search(msg.subject)
    if found:
        return Automatic(AutoKind.BOUNCE, f"Subject: {found.group(0).strip()!r}")
    return None


def _auto_headers(msg: ParsedMessage, _envelope: str | None, _marker: str) -> Automatic | None:
    submitted = _first(msg, "Auto-Submitted")
    if submitted and _token(submitted) not in ("", "no"):
        return Automatic(AutoKind.AUTO_REPLY, f"Auto-Submitted: {_token(submitted)}")
    for value in msg.header("X-Auto-Response-Suppress"):
        flags = {flag.strip().lower() for flag in value.split(",")}
        if flags & _SUPPRESS:
            return Automatic(AutoKind.AUTO_REPLY, f"X-Auto-Response-Suppress: {value.strip()}")
    for name in ("X-Autoreply", "X-Autorespond"):
        flag = _first(msg, name)
        if flag is not None and _token(flag) != "no":
            return Automatic(AutoKind.AUTO_REPLY, f"{name}: {flag}")
    if _token(_first(msg, "Precedence") or "") == "auto_reply":
        return Automatic(AutoKind.AUTO_REPLY, "Precedence: auto_reply")
    return None


def _auto_content(msg: ParsedMessage, _envelope: str | None, _marker: str) -> Automatic | None:
    ctype = (_first(msg, "Content-Type") or "").lower()
    if ctype.startswith("multipart/report") and "disposition-notification" in ctype:
        return Automatic(AutoKind.AUTO_REPLY, "read receipt (disposition-notification)")
    found = _AUTO_SUBJECTS.search(msg.subject)
    if found:
        return Automatic(AutoKind.AUTO_REPLY, f"Subject: {found.group(0).strip()!r}")
    return None


def _null_sender(msg: ParsedMessage, envelope: str | None, _marker: str) -> Automatic | None:
    if envelope is not None:
        sender = envelope.strip()
        source = "envelope sender"
    else:  # IMAP: the delivering MTA recorded the envelope sender as Return-Path
        sender = (_first(msg, "Return-Path") or "x").strip()
        source = "Return-Path"
    if sender.replace(" ", "") in ("", "<>"):
        return Automatic(AutoKind.BOUNCE, f"empty {source} <>")
    return None


def _list(msg: ParsedMessage, _envelope: str | None, _marker: str) -> Automatic | None:
    for name in ("List-Id", "List-Unsubscribe"):
        value = _first(msg, name)
        if value is not None:
            return Automatic(AutoKind.LIST, f"{name}: {value[:120]}")
    if _token(_first(msg, "Precedence") or "") == "list":
        return Automatic(AutoKind.LIST, "Precedence: list")
    return None


def _bulk(msg: ParsedMessage, _envelope: str | None, _marker: str) -> Automatic | None:
    precedence = _token(_first(msg, "Precedence") or "")
    if precedence in ("bulk", "junk"):
        return Automatic(AutoKind.BULK, f"Precedence: {precedence}")
    return None


def bounced_recipients(raw: bytes) -> set[str]:
    """Addresses a delivery report says failed permanently (lower-case; empty when unsure)."""
    if len(raw) > Limits().max_message_bytes:
        return set()
    try:
        # parsed from text: 8-bit header bytes would otherwise become Header objects, on which
        # several detectors crash (and one crash ends the whole scan)
        text = raw.decode("utf-8", errors="replace")
        report = email.message_from_string(text, policy=email.policy.compat32)
        _temporary, permanent = all_failures(report)
    except Exception:  # flufl's heuristic detectors were written for benign input
        return set()
    found: set[str] = set()
    for item in permanent:
        text = item.decode("utf-8", errors="replace") if isinstance(item, bytes) else str(item)
        address = text.strip().strip("<>").strip().lower()
        if "@" in address and not any(c.isspace() for c in address):
            found.add(address)
    return found
