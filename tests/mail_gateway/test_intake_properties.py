"""Property: every message the MIME pipeline takes ends processed or quarantined, whole.

Hypothesis builds messages from parts a real mail might have (and bytes it should not):
senders trusted or not, reply addresses valid or tampered, register addresses, odd charsets,
transfer encodings, nested multiparts, attachments, broken headers, flipped bytes. For each,
``Intake.receive`` must return (no exception), the stored message must be ``posted``,
``system`` or ``quarantined`` with a reason (never left ``received``: that is a crash in
processing), and a quarantined message must have changed no task.
"""

from __future__ import annotations

import base64
import dataclasses
import quopri

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from hermes_groupware.models import Task, TaskItem
from hermes_groupware.models.enums import InboundStatus
from tests.mail_gateway.gateway import AUTHSERV, Gateway
from tests.properties import BOUNDED, line_text

pytestmark = pytest.mark.timeout(180)
KOWALSKI = "jkowalski@firma.pl"
CHARSETS = ["utf-8", "iso-8859-2", "windows-1250", "us-ascii", "koi8-r", "x-unknown", ""]
KINDS = ["text/plain", "text/html", "application/pdf", "image/png", "message/rfc822",
         "text/calendar", "application/x-junk"]  # fmt: skip
ENCODINGS = ["7bit", "8bit", "quoted-printable", "base64", "binary", "x-uuencode", "junk"]
EXTRA_HEADERS = ["In-Reply-To", "References", "Auto-Submitted", "Precedence", "Reply-To",
                 "Date", "Content-Language", "X-Junk"]  # fmt: skip
TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=200)


@dataclasses.dataclass(frozen=True)
class Targets:
    """Addresses the drawn messages go to."""

    reply: str
    tampered: str
    register: str = "reklamacje@firma.pl"


@pytest.fixture(scope="module")
def lenient(gateway: Gateway) -> Gateway:
    """The module's gateway without the per-hour limits (every example is a new sender)."""
    mail = dataclasses.replace(
        gateway.settings.mail,
        notes_per_task_per_hour=100_000,
        new_tasks_per_sender_per_hour=100_000,
    )
    return Gateway(gateway.database, dataclasses.replace(gateway.settings, mail=mail))


@pytest.fixture(scope="module")
def targets(lenient: Gateway) -> Targets:
    task = lenient.task_of("jkowalski")
    reply = lenient.reply_address(task.id, lenient.employee("jkowalski").id)
    local, _, domain = reply.partition("@")
    return Targets(reply, f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}")


def _encoded(text: str, charset: str, encoding: str) -> bytes:
    """The body as that charset and transfer encoding would carry it (loosely: junk allowed)."""
    raw = text.encode(charset if charset and charset not in ("x-unknown",) else "utf-8", "replace")
    if encoding == "base64":
        return base64.encodebytes(raw)
    if encoding == "quoted-printable":
        return quopri.encodestring(raw)
    return raw


@st.composite
def leaf(draw: st.DrawFn) -> bytes:
    """One non-multipart part: text, HTML or an attachment."""
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    kind = draw(st.sampled_from(KINDS))
    headers = [f"Content-Type: {kind}" + (f"; charset={charset}" if charset else "")]
    headers.append(f"Content-Transfer-Encoding: {encoding}")
    if draw(st.booleans()):
        name = draw(line_text)
        headers.append(f'Content-Disposition: attachment; filename="{name}"')
    body = _encoded(draw(TEXT), charset, encoding)
    return "\r\n".join(headers).encode("utf-8", "replace") + b"\r\n\r\n" + body


def _multipart(parts: list[bytes], subtype: str, boundary: str) -> bytes:
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
    inner = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return head + inner + b"--" + boundary.encode() + b"--\r\n"


def content(depth: int = 0) -> st.SearchStrategy[bytes]:
    if depth >= 2:
        return leaf()
    return st.one_of(
        leaf(),
        st.builds(
            _multipart,
            st.lists(st.deferred(lambda: content(depth + 1)), min_size=0, max_size=3),
            st.sampled_from(["mixed", "alternative", "related", "signed", "report"]),
            st.sampled_from([f"b{depth}", "==x==", ""]),
        ),
    )


@st.composite
def messages(draw: st.DrawFn, targets: Targets) -> tuple[bytes, str]:
    """(raw message, envelope recipient)."""
    to = draw(st.sampled_from([targets.reply, targets.tampered, targets.register]))
    sender = draw(
        st.one_of(
            st.just(f"Jan Kowalski <{KOWALSKI}>"),
            st.builds("klient{}@firma-{}.pl".format, st.integers(0, 10**9), st.integers(0, 9)),
            line_text,
        )
    )
    headers = [f"From: {sender}", f"To: {to}", f"Subject: {draw(line_text)}"]
    headers.append(f"Message-ID: <{draw(st.uuids())}@fuzz.test>")
    if draw(st.booleans()):
        verdict = draw(st.sampled_from(["pass", "fail", "none", "junk"]))
        headers.append(f"Authentication-Results: {AUTHSERV}; dmarc={verdict} header.from=firma.pl")
    extra = st.sampled_from(EXTRA_HEADERS)
    for name, value in draw(st.lists(st.tuples(extra, line_text), max_size=4)):
        headers.append(f"{name}: {value}")
    raw = "\r\n".join(headers).encode("utf-8", "replace") + b"\r\nMIME-Version: 1.0\r\n"
    raw += draw(content())
    for position, byte in draw(
        st.lists(st.tuples(st.integers(0), st.integers(0, 255)), max_size=3)
    ):
        index = position % len(raw)
        raw = raw[:index] + bytes([byte]) + raw[index + 1 :]  # a flipped byte anywhere
    return raw, to


def _counts(gateway: Gateway) -> tuple[int, int]:
    with gateway.uow() as uow:
        tasks = uow.session.scalar(select(func.count()).select_from(Task)) or 0
        items = uow.session.scalar(select(func.count()).select_from(TaskItem)) or 0
    return tasks, items


@BOUNDED
@given(data=st.data())
def test_every_message_is_processed_or_quarantined_whole(
    lenient: Gateway, targets: Targets, data: st.DataObject
) -> None:
    raw, to = data.draw(messages(targets))
    before = _counts(lenient)
    receipt = lenient.deliver(raw, to)
    row = lenient.inbound(receipt.inbound_id)
    event(f"{row.status}")
    assert row.status is not InboundStatus.RECEIVED, (row.reason, row.trail)
    if row.status is InboundStatus.QUARANTINED:
        assert row.reason
        assert _counts(lenient) == before, row.reason


def test_nul_bytes_in_headers_and_body_are_dropped_not_fatal(
    lenient: Gateway, targets: Targets
) -> None:
    """Found by the property above: PostgreSQL refuses NUL in text, so one NUL in a Message-ID,
    an address or the body failed every try until the quarantine took the message."""
    raw = (
        f"From: Jan Kowalski <\x00{KOWALSKI}>\r\nTo: {targets.reply}\r\n"
        "Subject: Re: \x00zadanie\r\n"
        f"Authentication-Results: {AUTHSERV}; dmarc=pass header.from=firma.pl\r\n"
        "Message-ID: <\x00nul-1@fuzz.test>\r\n\r\nPotwierdzam\x00 odbiór.\r\n"
    ).encode()
    receipt = lenient.deliver(raw, targets.reply)
    row = lenient.inbound(receipt.inbound_id)
    assert row.status is InboundStatus.POSTED, (row.reason, row.trail)
    assert row.message_id == "nul-1@fuzz.test" and row.subject == "Re: zadanie"
