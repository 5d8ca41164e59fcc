"""The SMTP/LMTP listener an MTA relays to (aiosmtpd), answering only after commit.

Recipients are checked at ``RCPT`` (a register address or one of our reply addresses), so
the MTA bounces mail for unknown addresses itself. ``DATA`` stores and processes the message
through the :class:`~mail_gateway.intake.Intake` in a worker thread and answers ``250`` only
after that committed, ``451`` when the database is unavailable (the MTA retries; the retry is
recognised by its hash). In LMTP one message with several recipients is stored once, and each
recipient gets the same answer: aiosmtpd returns a single reply after ``DATA`` (aiosmtpd#517),
so the extra per-recipient replies are pushed here.

A sender address over its rate (``[smtp_in] sender_limit_per_minute``) gets ``451 4.7.1`` at
``MAIL FROM``, so its MTA tries again later and nothing is lost. With a certificate configured
the listener offers STARTTLS (and, with ``require_starttls``, insists on it before MAIL).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from hermes_groupware.db.session import Database
from hermes_groupware.models.enums import MailChannel, Source
from hermes_groupware.services import mailbox
from hermes_groupware.throttle import Throttle
from mail_gateway.errors import TemporaryFailure
from mail_gateway.intake import GATEWAY, Intake
from mail_gateway.origin import Origin

log = logging.getLogger(__name__)


class GatewayHandler:
    """aiosmtpd handler: recipient check at RCPT, store-and-process at DATA."""

    def __init__(
        self, intake: Intake, db: Database, *, lmtp: bool, senders: Throttle | None = None
    ) -> None:
        self.intake = intake
        self.db = db
        self.lmtp = lmtp
        self.senders = senders or Throttle(0)

    def known_recipient(self, address: str) -> bool:
        """A register's inbound address, or an address in our reply namespace."""
        if self.intake.config.replies.is_ours(address):
            return True
        with self.db.unit_of_work(GATEWAY, Source.EMAIL, read_only=True) as uow:
            return bool(mailbox.register_for_addresses(uow.session, [address]))

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        """Defer a sender that is over its rate (the bounce sender ``<>`` counts as one)."""
        wait = self.senders.retry_after(address.lower())
        if wait:
            log.warning("SMTP: sender %s over its rate; deferred for %d s", address, wait)
            return f"451 4.7.1 Too many messages from {address or '<>'}, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Refuse unknown recipients before the message is sent."""
        loop = asyncio.get_running_loop()
        try:
            known = await loop.run_in_executor(None, self.known_recipient, address)
        except Exception:
            log.exception("recipient check failed")
            return "451 4.3.0 Temporary failure, try again later"
        if not known:
            return "550 5.1.1 No such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Answer only after the message is stored and processed."""
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        origin = Origin(
            channel=MailChannel.LMTP if self.lmtp else MailChannel.SMTP,
            envelope_from=envelope.mail_from or None,
            recipients=tuple(envelope.rcpt_tos),
        )
        loop = asyncio.get_running_loop()
        try:
            receipt = await loop.run_in_executor(None, self.intake.receive, raw, origin)
        except TemporaryFailure as exc:
            status = f"451 4.3.0 {exc}, try again later"
        except Exception:
            log.exception("unexpected failure while taking a message")
            status = "451 4.3.0 Temporary failure, try again later"
        else:
            status = f"250 2.0.0 Accepted as message {receipt.inbound_id}"
        if self.lmtp:
            for _ in envelope.rcpt_tos[1:]:
                await server.push(status)
        return status


class GatewayController(Controller):
    """Runs the listener in its own thread with its own event loop."""

    def __init__(
        self,
        handler: GatewayHandler,
        *,
        host: str,
        port: int,
        max_bytes: int,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
    ) -> None:
        super().__init__(
            handler,
            hostname=host,
            port=port,
            decode_data=False,
            data_size_limit=max_bytes,
            enable_SMTPUTF8=True,
            server_hostname="hermes",
            ready_timeout=10,
            tls_context=tls_context,
            require_starttls=require_starttls,
        )
        self.lmtp = handler.lmtp

    def factory(self) -> Any:
        """LMTP or SMTP on the same handler."""
        server_class = LMTP if self.lmtp else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context for STARTTLS from PEM files (TLS 1.2 or newer).

    Raises:
        OSError, ssl.SSLError: a file is missing, unreadable or not a matching pair.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context
