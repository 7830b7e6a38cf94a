"""Opt-in request-rate limits and fault injection, one state per emulated account and region.

Real CodeArtifact answers ``ThrottlingException`` (HTTP 429) past its per-account request quota
(CopyPackageVersions: 5 requests/s by default) and now and then fails with 5xx errors; code
that promotes packages must survive both. Both are off until a test or an operator turns them
on through :class:`codeartifact_moto.control.Control`.

The limiter is a token bucket per operation: capacity ``max(1, per_second)`` tokens, refilled
at ``per_second`` tokens a second, so a burst of the bucket's size passes and the sustained rate
is the quota. Faults either fire for the next ``count`` calls or with probability ``rate`` from
an RNG seeded by ``seed`` (deterministic for tests); the two can be combined (count caps rate).
Rate limiting is checked before faults; a throttled call does not consume a fault.

A fault or an injected answer (:mod:`codeartifact_moto.answers`) may be scoped to one package:
it then matches only calls whose ``package`` parameter names it (nuget and swift names compared
as the service stores them), counts only those calls, and leaves every other package's calls
alone. Injected answers are taken after the rate limit, the faults and input validation.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .naming import request_name

DEFAULT_FAULT_SEED = 20180922


@dataclass
class TokenBucket:
    per_second: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.updated = self.clock()

    @property
    def capacity(self) -> float:
        return max(1.0, self.per_second)

    def take(self) -> float | None:
        """Take one token; return None when granted, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.per_second


@dataclass(frozen=True)
class Call:
    """What a fault or an answer may be scoped by: the call's operation and package (if any)."""

    operation: str
    package: str | None = None
    format: str | None = None

    def names(self, package: str | None) -> bool:
        """Whether this call is about ``package`` (None: any call)."""
        if package is None:
            return True
        if self.package is None:
            return False
        fmt = self.format or ""
        return request_name(fmt, package) == request_name(fmt, self.package)


@dataclass
class Trigger:
    """When an injection fires: for the next ``count`` matching calls and/or at ``rate``."""

    rate: float | None
    count: int | None
    package: str | None

    def fires(self, call: Call, rng: random.Random) -> bool:
        if not call.names(self.package):
            return False
        if self.count is not None and self.count <= 0:
            return False
        hit = True if self.rate is None else rng.random() < self.rate
        if hit and self.count is not None:
            self.count -= 1
        return hit

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.count <= 0


_T = TypeVar("_T", bound=Trigger)


@dataclass
class Fault(Trigger):
    error_code: str
    status: int | None
    delay_seconds: float | None


@dataclass
class Answer(Trigger):
    """An odd answer in place of the real one (see :mod:`codeartifact_moto.answers`)."""

    kind: str
    perform: bool
    body: str | None
    status: int | None
    content_type: str | None


@dataclass
class Decision:
    """What to do with one call: pass, throttle (with retry-after) or fail with a fault."""

    throttled_for: float | None = None
    fault: Fault | None = None


@dataclass
class OperationStats:
    calls: int = 0
    throttled: int = 0
    faults: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"calls": self.calls, "throttled": self.throttled, "faults": self.faults}


class QuotaState:
    """Rate limits, faults and call statistics for one account and region; thread safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._answers: dict[str, list[Answer]] = {}
        self._stats: dict[str, OperationStats] = {}
        self._rng = random.Random(DEFAULT_FAULT_SEED)

    def set_rate_limit(self, operation: str, per_second: float | None) -> None:
        with self._lock:
            if per_second is None:
                self._buckets.pop(operation, None)
                return
            if per_second <= 0:
                raise ValueError("per_second must be positive (or None to switch the limit off)")
            self._buckets[operation] = TokenBucket(per_second, self._clock)

    def rate_limits(self) -> dict[str, float]:
        with self._lock:
            return {op: bucket.per_second for op, bucket in self._buckets.items()}

    def inject_fault(
        self,
        operation: str,
        error_code: str,
        *,
        rate: float | None = None,
        count: int | None = None,
        status: int | None = None,
        delay_seconds: float | None = None,
        package: str | None = None,
    ) -> None:
        _check_trigger("a fault", rate, count)
        with self._lock:
            self._faults.setdefault(operation, []).append(
                Fault(rate, count, package, error_code, status, delay_seconds)
            )

    def inject_answer(self, operation: str, answer: Answer) -> None:
        _check_trigger("an answer", answer.rate, answer.count)
        with self._lock:
            self._answers.setdefault(operation, []).append(answer)

    def clear_faults(self) -> None:
        """Drop every fault and injected answer."""
        with self._lock:
            self._faults.clear()
            self._answers.clear()

    def seed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._faults.clear()
            self._answers.clear()
            self._stats.clear()
            self._rng = random.Random(DEFAULT_FAULT_SEED)

    def admit(self, call: Call | str) -> Decision:
        """Count the call and decide whether it is throttled, faulted or passes."""
        call = Call(call) if isinstance(call, str) else call
        with self._lock:
            stats = self._stats.setdefault(call.operation, OperationStats())
            stats.calls += 1
            bucket = self._buckets.get(call.operation)
            if bucket is not None:
                wait = bucket.take()
                if wait is not None:
                    stats.throttled += 1
                    return Decision(throttled_for=wait)
            fault = _take(self._faults.get(call.operation, []), call, self._rng)
            if fault is not None:
                stats.faults += 1
            return Decision(fault=fault)

    def take_answer(self, call: Call) -> Answer | None:
        """The injected answer that replaces this call's answer, if one fires (counted as a fault)."""
        with self._lock:
            answer = _take(self._answers.get(call.operation, []), call, self._rng)
            if answer is not None:
                self._stats.setdefault(call.operation, OperationStats()).faults += 1
            return answer

    def stats(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {op: s.as_dict() for op, s in sorted(self._stats.items())}

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rateLimits": {op: b.per_second for op, b in self._buckets.items()},
                "faults": {
                    op: [f.__dict__.copy() for f in faults] for op, faults in self._faults.items() if faults
                },
                "answers": {
                    op: [a.__dict__.copy() for a in answers]
                    for op, answers in self._answers.items()
                    if answers
                },
            }


def _check_trigger(what: str, rate: float | None, count: int | None) -> None:
    if rate is None and count is None:
        raise ValueError(f"{what} needs a rate, a count or both")
    if rate is not None and not 0.0 <= rate <= 1.0:
        raise ValueError("rate must be within [0, 1]")
    if count is not None and count < 0:
        raise ValueError("count must not be negative")


def _take(triggers: list[_T], call: Call, rng: random.Random) -> _T | None:
    """The first injection that fires for ``call``; one used up is dropped."""
    for trigger in triggers:
        if trigger.fires(call, rng):
            if trigger.exhausted:
                triggers.remove(trigger)
            return trigger
    return None
