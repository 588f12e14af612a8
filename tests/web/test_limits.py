"""The failed-login limiter on a clock the test moves (no sleeping)."""

from __future__ import annotations

from govbot.web.limits import LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_waits_until_its_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    limiter = LoginLimiter(per_client=5, total=100, window=60, clock=clock)
    for second in range(5):
        assert limiter.retry_after("a") == 0
        clock.now = 1000.0 + second
        limiter.failed("a")
    assert limiter.retry_after("a") == 56  # the first failure (t=1000) leaves at t=1060
    assert limiter.retry_after("b") == 0
    clock.now = 1060.0
    assert limiter.retry_after("a") == 0


def test_the_total_limit_holds_across_clients() -> None:
    clock = Clock()
    limiter = LoginLimiter(per_client=5, total=3, window=60, clock=clock)
    for client in ("a", "b", "c"):
        limiter.failed(client)
    assert limiter.retry_after("d") == 60
    clock.now += 61
    assert limiter.retry_after("d") == 0
