"""Logins verified in the last few seconds, shared by Radicale's auth plugin and the fast path.

Clients send Basic auth on every request; remembering a verified (login, password) pair for
``[caldav] login_cache_seconds`` spares an Argon2 hash per request. Pairs are kept as salted
HMACs, so the process never holds a password in plain text after the request.
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
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def _fingerprint(self, login: str, password: str) -> str:
        return hmac.new(self._salt, f"{login}\0{password}".encode(), hashlib.sha256).hexdigest()

    def knows(self, login: str, password: str) -> bool:
        """Whether this pair was verified and its entry has not expired."""
        fingerprint = self._fingerprint(login, password)
        with self._lock:
            expires = self._expiry.get(fingerprint)
            if expires is None:
                return False
            if expires < time.monotonic():
                del self._expiry[fingerprint]
                return False
            return True

    def remember(self, login: str, password: str, seconds: float) -> None:
        """Record a pair just verified against the database."""
        fingerprint = self._fingerprint(login, password)
        with self._lock:
            if len(self._expiry) >= _MAX_ENTRIES:
                now = time.monotonic()
                self._expiry = {k: v for k, v in self._expiry.items() if v >= now}
            self._expiry[fingerprint] = time.monotonic() + seconds
