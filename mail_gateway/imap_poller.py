"""IMAP poller: reads the company's provider mailbox and hands each message to the intake.

The mailbox is the queue. A message leaves it only after ``deliver`` has returned, i.e. after
the intake has stored *and* committed it; until then a crash, a dropped connection or a
database outage just leaves it where it is and the next sweep offers it again. A message
offered twice (committed, then the connection died before the move) is harmless: the intake
dedups on ``(mailbox, uidvalidity, uid)`` and on Message-ID + hash.

Done messages are moved to ``processed_folder`` or, when that is empty, flagged
``\\Seen $HermesDone`` and skipped by later sweeps. Messages over ``max_message_bytes`` are
never delivered: they stay, are flagged ``$HermesTooBig`` and logged once, so an admin sees
them (raise the limit and they are picked up by the next sweep).

With several instances, a database lease (:class:`MailboxLease`) makes exactly one of them
poll a mailbox: a poller sweeps only while it holds the lease, renews it before every sweep and
during long ones, records each good sweep in it (``/metrics`` on any instance reads that), and
gives it up when stopped. One that dies stops renewing; another takes over once it expires.

imapclient is synchronous, so is this: one poller runs in one thread, one connection at a time.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import ipaddress
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from imapclient import IMAPClient

from hermes_groupware.models.enums import MailChannel
from mail_gateway.errors import TemporaryFailure
from mail_gateway.origin import Origin

log = logging.getLogger(__name__)

DONE_KEYWORD = b"$HermesDone"
TOO_BIG_KEYWORD = b"$HermesTooBig"
_SEEN = b"\\Seen"
_DELETED = b"\\Deleted"
_ANY_KEYWORD = b"\\*"

Deliver = Callable[[bytes, Origin], object]
"""The intake: returns once the message is durably stored and processed (committed)."""

CONNECTION_ERRORS: tuple[type[Exception], ...] = (OSError, imaplib.IMAP4.error)
"""Socket/TLS errors, timeouts, EOF mid-response (``abort``), server NO/BAD, failed login.

imapclient's own exceptions are aliases or subclasses of ``imaplib.IMAP4.error``.
"""


class ImapSetupError(Exception):
    """The mailbox cannot be worked as configured; retrying will not help until an admin acts."""


class LeaseLost(Exception):
    """Another instance holds (or took over) this mailbox's lease: stop working it."""


class MailboxLease(Protocol):
    """The lease a poller must hold to work its mailbox (``services.leases.DatabaseLease``)."""

    @property
    def renew_every(self) -> float:
        """Seconds between renewals, well within the lease time."""

    def hold(self, *, succeeded: bool = False) -> bool:
        """Take or renew it (and record a good sweep); False when another instance has it."""

    def release(self) -> None:
        """Give it up now."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ImapSettings:
    """Where the mailbox is and how to treat it; ``processed_folder`` uses ``/`` as separator."""

    host: str
    port: int = 993
    security: str = "ssl"  # "ssl" | "starttls" | "none"
    username: str = ""
    password: str = ""
    folder: str = "INBOX"
    processed_folder: str = "Hermes/Processed"  # "" → flag instead of move
    idle_seconds: int = 1500
    sweep_seconds: int = 300
    max_message_bytes: int = 30 * 1024 * 1024
    timeout_seconds: int = 60

    def __post_init__(self) -> None:
        if self.security not in ("ssl", "starttls", "none"):
            raise ValueError(f"IMAP security must be ssl, starttls or none, not {self.security!r}")
        if self.security == "none" and not _is_loopback(self.host):
            raise ValueError("plain-text IMAP (security=none) is only allowed to a loopback host")
        if min(self.idle_seconds, self.sweep_seconds, self.timeout_seconds) <= 0:
            raise ValueError("IMAP idle, sweep and timeout seconds must be positive")

    @property
    def mailbox_id(self) -> str:
        """``user@host:port/folder``: names the mailbox in origins, logs, metrics and its lease."""
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


@dataclass(frozen=True)
class _Selected:
    """What one session learnt at SELECT time."""

    uidvalidity: int
    processed: str | None  # server-side name of the processed folder; None → flag mode
    keywords_ok: bool


def _close(client: IMAPClient) -> None:
    """LOGOUT, or at least close the socket: a dead connection must not leak (ResourceWarning)."""
    try:
        client.logout()
    except Exception:  # the connection may already be gone; closing is all we want
        try:
            client.shutdown()
        except Exception as exc:
            log.debug("IMAP: closing a broken connection: %s", exc)


def _has(responses: Iterable[Any], name: bytes) -> bool:
    """Whether an untagged response such as ``(3, b'EXISTS')`` or ``(b'BYE', text)`` is present."""
    return any(isinstance(r, tuple) and name in r[:2] for r in responses)


def _text(responses: Iterable[Any], name: bytes) -> str:
    """The human text of the first ``name`` response, e.g. ``Server shutting down.``."""
    for response in responses:
        if isinstance(response, tuple) and response[:1] == (name,):
            words = (w.decode(errors="replace") for w in response[1:] if isinstance(w, bytes))
            return " ".join(words)
    return ""


class ImapPoller:
    """Sweeps one IMAP folder into ``deliver``; ``run_forever`` keeps doing so until ``stop``.

    ``last_success_at`` is the end of the last sweep that completed without connection trouble
    (deliver failures are logged per message and do not count against it).
    """

    backoff_start = 1.0
    backoff_max = 60.0
    idle_slice = 1.0  # how often an IDLE wait looks at the stop event

    def __init__(
        self,
        settings: ImapSettings,
        deliver: Deliver,
        *,
        ssl_context: ssl.SSLContext | None = None,
        lease: MailboxLease | None = None,
    ) -> None:
        self.settings = settings
        self._deliver = deliver
        self._ssl_context = ssl_context
        self._lease = lease
        self._renewed_at = -float("inf")
        self._stop = threading.Event()
        self._healthy = False
        self._uidvalidity: int | None = None
        self._too_big_logged: set[tuple[int, int]] = set()
        self.last_success_at: dt.datetime | None = None
        self.mailbox_id = settings.mailbox_id

    # -- public ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask ``run_forever`` to end; it does so after the message or IDLE slice in hand."""
        self._stop.set()

    def poll_once(self) -> int:
        """Connect, sweep, log out; returns how many messages were delivered.

        Connection errors propagate (a ``--once`` run should fail loudly).
        """
        client = self._connect()
        try:
            return self._sweep(client, self._open(client))
        finally:
            _close(client)

    def run_forever(self) -> None:
        """Sweep, IDLE, sweep … until ``stop()``; reconnects with backoff 1, 2, 4 … 60 s.

        With a lease, it first waits (checking every ``renew_every``) until it holds it.
        """
        backoff = self.backoff_start
        try:
            while not self._stop.is_set():
                if not self._wait_for_lease():
                    break
                self._healthy = False
                failure = self._attempt_session()
                if self._stop.is_set():
                    break
                delay = self.backoff_start if self._healthy else backoff
                log.warning("IMAP %s: %s; reconnecting in %.0f s", self.mailbox_id, failure, delay)
                self._stop.wait(delay)
                backoff = min(delay * 2, self.backoff_max)
        finally:
            if self._lease is not None:
                self._lease.release()
        log.info("IMAP %s: poller stopped", self.mailbox_id)

    # -- the lease ------------------------------------------------------------------------

    def _wait_for_lease(self) -> bool:
        """Until this poller holds the lease (True) or is stopped (False)."""
        if self._lease is None:
            return True
        announced = False
        while not self._lease.hold():
            if not announced:
                log.info("IMAP %s: another instance polls it; standing by", self.mailbox_id)
                announced = True
            if self._stop.wait(self._lease.renew_every):
                return False
        self._renewed_at = time.monotonic()
        return True

    def _keep_lease(self, *, succeeded: bool = False, force: bool = False) -> None:
        """Renew when due (always when ``force`` or recording a good sweep).

        Raises:
            LeaseLost: another instance holds it now, or the database cannot tell.
        """
        if self._lease is None:
            return
        due = time.monotonic() - self._renewed_at >= self._lease.renew_every
        if not (force or succeeded or due):
            return
        if not self._lease.hold(succeeded=succeeded):
            raise LeaseLost("lease lost to another instance (or the database is unreachable)")
        self._renewed_at = time.monotonic()

    # -- sessions -------------------------------------------------------------------------

    def _attempt_session(self) -> str:
        """One connection's life; returns why it ended (only returns early when stopping)."""
        try:
            self._session()
        except ImapSetupError as exc:
            log.error("IMAP %s: %s", self.mailbox_id, exc)
            return "mailbox not usable as configured"
        except LeaseLost as exc:
            return str(exc)
        except CONNECTION_ERRORS as exc:
            return f"connection failed ({type(exc).__name__}: {exc})"
        except Exception:
            log.exception("IMAP %s: unexpected error in the poller", self.mailbox_id)
            return "unexpected error"
        return "stopped"

    def _session(self) -> None:
        client = self._connect()
        try:
            selected = self._open(client)
            self._sweep(client, selected)
            self._healthy = True  # a good session: the next failure retries after backoff_start
            idle = client.has_capability("IDLE")
            log.info("IMAP %s: connected (%s)", self.mailbox_id, "IDLE" if idle else "polling")
            poll: float = self.settings.sweep_seconds
            if self._lease is not None and not idle:  # then only a sweep renews the lease
                poll = min(poll, self._lease.renew_every)
            wait = min(self.settings.idle_seconds, self.settings.sweep_seconds)
            while not self._stop.is_set():
                if idle:
                    self._idle(client, wait)
                else:
                    self._stop.wait(poll)
                if not self._stop.is_set():
                    self._sweep(client, selected)
        finally:
            _close(client)

    def _connect(self) -> IMAPClient:
        s = self.settings
        context = self._ssl_context or ssl.create_default_context()
        client = IMAPClient(
            s.host,
            port=s.port,
            ssl=s.security == "ssl",
            ssl_context=context if s.security == "ssl" else None,
            timeout=s.timeout_seconds,
        )
        try:
            if s.security == "starttls":
                client.starttls(context)
            client.login(s.username, s.password)
        except BaseException:
            _close(client)
            raise
        return client

    def _open(self, client: IMAPClient) -> _Selected:
        """SELECT the folder, note UIDVALIDITY, make sure the processed folder exists."""
        info = client.select_folder(self.settings.folder)
        uidvalidity = int(info[b"UIDVALIDITY"])
        if self._uidvalidity is not None and uidvalidity != self._uidvalidity:
            log.warning(
                "IMAP %s: UIDVALIDITY changed %d → %d (mailbox recreated); re-sweeping all, "
                "the intake dedups by content",
                self.mailbox_id,
                self._uidvalidity,
                uidvalidity,
            )
        self._uidvalidity = uidvalidity
        permanent = info.get(b"PERMANENTFLAGS")  # absent → all flags are permanent (RFC 3501)
        keywords_ok = permanent is None or _ANY_KEYWORD in permanent or DONE_KEYWORD in permanent
        processed = None
        if self.settings.processed_folder:
            processed = self._server_name(client, self.settings.processed_folder)
            if processed == self.settings.folder:
                raise ImapSetupError("processed_folder must differ from the polled folder")
            if not client.folder_exists(processed):
                log.info("IMAP %s: creating folder %s", self.mailbox_id, processed)
                client.create_folder(processed)
        elif not keywords_ok:
            raise ImapSetupError(
                "the server does not keep custom keywords; configure a processed_folder"
            )
        return _Selected(uidvalidity, processed, keywords_ok)

    @staticmethod
    def _server_name(client: IMAPClient, name: str) -> str:
        """``Hermes/Processed`` in the server's hierarchy separator (Dovecot maildir uses ``.``)."""
        listing = client.list_folders("", "")
        delimiter = listing[0][1] if listing else None
        if isinstance(delimiter, bytes):
            delimiter = delimiter.decode("ascii")
        if not delimiter or delimiter == "/":
            return name
        return name.replace("/", str(delimiter))

    def _idle(self, client: IMAPClient, seconds: float) -> None:
        """IDLE until new mail (EXISTS), ``seconds`` pass or ``stop()``; then DONE.

        Waits in short slices so ``stop()`` is prompt and the lease is renewed on time (a sweep
        per renewal would search the mailbox ten times as often). An empty wake-up before the
        slice is over means EOF (imapclient swallows it): end IDLE and let DONE find out.
        """
        client.idle()
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            timeout = min(remaining, self.idle_slice)
            started = time.monotonic()
            responses = client.idle_check(timeout=timeout)
            if _has(responses, b"BYE"):
                raise ConnectionAbortedError(f"server said BYE: {_text(responses, b'BYE')}")
            if _has(responses, b"EXISTS"):
                break
            if not responses and time.monotonic() - started < timeout / 2:
                break
            self._keep_lease()
        client.idle_done()

    # -- messages -------------------------------------------------------------------------

    def _sweep(self, client: IMAPClient, selected: _Selected) -> int:
        """Offer every message not yet done, oldest first; returns how many were delivered.

        ``NOT DELETED`` skips messages someone deleted and ones we copied but could not
        expunge yet (COPY fallback interrupted).
        """
        self._keep_lease(force=True)
        criteria: list[bytes] = [b"NOT", b"DELETED"]
        if selected.processed is None:
            criteria += [b"NOT", b"KEYWORD", DONE_KEYWORD]
        delivered = 0
        for uid in sorted(int(u) for u in client.search(criteria)):
            if self._stop.is_set():
                break
            self._keep_lease()
            delivered += self._process(client, selected, uid)
        self.last_success_at = dt.datetime.now(dt.UTC)
        self._keep_lease(succeeded=True)
        return delivered

    def _process(self, client: IMAPClient, selected: _Selected, uid: int) -> bool:
        """Fetch one message (size first), deliver it, and only then mark it done."""
        meta = client.fetch([uid], ["RFC822.SIZE", "FLAGS"]).get(uid)
        if meta is None:
            return False  # expunged by someone else since the SEARCH
        size = int(meta.get(b"RFC822.SIZE", 0))
        if size > self.settings.max_message_bytes:
            self._too_big(client, selected, uid, size, meta.get(b"FLAGS", ()))
            return False
        body = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
        if body is None:
            return False
        origin = Origin(
            channel=MailChannel.IMAP,
            mailbox=self.mailbox_id,
            uidvalidity=selected.uidvalidity,
            uid=uid,
        )
        if not self._hand_over(bytes(body), origin):
            return False
        self._mark_done(client, selected, uid)
        return True

    def _hand_over(self, raw: bytes, origin: Origin) -> bool:
        """Call the intake; any failure leaves the message for the next sweep."""
        try:
            self._deliver(raw, origin)
        except TemporaryFailure as exc:
            log.warning(
                "IMAP %s UID %s: intake unavailable (%s); left for the next sweep",
                self.mailbox_id,
                origin.uid,
                exc,
            )
            return False
        except Exception:
            # A bug, not an outage: one poison message must not block the others.
            log.exception(
                "IMAP %s UID %s: intake failed; message left in the mailbox, retried next sweep",
                self.mailbox_id,
                origin.uid,
            )
            return False
        return True

    def _mark_done(self, client: IMAPClient, selected: _Selected, uid: int) -> None:
        """Move to the processed folder (MOVE, else COPY+\\Deleted+EXPUNGE) or flag it done.

        Without UIDPLUS the plain EXPUNGE also removes anything else flagged ``\\Deleted``.
        """
        if selected.processed is None:
            client.add_flags([uid], [_SEEN, DONE_KEYWORD])
        elif client.has_capability("MOVE"):
            client.move([uid], selected.processed)
        else:
            client.copy([uid], selected.processed)
            client.add_flags([uid], [_DELETED])
            if client.has_capability("UIDPLUS"):
                client.uid_expunge([uid])
            else:
                client.expunge()

    def _too_big(
        self, client: IMAPClient, selected: _Selected, uid: int, size: int, flags: Any
    ) -> None:
        """Leave an oversized message, flag it ``$HermesTooBig`` and warn once per UID."""
        key = (selected.uidvalidity, uid)
        if key in self._too_big_logged or TOO_BIG_KEYWORD in flags:
            return
        self._too_big_logged.add(key)
        log.warning(
            "IMAP %s UID %d: %d bytes exceeds max_message_bytes=%d; left in the mailbox%s",
            self.mailbox_id,
            uid,
            size,
            self.settings.max_message_bytes,
            " and flagged $HermesTooBig" if selected.keywords_ok else "",
        )
        if selected.keywords_ok:
            client.add_flags([uid], [TOO_BIG_KEYWORD])
