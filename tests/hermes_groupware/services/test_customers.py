"""Customers: tax ids, domains and contacts."""

from __future__ import annotations

import pytest

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.services import customers
from tests.factories import Factory


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("526-000-12-46", "5260001246"),
        ("PL 526 000 12 46", "5260001246"),
        ("DE123456789", "DE123456789"),
    ],
)
def test_tax_ids(raw: str, normalised: str) -> None:
    assert customers.normalise_tax_id(raw) == normalised


@pytest.mark.parametrize("raw", ["5260001247", "123", "not a number"])
def test_bad_tax_ids(raw: str) -> None:
    with pytest.raises(InvalidInput):
        customers.normalise_tax_id(raw)


def test_customer_list_includes_contacts_and_domains(uow: UnitOfWork, make: Factory) -> None:
    owner = make.employee("jkowalski")
    firm = make.customer(
        "Kowalczyk i Syn sp. j.", tax_id="5260001246", owner=owner.login, domains=("kowalczyk.pl",)
    )
    customers.add_contact(
        uow,
        firm.id,
        first_name="Ewa",
        last_name="Kowalczyk",
        email="ewa@Kowalczyk.pl",
        role="Prezes",
    )
    (listed,) = customers.list_customers(uow, search="kowalczyk")
    assert listed.domains == ["kowalczyk.pl"] and listed.owner == "jkowalski"
    assert [(c.name, c.email) for c in listed.contacts] == [("Ewa Kowalczyk", "ewa@kowalczyk.pl")]


def test_a_domain_belongs_to_one_customer(uow: UnitOfWork, make: Factory) -> None:
    make.customer(domains=("firma.pl",))
    with pytest.raises(InvalidInput, match="already"):
        make.customer(domains=("FIRMA.pl",))
    with pytest.raises(InvalidInput, match="domain"):
        make.customer(domains=("not a domain",))
