"""A private Dovecot for tests: real IMAP on 127.0.0.1, plain text, users in a passwd-file.

Everything (config, sockets, logs, maildirs) lives in one temporary directory outside pytest's
``tmp_path``: the unprivileged Dovecot processes must be able to traverse it, and UNIX socket
paths must stay short. The master runs in the foreground (``-F``) as our child, so stopping it
is a ``terminate`` + ``wait``; the IMAP sessions it spawned would outlive it, so ``stop`` ends
them too (SIGTERM: they say BYE), like a real server restart does to its clients.

Run as root (CI), Dovecot's own ``dovecot``/``dovenull`` users run the services and mail
belongs to ``nobody`` (Dovecot refuses UID 0 for mail). Run as anyone else, everything runs as
that user.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.ports import free_port

DOVECOT_BINARY = Path(shutil.which("dovecot") or "/usr/sbin/dovecot")
MISSING_MESSAGE = "Dovecot not installed; .ci/run installs dovecot-imapd"
POOL_SIZE = 64


def require_dovecot() -> None:
    """Skip without Dovecot, but fail on CI: a skipped gateway suite there is a silent gap."""
    if DOVECOT_BINARY.is_file() and os.access(DOVECOT_BINARY, os.X_OK):
        return
    if os.environ.get("CI"):
        pytest.fail(MISSING_MESSAGE, pytrace=False)
    pytest.skip(MISSING_MESSAGE)


@dataclass(frozen=True)
class MailUser:
    name: str
    password: str


def _identities() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid) that exist on this machine."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me, os.geteuid(), os.getegid()
    internal = pwd.getpwnam("dovecot").pw_name
    login = pwd.getpwnam("dovenull").pw_name
    mail = pwd.getpwnam("nobody")
    return internal, login, mail.pw_uid, mail.pw_gid


def _primary_group(user: str) -> str:
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def _descendants(pid: int) -> list[int]:
    """All processes below ``pid`` (Linux /proc), children first."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _end(pids: list[int], grace: float = 5.0) -> None:
    """SIGTERM the given processes (ours: spawned by our Dovecot), SIGKILL what lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not any(_alive(pid) for pid in pids):
            return


_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 0
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
{extra}
"""


class Dovecot:
    """One private Dovecot; ``start``/``stop`` may be called repeatedly (same port, same mail)."""

    host = "127.0.0.1"

    def __init__(self, *, extra_config: str = "") -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hermes-dovecot-"))
        self.root.chmod(0o755)  # the dovecot/nobody users must reach the files below
        self.port = free_port()
        internal, login, self._mail_uid, self._mail_gid = _identities()
        mail = self.root / "mail"
        mail.mkdir()
        if os.geteuid() == 0:
            os.chown(mail, self._mail_uid, self._mail_gid)
        self.users_file = self.root / "users"
        self._pool = [MailUser(f"user{n:03}", uuid.uuid4().hex[:12]) for n in range(POOL_SIZE)]
        self.users_file.write_text("".join(self._passwd_line(user) for user in self._pool))
        self.users_file.chmod(0o644)
        self.config = self.root / "dovecot.conf"
        self.config.write_text(
            _CONFIG.format(
                root=self.root,
                internal=internal,
                internal_group=_primary_group(internal),
                login=login,
                port=self.port,
                extra=textwrap.dedent(extra_config),
            )
        )
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start the master and wait until the IMAP listener greets."""
        if self.running:
            return
        with (self.root / "dovecot.stderr").open("ab") as stderr:
            self._process = subprocess.Popen(
                [str(DOVECOT_BINARY), "-F", "-c", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
            )
        deadline = time.monotonic() + timeout
        while not self._greets():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Dovecot did not start:\n{self.log_text()}")
            time.sleep(0.05)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as conn:
                return conn.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the master and every session it spawned: clients see the connection drop."""
        process, self._process = self._process, None
        if process is None:
            return
        spawned = _descendants(process.pid)
        process.terminate()
        _end(spawned)  # at once: the master alone takes a second, and leaves sessions running
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill_sessions(self) -> int:
        """SIGKILL the IMAP session processes: their clients see EOF without a BYE."""
        if self._process is None:
            return 0
        sessions = [pid for pid in _descendants(self._process.pid) if _comm(pid) == "imap"]
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(sessions)

    def close(self) -> None:
        """Stop and remove every file."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        parts = [self.root / "dovecot.log", self.root / "dovecot.stderr"]
        return "\n".join(p.read_text(errors="replace") for p in parts if p.exists())

    # -- users and mail -----------------------------------------------------------------

    def add_user(self, name: str | None = None, password: str = "secret") -> MailUser:
        """A fresh, empty mailbox.

        Dovecot looks at a changed passwd-file at most once a second, so users come from a
        pool written before the start; a named (or pool-exhausting) user is appended and
        costs that second.
        """
        if name is None and self._pool:
            return self._pool.pop(0)
        user = MailUser(name or f"u{uuid.uuid4().hex[:10]}", password)
        with self.users_file.open("a") as users:
            users.write(self._passwd_line(user))
        time.sleep(1.1)
        return user

    def serve_env(self, user: MailUser) -> dict[str, str]:
        """The settings that point a ``serve`` child's IMAP role at ``user``'s mailbox here."""
        return {
            "HERMES_IMAP_IN_ENABLED": "true",
            "HERMES_IMAP_IN_HOST": self.host,
            "HERMES_IMAP_IN_PORT": str(self.port),
            "HERMES_IMAP_IN_SECURITY": "none",
            "HERMES_IMAP_IN_USERNAME": user.name,
            "HERMES_IMAP_IN_PASSWORD": user.password,
        }

    def _passwd_line(self, user: MailUser) -> str:
        home = self.root / "mail" / user.name
        uid, gid = self._mail_uid, self._mail_gid
        return f"{user.name}:{{PLAIN}}{user.password}:{uid}:{gid}::{home}::\n"

    @contextlib.contextmanager
    def client(self, user: MailUser) -> Iterator[IMAPClient]:
        """A logged-in imapclient connection as ``user``, always closed afterwards."""
        conn = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        try:
            conn.login(user.name, user.password)
            yield conn
        finally:
            try:
                conn.logout()
            except Exception:  # the server may be gone; the socket must still be closed
                conn.shutdown()

    def append(self, user: MailUser, message: bytes, folder: str = "INBOX") -> int:
        """APPEND ``message`` (creating ``folder`` if needed); returns its UID."""
        with self.client(user) as conn:
            if not conn.folder_exists(folder):
                conn.create_folder(folder)
            response = conn.append(folder, message)
            match = re.search(rb"APPENDUID \d+ (\d+)", response)
            if match:
                return int(match.group(1))
            conn.select_folder(folder, readonly=True)
            return int(max(conn.search("ALL")))

    def uids(self, user: MailUser, folder: str = "INBOX") -> list[int]:
        """UIDs of the messages in ``folder`` (not counting ones flagged \\Deleted)."""
        with self.client(user) as conn:
            if not conn.folder_exists(folder):
                return []
            conn.select_folder(folder, readonly=True)
            return sorted(int(uid) for uid in conn.search(["NOT", "DELETED"]))

    def flags(self, user: MailUser, folder: str = "INBOX") -> dict[int, set[bytes]]:
        """UID → flags and keywords of every message in ``folder``."""
        with self.client(user) as conn:
            conn.select_folder(folder, readonly=True)
            uids = conn.search("ALL")
            fetched = conn.fetch(uids, ["FLAGS"]) if uids else {}
            return {int(uid): set(data[b"FLAGS"]) for uid, data in fetched.items()}
