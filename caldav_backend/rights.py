"""Radicale rights plugin: Hermes permissions as Radicale's access letters.

Own home: ``RW`` on the principal (iOS wants to write there), ``rw`` on "My tasks" and "My plan";
register lists ``rw``/``r`` by the employee's register level; team calendars ``r``. Anything
else, including every other employee's home, is ``""``. Item paths take their collection's
letters. Per-task checks (private tasks, editing rights) happen again in the services.

Radicale asks once per item in a PROPFIND; the answers come from the runtime's short-lived
cache of each employee's home, so a revoked right takes effect within a few seconds.
"""

from __future__ import annotations

from typing import Any

from radicale import rights as radicale_rights

from caldav_backend import paths
from caldav_backend.runtime import Runtime
from hermes_groupware.models.enums import AccessLevel


class Rights(radicale_rights.BaseRights):
    """Letters from the employee's current rights (re-read every few seconds)."""

    def __init__(self, configuration: Any, runtime: Runtime) -> None:
        super().__init__(configuration)
        self.runtime = runtime

    def authorization(self, user: str, user_groups: set[str], path: str) -> str:
        try:
            where = paths.parse(path)
        except ValueError:
            return ""
        if not user or (where.login is not None and where.login != user):
            return ""
        if where.login is None or where.slug is None:
            return "R" if where.login is None else "RW"
        info = next((c for c in self.runtime.home(user) if c.slug == where.slug), None)
        if info is None:
            return ""
        return "rw" if info.access is AccessLevel.EDIT else "r"
