"""Who sent a message: the From address, matched to an employee or a customer contact, and
whether our own MTA vouches for it. ``From:`` alone never makes anyone an employee."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hermes_groupware.db.session import Actor
from hermes_groupware.models import ContactPerson, CustomerDomain, Employee
from hermes_groupware.services.directory import actor_for
from mail_gateway.authres import authenticate_sender
from mail_gateway.mime import ParsedMessage


@dataclass(frozen=True)
class Sender:
    """The sender as far as we can tell; ``address`` is None without exactly one valid From."""

    address: str | None
    display: str
    verified: bool
    auth_detail: str
    employee: Employee | None
    contact: ContactPerson | None
    customer_id: int | None

    @property
    def actor(self) -> Actor | None:
        """The matched employee as an actor; routing decides whether the match is trusted."""
        return actor_for(self.employee) if self.employee is not None else None


def identify(session: Session, parsed: ParsedMessage, *, authserv_id: str | None) -> Sender:
    """Match the single From address against employees, contacts and customer domains."""
    auth = authenticate_sender(parsed, authserv_id=authserv_id)
    if len(parsed.from_) != 1:
        return Sender(None, "", False, "no single valid From address", None, None, None)
    address = parsed.from_[0].email.lower()
    display = f"{parsed.from_[0].name} <{address}>" if parsed.from_[0].name else address
    employee = session.scalars(
        select(Employee).where(func.lower(Employee.email) == address, Employee.is_active)
    ).first()
    contact = session.scalars(
        select(ContactPerson).where(func.lower(ContactPerson.email) == address)
    ).first()
    customer_id = (
        contact.customer_id
        if contact is not None
        else _customer_by_domain(session, parsed.from_[0].domain)
    )
    detail = f"{auth.method}: {auth.detail}"
    return Sender(address, display, auth.verified, detail, employee, contact, customer_id)


def _customer_by_domain(session: Session, domain: str) -> int | None:
    return session.scalar(
        select(CustomerDomain.customer_id).where(func.lower(CustomerDomain.domain) == domain)
    )
