"""Logins verified recently, shared in one process by everything that takes HTTP Basic with
an app password: Radicale's auth plugin, the CalDAV fast path and the API.

Clients send Basic auth on every request, and most sync once a minute or less often. An
Argon2 hash per request, or per sync, would cost more than the sync itself. So a verified
(login, password) pair is trusted for ``[caldav] login_cache_seconds``, then, for up to
``[caldav] login_keep_seconds``, re-checked with one indexed read (is that app password still
in force, is the employee still active?) instead of a hash. Pairs are kept as salted HMACs, so
the process never holds a password in plain text after the request. Revoking an app password
forgets the employee's pairs in this process at once; other processes notice at their next
re-check.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

_MAX_ENTRIES = 10_000
T = TypeVar("T")


@dataclass(frozen=True)
class _Entry:
    login: str
    password_id: int | None  # the app password that matched; None: never re-checked
    fresh_until: float  # trusted without a look at the database until then
    kept_until: float  # re-checked after fresh_until, forgotten after this


class LoginCache:
    """Recently verified logins of this process (a miss only means: verify again)."""

    def __init__(self) -> None:
        self._salt = secrets.token_bytes(16)
        self._entries: dict[str, _Entry] = {}  # fingerprint -> entry
        self._lock = threading.Lock()

    def _fingerprint(self, login: str, password: str) -> str:
        return hmac.new(self._salt, f"{login}\0{password}".encode(), hashlib.sha256).hexdigest()

    def knows(self, login: str, password: str) -> bool:
        """Whether this pair was verified and is still fresh (no database needed)."""
        entry = self._entry(self._fingerprint(login, password))
        return entry is not None and entry.fresh_until >= time.monotonic()

    def recheck(
        self, login: str, password: str, in_force: Callable[[int], T | None], fresh_seconds: float
    ) -> T | None:
        """For a pair verified earlier whose freshness ran out: ``in_force(password_id)``
        (one read, no hash) decides. Its answer renews the pair for ``fresh_seconds``; None
        forgets the pair. None also when there is nothing to re-check: verify in full."""
        fingerprint = self._fingerprint(login, password)
        entry = self._entry(fingerprint)
        if entry is None or entry.password_id is None:
            return None
        answer = in_force(entry.password_id)
        with self._lock:
            if answer is None:
                self._entries.pop(fingerprint, None)
            elif fingerprint in self._entries:  # not forgotten meanwhile
                fresh = min(time.monotonic() + fresh_seconds, entry.kept_until)
                self._entries[fingerprint] = dataclasses.replace(entry, fresh_until=fresh)
        return answer

    def remember(
        self,
        login: str,
        password: str,
        seconds: float,
        *,
        password_id: int | None = None,
        keep_seconds: float = 0.0,
    ) -> None:
        """Record a pair just verified against the database: fresh for ``seconds``, then
        re-checked by ``password_id`` until ``keep_seconds`` have passed."""
        now = time.monotonic()
        entry = _Entry(login, password_id, now + seconds, now + max(seconds, keep_seconds))
        fingerprint = self._fingerprint(login, password)
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries = {k: v for k, v in self._entries.items() if v.kept_until >= now}
            self._entries[fingerprint] = entry

    def forget(self, login: str) -> None:
        """Drop every pair of ``login`` (an app password was revoked: verify again)."""
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if v.login != login}

    def _entry(self, fingerprint: str) -> _Entry | None:
        """The pair's entry while kept; expired ones are dropped on the way."""
        with self._lock:
            entry = self._entries.get(fingerprint)
            if entry is not None and entry.kept_until < time.monotonic():
                del self._entries[fingerprint]
                return None
            return entry
