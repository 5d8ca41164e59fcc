"""``rule add|list|show|update|delete``: notification rules; ``outbox list|retry|purge``."""

from __future__ import annotations

import argparse
from typing import Any

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import NotificationRule
from hermes_groupware.models.enums import (
    NotificationChannel,
    NotificationEvent,
    OutboundStatus,
    Priority,
    TaskStatus,
)
from hermes_groupware.services import mailbox, notification_rules
from hermes_groupware.services.notification_rules import RuleSpec


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    rule = commands.add_parser("rule", help="notification rules").add_subparsers(
        dest="rule_command", metavar="ACTION", required=True
    )
    add = rule.add_parser(
        "add",
        help="add a rule",
        description="Recipients (--to, repeatable): assignee, creator, watchers (delegates), "
        "manager (the register's), contact (the task's customer contact), LOGIN, group:SLUG "
        "or an e-mail address.",
    )
    _definition(add, required=True)
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=_add)

    update = rule.add_parser("update", help="replace a rule's definition")
    update.add_argument("id", type=int)
    _definition(update, required=True)
    update.add_argument("--inactive", action="store_true", help="keep the rule but pause it")
    update.set_defaults(handler=_update)

    listing = rule.add_parser("list", help="list rules")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)
    show = rule.add_parser("show", help="one rule")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)
    delete = rule.add_parser("delete", help="delete a rule")
    delete.add_argument("id", type=int)
    delete.set_defaults(handler=_delete)

    outbox = commands.add_parser("outbox", help="outgoing mail and SMS").add_subparsers(
        dest="outbox_command", metavar="ACTION", required=True
    )
    o_list = outbox.add_parser("list", help="queued, sent and dead messages, newest first")
    o_list.add_argument("--status", choices=[s.value for s in OutboundStatus])
    o_list.add_argument("--json", action="store_true")
    o_list.set_defaults(handler=_outbox_list)
    o_retry = outbox.add_parser("retry", help="send a dead message again (same Message-ID)")
    o_retry.add_argument("id", type=int)
    o_retry.set_defaults(handler=_outbox_retry)
    o_purge = outbox.add_parser("purge", help="delete sent messages older than --days")
    o_purge.add_argument("--days", type=int, default=30)
    o_purge.set_defaults(handler=_outbox_purge)


def _definition(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--name", help="what people see in the mail footer (default: the event)")
    parser.add_argument("--event", required=required, choices=[e.value for e in NotificationEvent])
    parser.add_argument("--to", action="append", required=required, metavar="RECIPIENT")
    parser.add_argument(
        "--channel", choices=[c.value for c in NotificationChannel], default="email"
    )
    parser.add_argument("--register", metavar="CODE")
    parser.add_argument("--customer", type=int, metavar="ID")
    parser.add_argument("--priority", choices=[p.value for p in Priority])
    parser.add_argument(
        "--field", metavar="KEY=VALUE", help="only tasks whose custom field KEY has VALUE"
    )
    parser.add_argument("--from", dest="from_status", choices=[s.value for s in TaskStatus])
    parser.add_argument("--to-status", choices=[s.value for s in TaskStatus])
    parser.add_argument("--lead", type=int, metavar="MINUTES", help="due-soon: how long before")
    parser.add_argument("--at", metavar="HH:MM", help="overdue: not before this local time")
    parser.add_argument(
        "--notify-actor", action="store_true", help="also tell the person who made the change"
    )


def _spec(args: argparse.Namespace) -> RuleSpec:
    recipients = tuple(r for value in args.to for r in value.split(",") if r.strip())
    if not recipients:
        raise InvalidInput("to", "at least one recipient")
    return RuleSpec(
        name=args.name or args.event,
        event=NotificationEvent(args.event),
        recipients=recipients,
        channel=NotificationChannel(args.channel),
        register=args.register,
        customer_id=args.customer,
        priority=Priority(args.priority) if args.priority else None,
        from_status=TaskStatus(args.from_status) if args.from_status else None,
        to_status=TaskStatus(args.to_status) if args.to_status else None,
        lead_minutes=args.lead,
        at_local_time=args.at,
        notify_actor=args.notify_actor,
        field=_field(args.field),
    )


def _field(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    key, equals, value = text.partition("=")
    if not equals:
        raise InvalidInput("field", f"expected KEY=VALUE, got {text!r}")
    return key, value


def _view(rule: NotificationRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "event": rule.event,
        "to": rule.recipients.split(","),
        "channel": rule.channel,
        "register_id": rule.register_id,
        "customer_id": rule.customer_id,
        "priority": rule.priority,
        "from_status": rule.from_status,
        "to_status": rule.to_status,
        "lead_minutes": rule.lead_minutes,
        "at": rule.at_local_time,
        "field": f"{rule.field_key}={rule.field_value}" if rule.field_key else None,
        "notify_actor": rule.notify_actor,
        "active": rule.is_active,
    }


def _add(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        view = _view(notification_rules.add_rule(uow, _spec(args)))
    if args.json:
        print_json(view)
    else:
        print(f"added rule {view['id']}: {view['event']} → {', '.join(view['to'])}")
    return 0


def _update(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        notification_rules.update_rule(uow, args.id, _spec(args), active=not args.inactive)
    print(f"updated rule {args.id}")
    return 0


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        views = [_view(r) for r in notification_rules.list_rules(uow)]
    if args.json:
        print_json(views)
    else:
        print_table(
            ["id", "event", "to", "channel", "register", "active"],
            [
                [v["id"], v["event"], v["to"], v["channel"], v["register_id"], v["active"]]
                for v in views
            ],
        )
    return 0


def _show(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        view = _view(notification_rules.get_rule(uow, args.id))
    if args.json:
        print_json(view)
    else:
        for key, value in view.items():
            print(f"{key:>13}: {value if value is not None else '-'}")
    return 0


def _delete(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        notification_rules.delete_rule(uow, args.id)
    print(f"deleted rule {args.id}")
    return 0


def _outbox_list(ctx: CommandContext, args: argparse.Namespace) -> int:
    status = OutboundStatus(args.status) if args.status else None
    with ctx.unit_of_work(read_only=True) as uow:
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "created_at": r.created_at,
                "status": r.status,
                "channel": r.channel,
                "kind": r.kind,
                "recipient": r.recipient,
                "attempts": r.attempts,
                "next_attempt_at": r.next_attempt_at,
                "last_error": r.last_error,
                "message_id": r.message_id,
            }
            for r in mailbox.list_outbox(uow, status=status)
        ]
    if args.json:
        print_json(rows)
    else:
        print_table(
            ["id", "status", "kind", "recipient", "attempts", "last error"],
            [
                [
                    r["id"],
                    r["status"],
                    r["kind"],
                    r["recipient"],
                    r["attempts"],
                    (r["last_error"] or "")[:60],
                ]
                for r in rows
            ],
        )
    return 0


def _outbox_retry(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        mailbox.retry_outbound(uow, args.id)
    print(f"message {args.id} queued again")
    return 0


def _outbox_purge(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        count = mailbox.purge_sent(uow, older_than_days=args.days)
    print(f"purged {count} sent message(s)")
    return 0
