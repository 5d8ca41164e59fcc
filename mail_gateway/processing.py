"""Processing one stored message in one transaction: parse, classify, route, write, record.

Everything is written through the domain services as the right actor (the verified employee,
or the gateway itself for outside senders), with history source ``email``. The decision trail
and the outcome are stored on the inbound row in the same transaction, so a crash leaves the
message either untouched (``received``, retried) or completely processed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hermes_groupware.config import Settings
from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.filestore import chunks_of
from hermes_groupware.models import InboundMessage, OutboundMessage, Register, Task
from hermes_groupware.models.enums import InboundStatus, MailDirection
from hermes_groupware.services import items, mailbox, tasks
from hermes_groupware.services.items import MAX_NOTE_CHARS, MailOrigin
from mail_gateway import imip
from mail_gateway.addresses import RecipientKind, ReplyAddresses, ReplyToken, normalise_subject
from mail_gateway.automatic import AutoKind, Automatic, bounced_recipients, classify
from mail_gateway.commands import apply_commands, split_commands
from mail_gateway.compose import automatic_reply
from mail_gateway.errors import MalformedMessage
from mail_gateway.identity import Sender, identify
from mail_gateway.mime import Limits, ParsedMessage, parse_message
from mail_gateway.reply_text import Reply, extract_reply
from mail_gateway.routing import Hold, NewTask, Router, ToTask

_NOREPLY = ("noreply", "no-reply", "donotreply", "do-not-reply", "mailer-daemon", "postmaster")
_HOUR = dt.timedelta(hours=1)
_MAX_EXTRACT_CHARS = 2_000_000
_CUT = "\n[… cut; the full text is in the message]"
_SENDER_CHARS = 320  # task_items.sender
_ANSWERS = {
    "ACCEPTED": ("{who} przyjmuje zaproszenie", "{who} accepted the invitation"),
    "DECLINED": ("{who} odrzuca zaproszenie", "{who} declined the invitation"),
    "TENTATIVE": ("{who} wstępnie przyjmuje zaproszenie", "{who} tentatively accepted"),
}


@dataclass(frozen=True)
class GatewayConfig:
    """The settings processing needs, resolved once."""

    replies: ReplyAddresses
    domain: str
    authserv_id: str | None
    limits: Limits
    max_attempts: int
    new_tasks_per_sender_per_hour: int
    notes_per_task_per_hour: int
    zone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayConfig:
        """Derive from ``[mail]`` and ``[server]``."""
        mail = settings.mail
        return cls(
            replies=ReplyAddresses(settings.reply_secret, mail.reply_local, mail.domain),
            domain=mail.domain,
            authserv_id=mail.authserv_id or None,
            limits=Limits(
                max_message_bytes=mail.max_message_bytes,
                max_attachment_bytes=mail.max_attachment_bytes,
                max_attachments=mail.max_attachments,
                blocked_types=tuple(mail.blocked_extensions.lower().split()),
            ),
            max_attempts=mail.max_attempts,
            new_tasks_per_sender_per_hour=mail.new_tasks_per_sender_per_hour,
            notes_per_task_per_hour=mail.notes_per_task_per_hour,
            zone=ZoneInfo(settings.server.default_time_zone),
        )


def parse(raw: bytes, config: GatewayConfig) -> ParsedMessage | MalformedMessage:
    """Parse outside the write transaction (it is the slow, lock-free part)."""
    try:
        return parse_message(raw, config.limits)
    except MalformedMessage as exc:
        return exc


def process_message(
    uow: UnitOfWork,
    row: InboundMessage,
    config: GatewayConfig,
    parsed: ParsedMessage | MalformedMessage,
    raw: bytes,
) -> None:
    """Decide and apply; the outcome lands on ``row`` (status, reason, trail, task)."""
    run = _Run(uow, row, config, trail=[], raw=raw)
    if isinstance(parsed, MalformedMessage):
        run.finish(InboundStatus.QUARANTINED, f"malformed message: {parsed.reason}")
        return
    run.handle(parsed)


def release_message(
    uow: UnitOfWork,
    row: InboundMessage,
    config: GatewayConfig,
    task_id: int,
    *,
    released_by: str | None = None,
) -> None:
    """An admin's decision: post a held message to this task as an outside sender's note.

    ``released_by`` names the administrator in the trail when ``uow`` acts as the gateway.
    """
    trail = [f"released to task id {task_id} by {released_by or uow.actor.login}"]
    run = _Run(uow, row, config, trail=trail, raw=row.raw)
    parsed = parse_message(row.raw, config.limits)
    sender = identify(uow.session, parsed, authserv_id=config.authserv_id)
    decision = ToTask("released", task_id, None, public=False, commands_allowed=False)
    run.post(parsed, sender, decision)


@dataclass
class _Run:
    uow: UnitOfWork
    row: InboundMessage
    config: GatewayConfig
    trail: list[str]
    raw: bytes

    def finish(
        self,
        status: InboundStatus,
        reason: str | None = None,
        *,
        task_id: int | None = None,
        route: str | None = None,
    ) -> None:
        self.row.status = status
        self.row.reason = reason
        self.row.route = route
        if task_id is not None:
            self.row.task_id = task_id
        self.row.trail = [
            *self.row.trail,
            *self.trail,
            f"outcome: {status}" + (f" ({reason})" if reason else ""),
        ]
        self.row.processed_at = self.uow.now()

    def handle(self, parsed: ParsedMessage) -> None:
        row, config = self.row, self.config
        row.message_id = (parsed.message_id or "")[:998] or None
        row.subject = parsed.subject[:998]
        self.trail.extend(parsed.notes)
        self.trail.extend(f"left out {s.filename}: {s.reason}" for s in parsed.skipped)
        sender = identify(self.uow.session, parsed, authserv_id=config.authserv_id)
        row.sender_address = sender.address
        self.trail.append(f"sender {sender.display or '(none)'}: {sender.auth_detail}")
        recipients = self._recipients(parsed)
        automatic = classify(parsed, envelope_from=row.envelope_from, loop_marker=config.domain)
        if automatic is not None:
            self._automatic(parsed, recipients, automatic)
            return
        router = Router(self.uow.session, config.replies, bool(config.authserv_id), self.trail)
        decision = router.route(parsed, recipients, sender)
        if isinstance(decision, Hold):
            self.finish(InboundStatus.QUARANTINED, decision.reason)
        elif isinstance(decision, NewTask):
            self._open_task(parsed, sender, decision.register)
        else:
            self.post(parsed, sender, decision)

    def _recipients(self, parsed: ParsedMessage) -> list[str]:
        """Envelope first (what the MTA delivered to), then what the headers say."""
        found = [r for r in self.row.recipients.split("\n") if r]
        for header in ("Delivered-To", "X-Original-To"):
            found += [value.strip().strip("<>") for value in parsed.header(header)]
        found += [a.email for a in (*parsed.to, *parsed.cc)]
        return list(dict.fromkeys(a.lower() for a in found if "@" in a))

    # --- automatic mail --------------------------------------------------------------------

    def _automatic(self, parsed: ParsedMessage, recipients: list[str], auto: Automatic) -> None:
        """Recorded, linked to its task when that is clear, never posted or answered."""
        self.trail.append(f"automatic mail ({auto.kind}): {auto.reason}")
        task_id = self._quiet_task_link(parsed, recipients)
        if auto.kind is AutoKind.BOUNCE:
            task_id = self._bounce(task_id) or task_id
        self.finish(InboundStatus.SYSTEM, f"{auto.kind}: {auto.reason}", task_id=task_id)

    def _quiet_task_link(self, parsed: ParsedMessage, recipients: list[str]) -> int | None:
        for address in recipients:
            try:
                token = self.config.replies.parse(address)
            except ValueError:
                continue
            if token is not None:
                return token.task_id
        ids = mailbox.tasks_for_message_ids(
            self.uow.session, [*parsed.in_reply_to, *reversed(parsed.references)]
        )
        return ids[0] if ids else None

    def _bounce(self, task_id: int | None) -> int | None:
        """Mark the failed addresses and tell the task's people with a note on the task."""
        reported = bounced_recipients(self.raw)
        failed = sorted(mailbox.addresses_mailed(self.uow.session, reported))
        if len(failed) < len(reported):  # a forged report must not silence anyone
            ignored = ", ".join(sorted(reported - set(failed)))
            self.trail.append(f"bounce for addresses we never mailed ignored: {ignored}")
        for address in failed:
            mailbox.mark_bouncing(self.uow, address, f"bounce in inbound message {self.row.id}")
        if not failed:
            return task_id
        self.trail.append("bouncing: " + ", ".join(failed))
        if task_id is None:
            task_id = self.uow.session.scalar(
                select(OutboundMessage.task_id)
                .where(OutboundMessage.recipient.in_(failed), OutboundMessage.task_id.is_not(None))
                .order_by(OutboundMessage.id.desc())
                .limit(1)
            )
        if task_id is not None:
            body = (
                "Wiadomość nie została doręczona do: {0}. Adres oznaczono jako błędny.\n"
                "Mail could not be delivered to: {0}. The address is marked as bouncing."
            ).format(", ".join(failed))
            items.add_note(self.uow, task_id, body, mail=MailOrigin(self.row.id))
        return task_id

    # --- replies ---------------------------------------------------------------------------

    def post(self, parsed: ParsedMessage, sender: Sender, decision: ToTask) -> None:
        uow, task_id = self.uow, decision.task_id
        since = uow.now() - _HOUR
        if mailbox.recent_mail_notes(uow, task_id, since=since) >= (
            self.config.notes_per_task_per_hour
        ):
            self.finish(
                InboundStatus.QUARANTINED,
                "too many e-mail notes on this task in the last hour (a mail loop?)",
                task_id=task_id,
            )
            return
        writer = uow.acting_as(decision.author) if decision.author is not None else uow
        answer = imip.parse_reply(parsed, sender=sender.address)
        if answer is not None and answer.task_id(self.config.domain) == task_id:
            self._invitation_answer(writer, parsed, sender, decision, answer)
            return
        reply = self._reply(parsed)
        text = reply.text
        register = uow.session.get_one(Task, task_id).register_id
        commands_enabled = bool(uow.session.get_one(Register, register).email_commands)
        commands, without = split_commands(text)
        if commands and commands_enabled and decision.commands_allowed:
            text = without
        elif commands:
            self.trail.append(
                "commands ignored: "
                + (
                    "sender not verified by our MTA"
                    if commands_enabled
                    else "not enabled for the register"
                )
            )
            commands = []
        origin = MailOrigin(
            self.row.id,
            sender=None if decision.author is not None else sender.display[:_SENDER_CHARS],
            is_public=decision.public,
        )
        posted = self._write_items(writer, task_id, text, parsed, origin)
        if parsed.message_id:
            mailbox.record_thread_entry(uow, parsed.message_id, task_id, MailDirection.RECEIVED)
        if commands:
            results = apply_commands(writer, task_id, commands, self.config.zone)
            self.trail.extend(f"command {line}" for line in results)
            self._confirm_commands(sender, task_id, results, parsed.message_id)
        if sender.address:
            mailbox.clear_bouncing(uow, sender.address)
        if not posted and not commands:
            self.finish(
                InboundStatus.SYSTEM,
                "empty reply: no new text and no files",
                task_id=task_id,
                route=decision.route,
            )
            return
        self.finish(InboundStatus.POSTED, task_id=task_id, route=decision.route)

    def _invitation_answer(
        self,
        writer: UnitOfWork,
        parsed: ParsedMessage,
        sender: Sender,
        decision: ToTask,
        answer: imip.ImipReply,
    ) -> None:
        """Accept/decline of our invitation: one note (so the history shows it), no files."""
        who = answer.attendee_name or answer.attendee
        polish, english = _ANSWERS[answer.partstat]
        body = f"{polish.format(who=who)} / {english.format(who=who)}"
        if answer.comment:
            body += f"\n\n{answer.comment}"
        origin = MailOrigin(
            self.row.id,
            sender=None if decision.author is not None else sender.display[:_SENDER_CHARS],
            is_public=decision.public,
        )
        items.add_note(writer, decision.task_id, body[:MAX_NOTE_CHARS], mail=origin)
        if parsed.message_id:
            mailbox.record_thread_entry(
                self.uow, parsed.message_id, decision.task_id, MailDirection.RECEIVED
            )
        self.trail.append(
            f"invitation answer {answer.partstat} by {answer.attendee}, SEQUENCE "
            f"{answer.sequence}" + ("" if answer.organizer else " (no ORGANIZER)")
        )
        self.finish(InboundStatus.POSTED, task_id=decision.task_id, route=decision.route)

    def _reply(self, parsed: ParsedMessage) -> Reply:
        text, html = parsed.text, parsed.html
        if len(html or "") > _MAX_EXTRACT_CHARS:  # HTML to text is linear but not cheap
            self.trail.append("HTML body too large to render; the plain-text part is used")
            html = None
        if text is not None and len(text) > _MAX_EXTRACT_CHARS:
            self.trail.append("text body cut for the note; the message keeps all of it")
            text = text[:_MAX_EXTRACT_CHARS]
        reply = extract_reply(text, html)
        self.trail.append(f"text: {reply.method}")
        stripped = "\n\n".join(part for part in (reply.quoted, reply.signature) if part)
        self.row.stripped_text = stripped or None
        if stripped:
            self.trail.append(f"stripped {len(stripped)} characters of quote and signature")
        return reply

    def _write_items(
        self, writer: UnitOfWork, task_id: int, text: str, parsed: ParsedMessage, origin: MailOrigin
    ) -> int:
        posted = 0
        if text.strip():
            if len(text) > MAX_NOTE_CHARS:
                text = text[: MAX_NOTE_CHARS - len(_CUT)] + _CUT
                self.trail.append("note text cut at the note size limit")
            items.add_note(writer, task_id, text, mail=origin)
            posted += 1
        for attachment in parsed.attachments:
            item = items.add_file(
                writer,
                task_id,
                filename=attachment.filename,
                content_type=attachment.content_type,
                chunks=chunks_of(attachment.data),
                mail=origin,
                inline=attachment.inline,
                once_per_task=True,
            )
            if item.inbound_message_id != self.row.id:
                self.trail.append(f"file {attachment.filename}: already on the task")
            else:
                posted += 1
                flag = " (flagged: executable type)" if attachment.dangerous else ""
                self.trail.append(f"file {item.filename} attached{flag}")
        return posted

    def _confirm_commands(
        self, sender: Sender, task_id: int, results: list[str], in_reply_to: str | None
    ) -> None:
        employee = sender.employee
        if employee is None or not employee.email:
            return
        task = self.uow.session.get_one(Task, task_id)
        token = ReplyToken(task_id, RecipientKind.EMPLOYEE, employee.id, public=False)
        message_id, raw = automatic_reply(
            sender=self._from_address(None),
            to=employee.email,
            reply_to=self.config.replies.address(token),
            subject=f"[{task.number}] {task.subject}",
            template="commands.txt",
            context={"number": task.number, "results": results, "locale": employee.locale},
            domain=self.config.domain,
            task_id=task_id,
            in_reply_to=in_reply_to,
        )
        mailbox.enqueue(
            self.uow,
            message_id=message_id,
            recipient=employee.email,
            raw=raw,
            kind="command-results",
            task_id=task_id,
        )

    # --- new tasks -------------------------------------------------------------------------

    def _open_task(self, parsed: ParsedMessage, sender: Sender, register: Register) -> None:
        uow = self.uow
        if sender.address is None:
            self.finish(InboundStatus.QUARANTINED, "a new task needs a single valid From address")
            return
        recent = mailbox.recent_from_sender(uow, sender.address, since=uow.now() - _HOUR)
        if recent >= self.config.new_tasks_per_sender_per_hour:
            self.finish(
                InboundStatus.QUARANTINED,
                f"{sender.address} opened {recent} tasks in the last hour: held as a flood",
            )
            return
        responsible = register.default_assignee_id or register.manager_id
        if responsible is None:
            self.finish(
                InboundStatus.QUARANTINED,
                f"register {register.code} has no default "
                "assignee or manager to give the new task to",
            )
            return
        reply = self._reply(parsed)
        task = tasks.create_task(
            uow,
            register_id=register.id,
            subject=(normalise_subject(parsed.subject) or "(bez tematu)")[:500],
            responsible_id=responsible,
            changes=tasks.TaskChanges(
                description=reply.text[:MAX_NOTE_CHARS],
                customer_id=sender.customer_id,
                contact_id=sender.contact.id if sender.contact is not None else None,
            ),
        )
        self.trail.append(f"opened task {task.number} for {sender.display}")
        origin = MailOrigin(self.row.id, sender=sender.display[:_SENDER_CHARS], is_public=True)
        self._write_items(uow, task.id, "", parsed, origin)
        if parsed.message_id:
            mailbox.record_thread_entry(uow, parsed.message_id, task.id, MailDirection.RECEIVED)
        self._acknowledge(parsed, sender, register, task)
        self.finish(InboundStatus.POSTED, task_id=task.id, route="register")

    def _acknowledge(
        self, parsed: ParsedMessage, sender: Sender, register: Register, task: Task
    ) -> None:
        address = sender.address or ""
        if address.partition("@")[0].lower().startswith(_NOREPLY):
            self.trail.append("no acknowledgement: a no-reply sender")
            return
        if not address.isascii():  # the relay may not speak SMTPUTF8; never mangle an address
            self.trail.append("no acknowledgement: the address is not ASCII")
            return
        if not mailbox.claim_acknowledgement(self.uow, address, task.id):
            self.trail.append("no acknowledgement: the sender already got one today")
            return
        token = ReplyToken(task.id, RecipientKind.SENDER, self.row.id, public=True)
        message_id, raw = automatic_reply(
            sender=self._from_address(register),
            to=address,
            reply_to=self.config.replies.address(token),
            subject=f"[{task.number}] {task.subject}",
            template="acknowledgement.txt",
            context={"number": task.number, "subject": task.subject, "register": register.name},
            domain=self.config.domain,
            task_id=task.id,
            in_reply_to=parsed.message_id,
        )
        queued = mailbox.enqueue(
            self.uow,
            message_id=message_id,
            recipient=address,
            raw=raw,
            kind="acknowledgement",
            task_id=task.id,
        )
        self.trail.append("acknowledgement queued" if queued else "no acknowledgement: bouncing")

    def _from_address(self, register: Register | None) -> str:
        if register is not None and register.inbound_email:
            return f"{register.name} <{register.inbound_email}>"
        return f"Hermes <{self.config.replies.local}@{self.config.domain}>"
