"""Parsing inbound mail into what the pipeline needs, within hard limits.

Every message here is hostile until proven otherwise.  The order of defences matters:
sizes are checked on the raw bytes, then the MIME skeleton is scanned (nesting depth, part
count) before the stdlib parser ever runs, because the parser's cost grows with depth times
lines and its recursion is unbounded.  The parser itself runs with a part budget, and the
parsed tree is walked iteratively.  Headers are decoded by our own code (``charsets``), which
never raises; the modern policy is used for MIME parameters, with compat32 as a fallback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.policy
import email.utils
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import Policy
from enum import Enum
from functools import cached_property
from typing import TypeVar
from urllib.parse import unquote

from mail_gateway.attachments import (
    Attachment,
    Skipped,
    attachment_name,
    extension,
    is_tnef,
    make_attachment,
    unpack_tnef,
)
from mail_gateway.charsets import (
    b64_lenient,
    decode_body,
    decode_header_value,
    decode_words,
    header_text,
)
from mail_gateway.errors import MalformedMessage

__all__ = ["Address", "Attachment", "Limits", "ParsedMessage", "Skipped", "parse_message"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class Limits:
    """What one inbound message may cost us; beyond these it is refused or parts are skipped."""

    max_message_bytes: int = 30 * 1024 * 1024
    max_parts: int = 1000
    max_depth: int = 30
    max_header_bytes: int = 256 * 1024  # all headers of the top message together
    max_attachment_bytes: int = 25 * 1024 * 1024
    max_attachments: int = 100
    blocked_types: tuple[str, ...] = ()  # extensions like ".exe" that are refused (kept out)


@dataclass(frozen=True)
class Address:
    """One mailbox; ``email`` is a plausible addr-spec with the domain lower-cased."""

    name: str
    email: str

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


@dataclass(frozen=True)
class ParsedMessage:
    """The parts of a message the pipeline works with, all decoded to text.

    ``all_headers`` holds every top-level header in order (name as sent, value decoded); it
    backs :meth:`header` and has a default so tests can build messages by hand.
    """

    message_id: str | None
    subject: str
    from_: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: dt.datetime | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]
    skipped: tuple[Skipped, ...]
    notes: tuple[str, ...]
    all_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def header(self, name: str) -> list[str]:
        """All values of a header, top first, decoded to text."""
        wanted = name.lower()
        return [value for key, value in self.all_headers if key.lower() == wanted]

    def header_names(self) -> set[str]:
        """Names of the headers present, lower-cased."""
        return {key.lower() for key, _ in self.all_headers}


def parse_message(raw: bytes, limits: Limits = Limits()) -> ParsedMessage:
    """Parse one message; raises MalformedMessage(reason) when it cannot be handled in limits.

    Nothing else escapes: an unexpected failure on hostile input is a quarantine reason too,
    not a crash of the entry point (which would make the sender retry forever).
    """
    _check_sizes(raw, limits)
    modern = _prescan(raw, limits)
    notes: list[str] = []
    msg = _parse(raw, limits, notes, modern=modern)
    try:
        return _extract(msg, limits, notes)
    except MalformedMessage:
        raise
    except RecursionError:
        raise MalformedMessage("MIME structure nested too deeply to read") from None
    except Exception as exc:
        raise MalformedMessage(f"message unreadable ({type(exc).__name__}: {exc!s:.80})") from exc


def _extract(msg: Message, limits: Limits, notes: list[str]) -> ParsedMessage:
    headers = tuple((name, decode_header_value(value)) for name, value in msg.raw_items())
    body = _Walker(limits).walk(msg)
    notes.extend(body.notes)
    date = _date(_first_raw(msg, "date"), notes)
    return ParsedMessage(
        message_id=_message_id(_first_raw(msg, "message-id")),
        subject=_one_line(decode_header_value(_first_raw(msg, "subject") or "")),
        from_=_addresses(_all_raw(msg, "from"), notes, "From"),
        reply_to=_addresses(_all_raw(msg, "reply-to"), notes, "Reply-To"),
        to=_addresses(_all_raw(msg, "to"), notes, "To"),
        cc=_addresses(_all_raw(msg, "cc"), notes, "Cc"),
        date=date,
        in_reply_to=_message_ids(_all_raw(msg, "in-reply-to")),
        references=_message_ids(_all_raw(msg, "references")),
        text=body.text,
        html=body.html,
        attachments=tuple(body.attachments),
        skipped=tuple(body.skipped),
        notes=tuple(dict.fromkeys(notes)),
        all_headers=headers,
    )


# --- limits before parsing ------------------------------------------------------------------

_HEADER_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def _check_sizes(raw: bytes, limits: Limits) -> None:
    if len(raw) > limits.max_message_bytes:
        raise MalformedMessage(
            f"message of {len(raw)} bytes exceeds the limit of {limits.max_message_bytes}"
        )
    end = _HEADER_END.search(raw, 0, limits.max_header_bytes + 4)
    header_bytes = end.start() if end else len(raw)
    if header_bytes > limits.max_header_bytes:
        raise MalformedMessage(
            f"headers exceed the limit of {limits.max_header_bytes} bytes"
            if end is None
            else f"headers of {header_bytes} bytes exceed the limit of {limits.max_header_bytes}"
        )


_CONTENT_TYPE = b"content-type:"
_CONTENT_DISPOSITION = b"content-disposition:"
_EOL = re.compile(rb"[\r\n]")
_MAX_NEEDLE_HITS_PER_PART = 20
# One Content-Type/-Disposition may have this much; real ones stay under ~1.5 KB and a dozen
# parameters.  compat32's parameter splitting is quadratic in the number of semicolons.
MAX_MIME_HEADER_BYTES = 4096
MAX_MIME_HEADER_PARAMS = 64
_TOKEN = rb"[!#$%&'*+.^_`|~0-9a-z-]+"
# What the modern header parser handles quickly: type/subtype and a few plain parameters,
# short, with few words and encoded words.  Anything else sends it into superlinear error
# recovery (~1 s for a 1 KB Content-Type of 500 bare words; ~30 ms for a quoted name of
# 500 words), so such messages are parsed with compat32, as are messages whose MIME headers
# add up to more than the budget.
_PLAIN_MIME_HEADER = re.compile(
    rb"[ \t]*" + _TOKEN + rb"(?:/" + _TOKEN + rb")?[ \t]*"
    rb"(?:;[ \t]*" + _TOKEN + rb"[ \t]*=[ \t]*(?:" + _TOKEN + rb'|"[^"\\\r\n]*")[ \t]*){0,8}'
    rb";?[ \t]*",
    re.IGNORECASE,
)
_PLAIN_MAX_BYTES = 1024
_PLAIN_MAX_BLANKS = 32
_PLAIN_MAX_WORDS = 8
_MODERN_BUDGET = 64 * 1024
_FOLDING = re.compile(rb"(?:\r\n|\r|\n)(?=[ \t])")


@dataclass
class _Skeleton:
    """What the raw scan learnt: declared boundaries, and whether all MIME headers are plain."""

    boundaries: set[bytes] = field(default_factory=set)
    plain: bool = True
    plain_bytes: int = 0

    def see(self, value: bytes) -> bool:
        """Record one header value; whether it alone is plain."""
        unfolded = _FOLDING.sub(b"", value)
        plain = (
            len(unfolded) <= _PLAIN_MAX_BYTES
            and unfolded.count(b" ") + unfolded.count(b"\t") <= _PLAIN_MAX_BLANKS
            and unfolded.count(b"=?") <= _PLAIN_MAX_WORDS
            and _PLAIN_MIME_HEADER.fullmatch(unfolded) is not None
        )
        self.plain_bytes += len(unfolded)
        self.plain = self.plain and plain and self.plain_bytes <= _MODERN_BUDGET
        return plain


def _prescan(raw: bytes, limits: Limits) -> bool:
    """Nesting depth and part count from the raw bytes, before the parser runs.

    Boundaries are taken from every Content-Type header that declares one, computed by the
    same stdlib code the parser will use (RFC 2231 continuations included), and delimiter
    lines are then matched by plain substring search.  Returns whether the modern parser
    may be used (every Content-Type/-Disposition header is plain).
    """
    skeleton = _scan_mime_headers(raw, limits)
    if not skeleton.boundaries:
        return skeleton.plain
    events = _delimiters(raw, skeleton.boundaries, limits)
    stack: list[bytes] = []
    parts = 0
    for _, boundary, closing in sorted(events):
        if closing:
            if boundary in stack:
                del stack[stack.index(boundary) :]
            continue
        parts += 1
        if boundary in stack:
            del stack[stack.index(boundary) + 1 :]
        else:
            stack.append(boundary)
        if len(stack) > limits.max_depth:
            raise MalformedMessage(f"MIME nesting deeper than {limits.max_depth} levels")
        if parts > limits.max_parts:
            raise MalformedMessage(f"more than {limits.max_parts} MIME parts")
    return skeleton.plain


def _scan_mime_headers(raw: bytes, limits: Limits) -> _Skeleton:
    """Every Content-Type/-Disposition header (at a line start) anywhere in the message."""
    lowered = raw.lower()
    skeleton = _Skeleton()
    budget = limits.max_parts * _MAX_NEEDLE_HITS_PER_PART
    for needle in (_CONTENT_TYPE, _CONTENT_DISPOSITION):
        pos = 0
        while (pos := lowered.find(needle, pos)) >= 0:
            budget -= 1
            if budget < 0:
                raise MalformedMessage("too many Content-Type/-Disposition headers")
            start, pos = pos, pos + len(needle)
            if start and raw[start - 1] not in b"\r\n":
                continue
            end = _header_end(raw, pos)
            _check_mime_header(needle, raw[pos:end])
            plain = skeleton.see(raw[pos:end])
            if needle == _CONTENT_TYPE and b"boundary" in lowered[pos:end]:
                skeleton.boundaries |= _boundaries_of(raw[start:end], modern=plain)
                if len(skeleton.boundaries) > limits.max_parts:
                    raise MalformedMessage(f"more than {limits.max_parts} multipart boundaries")
    return skeleton


def _check_mime_header(needle: bytes, value: bytes) -> None:
    name = needle[:-1].decode().title()
    if len(value) > MAX_MIME_HEADER_BYTES:
        raise MalformedMessage(
            f"{name} header of {len(value)} bytes exceeds {MAX_MIME_HEADER_BYTES}"
        )
    if value.count(b";") > MAX_MIME_HEADER_PARAMS:
        raise MalformedMessage(f"{name} header with more than {MAX_MIME_HEADER_PARAMS} parameters")


def _header_end(raw: bytes, pos: int) -> int:
    """End of a header field starting before ``pos``, continuation lines included."""
    while True:
        eol = _EOL.search(raw, pos)
        if eol is None:
            return len(raw)
        nxt = eol.end() + (1 if raw[eol.start() : eol.end() + 1] == b"\r\n" else 0)
        if raw[nxt : nxt + 1] not in (b" ", b"\t"):
            return eol.start()
        pos = nxt


_SIMPLE_MULTIPART = re.compile(
    rb"content-type:[ \t]*multipart/[a-z0-9.+-]+[ \t]*;[ \t]*boundary="
    rb'(?:"([a-z0-9\'()+_,./:=?-]+)"|([a-z0-9\'+_.-]+))',
    re.IGNORECASE,
)


def _boundaries_of(header: bytes, *, modern: bool) -> set[bytes]:
    """The boundary either policy would read from this header (they differ on junk).

    The common one-parameter form is read directly; parsing costs ~0.5 ms a header.  The
    modern parser only gets plain headers (see ``_PLAIN_MIME_HEADER``).
    """
    simple = _SIMPLE_MULTIPART.fullmatch(header)
    if simple:
        return {simple.group(1) or simple.group(2)}
    found: set[bytes] = set()
    policies = (email.policy.default, email.policy.compat32) if modern else (email.policy.compat32,)
    for policy in policies:
        try:
            part = email.message_from_bytes(header + b"\r\n\r\n", policy=policy)
            boundary = part.get_boundary()
            if boundary is not None:
                found.add(boundary.encode("ascii", errors="surrogateescape"))
        except Exception:  # noqa: S112 - what a parser cannot read it will not nest on either
            continue
    return found


def _delimiters(
    raw: bytes, boundaries: set[bytes], limits: Limits
) -> list[tuple[int, bytes, bool]]:
    """(offset, boundary, closing) for every delimiter line of a declared boundary."""
    events: list[tuple[int, bytes, bool]] = []
    budget = limits.max_parts * _MAX_NEEDLE_HITS_PER_PART
    for boundary in boundaries:
        needle = b"--" + boundary
        pos = 0
        while (pos := raw.find(needle, pos)) >= 0:
            budget -= 1
            if budget < 0:
                raise MalformedMessage("too many MIME delimiter lines")
            start, pos = pos, pos + len(needle)
            if start and raw[start - 1] not in b"\r\n":
                continue
            eol = _EOL.search(raw, pos)
            rest = raw[pos : eol.start() if eol else len(raw)].rstrip(b" \t")
            if rest in (b"", b"--"):
                events.append((start, boundary, rest == b"--"))
    return events


# --- parsing --------------------------------------------------------------------------------


class _TooManyParts(Exception):
    """Raised from inside the parser when its part budget runs out."""


class _PartBudget:
    """Message factory for the parser that refuses to create more than ``limit`` parts."""

    def __init__(self, limit: int, policy: Policy) -> None:
        self.left = limit + 1  # the parser calls its factory once to probe the signature
        self.factory: Callable[..., Message] = getattr(policy, "message_factory", None) or Message

    def __call__(self, policy: Policy = email.policy.compat32) -> Message:
        self.left -= 1
        if self.left < 0:
            raise _TooManyParts
        return self.factory(policy=policy)


def _parse(raw: bytes, limits: Limits, notes: list[str], *, modern: bool) -> Message:
    """Parse with the modern policy; compat32 where it would crawl or where it crashes.

    It crashes on e.g. ``Content-Type: text/plain; name*`` (IndexError in CPython 3.11).
    """
    if not modern:
        notes.append("unusual Content-Type/-Disposition headers; parsed with compat32")
    else:
        try:
            return _parse_with(raw, limits, email.policy.default)
        except MalformedMessage:
            raise
        except Exception as exc:
            notes.append(f"modern parser failed ({type(exc).__name__}); parsed with compat32")
    try:
        return _parse_with(raw, limits, email.policy.compat32)
    except MalformedMessage:
        raise
    except Exception as exc:
        raise MalformedMessage(f"MIME structure unparseable ({type(exc).__name__})") from exc


def _parse_with(raw: bytes, limits: Limits, policy: Policy) -> Message:
    parser = BytesParser(_PartBudget(limits.max_parts, policy), policy=policy)
    try:
        return parser.parsebytes(raw)
    except _TooManyParts:
        raise MalformedMessage(f"more than {limits.max_parts} MIME parts") from None
    except RecursionError:
        raise MalformedMessage("MIME structure nested too deeply to parse") from None


def _all_raw(part: Message, name: str) -> list[str]:
    """Raw values of a header (as the parser stored them: surrogate-escaped, folded)."""
    wanted = name.lower()
    return [str(value) for key, value in part.raw_items() if key.lower() == wanted]


def _first_raw(part: Message, name: str) -> str | None:
    values = _all_raw(part, name)
    return values[0] if values else None


_RAW_NAME = re.compile(r'(?:^|;)\s*(?:file)?name\s*=\s*(?:"([^"]*)"|([^;\s]+))', re.IGNORECASE)


def _raw_filename(part: Message) -> str | None:
    """``filename=``/``name=`` straight from the raw header, 8-bit bytes still escaped."""
    for wanted in ("content-disposition", "content-type"):
        for key, value in part.raw_items():
            if key.lower() == wanted:
                found = _RAW_NAME.search(str(value))
                if found:
                    return found.group(1) if found.group(1) is not None else found.group(2)
    return None


def _compat(part: Message) -> Message:
    """The same headers under compat32, whose parameter parsing is simple and never fails."""
    legacy = Message(policy=email.policy.compat32)
    for key, value in part.raw_items():
        if key.lower() in ("content-type", "content-disposition"):
            legacy[key] = value
    return legacy


def _guarded(modern: Callable[[], _T], fallback: Callable[[], _T], default: _T) -> _T:
    """The modern policy's answer, compat32's if that raises, a default if both do."""
    for attempt in (modern, fallback):
        try:
            return attempt()
        except Exception:  # noqa: S112 - header parsers fail in many ways on hostile input
            continue
    return default


def _param(part: Message, name: str, *, lower: bool = True) -> str:
    """A Content-Type parameter as text ("" when absent or unreadable)."""
    value = _guarded(lambda: part.get_param(name), lambda: _compat(part).get_param(name), None)
    if not isinstance(value, str):
        return ""
    return value.lower() if lower else value


def _stdlib_decoded(part: Message) -> bytes:
    try:
        value = part.get_payload(decode=True)
    except Exception:  # uu decoding raises on junk; keep the text as it came
        value = None
    if isinstance(value, bytes):
        return value
    payload = part.get_payload()
    return payload.encode("utf-8", errors="surrogateescape") if isinstance(payload, str) else b""


# --- walking the tree -----------------------------------------------------------------------


class _Role(Enum):
    """Whether a text part may become the message body."""

    BODY = "body"  # may fill an empty body slot
    EXTRA = "extra"  # may fill an empty slot; further plain text is appended (Apple Mail)
    NONE = "none"  # always an attachment


@dataclass
class _Body:
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _View:
    """Header facts about one part, each computed robustly."""

    def __init__(self, part: Message) -> None:
        self.part = part
        self.content_type = _guarded(
            part.get_content_type, lambda: _compat(part).get_content_type(), "text/plain"
        )
        self.charset: str | None = _guarded(
            part.get_content_charset, lambda: _compat(part).get_content_charset(), None
        )
        self.disposition: str | None = _guarded(
            part.get_content_disposition, lambda: _compat(part).get_content_disposition(), None
        )
        cte = header_text(_first_raw(part, "content-transfer-encoding") or "")
        self.cte = re.sub(r"\(.*?\)", "", cte).strip().lower()
        cid = decode_header_value(_first_raw(part, "content-id") or "").strip()
        self.content_id = cid.strip("<>").strip()[:998] or None

    @cached_property
    def filename(self) -> str | None:
        """The sender's file name: RFC 2231, RFC 2047 words, Content-Type ``name``, 8-bit."""
        modern = _guarded(self.part.get_filename, lambda: None, None)
        if modern is not None and "\ufffd" not in modern:
            return decode_words(header_text(modern))
        legacy = _guarded(lambda: _compat(self.part).get_filename(), lambda: None, None)
        if legacy is not None and "\ufffd" not in legacy:
            return decode_words(header_text(legacy))
        raw = _raw_filename(self.part)  # raw 8-bit names: both parsers replace the bytes
        return decode_words(header_text(raw)) if raw is not None else legacy or modern

    @property
    def is_attachment(self) -> bool:
        return self.disposition == "attachment" or bool(self.filename)


class _Walker:
    """Collects body and attachments from a parsed tree without recursion."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.body = _Body()
        self.parts = 0
        self.index = 0  # attachments seen, for nameless ones

    def walk(self, root: Message) -> _Body:
        # depth counts enclosing multiparts, as the prescan does
        stack: list[tuple[Message, int, _Role]] = [(root, 0, _Role.BODY)]
        while stack:
            part, depth, role = stack.pop()
            self.parts += 1
            if self.parts > self.limits.max_parts:
                raise MalformedMessage(f"more than {self.limits.max_parts} MIME parts")
            if depth > self.limits.max_depth:
                raise MalformedMessage(f"MIME nesting deeper than {self.limits.max_depth} levels")
            view = _View(part)
            maintype = view.content_type.partition("/")[0]
            if maintype == "multipart" and part.is_multipart():
                children = [p for p in part.get_payload() if isinstance(p, Message)]
                roles = _child_roles(view, children, role)
                stack.extend(
                    reversed([(c, depth + 1, r) for c, r in zip(children, roles, strict=True)])
                )
            elif maintype == "message" and part.is_multipart():
                if depth + _structure_depth(part) > self.limits.max_depth:
                    raise MalformedMessage(
                        f"MIME nesting deeper than {self.limits.max_depth} levels"
                    )
                self._message_part(part, view)
            else:
                self._leaf(part, view, role)
        self._finish()
        return self.body

    def _leaf(self, part: Message, view: _View, role: _Role) -> None:
        data = self._payload(part, view)
        ctype = view.content_type
        if ctype.startswith("multipart/"):
            self.body.notes.append(f"{ctype} without a usable boundary; kept as text")
            ctype = "text/plain"
        if (
            ctype in ("text/plain", "text/html")
            and role is not _Role.NONE
            and not view.is_attachment
            and self._take_body(ctype, data, view, role)
        ):
            return
        self._attach(view, ctype, data, view.filename)

    def _payload(self, part: Message, view: _View) -> bytes:
        """Transfer-decoded bytes; broken base64 is decoded leniently and noted.

        Anything but base64 goes through the stdlib (quoted-printable, uuencode, 8bit), which
        works on the original bytes; ``get_payload()`` without decoding would already have
        applied the (untrusted) charset label to 8-bit text.
        """
        if view.cte == "base64":
            payload = part.get_payload()
            text = payload if isinstance(payload, str) else ""
            data, broken = b64_lenient(text.encode("ascii", errors="ignore"))
            if broken:
                self.body.notes.append(f"broken base64 in {view.content_type} decoded leniently")
            return data
        return _stdlib_decoded(part)

    def _take_body(self, ctype: str, data: bytes, view: _View, role: _Role) -> bool:
        """Use a text part as the body; False when it has to become an attachment."""
        text, note = decode_body(data, view.charset)
        if note:
            self.body.notes.append(note)
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        if ctype == "text/html":
            if self.body.html is None:
                self.body.html = text
                return True
            return False
        if _param(view.part, "format") == "flowed":
            text = _unflow(text, _param(view.part, "delsp") == "yes")
        if self.body.text is None:
            self.body.text = text
            return True
        if role is _Role.EXTRA:
            self.body.text += "\n" + text
            self.body.notes.append("further inline text part appended to the body")
            return True
        return False

    def _message_part(self, part: Message, view: _View) -> None:
        """An attached message stays one ``.eml`` file; it is not expanded."""
        inner = [p for p in part.get_payload() if isinstance(p, Message)]
        try:
            data = b"".join(p.as_bytes(policy=email.policy.compat32) for p in inner)
        except Exception as exc:  # the generator recurses and can trip on nested junk
            self.body.notes.append(f"attached message could not be serialised ({exc!r:.80})")
            data = b""
        name = view.filename
        if view.content_type == "message/rfc822":
            if not name and inner:
                name = _one_line(decode_header_value(_first_raw(inner[0], "subject") or ""))
            if name and not name.lower().endswith(".eml"):
                name = f"{name[:150]}.eml"
        self._attach(view, view.content_type, data, name)

    def _attach(self, view: _View, ctype: str, data: bytes, raw_name: str | None) -> None:
        self.index += 1
        name = attachment_name(raw_name, self.index, ctype)
        inline = view.disposition == "inline"
        if not self._admit(name, ctype, len(data)):
            return
        self.body.attachments.append(
            make_attachment(name, ctype, data, inline=inline, content_id=view.content_id)
        )
        if is_tnef(name, ctype):
            self._unpack_tnef(name, data)

    def _admit(self, name: str, ctype: str, size: int) -> bool:
        """Apply the attachment limits; a refused file is recorded as skipped."""
        limits = self.limits
        blocked = {
            b.lower() if b.startswith(".") else f".{b.lower()}" for b in limits.blocked_types
        }
        reason = None
        if extension(name) in blocked:
            reason = f"blocked type {extension(name)}"
        elif size > limits.max_attachment_bytes:
            reason = f"{size} bytes exceeds the limit of {limits.max_attachment_bytes}"
        elif len(self.body.attachments) >= limits.max_attachments:
            reason = f"more than {limits.max_attachments} attachments"
        if reason is None:
            return True
        self.body.skipped.append(
            Skipped(filename=name, content_type=ctype, size=size, reason=reason)
        )
        return False

    def _unpack_tnef(self, name: str, data: bytes) -> None:
        files = unpack_tnef(data)
        if files is None:
            self.body.notes.append(f"{name} could not be unpacked; kept as it is")
            return
        self.body.notes.append(f"{name} unpacked: {len(files)} files")
        for extracted in files:
            if self._admit(extracted.filename, extracted.content_type, len(extracted.data)):
                self.body.attachments.append(dataclasses.replace(extracted, extracted_from=name))

    def _finish(self) -> None:
        """Mark cid-referenced parts inline; drop an empty plain text next to real HTML."""
        body = self.body
        if body.html is not None:
            cids = {unquote(c).strip("<>").lower() for c in _CID.findall(body.html)}
            body.attachments = [
                dataclasses.replace(a, inline=True)
                if a.content_id and a.content_id.lower() in cids
                else a
                for a in body.attachments
            ]
            if body.text is not None and not body.text.strip():
                body.text = None


def _structure_depth(root: Message) -> int:
    """Levels below ``root``, attached messages included, counted without recursion."""
    deepest = 0
    stack = [(root, 0)]
    while stack:
        part, level = stack.pop()
        deepest = max(deepest, level)
        if part.is_multipart():
            stack.extend((p, level + 1) for p in part.get_payload() if isinstance(p, Message))
    return deepest


_CID = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)


def _child_roles(view: _View, children: list[Message], role: _Role) -> list[_Role]:
    """Which children of a multipart may carry the body (RFC 2046 semantics)."""
    subtype = view.content_type.partition("/")[2]
    if subtype == "alternative":
        return [role] * len(children)
    if subtype == "related":
        start = _param(view.part, "start", lower=False)
        root = 0
        if start:
            wanted = start.strip().strip("<>")
            ids = [_View(c).content_id for c in children]
            root = ids.index(wanted) if wanted in ids else 0
        return [role if i == root else _Role.NONE for i in range(len(children))]
    rest = _Role.NONE if role is _Role.NONE else _Role.EXTRA
    return [role if i == 0 else rest for i in range(len(children))]


def _unflow(text: str, delsp: bool) -> str:
    """Join format=flowed soft line breaks (RFC 3676), keeping quote depth."""
    out: list[str] = []
    current: str | None = None
    depth = 0
    for line in text.split("\n"):
        quote = len(line) - len(line.lstrip(">"))
        content = line[quote:]
        content = content.removeprefix(" ")  # space-stuffing
        if current is not None and quote != depth:
            out.append(_quoted(depth, current))
            current = None
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        current = (current or "") + content
        depth = quote
        if not flowed:
            out.append(_quoted(depth, current))
            current = None
    if current is not None:
        out.append(_quoted(depth, current))
    return "\n".join(out)


def _quoted(depth: int, text: str) -> str:
    return ">" * depth + (" " if depth and text else "") + text


# --- header fields --------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINEBREAKS = re.compile(r"[\r\n]+")


def _one_line(text: str) -> str:
    """A header for display: no line breaks, no control characters."""
    return _CONTROL.sub("", _LINEBREAKS.sub(" ", text).replace("\t", " ")).strip()


_MSG_ID = re.compile(r"<([^<>\s\x00-\x1f\x7f]{1,900})>")  # no controls: PostgreSQL refuses NUL


def _message_id(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = header_text(raw).strip()
    found = _MSG_ID.search(text)
    if found:
        return found.group(1)
    return text if text and len(text) <= 900 and text.isprintable() and " " not in text else None


def _message_ids(values: list[str]) -> tuple[str, ...]:
    ids: dict[str, None] = {}
    for raw in values:
        for found in _MSG_ID.findall(header_text(raw)):
            ids.setdefault(found)
    return tuple(ids)


def _date(raw: str | None, notes: list[str]) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(header_text(raw).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        notes.append("Date header unparseable; ignored")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


_ADDR_SPEC = re.compile(r"[^@\s<>()\[\],;:\"\\]{1,64}@[^@\s<>()\[\],;:\"\\]{1,255}")
_MAX_COMMENT_DEPTH = 20
_HAS_STRICT = "strict" in inspect.signature(email.utils.getaddresses).parameters


def _addresses(values: list[str], notes: list[str], label: str) -> tuple[Address, ...]:
    """Mailboxes of an address header; a value that does not parse unambiguously gives none.

    CVE-2023-27043: the lenient stdlib parser turns ``alice@x(<bob@y>`` into ``bob@y``.
    """
    found: list[Address] = []
    for raw in values:
        pairs = _strict_getaddresses(header_text(raw))
        if not pairs:
            notes.append(f"{label} header not parseable as addresses; ignored")
        for name, spec in pairs:
            addr = spec.strip()
            if not _ADDR_SPEC.fullmatch(addr):
                continue
            local, _, domain = addr.rpartition("@")
            found.append(
                Address(name=_one_line(decode_words(name)), email=f"{local}@{domain.lower()}")
            )
    return tuple(found)


def _strict_getaddresses(value: str) -> list[tuple[str, str]]:
    """``getaddresses(strict=True)`` where the running Python has it, an equivalent otherwise."""
    if not value.strip():
        return []
    if _HAS_STRICT:
        pairs = _getaddresses(value, strict=True)
    else:
        expected = _expected_addresses(value)
        pairs = _getaddresses(value, strict=False) if expected is not None else []
        if len(pairs) != expected or any("[" in addr for _, addr in pairs):
            pairs = []
    return [p for p in pairs if p != ("", "")]


def _getaddresses(value: str, *, strict: bool) -> list[tuple[str, str]]:
    try:
        if strict:
            return email.utils.getaddresses([value], strict=True)
        return email.utils.getaddresses([value])
    except (RecursionError, ValueError, IndexError):  # _parseaddr recurses per comment level
        return []


def _expected_addresses(value: str) -> int | None:
    """1 + top-level commas; None when quotes or parentheses are unbalanced."""
    commas, depth, quoted, escaped = 0, 0, False, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"' and depth == 0:
            quoted = True
        elif char == "(":
            depth += 1
            if depth > _MAX_COMMENT_DEPTH:
                return None
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif char == "," and depth == 0:
            commas += 1
    return None if quoted or depth else commas + 1
