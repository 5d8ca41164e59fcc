"""The e-mail fixture corpus: real-world-shaped messages through the real inbound pipeline.

``tests/data/mail/corpus/cases.toml`` holds one ``[[case]]`` per ``.eml`` template: the client
it imitates, the envelope recipients and the expected outcome. Templates (CRLF or LF; sent as
CRLF) carry placeholders that are filled per case just before delivery:

``{{reply:LOGIN}}`` / ``{{reply_public:LOGIN}}``  signed reply address of the case's task
``{{tampered:LOGIN}}``                           the same with its last token character changed
``{{contact_reply}}``                            reply address issued to the demo contact
``{{task_number}}``                              the case task's number
``{{sent_message_id}}``                          a Message-ID the server sent for that task
``{{message_id}}``                               a unique string (inside Message-ID values)
``{{contact_email}}`` / ``{{customer_domain}}``  a demo contact and its customer's domain
``{{header_flood:N}}``                           N ``Received:`` lines (a header flood)
``{{report:N}}``                                 N lines of a pasted warehouse report

Every case gets a fresh task of its ``owner`` (jkowalski unless the case says otherwise), so
cases never see each other's notes although the module shares one database. Whatever a case
expects, every note and task description it produced must be free of reply addresses
(``hermes+``) and mojibake. Scenarios that need several messages are separate tests at the
end; their templates start with ``multi_``.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from email import message_from_bytes, policy
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hermes_groupware.models import (
    ContactPerson,
    CustomerDomain,
    InboundMessage,
    MailAddressState,
    OutboundMessage,
    Task,
    TaskItem,
)
from hermes_groupware.models.enums import InboundStatus, ItemKind, MailDirection
from hermes_groupware.services import mailbox, tasks
from hermes_groupware.services.lookups import register_by_code
from mail_gateway.addresses import RecipientKind, ReplyToken, new_message_id
from tests.mail_gateway.gateway import DOMAIN, Gateway

CORPUS = Path(__file__).resolve().parents[1] / "data" / "mail" / "corpus"
MANIFEST = CORPUS / "cases.toml"
# UTF-8 read as Latin-1/cp1252/cp1250, and bytes a decoder had to replace.
MOJIBAKE = ("Ã", "Å›", "Ä…", "Ĺ‚", "Ĺ›", "\ufffd")
TOKEN_LEAK = "hermes+"
SENDER_LENGTH = TaskItem.__table__.c.sender.type.length
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)(?::([^{}]*))?\}\}")
_PLACEHOLDER_BYTES = re.compile(_PLACEHOLDER.pattern.encode())
_STATUSES = {status.value: status for status in InboundStatus}


# --- the manifest ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One manifest entry: a template and what the pipeline must make of it."""

    file: str
    client: str
    envelope: tuple[str, ...]
    status: InboundStatus
    route: str | None = None
    note: str | None = None
    note_contains: tuple[str, ...] = ()
    note_absent: tuple[str, ...] = ()
    author: str | None = None  # "employee" (the owner) or "outside" (sender kept on the note)
    public: bool | None = None
    files: tuple[str, ...] = ()
    inline: tuple[str, ...] = ()
    reason_contains: str | None = None
    trail_contains: tuple[str, ...] = ()
    stripped_contains: tuple[str, ...] = ()
    subject: str | None = None  # the decoded Subject stored on the inbound row
    task_subject: str | None = None  # register mail: the new task
    description: str | None = None
    description_contains: tuple[str, ...] = ()
    customer: str | None = None  # register mail: "contact" or "domain" matched
    linked: bool | None = None  # system/quarantined: linked to the case task (or to none)
    owner: str = "jkowalski"
    task_customer: bool = False  # the case task belongs to the demo customer
    sent_to: str | None = None  # {{sent_message_id}} was queued to this address (bounces)
    xfail: str | None = None

    @classmethod
    def from_toml(cls, entry: dict[str, Any]) -> Case:
        """Validate one ``[[case]]`` table (unknown keys are typos, not silently ignored)."""
        unknown = set(entry) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"{entry.get('file')}: unknown keys {sorted(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
        values["status"] = _STATUSES[entry["status"]]
        return cls(**values)


def template(name: str) -> bytes:
    """A template's bytes with every line ending as CRLF, as SMTP delivers them."""
    raw = (CORPUS / name).read_bytes()
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def load_cases() -> list[Case]:
    """All manifest entries, in manifest order."""
    with MANIFEST.open("rb") as handle:
        return [Case.from_toml(entry) for entry in tomllib.load(handle)["case"]]


CASES = load_cases()


def _params(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.file.removesuffix(".eml"),
            marks=[pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else [],
        )
        for case in cases
    ]


# --- the world a case runs in ---------------------------------------------------------------


@dataclass(frozen=True)
class DemoCustomer:
    """A demo customer with a domain and a contact person that has an address."""

    customer_id: int
    domain: str
    contact_id: int
    contact_email: str


@pytest.fixture(scope="module")
def demo_customer(gateway: Gateway) -> DemoCustomer:
    """The first demo contact (by id) whose customer has a domain."""
    with gateway.uow() as uow:
        contact, domain = uow.session.execute(
            select(ContactPerson, CustomerDomain.domain)
            .join(CustomerDomain, CustomerDomain.customer_id == ContactPerson.customer_id)
            .where(ContactPerson.email.is_not(None))
            .order_by(ContactPerson.id)
            .limit(1)
        ).one()
        assert contact.email is not None
        return DemoCustomer(contact.customer_id, domain, contact.id, contact.email)


@dataclass
class Setup:
    """A case's task and the values its placeholders stand for."""

    gateway: Gateway
    demo: DemoCustomer
    task: Task
    sent_to: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # scenario values ({{ack_id}} ...)
    unique: str = field(default_factory=lambda: uuid.uuid4().hex[:20])
    _sent_message_id: str | None = None

    @classmethod
    def create(
        cls, gateway: Gateway, demo: DemoCustomer, owner: str, *, customer: bool = False
    ) -> Setup:
        """A fresh open REK task of ``owner`` (of the demo customer when asked)."""
        responsible = gateway.employee(owner).id
        with gateway.uow() as uow:
            created = tasks.create_task(
                uow,
                register_id=register_by_code(uow.session, "REK").id,
                subject=f"Reklamacja dostawy {uuid.uuid4().hex[:6]}",
                responsible_id=responsible,
                changes=tasks.TaskChanges(
                    customer_id=demo.customer_id if customer else None,
                    contact_id=demo.contact_id if customer else None,
                ),
            )
        return cls(gateway, demo, created)

    @property
    def sent_message_id(self) -> str:
        """A Message-ID of mail "sent" for the task: queued to ``sent_to``, or only threaded."""
        if self._sent_message_id is None:
            mid = new_message_id(DOMAIN, self.task.id)
            with self.gateway.uow() as uow:
                if self.sent_to:
                    mailbox.enqueue(
                        uow,
                        message_id=mid,
                        recipient=self.sent_to,
                        raw=b"From: Hermes <hermes@hermes.test>\r\n\r\nPowiadomienie\r\n",
                        kind="notification",
                        task_id=self.task.id,
                    )
                else:
                    mailbox.record_thread_entry(uow, mid, self.task.id, MailDirection.SENT)
            self._sent_message_id = mid
        return self._sent_message_id

    def _reply(self, login: str, *, public: bool = False) -> str:
        employee = self.gateway.employee(login)
        return self.gateway.reply_address(self.task.id, employee.id, public=public)

    def _tampered(self, login: str) -> str:
        local, _, domain = self._reply(login).partition("@")
        return f"{local[:-1]}{'b' if local[-1] == 'a' else 'a'}@{domain}"

    def _contact_reply(self) -> str:
        token = ReplyToken(self.task.id, RecipientKind.CONTACT, self.demo.contact_id, True)
        return self.gateway.config.replies.address(token)

    @staticmethod
    def _flood(count: str) -> str:
        return "\r\n".join(
            f"Received: from relay{i}.example.net (relay{i}.example.net [192.0.2.{i % 250}])"
            f" by mx{i}.example.net with ESMTP id {i:08X}; Fri, 12 Jan 2024 10:15:00 +0100"
            for i in range(int(count))
        )

    @staticmethod
    def _report(count: str) -> str:
        return "\r\n".join(
            f"2024-01-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d};PAL-{i:06d};"
            f"przyjęcie na magazyn Piła-Północ;{i % 40 + 1} szt.;uwagi: brak"
            for i in range(1, int(count) + 1)
        )

    def value(self, name: str, arg: str) -> str:
        """The text one placeholder stands for."""
        if name in self.extra:
            return self.extra[name]
        resolvers: dict[str, Callable[[], str]] = {
            "reply": lambda: self._reply(arg),
            "reply_public": lambda: self._reply(arg, public=True),
            "tampered": lambda: self._tampered(arg),
            "contact_reply": self._contact_reply,
            "task_number": lambda: self.task.number,
            "sent_message_id": lambda: self.sent_message_id,
            "message_id": lambda: self.unique,
            "contact_email": lambda: self.demo.contact_email,
            "customer_domain": lambda: self.demo.domain,
            "header_flood": lambda: self._flood(arg),
            "report": lambda: self._report(arg),
        }
        if name not in resolvers:
            raise KeyError(f"unknown placeholder {{{{{name}}}}}")
        return resolvers[name]()

    def fill(self, text: str) -> str:
        """Replace every placeholder in a manifest string."""
        return _PLACEHOLDER.sub(lambda m: self.value(m.group(1), m.group(2) or ""), text)

    def fill_bytes(self, raw: bytes) -> bytes:
        """Replace placeholders in a template; every other byte stays as it was."""
        return _PLACEHOLDER_BYTES.sub(
            lambda m: self.value(m.group(1).decode(), (m.group(2) or b"").decode()).encode(),
            raw,
        )


# --- looking at the outcome -----------------------------------------------------------------


def notes_of(gateway: Gateway, task_id: int) -> list[TaskItem]:
    """The task's notes, oldest first; every one of them is checked to be clean."""
    notes = gateway.items(task_id)
    for note in notes:
        assert_clean(note.body or "", f"note {note.id}")
    return notes


def files_of(gateway: Gateway, task_id: int) -> list[TaskItem]:
    """The task's files, oldest first."""
    return gateway.items(task_id, ItemKind.FILE)


def stored_task(gateway: Gateway, task_id: int) -> Task:
    """A task as stored now."""
    with gateway.uow() as uow:
        return uow.session.get_one(Task, task_id)


def acknowledgements(gateway: Gateway, task_id: int) -> list[bytes]:
    """Raw acknowledgements queued for a task."""
    with gateway.uow() as uow:
        query = select(OutboundMessage.raw).where(
            OutboundMessage.task_id == task_id, OutboundMessage.kind == "acknowledgement"
        )
        return list(uow.session.scalars(query))


def addressed_to(raw: bytes) -> list[str]:
    """The addr-specs of a rendered message's To header, read literally.

    No RFC 2047 decoding: an encoded word inside an address is not an address any MTA
    delivers to (the stdlib's lenient parser would decode it and hide the damage).
    """
    message = message_from_bytes(raw, policy=policy.compat32)
    values = [value for name, value in message.raw_items() if name.lower() == "to"]
    text = " ".join(values).encode("ascii", "surrogateescape").decode("utf-8", "replace")
    return [address for _, address in getaddresses([text])]


def assert_clean(text: str, where: str) -> None:
    """No reply token and no mojibake in text the gateway wrote to a task."""
    assert TOKEN_LEAK not in text, f"{where} leaks a reply address: {text!r}"
    for marker in MOJIBAKE:
        assert marker not in text, f"{where} has mojibake {marker!r}: {text!r}"


def _explain(row: InboundMessage) -> str:
    trail = "\n  ".join(row.trail)
    return f"status={row.status} route={row.route} reason={row.reason!r}\n  {trail}"


@pytest.mark.parametrize("case", _params(CASES))
def test_corpus(gateway: Gateway, demo_customer: DemoCustomer, case: Case) -> None:
    """Deliver one template; check status, route, reason, text, files and what is around."""
    setup = Setup.create(gateway, demo_customer, case.owner, customer=case.task_customer)
    setup.sent_to = case.sent_to
    receipt = gateway.deliver(
        setup.fill_bytes(template(case.file)), *(setup.fill(r) for r in case.envelope)
    )
    row = gateway.inbound(receipt.inbound_id)
    why = _explain(row)
    assert not receipt.duplicate, why
    assert row.status is case.status, why
    if case.route is not None:
        assert row.route == case.route, why
    if case.reason_contains is not None:
        assert setup.fill(case.reason_contains) in (row.reason or ""), why
    for expected in map(setup.fill, case.trail_contains):
        assert any(expected in entry for entry in row.trail), f"{expected!r} not in\n{why}"
    for expected in map(setup.fill, case.stripped_contains):
        assert expected in (row.stripped_text or ""), row.stripped_text
    if case.subject is not None:
        assert row.subject == setup.fill(case.subject)
    if case.linked is not None:
        assert row.task_id == (setup.task.id if case.linked else None), why
    if case.route == "register":
        target = _check_new_task(gateway, setup, case, row)
    else:
        target = setup.task.id
        if case.status is InboundStatus.POSTED:
            assert row.task_id == target, why
    _check_notes(gateway, setup, case, target)
    _check_files(gateway, case, target)


def _check_new_task(gateway: Gateway, setup: Setup, case: Case, row: InboundMessage) -> int:
    assert row.task_id is not None and row.task_id != setup.task.id
    opened = stored_task(gateway, row.task_id)
    if case.task_subject is not None:
        assert opened.subject == case.task_subject
    if case.description is not None:
        assert opened.description == setup.fill(case.description)
    for expected in map(setup.fill, case.description_contains):
        assert expected in opened.description
    for absent in map(setup.fill, case.note_absent):
        assert absent not in opened.description
    matched = {
        "contact": (setup.demo.customer_id, setup.demo.contact_id),
        "domain": (setup.demo.customer_id, None),
        None: (None, None),
    }
    assert (opened.customer_id, opened.contact_id) == matched[case.customer]
    assert_clean(opened.description, "task description")
    assert_clean(opened.subject, "task subject")
    for raw in acknowledgements(gateway, row.task_id):  # it goes back to the sender
        assert addressed_to(raw) == [row.sender_address], raw[:300]
    return row.task_id


def _check_notes(gateway: Gateway, setup: Setup, case: Case, task_id: int) -> None:
    notes = notes_of(gateway, task_id)
    bodies = [note.body or "" for note in notes]
    if case.note is None and not case.note_contains:
        assert bodies == [], "no note expected"
        return
    assert len(notes) == 1, bodies
    note, body = notes[0], bodies[0]
    if case.note is not None:
        assert body == setup.fill(case.note)
    for expected in map(setup.fill, case.note_contains):
        assert expected in body
    for absent in map(setup.fill, case.note_absent):
        assert absent not in body
    if case.author == "employee":
        assert (note.author_id, note.sender) == (gateway.employee(case.owner).id, None)
    elif case.author == "outside":
        assert note.author_id is None and note.sender
    assert len(note.sender or "") <= SENDER_LENGTH, "the sender does not fit its column"
    if case.public is not None:
        assert note.is_public is case.public


def _check_files(gateway: Gateway, case: Case, task_id: int) -> None:
    stored = files_of(gateway, task_id)
    for item in stored:
        assert_clean(item.filename or "", "file name")
    assert [f.filename for f in stored] == list(case.files)
    assert sorted(f.filename or "" for f in stored if f.is_inline) == sorted(case.inline)


# --- scenarios of several messages ----------------------------------------------------------

MULTI = (
    "multi_logo_reply_1.eml",
    "multi_logo_reply_2.eml",
    "multi_thread_1_new.eml",
    "multi_thread_2_reply.eml",
    "multi_thread_3_reply_all.eml",
    "multi_bounce_1_dsn.eml",
    "multi_bounce_2_reply.eml",
)


def test_a_signature_logo_in_two_replies_is_stored_once(
    gateway: Gateway, demo_customer: DemoCustomer
) -> None:
    """Outlook attaches the logo as image001.png to every reply; the task keeps one copy."""
    setup = Setup.create(gateway, demo_customer, "jkowalski")
    address = setup.value("reply", "jkowalski")
    first = gateway.deliver(setup.fill_bytes(template("multi_logo_reply_1.eml")), address)
    second = gateway.deliver(setup.fill_bytes(template("multi_logo_reply_2.eml")), address)
    assert (first.status, second.status) == (InboundStatus.POSTED, InboundStatus.POSTED)
    assert [n.body for n in notes_of(gateway, setup.task.id)] == [
        "Dzień dobry,\n\nkurier odebrał paczkę, numer listu 6001234567.\n\nPozdrawiam",
        "Klient prosi jeszcze o korektę faktury.\n\nPozdrawiam",
    ]
    logos = files_of(gateway, setup.task.id)
    assert [(f.filename, f.is_inline) for f in logos] == [("image001.png", True)]
    assert logos[0].inbound_message_id == first.inbound_id
    trail = gateway.inbound(second.inbound_id).trail
    assert "file image001.png: already on the task" in trail


def test_register_mail_then_replies_to_the_acknowledgement(
    gateway: Gateway, demo_customer: DemoCustomer
) -> None:
    """A customer writes to the register and answers our acknowledgement with a photo.

    Her colleague's reply-all carries her reply address (it is in Cc) and answers in the
    task's thread: it is posted as an outside participant's internal note, not as hers.
    """
    setup = Setup.create(gateway, demo_customer, "jkowalski")
    opened = gateway.deliver(
        setup.fill_bytes(template("multi_thread_1_new.eml")), "reklamacje@firma.pl"
    )
    task_id = gateway.inbound(opened.inbound_id).task_id
    assert opened.status is InboundStatus.POSTED and task_id is not None
    (ack,) = acknowledgements(gateway, task_id)
    parsed_ack = message_from_bytes(ack, policy=policy.default)
    reply_to = str(parsed_ack["Reply-To"])
    setup.extra = {
        "ack_reply_to": reply_to,
        "ack_id": str(parsed_ack["Message-ID"]).strip("<>"),
        "number": stored_task(gateway, task_id).number,
    }
    answer = gateway.deliver(setup.fill_bytes(template("multi_thread_2_reply.eml")), reply_to)
    row = gateway.inbound(answer.inbound_id)
    assert (row.status, row.route, row.task_id) == (InboundStatus.POSTED, "token", task_id)
    colleague = gateway.deliver(
        setup.fill_bytes(template("multi_thread_3_reply_all.eml")), reply_to
    )
    row = gateway.inbound(colleague.inbound_id)
    assert (row.status, row.route, row.task_id) == (InboundStatus.POSTED, "references", task_id)
    assert any("used by piotr.wrona.magazyn@" in entry for entry in row.trail)
    notes = notes_of(gateway, task_id)
    assert [(n.body, n.is_public, n.author_id) for n in notes] == [
        ("Dzień dobry,\n\nw załączeniu zdjęcie uszkodzonej palety.\n\nPozdrawiam", True, None),
        ("Potwierdzam, paleta nr 3 też jest uszkodzona.", False, None),
    ]
    assert [f.filename for f in files_of(gateway, task_id)] == ["paleta.jpg"]


def test_one_message_delivered_once_per_recipient_posts_once(
    gateway: Gateway, demo_customer: DemoCustomer
) -> None:
    """Postfix with ``lmtp_destination_recipient_limit = 1`` hands over the same bytes twice."""
    setup = Setup.create(gateway, demo_customer, "jkowalski")
    raw = setup.fill_bytes(template("reply_token_and_register_cc.eml"))
    first = gateway.deliver(raw, setup.value("contact_reply", ""))
    again = gateway.deliver(raw, "reklamacje@firma.pl")
    assert (again.inbound_id, again.duplicate, again.status) == (
        first.inbound_id,
        True,
        InboundStatus.POSTED,
    )
    assert len(notes_of(gateway, setup.task.id)) == 1
    assert gateway.inbound(first.inbound_id).task_id == setup.task.id


def test_a_bounce_marks_the_contact_and_their_next_reply_clears_it(
    gateway: Gateway, demo_customer: DemoCustomer
) -> None:
    """A full mailbox: the DSN marks the address and notes it; the next real reply unmarks it."""
    setup = Setup.create(gateway, demo_customer, "jkowalski", customer=True)
    setup.sent_to = demo_customer.contact_email
    dsn = gateway.deliver(setup.fill_bytes(template("multi_bounce_1_dsn.eml")), "x@hermes.test")
    assert dsn.status is InboundStatus.SYSTEM
    assert gateway.inbound(dsn.inbound_id).task_id == setup.task.id
    with gateway.uow() as uow:
        assert uow.session.get_one(MailAddressState, demo_customer.contact_email).bouncing
    address = setup.value("contact_reply", "")
    reply = gateway.deliver(setup.fill_bytes(template("multi_bounce_2_reply.eml")), address)
    assert reply.status is InboundStatus.POSTED
    with gateway.uow() as uow:
        assert not uow.session.get_one(MailAddressState, demo_customer.contact_email).bouncing
    bodies = [n.body or "" for n in notes_of(gateway, setup.task.id)]
    assert len(bodies) == 2 and demo_customer.contact_email in bodies[0]
    assert bodies[1] == "Skrzynka już działa, proszę o ponowne przesłanie protokołu."


# --- the corpus as a whole ------------------------------------------------------------------


def test_every_template_is_used_once() -> None:
    """No orphaned .eml in the corpus and no template listed twice."""
    listed = [case.file for case in CASES]
    assert len(listed) == len(set(listed))
    on_disk = {path.name for path in CORPUS.glob("*.eml")}
    assert on_disk == set(listed) | set(MULTI)
