"""In-process token buckets per key (client address, sender address) for the rate limits.

Deliberately per process, not in the database: these limits protect an instance from a
flood (a link scanner, a mail loop), they need not be exact across instances (with N
instances behind a balancer a client gets at most N times the limit), and a database write
per refused request would make the flood cost more, not less. The per-link feed limit, which
a subscriber should see the same on every instance, is counted in the database instead
(``services.feed_access``).

Memory is bounded: at most ``max_keys`` keys are tracked; the least recently seen is dropped
first (it then starts again with a full bucket, which is the lenient side).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class Throttle:
    """``per_minute`` events per key, in bursts of up to ``per_minute``; 0 means no limit."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """Take one token for ``key``: 0 when allowed, else whole seconds until one is back."""
        if self.per_minute <= 0:
            return 0
        rate = self.per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, seen = self._buckets.pop(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - seen) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return 0 if allowed else max(1, math.ceil((1.0 - tokens) / rate))
