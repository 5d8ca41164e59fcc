"""Customers (kontrahenci) and their contact persons."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hermes_groupware.db.base import Base, intpk, utc_now
from hermes_groupware.db.types import text_enum
from hermes_groupware.models.enums import CustomerKind


class Customer(Base):
    """A client, prospect, partner or competitor."""

    __tablename__ = "customers"

    id: Mapped[intpk]
    kind: Mapped[CustomerKind] = mapped_column(
        text_enum(CustomerKind),
        default=CustomerKind.CLIENT,
        server_default=CustomerKind.CLIENT.value,
    )
    name: Mapped[str] = mapped_column(String(300))
    tax_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(100))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    created_at: Mapped[utc_now]


class CustomerDomain(Base):
    """An e-mail domain that identifies a customer's mail (one owner per domain)."""

    __tablename__ = "customer_domains"

    id: Mapped[intpk]
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    domain: Mapped[str] = mapped_column(String(253), unique=True)


class ContactPerson(Base):
    """A person at a customer."""

    __tablename__ = "contact_persons"

    id: Mapped[intpk]
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))

    @property
    def full_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"
