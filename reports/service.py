"""The report scheduler of ``serve``: APScheduler runs :func:`reports.scheduler.tick` on a timer.

APScheduler only keeps time here, in memory, with no job store: which run is sent, and by
which instance, is decided in the database, so every instance can run the same timer. The
first tick runs at start-up and sends what was missed while no instance was running.
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from hermes_groupware.config import Settings
from hermes_groupware.db.outage import DATABASE_UNAVAILABLE
from hermes_groupware.db.session import Database
from reports.scheduler import instance_id, tick

log = logging.getLogger(__name__)


class ReportService:
    """Starts and stops the timer of ``[reports]``; ``instance`` names this process's claims."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.instance = instance_id()
        self._scheduler = BackgroundScheduler(timezone=dt.UTC)

    def start(self) -> str:
        """Start ticking, the first tick right away; a word for the ready line."""
        seconds = self.settings.reports.tick_seconds
        self._scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=seconds, jitter=max(1, seconds // 10)),
            id="reports",
            name="report scheduler tick",
            next_run_time=dt.datetime.now(dt.UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=seconds,
        )
        self._scheduler.start()
        return "reports"

    def stop(self) -> None:
        """Stop the timer and wait for a tick in progress to finish its run."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _tick(self) -> None:
        try:
            result = tick(self.db, self.settings, instance=self.instance)
        except DATABASE_UNAVAILABLE as exc:  # database away: the next tick tries again
            log.warning("report scheduler: %s", exc)
            return
        if result.materialised or result.delivered:
            log.info(
                "report scheduler: %d new runs, delivered %s",
                result.materialised,
                {run: str(status) for run, status in result.delivered.items()},
            )
