"""Signed reply addresses, Message-IDs and subject tags: how mail finds its way back to a task.

Both directions share this module: notifications put a per-recipient reply address in
``Reply-To``, their Message-ID in the thread index and the task number in the subject; the
inbound pipeline reads the same three signals back, most trusted first.

A reply address is ``<local>+<token>@<domain>``. The token is base32 (mail systems may fold
the case of local parts) of a small binary payload — task, recipient, public/internal — and a
truncated HMAC-SHA256 over it. It is bound to one recipient: a forwarded notification still
carries a valid token, but the pipeline compares the sender with the token's recipient.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import re
import secrets
import struct
from dataclasses import dataclass

_VERSION = 1
_PAYLOAD = struct.Struct(">BcBII")  # version, recipient kind, flags, task id, recipient id
_MAC_BYTES = 9  # 72 bits, and payload + MAC = 20 bytes = 32 base32 characters, no padding
_PUBLIC = 0x01
_DOMAIN_TAG = b"hermes-reply-address\x00"

TASK_TAG = re.compile(r"\[([A-Z0-9]{1,10}/\d{4}/\d{1,9})\]")
_PREFIXES = re.compile(
    r"^\s*(?:(?:re|odp|odp\.|aw|fw|fwd|pd|wg|tr|sv|vs|rv|antw|r)\s*(?:\[\d+\])?\s*:\s*"
    r"|\[(?:external|zewn[eę]trzny|ext|spam)\]\s*)",
    re.IGNORECASE,
)


class RecipientKind(enum.StrEnum):
    """Who a notification (and so a reply token) was addressed to."""

    EMPLOYEE = "E"
    CONTACT = "C"
    SENDER = "S"  # the outside sender of an inbound message (id = inbound message id)


@dataclass(frozen=True)
class ReplyToken:
    """What a reply address says: this task, this recipient, this note visibility."""

    task_id: int
    kind: RecipientKind
    recipient_id: int
    public: bool


class BadToken(ValueError):
    """The address has our reply shape but its token is tampered, truncated or foreign."""


@dataclass(frozen=True)
class ReplyAddresses:
    """Encodes and decodes reply addresses under one secret and domain."""

    secret: bytes
    local: str
    domain: str

    def address(self, token: ReplyToken) -> str:
        """The ``Reply-To`` address for one recipient of one task."""
        payload = _PAYLOAD.pack(
            _VERSION,
            token.kind.value.encode(),
            _PUBLIC if token.public else 0,
            token.task_id,
            token.recipient_id,
        )
        raw = payload + self._mac(payload)
        text = base64.b32encode(raw).decode().rstrip("=").lower()
        return f"{self.local}+{text}@{self.domain}"

    def parse(self, address: str) -> ReplyToken | None:
        """The token of one of our reply addresses; None for any other address.

        Raises:
            BadToken: the address is ours but the token does not verify.
        """
        local, _, domain = address.strip().rpartition("@")
        base, plus, tag = local.partition("+")
        if not plus or domain.lower() != self.domain.lower() or base.lower() != self.local.lower():
            return None
        try:
            raw = base64.b32decode(tag.upper() + "=" * (-len(tag) % 8))
        except (binascii.Error, ValueError) as exc:
            raise BadToken("not a reply token") from exc
        if len(raw) != _PAYLOAD.size + _MAC_BYTES:
            raise BadToken("reply token has the wrong length")
        if base64.b32encode(raw).decode().rstrip("=").lower() != tag.lower():
            raise BadToken("reply token is not in canonical form")
        payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise BadToken("reply token signature does not verify")
        version, kind, flags, task_id, recipient_id = _PAYLOAD.unpack(payload)
        if version != _VERSION:
            raise BadToken(f"unknown reply token version {version}")
        try:
            recipient_kind = RecipientKind(kind.decode())
        except ValueError as exc:
            raise BadToken("unknown recipient kind") from exc
        return ReplyToken(task_id, recipient_kind, recipient_id, bool(flags & _PUBLIC))

    def is_ours(self, address: str) -> bool:
        """Whether the address is in our reply namespace (valid or not)."""
        local, _, domain = address.rpartition("@")
        return domain.lower() == self.domain.lower() and (
            local.lower() == self.local.lower() or local.lower().startswith(self.local + "+")
        )

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.secret, _DOMAIN_TAG + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def new_message_id(domain: str, task_id: int | None) -> str:
    """A globally unique Message-ID (without brackets) that also names the task for humans."""
    scope = f"task-{task_id}" if task_id is not None else "hermes"
    return f"{scope}.{secrets.token_hex(10)}@{domain}"


def task_numbers_in(subject: str) -> list[str]:
    """Task numbers tagged in a subject, leftmost first (``[REK/2026/0042]``)."""
    return TASK_TAG.findall(subject)


def normalise_subject(subject: str) -> str:
    """The subject without reply/forward prefixes (PL/EN/DE), repeated, and without our tag."""
    previous = None
    subject = " ".join(subject.split())
    while previous != subject:
        previous = subject
        subject = _PREFIXES.sub("", subject, count=1)
    return TASK_TAG.sub("", subject).strip(" -:") or subject.strip()
