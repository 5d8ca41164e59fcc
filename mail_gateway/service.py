"""The mail roles of ``serve``: SMTP/LMTP listener, IMAP poller and the background worker.

The worker retries stored messages that are still waiting (a crash, a failed try) and hands
due outbound mail to the relay. None of them keeps state that correctness depends on: the
queue is the database.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Collection

from hermes_groupware.config import Settings
from hermes_groupware.db.outage import DATABASE_UNAVAILABLE
from hermes_groupware.db.session import Database
from hermes_groupware.errors import ConfigError
from hermes_groupware.services.leases import IMAP_PREFIX, DatabaseLease
from hermes_groupware.throttle import Throttle
from mail_gateway.compose import check_templates
from mail_gateway.errors import TemporaryFailure
from mail_gateway.imap_poller import ImapPoller, ImapSettings
from mail_gateway.intake import Intake
from mail_gateway.notify import install_default_rules, notify_round
from mail_gateway.outbox_sender import send_due
from mail_gateway.reminder_mail import send_reminders
from mail_gateway.sms import settings_problems
from mail_gateway.smtp_server import GatewayController, GatewayHandler, server_tls_context

log = logging.getLogger(__name__)
_OUTBOX_BATCH = 50
MAIL_ROLES = ("smtp", "imap", "worker")
_RETRY_NEXT_ROUND: tuple[type[Exception], ...] = (TemporaryFailure, *DATABASE_UNAVAILABLE)


class MailService:
    """Starts and stops the mail roles configured in ``[smtp_in]`` and ``[imap_in]``."""

    def __init__(self, settings: Settings, db: Database, *, worker_seconds: float = 30) -> None:
        self.settings = settings
        self.db = db
        self.intake = Intake(db, settings)
        self.worker_seconds = min(worker_seconds, settings.notifications.interval_seconds)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.controller: GatewayController | None = None
        self.poller: ImapPoller | None = None

    def start(self, roles: Collection[str] = MAIL_ROLES) -> list[str]:
        """Start what is enabled and among ``roles``; returns a word per listener or poller for
        the ready message (``serve --roles`` chooses the roles).

        Raises:
            ConfigError: an ``[sms]`` setting the provider cannot work with.
        """
        for key, problem in settings_problems(self.settings.sms):
            raise ConfigError(f"[sms] {key}", "configuration", problem)
        check_templates()
        started = []
        smtp = self.settings.smtp_in
        if smtp.enabled and "smtp" in roles:
            senders = Throttle(smtp.sender_limit_per_minute)
            handler = GatewayHandler(self.intake, self.db, lmtp=smtp.lmtp, senders=senders)
            self.controller = GatewayController(
                handler,
                host=smtp.host,
                port=smtp.port,
                max_bytes=self.settings.mail.max_message_bytes,
                tls_context=self._tls_context(),
                require_starttls=smtp.require_starttls,
            )
            self.controller.start()
            started.append(f"{'lmtp' if smtp.lmtp else 'smtp'}://{smtp.host}:{smtp.port}")
        imap = self.settings.imap_in
        if imap.enabled and "imap" in roles:
            poller_settings = ImapSettings(
                host=imap.host,
                port=imap.port,
                security=imap.security,
                username=imap.username,
                password=imap.password or "",
                folder=imap.folder,
                processed_folder=imap.processed_folder,
                idle_seconds=imap.idle_seconds,
                sweep_seconds=imap.sweep_seconds,
                max_message_bytes=self.settings.mail.max_message_bytes,
            )
            lease = DatabaseLease(
                self.db, IMAP_PREFIX + poller_settings.mailbox_id, imap.lease_seconds
            )
            self.poller = ImapPoller(poller_settings, self.intake.receive, lease=lease)
            self._spawn("imap", self.poller.run_forever)
            started.append(f"imap://{imap.username}@{imap.host}:{imap.port}/{imap.folder}")
        if "worker" in roles:
            install_default_rules(self.db, self.settings)
            self._spawn("mail-worker", self._work)
        return started

    def _tls_context(self) -> ssl.SSLContext | None:
        """The listener's STARTTLS context, or None without ``[smtp_in] tls_cert``.

        Raises:
            ConfigError: a certificate or key that cannot be loaded.
        """
        smtp = self.settings.smtp_in
        if not smtp.tls_cert:
            return None
        base = self.settings.base_dir
        try:
            return server_tls_context(base / smtp.tls_cert, base / smtp.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError("[smtp_in] tls_cert", "configuration", f"cannot load: {exc}") from exc

    def stop(self) -> None:
        """Stop accepting, finish the message in hand, join the threads."""
        self._stop.set()
        if self.controller is not None:
            self.controller.stop()
        if self.poller is not None:
            self.poller.stop()
        for thread in self._threads:
            thread.join(timeout=30)

    def run_worker_once(self, *, budget_seconds: float = 10.0) -> None:
        """One round of the background work (also used by tests).

        Notification rounds and outbox batches repeat while there is more to do, within the
        budget, so a backlog drains at the speed of the work, not of the timer.
        """
        deadline = time.monotonic() + budget_seconds
        try:
            self.intake.process_pending()
            while notify_round(self.db, self.settings) and time.monotonic() < deadline:
                pass
            send_reminders(self.db, self.settings)  # queued before sending: out this round
            while (
                send_due(self.db, self.settings.smtp_out, self.settings.sms, limit=_OUTBOX_BATCH)
                == _OUTBOX_BATCH
                and time.monotonic() < deadline
            ):
                pass
        except _RETRY_NEXT_ROUND as exc:
            log.warning("mail worker: %s", exc)

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_worker_once()
            except Exception:  # the worker must survive a bad round and try again
                log.exception("mail worker round failed")
            self._stop.wait(self.worker_seconds)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
