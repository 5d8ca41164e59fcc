"""What the e-mail and notification benches share: a throw-away database and a free port.

Imported by ``mail_bench.py`` and ``notify_bench.py`` (run as scripts, so this directory is
on ``sys.path``); SQLAlchemy is imported late, after the scripts re-exec into the project venv.
"""

# SQLAlchemy comes from the project venv the scripts re-exec into: imported inside functions.
# ruff: noqa: PLC0415

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

Log = Callable[[str], None]


def pg_reachable(admin_url: str, log: Log) -> str | None:
    """The server's version when we can connect to it, else None."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    except Exception as exc:  # any reason not to use it: refused, auth, missing driver
        log(f"PostgreSQL at {admin_url} not usable: {type(exc).__name__}: {exc}"[:300])
        return None
    finally:
        engine.dispose()


def pg_admin(admin_url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@contextlib.contextmanager
def fresh_database(
    dialect: str, admin_url: str, tmp: Path, *, keep: bool, log: Log
) -> Iterator[str]:
    """The URL of a new, empty database; dropped (PostgreSQL) at the end unless ``keep``."""
    from sqlalchemy import make_url

    if dialect == "sqlite":
        yield f"sqlite:///{tmp / 'hermes.db'}"
        return
    name = f"hermes_bench_{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}"
    pg_admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            log(f"kept PostgreSQL database {name}")
        else:
            pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
