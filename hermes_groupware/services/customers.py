"""Customers (kontrahenci), their e-mail domains and contact persons."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import exists, select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import ContactPerson, Customer, CustomerDomain
from hermes_groupware.models.enums import CustomerKind
from hermes_groupware.services import access
from hermes_groupware.services.lookups import customer_by_id, employee_by_login, logins_by_id
from hermes_groupware.services.registers import validate_email

_NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
_EU_VAT_PREFIXES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "EL",
        "ES",
        "FI",
        "FR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "XI",
    ]
)
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class ContactView:
    """A contact person."""

    id: int
    name: str
    role: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class CustomerView:
    """A customer with its domains and contacts."""

    id: int
    kind: str
    name: str
    tax_id: str | None
    email: str | None
    phone: str | None
    city: str | None
    owner: str | None
    domains: list[str]
    contacts: list[ContactView]


def normalise_tax_id(raw: str) -> str:
    """A Polish NIP (10 digits, checksum verified) or an EU VAT number with its country prefix."""
    compact = re.sub(r"[\s-]", "", raw).upper()
    if compact.startswith("PL"):
        compact = compact[2:]
    if compact.isdigit():
        if len(compact) != 10:
            raise InvalidInput("tax_id", "a NIP has 10 digits")
        checksum = sum(int(d) * w for d, w in zip(compact, _NIP_WEIGHTS, strict=False)) % 11
        if checksum == 10 or checksum != int(compact[9]):
            raise InvalidInput("tax_id", f"NIP {raw!r} has a wrong check digit")
        return compact
    if (
        compact[:2] in _EU_VAT_PREFIXES
        and re.fullmatch(r"[A-Z0-9]{2,13}", compact[2:])
        and any(c.isdigit() for c in compact)
    ):
        return compact
    raise InvalidInput("tax_id", f"not a NIP or EU VAT number: {raw!r}")


def add_customer(
    uow: UnitOfWork,
    *,
    name: str,
    kind: CustomerKind = CustomerKind.CLIENT,
    tax_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    city: str | None = None,
    owner: str | None = None,
    domains: tuple[str, ...] = (),
) -> CustomerView:
    """Create a customer; any active employee may (sales reps add prospects all day)."""
    session = uow.session
    if not uow.actor.is_admin and uow.actor.employee_id is None:
        access.require_admin(uow.actor)
    if not name.strip():
        raise InvalidInput("name", "must not be empty")
    tax = normalise_tax_id(tax_id) if tax_id else None
    if tax and session.scalar(select(exists().where(Customer.tax_id == tax))):
        raise InvalidInput("tax_id", f"a customer with tax id {tax} exists")
    customer = Customer(
        name=name.strip(),
        kind=kind,
        tax_id=tax,
        email=validate_email(email) if email else None,
        phone=phone,
        city=city,
        owner_id=employee_by_login(session, owner, field="owner").id if owner else None,
    )
    session.add(customer)
    session.flush()
    for domain in domains:
        add_domain(uow, customer.id, domain)
    return customer_view(uow, customer.id)


def add_domain(uow: UnitOfWork, customer_id: int, domain: str) -> None:
    """Tie an e-mail domain to a customer; a domain belongs to one customer only."""
    domain = domain.strip().lower().lstrip("@")
    if not _DOMAIN.match(domain):
        raise InvalidInput("domain", f"not a domain name: {domain!r}")
    if uow.session.scalar(select(exists().where(CustomerDomain.domain == domain))):
        raise InvalidInput("domain", f"{domain} already belongs to a customer")
    customer_by_id(uow.session, customer_id)
    uow.session.add(CustomerDomain(customer_id=customer_id, domain=domain))
    uow.session.flush()


def add_contact(
    uow: UnitOfWork,
    customer_id: int,
    *,
    first_name: str,
    last_name: str,
    role: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> ContactView:
    """Add a contact person to a customer."""
    customer_by_id(uow.session, customer_id)
    if not first_name.strip() or not last_name.strip():
        raise InvalidInput("name", "first and last name are required")
    contact = ContactPerson(
        customer_id=customer_id,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        role=role,
        email=validate_email(email) if email else None,
        phone=phone,
    )
    uow.session.add(contact)
    uow.session.flush()
    return _contact_view(contact)


def list_customers(uow: UnitOfWork, *, search: str | None = None) -> list[CustomerView]:
    """Customers by name, each with its domains and contacts (three queries in all)."""
    session = uow.session
    query = select(Customer).order_by(Customer.name, Customer.id)
    if search:
        query = query.where(Customer.name.ilike(f"%{search}%"))
    customers = list(session.scalars(query))
    ids = [c.id for c in customers]
    domains: dict[int, list[str]] = {}
    for customer_id, domain in session.execute(
        select(CustomerDomain.customer_id, CustomerDomain.domain)
        .where(CustomerDomain.customer_id.in_(ids))
        .order_by(CustomerDomain.domain)
    ):
        domains.setdefault(customer_id, []).append(domain)
    contacts: dict[int, list[ContactView]] = {}
    for contact in session.scalars(
        select(ContactPerson)
        .where(ContactPerson.customer_id.in_(ids))
        .order_by(ContactPerson.last_name, ContactPerson.id)
    ):
        contacts.setdefault(contact.customer_id, []).append(_contact_view(contact))
    owners = logins_by_id(session, (c.owner_id for c in customers))
    return [
        _customer_view(
            c, domains.get(c.id, []), contacts.get(c.id, []), owners.get(c.owner_id or 0)
        )
        for c in customers
    ]


def customer_view(uow: UnitOfWork, customer_id: int) -> CustomerView:
    """One customer with domains and contacts."""
    customer = customer_by_id(uow.session, customer_id)
    domains = list(
        uow.session.scalars(
            select(CustomerDomain.domain).where(CustomerDomain.customer_id == customer_id)
        )
    )
    contacts = [
        _contact_view(c)
        for c in uow.session.scalars(
            select(ContactPerson).where(ContactPerson.customer_id == customer_id)
        )
    ]
    owners = logins_by_id(uow.session, (customer.owner_id,))
    return _customer_view(customer, domains, contacts, owners.get(customer.owner_id or 0))


def _customer_view(
    c: Customer, domains: list[str], contacts: list[ContactView], owner: str | None
) -> CustomerView:
    return CustomerView(
        id=c.id,
        kind=CustomerKind(c.kind).value,
        name=c.name,
        tax_id=c.tax_id,
        email=c.email,
        phone=c.phone,
        city=c.city,
        owner=owner,
        domains=domains,
        contacts=contacts,
    )


def _contact_view(c: ContactPerson) -> ContactView:
    return ContactView(id=c.id, name=c.full_name, role=c.role, email=c.email, phone=c.phone)
