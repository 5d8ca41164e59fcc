"""The IMAP poller against a real Dovecot: what leaves the mailbox, when, and what stays."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes

import pytest

from hermes_groupware.models.enums import MailChannel
from mail_gateway.errors import TemporaryFailure
from mail_gateway.imap_poller import (
    CONNECTION_ERRORS,
    DONE_KEYWORD,
    TOO_BIG_KEYWORD,
    ImapPoller,
    ImapSettings,
)
from mail_gateway.origin import Origin
from tests.mail_gateway.dovecot import Dovecot, MailUser

PROCESSED = "Hermes.Processed"  # "Hermes/Processed" in Dovecot's maildir separator
SENT = re.compile(r"""^> b['"]\S+ (.*)['"]$""")  # imapclient's log of a command it sent


def message(subject: str, body: str = "Dzień dobry.\r\n") -> bytes:
    return (
        f"From: Klient <klient@example.com>\r\n"
        f"To: biuro@example.org\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@example.com>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"\r\n{body}"
    ).encode()


class Intake:
    """Stands in for the gateway intake: records what was delivered, fails on demand."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, Origin]] = []
        self.failures: dict[str, BaseException] = {}
        self.attempts: list[str] = []
        self.after_delivery: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def __call__(self, raw: bytes, origin: Origin) -> None:
        subject = str(message_from_bytes(raw)["Subject"])
        with self._lock:
            self.attempts.append(subject)
        if subject in self.failures:
            raise self.failures[subject]
        with self._lock:
            self.deliveries.append((raw, origin))
        if self.after_delivery is not None:
            self.after_delivery()

    @property
    def subjects(self) -> list[str]:
        with self._lock:
            return [str(message_from_bytes(raw)["Subject"]) for raw, _ in self.deliveries]


def uidvalidity(dovecot: Dovecot, user: MailUser, folder: str = "INBOX") -> int:
    with dovecot.client(user) as conn:
        return int(conn.select_folder(folder, readonly=True)[b"UIDVALIDITY"])


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> float:
    """Seconds until ``condition`` held; fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - started


@contextmanager
def running(poller: ImapPoller) -> Iterator[threading.Thread]:
    """``run_forever`` in a thread; on exit ``stop()`` must end it promptly."""
    thread = threading.Thread(target=poller.run_forever, name="imap-poller", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        poller.stop()
        thread.join(timeout=5)
        assert not thread.is_alive(), "stop() did not end run_forever"


def test_poll_once_delivers_each_message_once_then_moves_it(
    dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    raws = [message(f"offer {n}") for n in range(3)]
    uids = [dovecot.append(imap_user, raw) for raw in raws]
    intake = Intake()
    poller = ImapPoller(imap_settings, intake)

    assert poller.poll_once() == 3

    mailbox = f"{imap_user.name}@127.0.0.1:{dovecot.port}/INBOX"
    validity = uidvalidity(dovecot, imap_user)
    assert intake.deliveries == [
        (raw, Origin(MailChannel.IMAP, mailbox=mailbox, uidvalidity=validity, uid=uid))
        for raw, uid in zip(raws, uids, strict=True)
    ]
    assert dovecot.uids(imap_user) == []
    assert len(dovecot.uids(imap_user, PROCESSED)) == 3
    assert poller.last_success_at is not None

    assert poller.poll_once() == 0
    assert len(intake.deliveries) == 3


def test_flag_mode_marks_done_and_skips_it_next_time(
    dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    settings = dataclasses.replace(imap_settings, processed_folder="")
    first = dovecot.append(imap_user, message("first"))
    intake = Intake()
    poller = ImapPoller(settings, intake)

    assert poller.poll_once() == 1
    assert dovecot.flags(imap_user)[first] >= {b"\\Seen", DONE_KEYWORD}

    second = dovecot.append(imap_user, message("second"))
    assert poller.poll_once() == 1
    assert intake.subjects == ["first", "second"]
    assert dovecot.uids(imap_user) == [first, second]  # nothing moved, nothing created
    assert dovecot.uids(imap_user, PROCESSED) == []


def test_temporary_failure_leaves_the_message_for_the_next_sweep(
    dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    uids = {s: dovecot.append(imap_user, message(s)) for s in ("a", "b", "c")}
    intake = Intake()
    intake.failures["b"] = TemporaryFailure("database down")
    poller = ImapPoller(imap_settings, intake)

    assert poller.poll_once() == 2
    assert intake.subjects == ["a", "c"]
    assert dovecot.uids(imap_user) == [uids["b"]]
    assert b"\\Seen" not in dovecot.flags(imap_user)[uids["b"]]  # fetched with BODY.PEEK[]

    del intake.failures["b"]
    assert poller.poll_once() == 1
    assert intake.subjects == ["a", "c", "b"]
    assert intake.deliveries[-1][1].uid == uids["b"]
    assert dovecot.uids(imap_user) == []


def test_a_poison_message_does_not_block_the_others(
    dovecot: Dovecot,
    imap_user: MailUser,
    imap_settings: ImapSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    uids = {s: dovecot.append(imap_user, message(s)) for s in ("a", "poison", "c")}
    intake = Intake()
    intake.failures["poison"] = RuntimeError("bug in the intake")
    poller = ImapPoller(imap_settings, intake)

    with caplog.at_level(logging.ERROR, logger="mail_gateway.imap_poller"):
        assert poller.poll_once() == 2
    assert intake.subjects == ["a", "c"]
    assert dovecot.uids(imap_user) == [uids["poison"]]
    [record] = caplog.records
    assert f"UID {uids['poison']}" in record.getMessage()
    assert record.exc_info is not None

    assert poller.poll_once() == 0  # retried, still failing, still there
    assert intake.attempts == ["a", "poison", "c", "poison"]
    assert dovecot.uids(imap_user) == [uids["poison"]]


def test_connection_lost_between_commit_and_move_redelivers_the_same_message(
    dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    """The intake committed, then the server went away before the move.

    The message is offered again with the same (mailbox, uidvalidity, uid): the intake dedups
    on exactly that (and on Message-ID + hash), so the re-delivery is harmless.
    """
    uid = dovecot.append(imap_user, message("committed"))
    intake = Intake()
    intake.after_delivery = dovecot.stop
    poller = ImapPoller(imap_settings, intake)

    with pytest.raises(CONNECTION_ERRORS):
        poller.poll_once()

    intake.after_delivery = None
    dovecot.start()
    assert poller.poll_once() == 1
    first, second = (origin for _, origin in intake.deliveries)
    assert first == second
    assert (second.uid, second.uidvalidity) == (uid, uidvalidity(dovecot, imap_user))
    assert dovecot.uids(imap_user) == []


def test_uidvalidity_change_resweeps_the_recreated_mailbox(
    dovecot: Dovecot,
    imap_user: MailUser,
    imap_settings: ImapSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = dataclasses.replace(imap_settings, folder="Intake")
    dovecot.append(imap_user, message("before"), folder="Intake")
    intake = Intake()
    poller = ImapPoller(settings, intake)
    assert poller.poll_once() == 1

    with dovecot.client(imap_user) as conn:
        conn.delete_folder("Intake")
        conn.create_folder("Intake")
    uid = dovecot.append(imap_user, message("after"), folder="Intake")

    with caplog.at_level(logging.WARNING, logger="mail_gateway.imap_poller"):
        assert poller.poll_once() == 1
    before, after = (origin for _, origin in intake.deliveries)
    assert after.uidvalidity != before.uidvalidity
    assert after.uid == uid
    assert after.mailbox == before.mailbox == f"{imap_user.name}@127.0.0.1:{dovecot.port}/Intake"
    assert "UIDVALIDITY changed" in caplog.text


def test_too_big_message_is_left_flagged_and_logged_once(
    dovecot: Dovecot,
    imap_user: MailUser,
    imap_settings: ImapSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = dataclasses.replace(imap_settings, max_message_bytes=2_000)
    big = dovecot.append(imap_user, message("big", "x" * 5_000))
    dovecot.append(imap_user, message("small"))
    intake = Intake()

    with caplog.at_level(logging.WARNING, logger="mail_gateway.imap_poller"):
        assert ImapPoller(settings, intake).poll_once() == 1
        assert ImapPoller(settings, intake).poll_once() == 0  # a restart: the flag remembers
    assert intake.subjects == ["small"]
    assert dovecot.uids(imap_user) == [big]
    assert TOO_BIG_KEYWORD in dovecot.flags(imap_user)[big]
    assert [r.getMessage() for r in caplog.records if "max_message_bytes" in r.getMessage()] == [
        f"IMAP {imap_user.name}@127.0.0.1:{dovecot.port}/INBOX UID {big}: "
        f"{len(message('big', 'x' * 5_000))} bytes exceeds max_message_bytes=2000; "
        "left in the mailbox and flagged $HermesTooBig"
    ]


def test_idle_delivers_new_mail_promptly_and_stop_ends_the_loop(
    dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    intake = Intake()
    poller = ImapPoller(imap_settings, intake)  # sweeps every 30 s: only IDLE is this quick

    with running(poller):
        wait_for(lambda: poller.last_success_at is not None)
        time.sleep(0.2)  # let it enter IDLE
        dovecot.append(imap_user, message("pushed"))
        assert wait_for(lambda: intake.subjects == ["pushed"], timeout=10) < 5
        wait_for(lambda: dovecot.uids(imap_user) == [])
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 3


def test_reconnects_after_the_server_restarts(
    dovecot: Dovecot,
    imap_user: MailUser,
    imap_settings: ImapSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    intake = Intake()
    poller = ImapPoller(imap_settings, intake)

    with caplog.at_level(logging.WARNING, logger="mail_gateway.imap_poller"), running(poller):
        wait_for(lambda: poller.last_success_at is not None)
        dovecot.stop()
        restarted = dt.datetime.now(dt.UTC)
        dovecot.start()
        # a sweep on the new connection, then IDLE: mail that arrived between the sweep's
        # search and IDLE would wait for the next sweep (30 s here), as in the test above
        wait_for(lambda: (poller.last_success_at or restarted) > restarted, timeout=15)
        time.sleep(0.2)  # let it enter IDLE
        dovecot.append(imap_user, message("after restart"))
        wait_for(lambda: intake.subjects == ["after restart"], timeout=15)
    assert "reconnecting in" in caplog.text
    assert dovecot.uids(imap_user) == []


def test_reconnects_after_the_session_dies_without_bye(
    dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    intake = Intake()
    poller = ImapPoller(imap_settings, intake)

    with running(poller):
        wait_for(lambda: poller.last_success_at is not None)
        time.sleep(0.2)  # let it enter IDLE
        assert dovecot.kill_sessions() == 1
        dovecot.append(imap_user, message("after EOF"))
        wait_for(lambda: intake.subjects == ["after EOF"], timeout=10)


def test_stop_ends_the_backoff_promptly() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: connections are refused
        poller = ImapPoller(ImapSettings(host="127.0.0.1", port=port, security="none"), Intake())
        with running(poller):
            time.sleep(0.3)
            stopping = time.monotonic()
    assert time.monotonic() - stopping < 1
    assert poller.last_success_at is None


def test_servers_without_move_or_idle_get_copy_expunge_and_polling(
    legacy_dovecot: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    user = legacy_dovecot.add_user()
    uids = [legacy_dovecot.append(user, message(f"old {n}")) for n in range(2)]
    settings = ImapSettings(
        host=legacy_dovecot.host,
        port=legacy_dovecot.port,
        security="none",
        username=user.name,
        password=user.password,
        sweep_seconds=1,
        timeout_seconds=5,
    )
    intake = Intake()
    poller = ImapPoller(settings, intake)

    with caplog.at_level(logging.DEBUG, logger="imapclient.imaplib"):
        assert poller.poll_once() == 2
    sent = [SENT.match(r.getMessage()) for r in caplog.records]  # imapclient logs the traffic
    verbs = [" ".join(m.group(1).split()[:2]) for m in sent if m]
    expunge = "UID EXPUNGE" if "UIDPLUS" in legacy_dovecot.config.read_text() else "EXPUNGE"
    assert [v for v in verbs if v in ("UID MOVE", "UID COPY", "UID STORE", expunge)] == [
        "UID COPY",
        "UID STORE",
        expunge,
    ] * 2
    assert [origin.uid for _, origin in intake.deliveries] == uids
    assert legacy_dovecot.uids(user) == []
    assert len(legacy_dovecot.uids(user, PROCESSED)) == 2

    with running(poller):  # no IDLE: it polls every sweep_seconds
        legacy_dovecot.append(user, message("polled"))
        wait_for(lambda: intake.subjects[-1:] == ["polled"], timeout=5)


def test_plain_text_imap_is_refused_for_a_remote_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ImapSettings(host="imap.example.com", security="none")
    ImapSettings(host="::1", security="none")
