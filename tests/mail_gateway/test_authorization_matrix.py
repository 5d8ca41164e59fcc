"""Every employee of the matrix office × every task, by e-mail: a reply (signed reply address
or subject tag, with a ``#termin`` command) becomes a note and a change only where the table
in ``tests.authz_world`` lets the sender edit; anywhere else it is quarantined with a reason,
nothing is posted, and the reason names no hidden subject."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from hermes_groupware.models import Employee, InboundMessage, Task
from hermes_groupware.models.enums import InboundStatus
from hermes_groupware.services.registers import RegisterChanges, update_register
from tests.authz_world import EXPECTED, HIDDEN_SUBJECT, LOGINS, AuthzWorld, build
from tests.mail_gateway.gateway import DOMAIN, Gateway, message

_days = (dt.date(2027, 1, 1) + dt.timedelta(days=n) for n in itertools.count())


@pytest.fixture(scope="module")
def world(gateway: Gateway) -> AuthzWorld:
    """The office next to the demo data, with e-mail commands on in both its registers."""
    with gateway.uow() as uow:
        built = build(uow)
        for code in ("OTW", "ZAS"):
            update_register(uow, code, RegisterChanges(email_commands=True))
    return built


def _employee_id(gateway: Gateway, login: str) -> int:
    with gateway.uow() as uow:
        return uow.session.scalars(select(Employee.id).where(Employee.login == login)).one()


def _check(
    gateway: Gateway, login: str, key: str, task_id: int, receipt_id: int, day: dt.date
) -> None:
    """Posted with the command applied exactly when the table says the sender may edit."""
    allowed = EXPECTED[key].may_edit(login)
    with gateway.uow() as uow:
        row = uow.session.get_one(InboundMessage, receipt_id)
        due = uow.session.get_one(Task, task_id).due
        assert row.status is (InboundStatus.POSTED if allowed else InboundStatus.QUARANTINED), (
            login, key, row.reason,
        )  # fmt: skip
        assert (due is not None and due.date() == day) == allowed, (login, key)
        if not allowed:
            assert row.reason and HIDDEN_SUBJECT not in row.reason
    notes = [n.body or "" for n in gateway.items(task_id)]
    assert any(f"od {login} {day}" in n for n in notes) == allowed, (login, key, notes)


def _body(login: str, day: dt.date) -> str:
    return f"#termin: {day.isoformat()}\nOdpowiedź od {login} {day}."


@pytest.mark.parametrize("login", LOGINS)
def test_replies_by_signed_address(gateway: Gateway, world: AuthzWorld, login: str) -> None:
    employee_id = _employee_id(gateway, login)
    for key, task_id in world.task_ids.items():
        day = next(_days)
        address = gateway.reply_address(task_id, employee_id)
        mail = message(
            sender=f"{login}@firma.pl", to=address, body=_body(login, day), verified=True
        )
        receipt = gateway.deliver(mail, address)
        _check(gateway, login, key, task_id, receipt.inbound_id, day)


@pytest.mark.parametrize("login", LOGINS)
def test_replies_by_subject_tag(gateway: Gateway, world: AuthzWorld, login: str) -> None:
    for key, task_id in world.task_ids.items():
        day = next(_days)
        to = f"zadania@{DOMAIN}"
        mail = message(
            sender=f"{login}@firma.pl",
            to=to,
            subject=f"Re: [{world.numbers[key]}] pytanie",
            body=_body(login, day),
            verified=True,
        )
        receipt = gateway.deliver(mail, to)
        _check(gateway, login, key, task_id, receipt.inbound_id, day)
