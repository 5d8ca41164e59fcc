"""Fault injection for tests: a private PostgreSQL to stop and start, and ``serve`` processes.

The machine's shared PostgreSQL serves every other test (and other people): an outage is only
ever done to a cluster of our own, made with ``initdb`` in a temporary directory and listening
on a free loopback port. Run as root, the cluster belongs to the ``postgres`` OS user
(PostgreSQL refuses to run as root). ``fsync`` is off: a test's cluster need not survive a power
cut, only a server stop.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.ports import free_port

MISSING_MESSAGE = "PostgreSQL server binaries not installed; .ci/run installs postgresql"
SCRIPT = str(Path(sys.executable).with_name("hermes-groupware"))


def postgres_bin() -> Path | None:
    """Debian's newest ``/usr/lib/postgresql/<version>/bin``, if there is one."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def require_postgres_server() -> Path:
    """The server binaries; skip without them, but fail on CI (a skipped fault test is a gap)."""
    found = postgres_bin()
    if found is not None:
        return found
    if os.environ.get("CI"):
        pytest.fail(MISSING_MESSAGE, pytrace=False)
    pytest.skip(MISSING_MESSAGE)


class PrivatePostgres:
    """A throwaway cluster: ``start``, ``stop`` (fast: sessions are cut), ``close`` removes it."""

    def __init__(self, binaries: Path) -> None:
        self.bin = binaries
        self.root = Path(tempfile.mkdtemp(prefix="hermes-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=60"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
                  "-w", "-t", "30", "start")  # fmt: skip

    def stop(self) -> None:
        """Stop now: open sessions are terminated, as in a failover or a restart."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def create_database(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._owner is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60, cwd=self.root)


class Served:
    """A ``hermes-groupware serve`` child with the given roles, until ``kill`` or ``stop``;
    its log goes to ``log`` (shown when it does not start)."""

    def __init__(self, roles: str, env: dict[str, str], log: Path) -> None:
        with log.open("ab") as errors:
            self.process = subprocess.Popen(
                [SCRIPT, "serve", "--roles", roles],
                env=env,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        assert self.process.stdout is not None
        self.ready = self.process.stdout.readline()
        if not self.ready.startswith("ready"):  # not left running with its ports and database
            self.kill()
            raise AssertionError(log.read_text(errors="replace")[-2000:])

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine or the OOM killer takes it."""
        self.process.send_signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        self.process.terminate()
        self._reap()

    def _reap(self) -> None:
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


def serve_env(url: str, config: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``serve`` child: ours without ``HERMES_*``, plus these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
    env.update(HERMES_CONFIG=str(config), HERMES_DATABASE_URL=url)
    env.update({f"HERMES_{key.upper()}": value for key, value in settings.items()})
    return env
