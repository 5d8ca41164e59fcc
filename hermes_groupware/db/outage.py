"""Which database errors mean "unavailable, try again" rather than a bug in the request.

A stopped or restarting server, a cut connection, a full pool or SQLite's lock timeout: every
entry point answers these with its protocol's "retry later" (HTTP 503, SMTP 451, exit 75), and
the pool replaces the dead connections once the server is back (pinging those that sat idle,
:func:`hermes_groupware.db.session.make_engine`).
"""

from __future__ import annotations

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)


def cause(exc: BaseException) -> str:
    """The driver's first line for a log (a schema fault also arrives as OperationalError,
    and a log line with only the class name hides it)."""
    text = str(getattr(exc, "orig", None) or exc) or type(exc).__name__
    return text.splitlines()[0][:300]
