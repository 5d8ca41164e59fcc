"""One round of the report scheduler, the same on every instance.

A tick turns due occurrences into runs, then claims runs one at a time and delivers them. It
keeps no state: the database decides which instance renders which run, so any number of
instances may tick at once, and a tick that dies half-way leaves nothing another cannot finish.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass, field

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.models.enums import ReportRunStatus, Source
from hermes_groupware.services.report_schedules import LATE_AFTER, claim_runs, materialise_due
from reports.delivery import deliver_run

log = logging.getLogger(__name__)
SCHEDULER = Actor.system("report-scheduler")


@dataclass
class TickResult:
    """What one tick did: new run rows, and what became of each run it delivered."""

    materialised: int
    delivered: dict[int, ReportRunStatus] = field(default_factory=dict)
    errors: int = 0


def instance_id() -> str:
    """``host:pid:random``: who holds a claim, unique even after a restart with the same pid."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def tick(db: Database, settings: Settings, *, instance: str) -> TickResult:
    """Materialise due runs, then deliver claimed runs until none is left or the tick's time
    (``[reports] tick_seconds``) is used up; the rest waits for the next tick."""
    config = settings.reports
    late_after = max(LATE_AFTER, dt.timedelta(seconds=2 * config.tick_seconds))
    with db.unit_of_work(SCHEDULER, Source.SYSTEM) as uow:
        materialised = materialise_due(
            uow, default_grace_minutes=config.grace_minutes, late_after=late_after
        )
    result = TickResult(materialised)
    deadline = time.monotonic() + config.tick_seconds
    while time.monotonic() < deadline:
        with db.unit_of_work(SCHEDULER, Source.SYSTEM) as uow:
            jobs = claim_runs(
                uow,
                instance=instance,
                lease_seconds=config.lease_seconds,
                limit=1,
                max_attempts=config.max_attempts,
            )
        if not jobs:
            break
        for job in jobs:
            try:
                result.delivered[job.run_id] = deliver_run(db, settings, job, instance=instance)
            except Exception:  # the lease expires and another tick tries again
                log.exception("report run %s could not be delivered", job.run_id)
                result.errors += 1
    return result
