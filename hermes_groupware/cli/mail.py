"""``mail deliver`` (an MTA's pipe transport), ``mail quarantine …``, ``mail process``.

``mail deliver`` follows sysexits(3), which MTAs understand: 0 delivered, 65 not a message
we can take (too large), 67 unknown recipient (the MTA bounces), 75 temporary failure (the MTA
keeps the message and retries).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import InboundMessage
from hermes_groupware.models.enums import InboundStatus, MailChannel, Source
from hermes_groupware.services import access, mailbox
from mail_gateway.errors import MalformedMessage, TemporaryFailure
from mail_gateway.html_text import sanitize_html
from mail_gateway.intake import Intake
from mail_gateway.mime import parse_message
from mail_gateway.origin import Origin
from mail_gateway.outbox_sender import send_due
from mail_gateway.release import Release, release
from mail_gateway.smtp_server import GatewayHandler

EX_DATAERR = 65
EX_NOUSER = 67
EX_TEMPFAIL = 75


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    mail = commands.add_parser("mail", help="the e-mail gateway").add_subparsers(
        dest="mail_command", metavar="ACTION", required=True
    )
    deliver = mail.add_parser(
        "deliver",
        help="take one message on stdin (for an MTA pipe transport)",
        description="Exit codes (sysexits): 0 delivered, 65 too large, 67 unknown recipient, "
        "75 temporary failure (the MTA retries).",
    )
    deliver.add_argument(
        "--recipient",
        action="append",
        default=[],
        metavar="ADDR",
        help="envelope recipient (repeatable); unknown ones exit 67",
    )
    deliver.add_argument("--sender", metavar="ADDR", help="envelope sender")
    deliver.add_argument("--json", action="store_true", help="print the outcome as JSON")
    deliver.set_defaults(handler=_deliver)

    process = mail.add_parser("process", help="process stored messages still waiting (retries)")
    process.set_defaults(handler=_process)

    send = mail.add_parser("send", help="hand due outbound mail to the relay now")
    send.set_defaults(handler=_send)

    listing = mail.add_parser("list", help="recent inbound messages, any status")
    listing.add_argument("--status", choices=[s.value for s in InboundStatus])
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list_any)

    show = mail.add_parser("show", help="one inbound message: decision trail, stripped text")
    _show_options(show)

    quarantine = mail.add_parser("quarantine", help="messages held with a reason").add_subparsers(
        dest="quarantine_command", metavar="ACTION", required=True
    )
    q_list = quarantine.add_parser("list", help="held messages, newest first")
    q_list.add_argument("--json", action="store_true")
    q_list.set_defaults(handler=_list_quarantine)
    _show_options(quarantine.add_parser("show", help="a held message with its trail and raw"))
    for name, handler, text in (
        ("retry", _retry, "process a held message again (after a fix or a new grant)"),
        ("delete", _delete, "delete a held message for good (spam)"),
    ):
        action = quarantine.add_parser(name, help=text)
        action.add_argument("id", type=int)
        action.set_defaults(handler=handler)
    release = quarantine.add_parser("release", help="post a held message to a task as a note")
    release.add_argument("id", type=int)
    release.add_argument("--task", required=True, metavar="NUMBER", help="e.g. REK/2026/0042")
    release.set_defaults(handler=_release)


def _show_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=int)
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--raw", action="store_true", help="print the raw message as received")
    shown.add_argument(
        "--html", action="store_true", help="print the HTML body, sanitised (nothing remote)"
    )
    shown.add_argument("--json", action="store_true")
    parser.set_defaults(handler=_show)


def _intake(ctx: CommandContext) -> Intake:
    return Intake(ctx.current_database, ctx.settings)


def _deliver(ctx: CommandContext, args: argparse.Namespace) -> int:
    limit = ctx.settings.mail.max_message_bytes
    raw = sys.stdin.buffer.read(limit + 1)
    if len(raw) > limit:
        print(f"hermes-groupware: message larger than {limit} bytes", file=sys.stderr)
        return EX_DATAERR
    try:
        intake = _intake(ctx)
        handler = GatewayHandler(intake, ctx.current_database, lmtp=False)
        unknown = [r for r in args.recipient if not handler.known_recipient(r)]
        if unknown:
            print(f"hermes-groupware: unknown recipient {', '.join(unknown)}", file=sys.stderr)
            return EX_NOUSER
        origin = Origin(MailChannel.PIPE, args.sender or None, tuple(args.recipient))
        receipt = intake.receive(raw, origin)
    except TemporaryFailure as exc:
        print(f"hermes-groupware: {exc}; try again later", file=sys.stderr)
        return EX_TEMPFAIL
    if args.json:
        print_json(receipt)
    return 0


def _process(ctx: CommandContext, _args: argparse.Namespace) -> int:
    count = _intake(ctx).process_pending(limit=10_000)
    print(f"processed {count} waiting message(s)")
    return 0


def _send(ctx: CommandContext, _args: argparse.Namespace) -> int:
    sent = send_due(ctx.current_database, ctx.settings.smtp_out, ctx.settings.sms, limit=1000)
    print(f"sent {sent} message(s)")
    return 0


def _row(row: InboundMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "received_at": row.received_at,
        "channel": row.channel,
        "status": row.status,
        "sender": row.sender_address or row.envelope_from,
        "subject": row.subject,
        "reason": row.reason,
        "route": row.route,
        "task_id": row.task_id,
        "message_id": row.message_id,
        "size": row.size,
        "attempts": row.attempts,
    }


def _print_rows(rows: list[InboundMessage], as_json: bool) -> None:
    if as_json:
        print_json([_row(r) for r in rows])
        return
    print_table(
        ["id", "received", "status", "from", "subject", "reason"],
        [
            [
                r.id,
                r.received_at,
                r.status,
                r.sender_address or r.envelope_from,
                (r.subject or "")[:50],
                (r.reason or "")[:70],
            ]
            for r in rows
        ],
    )


def _list_any(ctx: CommandContext, args: argparse.Namespace) -> int:
    status = InboundStatus(args.status) if args.status else None
    with ctx.unit_of_work(read_only=True) as uow:
        _print_rows(mailbox.list_messages(uow, status=status), args.json)
    return 0


def _list_quarantine(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        _print_rows(mailbox.list_messages(uow), args.json)
    return 0


def _show(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        row = mailbox.message(uow, args.id)
        if args.raw:
            sys.stdout.buffer.write(row.raw)
            return 0
        if args.html:
            try:
                print(sanitize_html(parse_message(row.raw).html or ""))
            except MalformedMessage as exc:
                raise InvalidInput(
                    "id", f"message {args.id} cannot be parsed: {exc.reason}"
                ) from exc
            return 0
        data = {
            **_row(row),
            "recipients": row.recipients.split("\n") if row.recipients else [],
            "trail": row.trail,
            "stripped_text": row.stripped_text,
        }
    if args.json:
        print_json(data)
        return 0
    for key in ("id", "status", "reason", "route", "task_id", "sender", "subject", "message_id"):
        print(f"{key:>11}: {data[key] if data[key] is not None else '-'}")
    print("      trail:")
    for entry in data["trail"]:
        print(f"             - {entry}")
    if data["stripped_text"]:
        print("   stripped:")
        for line in str(data["stripped_text"]).splitlines():
            print(f"             | {line}")
    return 0


def _retry(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        mailbox.retry(uow, args.id)
    status = _intake(ctx).process(args.id)
    print(f"message {args.id}: {status}")
    return 0


def _delete(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        mailbox.delete(uow, args.id)
    print(f"message {args.id} deleted")
    return 0


def _release(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        access.require_admin(uow.actor)
        task_id = access.readable_task_id(uow.session, uow.actor, args.task)
    decision = Release(ctx.actor, Source.CLI, args.id, task_id)
    status = release(ctx.current_database, decision, _intake(ctx).config)  # 5 when posted
    print(f"message {args.id}: {status} to {args.task}")
    return 0
