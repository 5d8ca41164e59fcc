"""The one translator from Hermes errors to what Radicale turns into HTTP statuses.

Radicale maps a ValueError from storage to 400, and one whose message carries ``[Errno 13]``
to 403 (its own convention for filesystem errors); nothing else is available to a plugin.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from hermes_groupware.errors import HermesError, InvalidInput, NotFound, PermissionDenied
from sync.ical import InvalidCalendarData


def forbidden(message: str) -> ValueError:
    """An error Radicale answers with 403 Forbidden."""
    return ValueError(f"[Errno {errno.EACCES}] {message}")


@contextmanager
def translated() -> Iterator[None]:
    """Run a service call; its refusals become 400/403 for the client."""
    try:
        yield
    except (PermissionDenied, NotFound) as exc:
        raise forbidden(exc.message) from exc
    except (InvalidInput, InvalidCalendarData) as exc:
        raise ValueError(str(exc)) from exc
    except HermesError as exc:
        raise ValueError(exc.message) from exc
