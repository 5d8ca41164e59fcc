"""Token buckets: a burst of ``per_minute``, then one per ``60 / per_minute`` seconds."""

from __future__ import annotations

from hermes_groupware.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate_with_the_wait_in_seconds() -> None:
    clock = Clock()
    throttle = Throttle(6, clock=clock)  # one every 10 s
    assert [throttle.retry_after("a") for _ in range(6)] == [0] * 6
    assert throttle.retry_after("a") == 10
    assert throttle.retry_after("b") == 0  # keys are independent
    clock.now += 4
    assert throttle.retry_after("a") == 6
    clock.now += 6
    assert throttle.retry_after("a") == 0
    assert throttle.retry_after("a") == 10


def test_zero_is_no_limit_and_keys_are_bounded() -> None:
    assert all(Throttle(0).retry_after("a") == 0 for _ in range(1000))
    clock = Clock()
    throttle = Throttle(1, max_keys=2, clock=clock)
    assert throttle.retry_after("a") == 0
    assert throttle.retry_after("b") == 0
    assert throttle.retry_after("c") == 0  # "a", the least recently seen, is forgotten
    assert throttle.retry_after("a") == 0
    assert throttle.retry_after("c") == 60
