"""Pacing of CopyPackageVersions calls: one limiter per execution environment (PROMOTER_COPY_PACING).

The quota (5 CopyPackageVersions a second per account and region by default, adjustable) is shared with
whatever else calls in the account: another promoter stack, a migration script, this function's other
execution environments. None of them can see the others; each sees only its own throttles. So each
environment paces itself with a token bucket: ``fixed`` at PROMOTER_COPY_RATE, or ``adaptive`` (the
default), which backs off on throttles and recovers toward that rate while calls are answered (AIMD).
Why botocore's own ``adaptive`` retry mode does not serve is in tests/performance/README.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple


class RateLimiter:
    """Token bucket: ``rate`` calls per second, bursts up to ``burst``. Fixed pacing: the rate never
    changes; a throttle only empties the bucket."""

    __slots__ = ("burst", "clock", "rate", "stamp", "tokens")

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.clock = clock
        self.tokens = self.burst
        self.stamp = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        """Seconds until a call may start."""
        if self.rate <= 0:
            return 0.0
        self._refill()
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self.tokens -= 1

    def penalize(self) -> None:
        """After a throttle: whatever we thought we had, the account's bucket is empty."""
        self._refill()
        self.tokens = min(self.tokens, 0.0)

    def succeeded(self) -> None:
        """After a copy call the service did not throttle (any answer, even an error, means a token was
        spent on the account's side); fixed pacing learns nothing from it."""


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class Aimd(NamedTuple):
    """How adaptive pacing moves its rate; one value shared by every limiter, so tests can vary it.

    ``decrease``: the factor applied on a throttle, at most once per ``calm`` seconds (the calls of one
    round that met the same empty bucket are one signal). ``increase``: the share of the ceiling added per
    second spent calling, times ``1 + (quiet - patience) / speedup`` once ``quiet`` (seconds since the last
    decrease) exceeds ``patience`` (counting at most 60 s): linear while throttles keep coming, as they do
    every few seconds to tens of seconds among environments sharing a quota (growing faster there only
    makes the environments that escaped the last throttle cause the next one), faster once the service has
    accepted for longer than that, so that a quota another client stopped using is taken back.
    ``floor``: the lowest rate, a share of the ceiling. ``forget``: a rate learnt this many seconds before
    the next call is forgotten (another burst, another competition).
    """

    decrease: float = 0.5
    increase: float = 0.01
    speedup: float = 10.0
    patience: float = 15.0
    calm: float = 0.5
    floor: float = 0.05
    forget: float = 60.0


AIMD = Aimd()
"""The pacing every limiter uses unless a test passes another."""


class AdaptiveRateLimiter(RateLimiter):
    """AIMD pacing under ``ceiling`` (PROMOTER_COPY_RATE, never exceeded, so a promoter alone or a raised
    quota is used fully); see ``Aimd`` for how the rate moves.

    Growth is per second of calling, not per call, so that a faster environment does not grow faster
    (AIMD's fairness) and idle time between invocations earns nothing.
    """

    __slots__ = ("aimd", "ceiling", "floor", "last_call", "last_decrease", "last_success", "throttles")

    def __init__(
        self, ceiling: float, aimd: Aimd = AIMD, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(ceiling, clock=clock)  # the same burst as fixed pacing: a quiet start
        self.ceiling = ceiling
        self.aimd = aimd
        self.floor = aimd.floor * ceiling
        self.throttles = 0
        """Decreases so far (for logs and tests)."""
        self.last_decrease = float("-inf")
        self.last_call = float("-inf")
        self.last_success = clock()

    def wait_time(self) -> float:
        learnt = max(self.last_call, self.last_decrease)
        if self.ceiling > 0 and self.rate < self.ceiling and self.clock() - learnt >= self.aimd.forget:
            self._refill()
            self.rate = self.ceiling
        return super().wait_time()

    def take(self) -> None:
        super().take()
        self.last_call = self.clock()

    def penalize(self) -> None:
        super().penalize()
        now = self.clock()
        if self.ceiling > 0 and now - self.last_decrease >= self.aimd.calm:
            self.rate = max(self.floor, self.rate * self.aimd.decrease)
            self.last_decrease = now
            self.throttles += 1

    def succeeded(self) -> None:
        now = self.clock()
        since, self.last_success = now - self.last_success, now
        if self.ceiling <= 0 or self.rate >= self.ceiling:
            return
        self._refill()  # tokens earned so far at the old rate
        # At most two calls' worth of time counts: the rest was spent idle, which says nothing of the quota.
        busy = min(since, 2.0 / self.rate)
        aimd = self.aimd
        quiet = now - self.last_decrease if self.last_decrease > float("-inf") else 60.0
        gain = aimd.increase * (1.0 + min(max(0.0, quiet - aimd.patience), 60.0) / aimd.speedup)
        self.rate = min(self.ceiling, self.rate + gain * self.ceiling * busy)


def copy_limiter(rate: float, pacing: str = "adaptive") -> RateLimiter:
    """The limiter PROMOTER_COPY_PACING names: ``adaptive`` (AIMD under ``rate``) or ``fixed`` (``rate``)."""
    if pacing == "fixed":
        return RateLimiter(rate)
    if pacing == "adaptive":
        return AdaptiveRateLimiter(rate)
    raise ValueError(f"copy pacing must be 'adaptive' or 'fixed', not {pacing!r}")
