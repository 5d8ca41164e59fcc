"""When a report schedule fires: standard 5-field cron in an IANA time zone, via cronsim.

cronsim walks wall-clock time for fixed-time expressions, so across the DST changes of
Europe/Warsaw a Monday 08:00 schedule fires at 08:00 local on both sides; a daily 02:30 fires
once on the autumn change (the first 02:30) and, on the spring change, when 02:30 does not
exist, at the first valid minute after the gap (03:00). APScheduler's CronTrigger and croniter
fire twice in October, which is why they are not used for this.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import islice
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from hermes_groupware.errors import InvalidInput

_FIELDS = "minute hour day-of-month month day-of-week"
_EXAMPLE = '"0 8 * * MON" (every Monday at 08:00)'
_ONE_SECOND = dt.timedelta(seconds=1)


def validate_cron(expression: str) -> str:
    """The expression with single spaces, or InvalidInput naming ``cron`` and what is wrong."""
    fields = expression.split()
    if len(fields) != 5:
        raise InvalidInput(
            "cron",
            f"expected 5 fields ({_FIELDS}), got {len(fields)} in {expression!r}; "
            f"for example {_EXAMPLE}",
        )
    normalised = " ".join(fields)
    try:
        next(CronSim(normalised, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    except CronSimError as exc:
        problem = str(exc).lower().replace("bad ", "bad value in the ") + " field"
        raise InvalidInput(
            "cron", f"{problem} of {normalised!r} ({_FIELDS}); for example {_EXAMPLE}"
        ) from exc
    except StopIteration as exc:
        raise InvalidInput("cron", f"{normalised!r} never fires") from exc
    return normalised


def occurrences(cron: str, zone: ZoneInfo, *, since: dt.datetime) -> Iterator[dt.datetime]:
    """Fire times at or after ``since``, as aware datetimes in ``zone`` (endless)."""
    return CronSim(cron, (since - _ONE_SECOND).astimezone(zone))


def next_after(cron: str, zone: ZoneInfo, moment: dt.datetime) -> dt.datetime:
    """The first fire time strictly after ``moment``, in UTC."""
    return next(CronSim(cron, moment.astimezone(zone))).astimezone(dt.UTC)


def upcoming(cron: str, zone: ZoneInfo, moment: dt.datetime, count: int) -> list[dt.datetime]:
    """The next ``count`` fire times after ``moment``, in ``zone`` (for ``schedule show``)."""
    return list(islice(CronSim(cron, moment.astimezone(zone)), count))


def local_label(when: dt.datetime, zone: ZoneInfo) -> str:
    """The wall-clock minute in ``zone`` (``2026-10-25T02:30``): a run's unique key.

    Both 02:30s of the autumn night have the same label, so even an hourly schedule, or a cron
    library that fires twice, sends one run for that wall-clock time.
    """
    return when.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
