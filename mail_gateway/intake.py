"""The one pipeline behind every entry point: store raw, then process, then acknowledge.

``receive`` commits the raw bytes in their own transaction before anything is parsed, then
processes them in a second transaction. The entry point acknowledges (``250``, IMAP move,
exit 0) only after ``receive`` returns; a database that cannot be reached raises
:class:`TemporaryFailure` so the sender retries, and the retry is recognised by its hash.
A message whose processing fails is retried by :meth:`Intake.process_pending` and quarantined
after ``[mail] max_attempts`` tries, so one poison message never blocks the others.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass

from hermes_groupware.config import Settings
from hermes_groupware.db.outage import DATABASE_UNAVAILABLE
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.models.enums import InboundStatus, Source
from hermes_groupware.services import mailbox
from mail_gateway.errors import TemporaryFailure
from mail_gateway.origin import Origin
from mail_gateway.processing import GatewayConfig, parse, process_message

log = logging.getLogger(__name__)
GATEWAY = Actor.system("e-mail")
#: the raw bytes cannot be stored: the database is away, or the file store (disk full)
_STORE_UNAVAILABLE: tuple[type[Exception], ...] = (*DATABASE_UNAVAILABLE, OSError)


@dataclass(frozen=True)
class Receipt:
    """What happened to a delivery, for the entry point's answer and for tests."""

    inbound_id: int
    status: InboundStatus
    duplicate: bool


class Intake:
    """Stores and processes inbound mail; safe to share between threads."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.config = GatewayConfig.from_settings(settings)
        # SQLite has one writer and its busy handler polls without a queue: threads of this
        # process take turns here instead of starving each other into "database is locked"
        sqlite = db.engine.dialect.name == "sqlite"
        self._writer: AbstractContextManager[object] = (
            threading.Lock() if sqlite else contextlib.nullcontext()
        )

    def receive(self, raw: bytes, origin: Origin) -> Receipt:
        """Store, process and report; raises TemporaryFailure when nothing could be stored."""
        try:
            with self._writer, self.db.unit_of_work(GATEWAY, Source.EMAIL) as uow:
                stored = mailbox.store_raw(
                    uow,
                    raw,
                    channel=origin.channel,
                    envelope_from=origin.envelope_from,
                    recipients=origin.recipients,
                    mailbox=origin.mailbox,
                    uidvalidity=origin.uidvalidity,
                    uid=origin.uid,
                )
        except _STORE_UNAVAILABLE as exc:
            log.warning("could not store an inbound message: %s", exc)
            raise TemporaryFailure("the message store is unavailable") from exc
        if stored.duplicate:
            log.info("inbound message %s delivered again (%s)", stored.id, stored.status)
        status = stored.status
        if status is InboundStatus.RECEIVED:
            status = self.process(stored.id, raw)
        return Receipt(stored.id, status, stored.duplicate)

    def process(self, inbound_id: int, raw: bytes | None = None) -> InboundStatus:
        """Process one stored message; failures are counted, never raised (but outages).

        ``raw`` saves reloading bytes the caller still holds (a large message stays one copy).
        """
        try:
            if raw is None:
                raw = self._raw(inbound_id)
            parsed = parse(raw, self.config)
            with self._writer, self.db.unit_of_work(GATEWAY, Source.EMAIL) as uow:
                row = mailbox.claim_for_processing(uow, inbound_id)
                if row is None:
                    return InboundStatus.RECEIVED  # another instance has it, or it is done
                process_message(uow, row, self.config, parsed, raw)
                return row.status
        except DATABASE_UNAVAILABLE as exc:
            raise TemporaryFailure("the database is unavailable") from exc
        except Exception as exc:  # any bug in processing: count the try, keep the mail
            return self._failed(inbound_id, exc)

    def _raw(self, inbound_id: int) -> bytes:
        with self.db.unit_of_work(GATEWAY, Source.EMAIL, read_only=True) as uow:
            return mailbox.raw_bytes(uow, inbound_id)

    def _failed(self, inbound_id: int, exc: BaseException) -> InboundStatus:
        log.exception("processing inbound message %s failed", inbound_id, exc_info=exc)
        try:
            with self._writer, self.db.unit_of_work(GATEWAY, Source.EMAIL) as uow:
                quarantined = mailbox.record_failure(
                    uow,
                    inbound_id,
                    f"{type(exc).__name__}: {exc}"[:500],
                    max_attempts=self.config.max_attempts,
                )
        except DATABASE_UNAVAILABLE as db_exc:
            raise TemporaryFailure("the database is unavailable") from db_exc
        return InboundStatus.QUARANTINED if quarantined else InboundStatus.RECEIVED

    def process_pending(self, *, limit: int = 100) -> int:
        """Process what is stored but not done (after a crash or a failed try); returns count."""
        with self.db.unit_of_work(GATEWAY, Source.EMAIL, read_only=True) as uow:
            ids = mailbox.pending_ids(uow, limit=limit)
        for inbound_id in ids:
            self.process(inbound_id)
        return len(ids)
