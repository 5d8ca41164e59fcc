"""Hands queued outbound mail to the relay, with retries and the same Message-ID each time.

Rows are claimed one at a time with ``SKIP LOCKED`` on PostgreSQL (several instances send in
parallel without sending one message twice) and under SQLite's single writer otherwise. A
``4xx`` or a connection failure retries with exponential backoff; a ``5xx`` for the recipient
marks the message dead and the address as bouncing.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import smtplib
import ssl
from email.utils import parseaddr

from hermes_groupware.config import SmsSettings, SmtpOutSettings
from hermes_groupware.db.session import Database, UnitOfWork
from hermes_groupware.models import OutboundMessage
from hermes_groupware.models.enums import OutboundStatus, Source
from hermes_groupware.services import mailbox
from mail_gateway.intake import GATEWAY
from mail_gateway.sms import SmsError, SmsMessage, fit, next_allowed, over_rate_limit, provider_for

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
_BACKOFF = dt.timedelta(minutes=1)
_MAX_BACKOFF = dt.timedelta(hours=2)
_HOUR = dt.timedelta(hours=1)


def send_due(
    db: Database,
    relay: SmtpOutSettings,
    sms: SmsSettings | None = None,
    *,
    limit: int = 20,
) -> int:
    """Send up to ``limit`` due messages over one relay connection; returns how many were
    handed over.

    Each message is claimed, sent and marked in its own transaction: a process killed mid-way
    repeats at most the one message in hand (same Message-ID), and SQLite's write lock is
    never held across more than one conversation with the relay.
    """
    sent = 0
    connection = _RelayConnection(relay)
    try:
        for _ in range(limit):
            with db.unit_of_work(GATEWAY, Source.EMAIL) as uow:
                claimed = mailbox.claim_due(uow, limit=1)
                if not claimed:
                    break
                message = claimed[0]
                if message.channel == "sms":
                    sent += _send_sms(uow, message, sms or SmsSettings())
                else:
                    sent += _send_one(uow, message, connection)
    finally:
        connection.close()
    return sent


def _send_sms(uow: UnitOfWork, message: OutboundMessage, settings: SmsSettings) -> int:
    """Quiet hours and the per-recipient limit defer a text; they do not count as tries."""
    now = uow.now()
    allowed = next_allowed(now, settings)
    if allowed > now:
        message.next_attempt_at = allowed
        return 0
    if over_rate_limit(mailbox.sms_sent_since(uow, message.recipient, now - _HOUR), settings):
        message.next_attempt_at = now + _HOUR / 4
        return 0
    message.attempts += 1
    text = fit(message.raw.decode(), settings.max_segments)
    try:
        provider_for(settings).send(SmsMessage(message.recipient, text))
    except SmsError as exc:
        return _failed(uow, message, str(exc), permanent=exc.permanent, mark_address=False)
    message.status = OutboundStatus.SENT
    message.sent_at = now
    message.last_error = None
    return 1


def _send_one(uow: UnitOfWork, message: OutboundMessage, relay: _RelayConnection) -> int:
    message.attempts += 1
    try:
        relay.send(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return _failed(uow, message, f"{code} {text!r}", permanent=code >= 500)
    except smtplib.SMTPResponseException as exc:
        return _failed(
            uow, message, f"{exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
        )
    except (OSError, smtplib.SMTPException) as exc:
        return _failed(uow, message, f"{type(exc).__name__}: {exc}", permanent=False)
    message.status = OutboundStatus.SENT
    message.sent_at = uow.now()
    message.last_error = None
    return 1


def _failed(
    uow: UnitOfWork,
    message: OutboundMessage,
    error: str,
    *,
    permanent: bool,
    mark_address: bool = True,
) -> int:
    log.warning("sending outbound message %s failed: %s", message.id, error)
    message.last_error = error[:2000]
    if permanent or message.attempts >= MAX_ATTEMPTS:
        message.status = OutboundStatus.DEAD
        if permanent and mark_address:
            mailbox.mark_bouncing(uow, message.recipient, f"relay refused: {error}")
    else:
        message.next_attempt_at = uow.now() + min(
            _BACKOFF * 2 ** (message.attempts - 1), _MAX_BACKOFF
        )
    return 0


class _RelayConnection:
    """One SMTP session for a batch, opened on first use and reopened after a drop."""

    def __init__(self, settings: SmtpOutSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: OutboundMessage) -> None:
        """Hand one message over; a broken session is closed so the next one reconnects."""
        smtp = self.smtp or self._open()
        try:
            smtp.sendmail(_envelope_sender(message.raw), [message.recipient], message.raw)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise

    def close(self) -> None:
        """QUIT, or drop the socket when the session is already gone."""
        if self.smtp is None:
            return
        smtp, self.smtp = self.smtp, None
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _open(self) -> smtplib.SMTP:
        relay = self.settings
        timeout = relay.timeout_seconds
        smtp = (
            smtplib.SMTP_SSL(relay.host, relay.port, timeout=timeout, context=_tls_context())
            if relay.security == "tls"
            else smtplib.SMTP(relay.host, relay.port, timeout=timeout)
        )
        try:
            if relay.security == "starttls":
                smtp.starttls(context=_tls_context())
            if relay.user:
                smtp.login(relay.user, relay.password or "")
        except BaseException:
            smtp.close()
            raise
        self.smtp = smtp
        return smtp


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Verified TLS to the relay; built once (loading the CA store takes tens of ms)."""
    return ssl.create_default_context()


def _envelope_sender(raw: bytes) -> str:
    """The From address of the rendered message (its headers are ASCII by construction)."""
    for line in raw.split(b"\r\n\r\n", 1)[0].splitlines():
        if line.lower().startswith(b"from:"):
            return parseaddr(line[5:].decode("ascii", "replace"))[1]
    return ""
