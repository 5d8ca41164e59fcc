"""A committed database with two registers of different rights, report schedules on it, and
helpers to run a schedule through claim, delivery and the outbox, then read the mails back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.filestore import FileStore
from hermes_groupware.models import OutboundMessage, ReportRun
from hermes_groupware.models.enums import AccessLevel, Locale, ReportFormat, ReportKind, Source
from hermes_groupware.services import (
    lookups,
    registers,
    report_schedule_admin,
    report_schedules,
)
from hermes_groupware.services.registers import RegisterChanges
from hermes_groupware.services.report_schedule_admin import ScheduleSpec
from hermes_groupware.services.report_schedules import RunJob
from hermes_groupware.services.tasks import Opportunity, TaskChanges, create_task
from reports.delivery import deliver_run
from tests.conftest import DatabaseFactory, migrated
from tests.factories import Factory

DOMAIN = "hermes.test"
#: visible to every employee, and allowed for outside recipients
OPEN_TASK = "Oferta dla Kowalskiego"
#: in a register only ``boss`` may read, not allowed for outside recipients
SECRET_TASK = "Podwyżki zarządu"


def settings_for(url: str, tmp: Path, public_url: str = "https://hermes.firma.pl") -> Settings:
    """Demo-mode settings for the database at ``url`` and the test mail domain."""
    base = Settings(base_dir=tmp)
    return dataclasses.replace(
        base,
        server=dataclasses.replace(base.server, demo=True),
        database=dataclasses.replace(base.database, url=url),
        files=dataclasses.replace(base.files, path=str(tmp / "files")),
        mail=dataclasses.replace(base.mail, domain=DOMAIN),
        feeds=dataclasses.replace(base.feeds, public_url=public_url),
    )


@contextmanager
def mailing_on(db_factory: DatabaseFactory, tmp: Path, **settings: Any) -> Iterator[Mailing]:
    """A populated fresh database (see :meth:`Mailing.populate`); disposed of afterwards."""
    url = db_factory.new_url()
    engine = migrated(url)
    try:
        mailing = Mailing(
            Database(engine, FileStore(tmp / "files", 1 << 20)), settings_for(url, tmp, **settings)
        )
        mailing.populate()
        yield mailing
    finally:
        engine.dispose()


@dataclass
class Mailing:
    """The database, the settings delivery runs with, and the people in it."""

    database: Database
    settings: Settings

    @contextmanager
    def uow(self, actor: Actor | None = None) -> Iterator[UnitOfWork]:
        """A committing unit of work (an administrator by default)."""
        with self.database.unit_of_work(actor or Actor.system("test"), Source.CLI) as uow:
            yield uow

    def populate(self) -> None:
        """``anna`` and ``bob`` read only HAN; ``boss`` also ZAR. One overdue task in each."""
        with self.uow() as uow:
            make = Factory(uow)
            anna = make.employee("anna", email="Anna@Firma.pl")
            make.employee("bob", email="bob@firma.pl", locale=Locale.EN, time_zone="Europe/London")
            make.employee("boss", email="boss@firma.pl")
            open_register = make.register("HAN", default_access=AccessLevel.READ)
            secret = make.register("ZAR", default_access=AccessLevel.NONE)
            registers.grant(uow, "ZAR", AccessLevel.READ, login="boss")
            registers.update_register(uow, "HAN", RegisterChanges(external_reports=True))
            due = uow.now() - dt.timedelta(days=2)
            make.task(open_register, anna, OPEN_TASK, due=due)
            make.task(secret, anna, SECRET_TASK, due=due)

    def opportunity(self, register: str, subject: str, value: str) -> None:
        """An open opportunity of ``anna`` in ``register``: 50 %, closing in two weeks."""
        with self.uow() as uow:
            close = (uow.now() + dt.timedelta(days=14)).date()
            create_task(
                uow,
                register_id=lookups.register_by_code(uow.session, register).id,
                subject=subject,
                responsible_id=lookups.employee_by_login(uow.session, "anna").id,
                changes=TaskChanges(opportunity=Opportunity(Decimal(value), 50, "oferta", close)),
            )

    def schedule(self, **spec: Any) -> int:
        """A weekly overdue schedule (fields of :class:`ScheduleSpec` override)."""
        values: dict[str, Any] = {
            "name": "Zaległe w poniedziałek",
            "reports": [ReportKind.OVERDUE],
            "cron": "0 8 * * MON",
            "owner": "boss",
            "formats": [ReportFormat.HTML, ReportFormat.XLSX],
        }
        with self.uow() as uow:
            return report_schedule_admin.create_schedule(uow, ScheduleSpec(**(values | spec))).id

    def queue(self, schedule_id: int) -> int:
        """A manual run of the schedule, queued."""
        with self.uow() as uow:
            return report_schedules.run_now(uow, schedule_id)

    def claim(self, instance: str = "one", *, lease_seconds: int = 600) -> list[RunJob]:
        """What ``instance`` takes now."""
        with self.uow() as uow:
            return report_schedules.claim_runs(uow, instance=instance, lease_seconds=lease_seconds)

    def send(self, schedule_id: int) -> tuple[int, Any]:
        """Queue, claim and deliver one run: its id and the status delivery reported."""
        run_id = self.queue(schedule_id)
        (job,) = self.claim()
        assert job.run_id == run_id
        return run_id, deliver_run(self.database, self.settings, job, instance="one")

    def run(self, run_id: int) -> ReportRun:
        """The run's row as it is now."""
        with self.uow() as uow:
            return uow.session.get_one(ReportRun, run_id)

    def outbox(self, kind_prefix: str = "report") -> list[OutboundMessage]:
        """Queued outbound messages of reports, oldest first."""
        with self.uow() as uow:
            rows = uow.session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.kind.startswith(kind_prefix))
                .order_by(OutboundMessage.id)
            ).all()
            for row in rows:
                _ = row.raw  # load the deferred column before the session closes
            return list(rows)

    def mails(self, run_id: int | None = None) -> dict[str, EmailMessage]:
        """The queued report mails (of one run) by recipient; each recipient once."""
        prefix = "report." if run_id is None else f"report.{run_id}."
        rows = [row for row in self.outbox("report:") if row.message_id.startswith(prefix)]
        mails = {row.recipient: parse(row.raw) for row in rows}
        assert len(mails) == len(rows), [row.recipient for row in rows]
        return mails


def parse(raw: bytes) -> EmailMessage:
    """A queued message as a mail client reads it."""
    return BytesParser(policy=policy.default).parsebytes(raw)


def files_of(message: EmailMessage) -> dict[str, bytes]:
    """The attachments by file name, decoded."""
    files = {}
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        files[str(part.get_filename())] = data
    return files


def xlsx_cells(data: bytes) -> list[object]:
    """Every cell value of every sheet of a workbook."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return [cell.value for sheet in workbook for row in sheet.iter_rows() for cell in row]


def images_of(message: EmailMessage) -> dict[str, bytes]:
    """The inline PNGs (the charts) by Content-ID, without angle brackets."""
    images = {}
    for part in message.walk():
        if part.get_content_type() == "image/png":
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            images[str(part["Content-ID"]).strip("<>")] = data
    return images


def html_of(message: EmailMessage) -> str:
    """The HTML body."""
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def text_of(message: EmailMessage) -> str:
    """The plain-text body."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())
