"""Adaptive pacing of copy calls (issue 21): AIMD under the configured ceiling, on a fake clock.

The account's quota is modelled by the same token bucket the local CodeArtifact enforces (capacity
max(1, quota), refilled at the quota), shared by several processes that each pace themselves.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from codeartifact_moto.quotas import TokenBucket
from promoter.copier import Copier
from promoter.pacing import AdaptiveRateLimiter, RateLimiter, copy_limiter
from promoter.settings import Settings

from .conftest import FakeClock, candidate
from .fake_codeartifact import FakeCodeArtifact, client_error
from .test_copier import copier, requests_for


def drive(limiter: RateLimiter, clock: FakeClock, *, calls: int, throttled: bool = False) -> list[float]:
    """Start ``calls`` calls as the copier does (wait, take, then the answer); the start times."""
    starts = []
    for _ in range(calls):
        clock.sleep(limiter.wait_time())
        limiter.take()
        starts.append(clock.now)
        if throttled:
            limiter.penalize()
        else:
            limiter.succeeded()
    return starts


def test_alone_it_paces_at_the_ceiling_and_never_above() -> None:
    # Given an adaptive limiter with a ceiling of 2.5/s and a service that never throttles
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(2.5, clock=clock)
    # When it starts 26 calls
    starts = drive(limiter, clock, calls=26)
    # Then they start exactly as under fixed pacing at the ceiling (the same burst, then 0.4 s apart): the
    # ceiling, used fully, and no faster
    fixed_clock = FakeClock()
    assert starts == pytest.approx(drive(RateLimiter(2.5, clock=fixed_clock), fixed_clock, calls=26))
    assert starts[-1] - starts[2] == pytest.approx(0.4 * 23)
    assert limiter.rate == 2.5


def test_a_throttle_halves_the_rate_once_per_calm_window() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(4.0, clock=clock)
    limiter.take()
    limiter.penalize()
    assert limiter.rate == 2.0
    # A second throttle of the same round (same instant) is the same signal
    limiter.penalize()
    assert limiter.rate == 2.0
    # One calm window later it counts again
    clock.sleep(0.5)
    limiter.penalize()
    assert limiter.rate == 1.0
    # And the bucket is empty after each: the next call waits a whole token at the new rate
    assert limiter.wait_time() == pytest.approx(1.0)


def test_the_rate_never_falls_below_the_floor() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(5.0, clock=clock)
    for _ in range(40):
        clock.sleep(1.0)
        limiter.penalize()
    assert limiter.rate == pytest.approx(0.25)  # 5% of the ceiling


def test_successes_recover_toward_the_ceiling_by_time_spent_calling() -> None:
    # Given a limiter halved by a throttle
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(2.5, clock=clock)
    limiter.penalize()
    assert limiter.rate == 1.25
    # When calls succeed for 5 s, paced by it
    drive(limiter, clock, calls=1)
    start, rate = clock.now, limiter.rate
    while clock.now - start < 5.0:
        drive(limiter, clock, calls=1)
    # Then the rate grew by 1% of the ceiling a second: linearly, while a throttle is recent (patience)
    elapsed = clock.now - start
    assert limiter.rate - rate == pytest.approx(0.01 * 2.5 * elapsed, rel=0.05)
    # And once the quota has answered for longer than the patience, by 1 + (quiet - 15 s) / 10 times that:
    # back at the ceiling within a minute
    while clock.now < 20.0:
        drive(limiter, clock, calls=1)
    start, rate = clock.now, limiter.rate
    drive(limiter, clock, calls=10)
    elapsed, quiet_then, quiet_now = clock.now - start, start - 15.0, clock.now - 15.0
    expected = 0.01 * 2.5 * (elapsed + (quiet_now**2 - quiet_then**2) / 20)
    assert limiter.rate - rate == pytest.approx(expected, rel=0.15)
    while limiter.rate < 2.5:
        drive(limiter, clock, calls=1)
    assert clock.now < 40.0
    drive(limiter, clock, calls=10)
    assert limiter.rate == 2.5


def test_idle_time_earns_no_rate() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(2.5, clock=clock)
    limiter.penalize()
    clock.sleep(30.0)  # idle (between invocations): nothing learnt about the quota
    limiter.succeeded()
    assert limiter.rate <= 1.25 + 0.07 * 2.5 * 2.0 / 1.25  # at most 2/rate seconds count


def test_a_rate_learnt_long_ago_is_forgotten() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(2.5, clock=clock)
    drive(limiter, clock, calls=1, throttled=True)
    assert limiter.rate == 1.25
    clock.sleep(59.0)
    limiter.wait_time()
    assert limiter.rate == 1.25
    clock.sleep(1.0)
    assert limiter.wait_time() == 0
    assert limiter.rate == 2.5


def test_unpaced_when_the_ceiling_is_zero() -> None:
    limiter = AdaptiveRateLimiter(0.0)
    for _ in range(50):
        assert limiter.wait_time() == 0
        limiter.take()
        limiter.penalize()
        limiter.succeeded()
    assert limiter.rate == 0.0


def shared_quota(
    limiters: list[RateLimiter], clock: FakeClock, quota: TokenBucket, seconds: float, other: float = 0.0
) -> tuple[list[int], int]:
    """Each limiter's process wants to call as fast as its pacing allows; ``other`` calls/s of an unrelated
    client are taken from the quota first. A call's round trip takes 30-80 ms (seeded). Returns (calls
    granted per process, throttled calls)."""
    rng = random.Random(21)

    def rtt() -> float:
        return 0.03 + 0.05 * rng.random()

    granted = [0] * len(limiters)
    throttled = 0
    ready = [0.0] * len(limiters)
    next_other = 0.0
    while clock.now < seconds:
        i = min(range(len(limiters)), key=lambda k: ready[k])
        if other and next_other <= ready[i]:
            clock.now = max(clock.now, next_other)
            if quota.take() is None:
                next_other += 1 / other
            else:
                next_other += 0.05
            continue
        clock.now = max(clock.now, ready[i])
        limiter = limiters[i]
        wait = limiter.wait_time()
        if wait > 0:
            ready[i] = clock.now + wait
            continue
        limiter.take()
        if quota.take() is None:
            granted[i] += 1
            limiter.succeeded()
        else:
            throttled += 1
            limiter.penalize()
        ready[i] = clock.now + rtt()  # the call's round trip
    return granted, throttled


@pytest.mark.parametrize(("processes", "other"), [(4, 0.0), (2, 2.0)])
def test_processes_sharing_a_quota_use_it_with_few_throttles(processes: int, other: float) -> None:
    # Given processes with a 2.5/s ceiling each (4: two stacks of two; 2 beside a client spending 2/s)
    # sharing a 5/s quota
    clock = FakeClock()
    quota = TokenBucket(5.0, clock=clock)
    limiters: list[RateLimiter] = [AdaptiveRateLimiter(2.5, clock=clock) for _ in range(processes)]
    # When they all call as fast as their pacing lets them for two minutes
    granted, throttled = shared_quota(limiters, clock, quota, 120.0, other)
    # Then they get nearly all of the quota that is free, every process gets some of it, and throttled
    # calls stay a fraction of fixed pacing's (a throttled call is retried at once here, with no backoff)
    free = (5.0 - other) * 120
    assert sum(granted) >= 0.95 * free
    assert throttled <= 0.045 * (sum(granted) + throttled)  # figure 7: at most 5% of copy calls
    assert min(granted) >= 0.25 * max(granted)


def test_fixed_pacing_throttles_far_more_in_the_same_setting() -> None:
    clock = FakeClock()
    quota = TokenBucket(5.0, clock=clock)
    limiters = [RateLimiter(2.5, clock=clock) for _ in range(4)]
    granted, throttled = shared_quota(limiters, clock, quota, 120.0)
    assert throttled >= 0.3 * (sum(granted) + throttled)


def test_copy_limiter_and_settings_choose_the_pacing() -> None:
    assert type(copy_limiter(2.5)) is AdaptiveRateLimiter
    assert type(copy_limiter(2.5, "fixed")) is RateLimiter
    with pytest.raises(ValueError, match="adaptive"):
        copy_limiter(2.5, "cubic")
    assert Settings.from_env({}).copy_pacing == "adaptive"
    assert Settings.from_env({"PROMOTER_COPY_PACING": " Fixed "}).copy_pacing == "fixed"
    with pytest.raises(ValueError, match="PROMOTER_COPY_PACING must be one of adaptive, fixed"):
        Settings.from_env({"PROMOTER_COPY_PACING": "aimd"})


class ThrottleFirst:
    """The fake CodeArtifact, throttling the first ``n`` copy calls."""

    def __init__(self, fake: FakeCodeArtifact, n: int) -> None:
        self.fake = fake
        self.left = n

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fake, name)

    def copy_package_versions(self, **kwargs: Any) -> Any:
        if self.left > 0:
            self.left -= 1
            raise client_error("ThrottlingException", 429)
        return self.fake.copy_package_versions(**kwargs)


def test_the_copier_slows_down_on_throttles_and_recovers_on_answers(fake: FakeCodeArtifact) -> None:
    # Given a copier with adaptive pacing whose first call is throttled
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(2.5, clock=clock)
    c: Copier = copier(ThrottleFirst(fake, 1), clock, limiter=limiter)
    for p in "abcdef":
        fake.publish("acme", "staging", "npm", p, "1.0.0", revision="r")
    # When it copies six packages
    outcomes = c.copy_all(requests_for(*(candidate(package=p, revision="r") for p in "abcdef")))
    # Then every one is promoted, the throttle halved the rate and the answers brought it back up
    assert {o.status for o in outcomes} == {"promoted"}
    assert (c.stats.throttled, limiter.throttles) == (1, 1)
    assert 1.25 < limiter.rate <= 2.5
