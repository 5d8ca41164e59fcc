"""Where a message goes, most trusted signal first.

1. a signed reply address among the recipients (bound to task, recipient and visibility);
2. ``In-Reply-To``/``References`` against every Message-ID sent or received for a task;
3. a task number tagged in the subject;
4. a register's inbound address: a new task.

Each step appends to the decision trail. A signal that points at a task the sender may not
use holds the message rather than falling through, so a forwarded notification or a guessed
subject tag never posts anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hermes_groupware.db.session import Actor
from hermes_groupware.models import (
    ContactPerson,
    CustomerDomain,
    Employee,
    InboundMessage,
    Register,
    Task,
)
from hermes_groupware.services import access, mailbox
from hermes_groupware.services.directory import actor_for
from mail_gateway.addresses import (
    BadToken,
    RecipientKind,
    ReplyAddresses,
    ReplyToken,
    task_numbers_in,
)
from mail_gateway.identity import Sender
from mail_gateway.mime import ParsedMessage


@dataclass(frozen=True)
class ToTask:
    """Post to an existing task, as ``author`` (an employee) or as an outside ``sender``."""

    route: str
    task_id: int
    author: Actor | None
    public: bool
    commands_allowed: bool


@dataclass(frozen=True)
class NewTask:
    """Open a task in this register."""

    register: Register


@dataclass(frozen=True)
class Hold:
    """Quarantine with a reason an admin can act on."""

    reason: str


Decision = ToTask | NewTask | Hold


@dataclass
class Router:
    """Routes one message; ``trail`` collects the reasons for the decision."""

    session: Session
    replies: ReplyAddresses
    authserv_configured: bool
    trail: list[str]

    def route(self, parsed: ParsedMessage, recipients: Sequence[str], sender: Sender) -> Decision:
        """The first signal that matches decides."""
        for decide in (self._by_token, self._by_references, self._by_subject):
            decision = decide(parsed, recipients, sender)
            if decision is not None:
                return decision
        registers = mailbox.register_for_addresses(self.session, recipients)
        if registers:
            if len(registers) > 1:
                others = ", ".join(r.code for r in registers[1:])
                self.trail.append(f"also addressed to registers {others}: one task is opened")
            self.trail.append(f"route: register address of {registers[0].code}")
            return NewTask(registers[0])
        return Hold("no route: no reply address, known Message-ID, task tag or register address")

    # --- 1. signed reply address ---------------------------------------------------------

    def _by_token(
        self, parsed: ParsedMessage, recipients: Sequence[str], sender: Sender
    ) -> Decision | None:
        for address in recipients:
            try:
                token = self.replies.parse(address)
            except BadToken as exc:
                self.trail.append(f"reply address rejected: {exc}")
                continue
            if token is not None:
                self.trail.append(f"route: signed reply address for task id {token.task_id}")
                return self._token_decision(token, sender, parsed)
        return None

    def _token_decision(self, token: ReplyToken, sender: Sender, parsed: ParsedMessage) -> Decision:
        if self.session.get(Task, token.task_id) is None:
            return Hold("reply address of a task that no longer exists")
        owner = self._token_owner(token)
        if owner is None:
            return Hold("reply address of a recipient that no longer exists or is inactive")
        if sender.address is None or sender.address != owner.lower():
            return self._someone_else(token, owner, sender, parsed)
        if token.kind is RecipientKind.EMPLOYEE:
            return self._as_employee(sender, token.task_id, "token", public=token.public)
        self.trail.append(f"sender {sender.display} matches the reply address")
        return ToTask("token", token.task_id, None, token.public, commands_allowed=False)

    def _someone_else(
        self, token: ReplyToken, owner: str, sender: Sender, parsed: ParsedMessage
    ) -> Decision:
        """Another person's reply address: a reply-all in our thread is an outside
        participant's note; anything else (a forwarded notification) is held."""
        threads = mailbox.tasks_for_message_ids(
            self.session, [*parsed.in_reply_to, *parsed.references]
        )
        if token.task_id in threads and sender.address is not None:
            self.trail.append(
                f"reply address of {owner} used by {sender.address}, in the task's thread:"
                " an outside participant"
            )
            if sender.employee is not None:
                return self._as_employee(sender, token.task_id, "references", public=False)
            return ToTask("references", token.task_id, None, public=False, commands_allowed=False)
        return Hold(
            f"reply address issued to {owner} used by {sender.address or 'an unknown sender'}"
            " (a forwarded notification?)"
        )

    def _token_owner(self, token: ReplyToken) -> str | None:
        if token.kind is RecipientKind.EMPLOYEE:
            employee = self.session.get(Employee, token.recipient_id)
            return employee.email if employee and employee.is_active else None
        if token.kind is RecipientKind.CONTACT:
            contact = self.session.get(ContactPerson, token.recipient_id)
            return contact.email if contact else None
        inbound = self.session.get(InboundMessage, token.recipient_id)
        return inbound.sender_address if inbound else None

    # --- 2. thread index -------------------------------------------------------------------

    def _by_references(
        self, parsed: ParsedMessage, _recipients: Sequence[str], sender: Sender
    ) -> Decision | None:
        wanted = [*parsed.in_reply_to, *reversed(parsed.references)]
        task_ids = mailbox.tasks_for_message_ids(self.session, wanted)
        if not task_ids:
            return None
        self.trail.append(f"route: In-Reply-To/References match task id {task_ids[0]}")
        if sender.employee is not None:
            return self._as_employee(sender, task_ids[0], "references", public=False)
        if sender.address is None:
            return Hold("reply in a task thread without a single valid From address")
        self.trail.append(f"outside participant {sender.display} in the task's thread")
        return ToTask("references", task_ids[0], None, public=False, commands_allowed=False)

    # --- 3. subject tag --------------------------------------------------------------------

    def _by_subject(
        self, parsed: ParsedMessage, _recipients: Sequence[str], sender: Sender
    ) -> Decision | None:
        for number in task_numbers_in(parsed.subject):
            task = self.session.scalars(select(Task).where(Task.number == number)).first()
            if task is None:
                self.trail.append(f"subject tag [{number}]: no such task")
                continue
            self.trail.append(f"route: subject tag [{number}]")
            if sender.employee is not None:
                return self._as_employee(sender, task.id, "subject", public=False)
            if sender.address is not None and self._is_customer_side(task, sender):
                self.trail.append(f"{sender.display} belongs to the task's customer")
                return ToTask("subject", task.id, None, public=False, commands_allowed=False)
            return Hold(f"sender {sender.address or '(none)'} may not write to task {number}")
        return None

    def _is_customer_side(self, task: Task, sender: Sender) -> bool:
        if task.customer_id is None or sender.address is None:
            return False
        if sender.customer_id == task.customer_id:
            return True
        domain = sender.address.rpartition("@")[2]
        owner = self.session.scalar(
            select(CustomerDomain.customer_id).where(func.lower(CustomerDomain.domain) == domain)
        )
        return owner == task.customer_id

    # --- employees -------------------------------------------------------------------------

    def _as_employee(self, sender: Sender, task_id: int, route: str, *, public: bool) -> Decision:
        """An employee's mail counts only when our MTA vouches for it (when it can)."""
        assert sender.employee is not None
        if self.authserv_configured and not sender.verified:
            return Hold(
                f"sender {sender.address} claims to be an employee but is not verified "
                f"by our MTA ({sender.auth_detail})"
            )
        actor = actor_for(sender.employee)
        if not access.can_edit(self.session, actor, task_id):
            return Hold(f"employee {actor.login} may not change this task")
        self.trail.append(
            f"author: employee {actor.login}"
            + ("" if sender.verified else " (not verified: no authserv-id configured)")
        )
        return ToTask(route, task_id, actor, public, commands_allowed=sender.verified)
