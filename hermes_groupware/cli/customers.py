"""``customer add|list|add-contact``."""

from __future__ import annotations

import argparse

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.models.enums import CustomerKind
from hermes_groupware.services import customers


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    cust = commands.add_parser("customer", help="customers and contact persons").add_subparsers(
        dest="customer_command", metavar="ACTION", required=True
    )
    add = cust.add_parser("add", help="add a customer")
    add.add_argument("--name", required=True)
    add.add_argument("--kind", choices=[k.value for k in CustomerKind], default="client")
    add.add_argument("--tax-id", help="NIP (checked) or EU VAT number")
    add.add_argument("--email")
    add.add_argument("--phone")
    add.add_argument("--city")
    add.add_argument("--owner", metavar="LOGIN", help="account owner")
    add.add_argument("--domain", action="append", default=[], help="e-mail domain (repeatable)")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=_add)

    contact = cust.add_parser("add-contact", help="add a contact person to a customer")
    contact.add_argument("customer_id", type=int, metavar="CUSTOMER_ID")
    contact.add_argument("--first-name", required=True)
    contact.add_argument("--last-name", required=True)
    contact.add_argument("--role")
    contact.add_argument("--email")
    contact.add_argument("--phone")
    contact.add_argument("--json", action="store_true")
    contact.set_defaults(handler=_add_contact)

    listing = cust.add_parser("list", help="list customers with their contacts")
    listing.add_argument("--search", help="part of the name")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)


def _add(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        view = customers.add_customer(
            uow,
            name=args.name,
            kind=CustomerKind(args.kind),
            tax_id=args.tax_id,
            email=args.email,
            phone=args.phone,
            city=args.city,
            owner=args.owner,
            domains=tuple(args.domain),
        )
    if args.json:
        print_json(view)
    else:
        print(f"added customer {view.id}: {view.name}")
    return 0


def _add_contact(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        view = customers.add_contact(
            uow,
            args.customer_id,
            first_name=args.first_name,
            last_name=args.last_name,
            role=args.role,
            email=args.email,
            phone=args.phone,
        )
    if args.json:
        print_json(view)
    else:
        print(f"added contact {view.id}: {view.name}")
    return 0


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        views = customers.list_customers(uow, search=args.search)
    if args.json:
        print_json(views)
    else:
        print_table(
            ["id", "name", "kind", "tax id", "city", "owner", "contacts"],
            [[v.id, v.name, v.kind, v.tax_id, v.city, v.owner, len(v.contacts)] for v in views],
        )
    return 0
