"""CopyPackageVersions calls: pacing, retries, follow-ups, and one Outcome per version.

What the API answers (and what it means here):

- ``successfulVersions[v]``                         -> promoted
- ``failedVersions[v].errorCode == MISMATCHED_REVISION`` -> superseded (a newer event follows)
- ``failedVersions[v].errorCode == SKIPPED``        -> retried in a follow-up call without the failures
- any other ``failedVersions`` code (ALREADY_EXISTS, MISMATCHED_STATUS, NOT_ALLOWED, NOT_FOUND)
                                                     -> failed, final (retrying cannot change it)
- in neither map                                     -> already present (identical copy in the destination)

A call-level error (throttling and 5xx after retries, AccessDenied, ResourceNotFound,
a broken connection) fails every version of the call as *retryable*: the handler gives
their records back to the queue, so nothing is lost and the dead-letter queue keeps
what never succeeds.

Pacing: one token bucket per process (the quota is per account, 5 requests/s by default)
so a burst never starts faster than the quota; a throttle empties the bucket and the
call is retried with exponential backoff and jitter. Every wait is bounded by the time
the function has left: a call is started only when ``call_reserve`` seconds remain.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from promoter.events import Candidate
from promoter.outcomes import (
    ALREADY_PRESENT,
    FAILED,
    NOT_ATTEMPTED,
    PROMOTED,
    SUPERSEDED,
    Outcome,
)
from promoter.planner import CopyRequest, LookupFailed
from promoter.record import Record

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "InternalServerException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
FINAL_VERSION_CODES = frozenset({"ALREADY_EXISTS", "MISMATCHED_STATUS", "NOT_ALLOWED", "NOT_FOUND"})


def no_deadline() -> float:
    return float("inf")


class RateLimiter:
    """Token bucket: ``rate`` calls per second, bursts up to ``burst``."""

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
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self.tokens -= 1

    def penalize(self) -> None:
        """After a throttle: whatever we thought we had, the account's bucket is empty."""
        self._refill()
        self.tokens = min(self.tokens, 0.0)


class RetryPolicy(Record):
    """Retries of throttling and 5xx: exponential backoff with equal jitter, 0.2 s doubling to 2 s.

    The cap is low on purpose: the quota refills 5 tokens a second, so a long backoff leaves it
    unused, while a throttled call costs nothing. Time left, not attempts, is the real bound.
    """

    __slots__ = ("base_delay", "call_reserve", "max_attempts", "max_delay")
    _fields = ("max_attempts", "base_delay", "max_delay", "call_reserve")

    def __init__(
        self,
        max_attempts: int = 20,
        base_delay: float = 0.2,
        max_delay: float = 2.0,
        call_reserve: float = 12.0,
    ) -> None:
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.call_reserve = call_reserve
        """Seconds that must remain before a call starts (connect + read timeout + margin)."""


class CopyStats:
    """What the copier's calls cost (plain class: defined at every cold start, dataclasses cost more)."""

    __slots__ = ("copy_requests", "describe_calls", "out_of_time", "throttled")

    def __init__(
        self, copy_requests: int = 0, throttled: int = 0, describe_calls: int = 0, out_of_time: bool = False
    ) -> None:
        self.copy_requests = copy_requests
        self.throttled = throttled
        self.describe_calls = describe_calls
        self.out_of_time = out_of_time

    def __repr__(self) -> str:
        return (
            f"CopyStats(copy_requests={self.copy_requests}, throttled={self.throttled}, "
            f"describe_calls={self.describe_calls}, out_of_time={self.out_of_time})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CopyStats) and repr(self) == repr(other)

    __hash__ = None  # type: ignore[assignment]


class CallError(Record):
    __slots__ = ("code", "message", "throttled")
    _fields = ("code", "message", "throttled")

    def __init__(self, code: str, message: str, throttled: bool = False) -> None:
        self.code = code
        self.message = message
        self.throttled = throttled


class Copier:
    """Runs copy requests against a CodeArtifact client (real or fake) and reports one Outcome per version.

    ``remaining`` gives the seconds the function has left (``get_remaining_time_in_millis() / 1000``).
    """

    def __init__(
        self,
        client: Any,
        *,
        remaining: Callable[[], float] = no_deadline,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        stats: CopyStats | None = None,
    ) -> None:
        self.client = client
        self.remaining = remaining
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.jitter = jitter
        self.stats = stats or CopyStats()

    # ----------------------------------------------------------------- copy

    def copy_all(self, requests: Sequence[CopyRequest]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for request in requests:
            outcomes.extend(self.copy(request))
        return outcomes

    def copy(self, request: CopyRequest) -> list[Outcome]:
        outcomes: list[Outcome] = []
        pending = request
        while pending.items:
            response, error = self._call(self.client.copy_package_versions, pending.api_kwargs(), copy=True)
            if error is not None:
                outcomes.extend(_all(pending, FAILED, error.code, error.message, retryable=True))
                break
            assert response is not None
            succeeded = response.get("successfulVersions") or {}
            failed = response.get("failedVersions") or {}
            skipped: list[str] = []
            for item in pending.items:
                version = item.candidate.version
                if version in succeeded:
                    info = succeeded[version] or {}
                    outcomes.append(
                        _outcome(pending, item.candidate, item.rule, PROMOTED, revision=info.get("revision"))
                    )
                elif version in failed:
                    info = failed[version] or {}
                    code = str(info.get("errorCode") or "UNKNOWN")
                    message = str(info.get("errorMessage") or "")[:500]
                    if code == "SKIPPED":
                        skipped.append(version)
                    elif code == "MISMATCHED_REVISION":
                        outcomes.append(
                            _outcome(
                                pending, item.candidate, item.rule, SUPERSEDED, code=code, message=message
                            )
                        )
                    else:
                        outcomes.append(
                            _outcome(pending, item.candidate, item.rule, FAILED, code=code, message=message)
                        )
                else:
                    outcomes.append(_outcome(pending, item.candidate, item.rule, ALREADY_PRESENT))
            if not skipped:
                break
            if len(skipped) == len(pending.items):
                # Every version skipped and none failed: no progress is possible in this call.
                outcomes.extend(
                    _all(
                        pending,
                        FAILED,
                        "SKIPPED",
                        "every version was skipped without another failing",
                        retryable=True,
                    )
                )
                break
            pending = pending.only(skipped)
        return outcomes

    def wait_for_slot(self) -> None:
        """Sleep until the pacing lets a copy call start, without taking the slot. Catch-up reads the
        destination after this wait rather than before it, so that it sees what another invocation copied
        meanwhile (two invocations that read, then both wait, then both copy, spend two calls on one group).
        """
        if self.limiter is None:
            return
        wait = self.limiter.wait_time()
        if wait > 0 and self.remaining() - wait >= self.policy.call_reserve:
            self.sleep(wait)

    # ----------------------------------------------------------------- publish time (for minimumReleaseAge)

    def published_time(self, candidate: Candidate) -> datetime | None:
        """DescribePackageVersion in the source; used by the planner only for rules with a cooldown."""
        kwargs: dict[str, Any] = {
            "domain": candidate.domain,
            "domainOwner": candidate.domain_owner,
            "repository": candidate.source_repository,
            "format": candidate.format,
            "package": candidate.package,
            "packageVersion": candidate.version,
        }
        if candidate.namespace:
            kwargs["namespace"] = candidate.namespace
        response, error = self._call(self.client.describe_package_version, kwargs, copy=False)
        if error is not None:
            retryable = error.code not in ("ResourceNotFoundException",)
            raise LookupFailed(error.code, error.message, retryable=retryable)
        assert response is not None
        value = (response.get("packageVersion") or {}).get("publishedTime")
        return value if isinstance(value, datetime) else None

    # ----------------------------------------------------------------- one API call with retries

    def _call(
        self, operation: Callable[..., Any], kwargs: dict[str, Any], *, copy: bool
    ) -> tuple[dict[str, Any] | None, CallError | None]:
        last: CallError | None = None
        for attempt in range(self.policy.max_attempts):
            wait = self.limiter.wait_time() if (copy and self.limiter is not None) else 0.0
            if self.stats.out_of_time or self.remaining() - wait < self.policy.call_reserve:
                self.stats.out_of_time = True
                return None, last or CallError(NOT_ATTEMPTED, "not enough time left to start the call")
            if wait > 0:
                self.sleep(wait)
            if copy:
                if self.limiter is not None:
                    self.limiter.take()
                self.stats.copy_requests += 1
            else:
                self.stats.describe_calls += 1
            try:
                return operation(**kwargs), None
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code = str(error.get("Code") or "ClientError")
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
                throttled = code in THROTTLING_CODES or status == 429
                transient = throttled or code in TRANSIENT_CODES or status >= 500
                last = CallError(code, str(error.get("Message") or exc)[:500], throttled)
            except BotoCoreError as exc:
                name = type(exc).__name__
                transient = "Connect" in name or "Timeout" in name or "ConnectionClosed" in name
                throttled = False
                last = CallError(name, str(exc)[:500])
            except Exception as exc:  # a client must never take the batch down with it
                return None, CallError(type(exc).__name__, str(exc)[:500])
            if throttled:
                if copy:
                    self.stats.throttled += 1
                if copy and self.limiter is not None:
                    self.limiter.penalize()
            if not transient:
                return None, last
            delay = min(self.policy.max_delay, self.policy.base_delay * (2**attempt))
            delay = delay / 2 + self.jitter() * delay / 2
            if self.remaining() - delay < self.policy.call_reserve:
                self.stats.out_of_time = True
                return None, last
            self.sleep(delay)
        return None, last


def _outcome(
    request: CopyRequest,
    candidate: Candidate,
    rule: str,
    status: str,
    *,
    code: str | None = None,
    message: str | None = None,
    retryable: bool = False,
    revision: str | None = None,
) -> Outcome:
    return Outcome(
        status,
        candidate,
        destination=request.destination_repository,
        rule=rule,
        error_code=code,
        error_message=message,
        retryable=retryable,
        revision=revision if isinstance(revision, str) else None,
    )


def _all(request: CopyRequest, status: str, code: str, message: str, *, retryable: bool) -> list[Outcome]:
    return [
        _outcome(request, item.candidate, item.rule, status, code=code, message=message, retryable=retryable)
        for item in request.items
    ]
