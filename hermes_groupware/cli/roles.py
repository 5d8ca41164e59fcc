"""The roles of ``serve``: which ones run in this process, and starting and stopping them.

A role runs when it is asked for (``serve --roles``, else ``[server] roles``) and its own
section does not switch it off: ``[smtp_in] enabled``, ``[imap_in] enabled`` and
``[reports] enabled`` win over the list, so a deployment can list every role everywhere and
still keep a listener off on the machines without a port for it. None of the roles keeps
state that correctness depends on, so each may run on several instances at once.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hermes_groupware.bootstrap import database_from_settings
from hermes_groupware.config import SERVER_ROLES, Settings
from hermes_groupware.errors import ConfigError
from hermes_groupware.http.server_thread import ServerThread
from mail_gateway.service import MailService

if TYPE_CHECKING:
    from reports.service import ReportService

log = logging.getLogger(__name__)


def _switched_off(settings: Settings) -> dict[str, str]:
    """The roles their own section turns off, with the key that does it."""
    switches = {
        "smtp": ("[smtp_in] enabled", settings.smtp_in.enabled),
        "imap": ("[imap_in] enabled", settings.imap_in.enabled),
        "scheduler": ("[reports] enabled", settings.reports.enabled),
    }
    return {role: f"{key} = false" for role, (key, enabled) in switches.items() if not enabled}


@dataclass(frozen=True)
class RolePlan:
    """The roles to run (in :data:`SERVER_ROLES` order), and why asked-for ones will not."""

    run: tuple[str, ...]
    off: dict[str, str] = field(default_factory=dict)


def parse_roles(text: str) -> tuple[str, ...]:
    """``http,worker`` from the command line (argparse names ``--roles`` in its message).

    Raises:
        argparse.ArgumentTypeError: an unknown role, or none.
    """
    roles = tuple(part.strip() for part in text.split(",") if part.strip())
    if not roles:
        raise argparse.ArgumentTypeError("expected at least one role")
    for role in roles:
        if role not in SERVER_ROLES:
            known = ", ".join(SERVER_ROLES)
            raise argparse.ArgumentTypeError(f"unknown role {role!r}; expected {known}")
    return roles


def plan_roles(settings: Settings, requested: Iterable[str] | None = None) -> RolePlan:
    """What runs: ``requested`` (``--roles``) or ``[server] roles``, less what is switched off.

    Raises:
        ConfigError: nothing would run.
    """
    asked = set(settings.server.roles if requested is None else requested)
    off = {role: why for role, why in _switched_off(settings).items() if role in asked}
    run = tuple(role for role in SERVER_ROLES if role in asked and role not in off)
    if not run:
        key, source = ("--roles", "command line") if requested else ("[server] roles", "settings")
        reasons = "; ".join(f"{role}: {why}" for role, why in off.items()) or "no role given"
        raise ConfigError(key, source, f"nothing to run ({reasons})")
    return RolePlan(run=run, off=off)


class RunningRoles:
    """The started roles of one ``serve`` process; ``words`` make up its ready line."""

    def __init__(self, settings: Settings, plan: RolePlan, *, threads: int) -> None:
        self.settings = settings
        self.plan = plan
        self.words: list[str] = []
        self._http: ServerThread | None = None
        self._mail: MailService | None = None
        self._reports: ReportService | None = None
        self._threads = threads

    def start(self) -> None:
        """Start each planned role; the HTTP listener first, so a port clash fails early."""
        run = self.plan.run
        if "http" in run:
            self._start_http()
        if run != ("http",):
            self._start_background()
        for role, why in self.plan.off.items():
            log.info("role %s is off: %s", role, why)
        log.info("Hermes Groupware roles: %s", ", ".join(run))

    def _start_background(self) -> None:
        settings, run = self.settings, self.plan.run
        background = database_from_settings(settings)  # the HTTP role opens its own engine
        mail_roles = [role for role in ("smtp", "imap", "worker") if role in run]
        if mail_roles:
            self._mail = MailService(settings, background)
            self.words += self._mail.start(mail_roles)
            if "worker" in run:
                self.words.append("worker")
        if "scheduler" in run:
            from reports.service import ReportService  # noqa: PLC0415 - charts and PDF load here

            logging.getLogger("apscheduler").setLevel(logging.WARNING)  # two lines a tick
            self._reports = ReportService(settings, background)
            self.words.append(self._reports.start())

    def stop(self) -> None:
        """Stop listening first, then let the background roles finish what they hold."""
        if self._http is not None:
            self._http.stop()
        if self._reports is not None:
            self._reports.stop()
        if self._mail is not None:
            self._mail.stop()

    def _start_http(self) -> None:
        settings = self.settings
        self._http = ServerThread(settings, settings.http.host, settings.http.port, self._threads)
        self._http.start()
        self.words.append(f"http://{settings.http.host}:{settings.http.port}/")
