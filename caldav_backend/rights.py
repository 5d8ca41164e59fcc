"""Radicale rights plugin: Hermes permissions as Radicale's access letters.

Own home: ``RW`` on the principal (iOS wants to write there), ``rw`` on "My tasks" and "My plan";
register lists ``rw``/``r`` by the employee's register level; team calendars ``r``. Anything
else, including every other employee's home, is ``""``. Item paths take their collection's
letters. Per-task checks (private tasks, editing rights) happen again in the services.

Radicale asks once per item in a PROPFIND, so the letters of a (user, collection) pair are
remembered for a few seconds: a revoked right takes effect within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from radicale import rights as radicale_rights

from caldav_backend import paths
from caldav_backend.home import home
from caldav_backend.runtime import Runtime
from hermes_groupware.models.enums import AccessLevel

CACHE_SECONDS = 5.0


class Rights(radicale_rights.BaseRights):
    """Letters from the employee's current rights, re-read after ``CACHE_SECONDS``."""

    def __init__(self, configuration: Any, runtime: Runtime) -> None:
        super().__init__(configuration)
        self.runtime = runtime
        self._cache: dict[tuple[str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()

    def authorization(self, user: str, user_groups: set[str], path: str) -> str:
        try:
            where = paths.parse(path)
        except ValueError:
            return ""
        if not user or (where.login is not None and where.login != user):
            return ""
        if where.login is None or where.slug is None:
            return "R" if where.login is None else "RW"
        return self._collection_letters(user, where.slug)

    def _collection_letters(self, user: str, slug: str) -> str:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get((user, slug))
        if cached is not None and cached[0] > now:
            return cached[1]
        with self.runtime.reading() as uow:
            info = next((c for c in home(uow, user) if c.slug == slug), None)
        letters = "" if info is None else "rw" if info.access is AccessLevel.EDIT else "r"
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[(user, slug)] = (now + CACHE_SECONDS, letters)
        return letters
