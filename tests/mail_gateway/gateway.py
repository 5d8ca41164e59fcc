"""A real gateway for tests: a committed database with demo data, settings and an intake.

Messages are composed with the stdlib as each client would send them; every helper gives
each message a unique Message-ID, so tests never collide on the duplicate check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.models import Employee, InboundMessage, Task, TaskItem
from hermes_groupware.models.enums import ItemKind, MailChannel, Source
from hermes_groupware.services import tasks
from hermes_groupware.services.lookups import register_by_code
from mail_gateway.addresses import RecipientKind, ReplyToken
from mail_gateway.intake import Intake, Receipt
from mail_gateway.origin import Origin
from mail_gateway.processing import GatewayConfig

AUTHSERV = "mx.firma.pl"
DOMAIN = "hermes.test"
_counter = itertools.count(1)


def settings_for(url: str, tmp: Path, **mail: Any) -> Settings:
    """Demo-mode settings with the test mail domain and authserv-id."""
    base = Settings(base_dir=tmp)
    return dataclasses.replace(
        base,
        server=dataclasses.replace(base.server, demo=True),
        database=dataclasses.replace(base.database, url=url),
        files=dataclasses.replace(base.files, path=str(tmp / "files")),
        mail=dataclasses.replace(base.mail, domain=DOMAIN, authserv_id=AUTHSERV, **mail),
        notifications=dataclasses.replace(base.notifications, batch_seconds=0),
    )


@dataclasses.dataclass
class Gateway:
    """The intake plus helpers to build messages and look at what they did."""

    database: Database
    settings: Settings

    @property
    def intake(self) -> Intake:
        return Intake(self.database, self.settings)

    @property
    def config(self) -> GatewayConfig:
        return GatewayConfig.from_settings(self.settings)

    @contextmanager
    def uow(self) -> Iterator[UnitOfWork]:
        with self.database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
            yield uow

    def deliver(self, message: EmailMessage | bytes, *recipients: str) -> Receipt:
        raw = message if isinstance(message, bytes) else message.as_bytes()
        return self.intake.receive(raw, Origin(channel=MailChannel.SMTP, recipients=recipients))

    def employee(self, login: str) -> Employee:
        with self.uow() as uow:
            return uow.session.scalars(select(Employee).where(Employee.login == login)).one()

    def task_of(self, login: str, register: str = "REK") -> Task:
        """A fresh open task of the employee in the register (tests change what they create)."""
        with self.uow() as uow:
            employee = uow.session.scalars(select(Employee).where(Employee.login == login)).one()
            reg = register_by_code(uow.session, register)
            return tasks.create_task(
                uow,
                register_id=reg.id,
                subject=f"Reklamacja testowa {next(_counter)}",
                responsible_id=employee.id,
            )

    def reply_address(self, task_id: int, employee_id: int, *, public: bool = False) -> str:
        token = ReplyToken(task_id, RecipientKind.EMPLOYEE, employee_id, public)
        return self.config.replies.address(token)

    def items(self, task_id: int, kind: ItemKind = ItemKind.NOTE) -> list[TaskItem]:
        with self.uow() as uow:
            query = select(TaskItem).where(TaskItem.task_id == task_id, TaskItem.kind == kind)
            return list(uow.session.scalars(query.order_by(TaskItem.id)))

    def inbound(self, inbound_id: int) -> InboundMessage:
        with self.uow() as uow:
            return uow.session.get_one(InboundMessage, inbound_id)


def message(
    *,
    sender: str,
    to: str,
    subject: str = "Re: zadanie",
    body: str = "Dzień dobry,\nproszę o kontakt.",
    verified: bool = False,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A plain-text mail; ``verified`` adds our MTA's Authentication-Results on top."""
    msg = EmailMessage()
    if verified:
        domain = sender.rpartition("@")[2].rstrip(">")
        msg["Authentication-Results"] = (
            f"{AUTHSERV}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}"
        )
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="client.example")
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg
