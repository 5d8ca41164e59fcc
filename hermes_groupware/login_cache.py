"""Logins verified in the last few seconds, shared in one process by everything that takes
HTTP Basic with an app password: Radicale's auth plugin, the CalDAV fast path and the API.

Clients send Basic auth on every request; remembering a verified (login, password) pair for
``[caldav] login_cache_seconds`` spares an Argon2 hash per request. Pairs are kept as salted
HMACs, so the process never holds a password in plain text after the request. Revoking an
app password forgets the employee's pairs in this process; other processes keep theirs
until the entries end.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

_MAX_ENTRIES = 10_000


class LoginCache:
    """Recently verified logins of this process (a miss only means: verify again)."""

    def __init__(self) -> None:
        self._salt = secrets.token_bytes(16)
        self._expiry: dict[str, tuple[str, float]] = {}  # fingerprint -> login, expiry
        self._lock = threading.Lock()

    def _fingerprint(self, login: str, password: str) -> str:
        return hmac.new(self._salt, f"{login}\0{password}".encode(), hashlib.sha256).hexdigest()

    def knows(self, login: str, password: str) -> bool:
        """Whether this pair was verified and its entry has not expired."""
        fingerprint = self._fingerprint(login, password)
        with self._lock:
            entry = self._expiry.get(fingerprint)
            if entry is None:
                return False
            if entry[1] < time.monotonic():
                del self._expiry[fingerprint]
                return False
            return True

    def remember(self, login: str, password: str, seconds: float) -> None:
        """Record a pair just verified against the database."""
        fingerprint = self._fingerprint(login, password)
        with self._lock:
            if len(self._expiry) >= _MAX_ENTRIES:
                now = time.monotonic()
                self._expiry = {k: v for k, v in self._expiry.items() if v[1] >= now}
            self._expiry[fingerprint] = (login, time.monotonic() + seconds)

    def forget(self, login: str) -> None:
        """Drop every pair of ``login`` (an app password was revoked: verify again)."""
        with self._lock:
            self._expiry = {k: v for k, v in self._expiry.items() if v[0] != login}
