"""CopyPackageVersions calls: pacing, fair retries and follow-ups, and the reads that verify an answer.

What an answer means for each version is ``promoter.copy_answers``; this module makes the calls. A call-level
error that is not transient (AccessDenied, ResourceNotFound, validation) fails every version of the call as
*retryable*: the handler gives their records back to the queue, so nothing is lost and the dead-letter queue
keeps what never succeeds.

Fair time: throttling, 5xx and broken or hung connections are retried in rounds. Every request of a batch
gets its first attempt before any request's second, and each round retries every request still waiting once,
after one shared backoff, so one failing package never spends the time the others need. Pacing is the
limiter's (``promoter.pacing``): the copier waits for it, and tells it of every throttle and answer. Every
wait is bounded by the time the function has left: a call starts only when ``call_reserve`` seconds remain.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from promoter.copy_answers import (
    Unsettled,
    fail_all,
    read_answer,
    settle,
    unverifiable,
    with_not_allowed_note,
)
from promoter.events import Candidate
from promoter.holds import LookupFailed, VersionFacts
from promoter.listed import PackageAt
from promoter.outcomes import NOT_ATTEMPTED, Outcome
from promoter.pacing import RateLimiter
from promoter.planner import CopyRequest
from promoter.reader import package_versions, revisions

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
_T = TypeVar("_T")


def no_deadline() -> float:
    return float("inf")


class RetryPolicy(NamedTuple):
    """Retries of throttling and 5xx: exponential backoff with equal jitter, 0.2 s doubling to 2 s.

    The cap is low on purpose: the quota refills 5 tokens a second, so a long backoff leaves it
    unused, while a throttled call costs nothing. Time left, not attempts, is the real bound.
    """

    max_attempts: int = 20
    base_delay: float = 0.2
    max_delay: float = 2.0
    call_reserve: float = 12.0
    """Seconds that must remain before a call starts (connect + read timeout + margin)."""


@dataclass(slots=True)
class CopyStats:
    """What the copier's calls cost."""

    copy_requests: int = 0
    throttled: int = 0
    describe_calls: int = 0
    verify_reads: int = 0
    """ListPackageVersions calls that read a destination to verify an answer."""
    out_of_time: bool = False


class CallError(NamedTuple):
    code: str
    message: str
    throttled: bool = False
    transient: bool = False
    """Worth another attempt later in the invocation: throttling, 5xx, a broken or timed-out connection."""
    timed_out: bool = False
    """The connection hung until the client's timeout: another attempt in the same turn would hang too."""


class ReadFailed(Exception):
    """A read before a copy failed in a transient way: the request yields its turn (``copy_fairly``)."""

    def __init__(self, error: CallError) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


class Unfinished(NamedTuple):
    """What is left of a request after an attempt that failed in a transient way, and why."""

    request: CopyRequest
    error: CallError


Prepare = Callable[[CopyRequest], tuple[CopyRequest, list[Outcome]]]
"""Turns a planned request into the call to make and outcomes decided without it (catch-up); may raise
``ReadFailed``."""

_READ_ATTEMPTS = 3
"""Attempts of one read (publish time, verification): few, since a record that fails one goes back to the
queue and nothing is lost."""


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

    # ----------------------------------------------------------------- copy, fairly

    def copy_all(
        self, requests: Sequence[CopyRequest], prepare: Prepare | None = None, *, rounds: int | None = None
    ) -> list[Outcome]:
        return [
            outcome for outcomes in self.copy_fairly(requests, prepare, rounds=rounds) for outcome in outcomes
        ]

    def copy(self, request: CopyRequest) -> list[Outcome]:
        return self.copy_all([request])

    def copy_fairly(
        self, requests: Sequence[CopyRequest], prepare: Prepare | None = None, *, rounds: int | None = None
    ) -> Iterator[list[Outcome]]:
        """Outcomes attempt by attempt (a log line is never held back by later calls).

        First every request gets one attempt, in order (``prepare`` runs just before it, after the pacing
        wait, so that it sees what another invocation copied meanwhile); then rounds: one shared backoff,
        one more attempt for every request still waiting. When time runs short, what still waits fails as
        retryable with the last error it met. ``rounds`` caps the retry rounds below the policy's
        ``max_attempts - 1`` (reconcile, which copies package by package, must not spend a run on one).
        """
        waiting: list[Unfinished] = []
        for planned in requests:
            request = planned
            if prepare is not None:
                self.wait_for_slot()
                try:
                    request, decided = prepare(planned)
                except ReadFailed as failure:
                    waiting.append(Unfinished(planned, failure.error))
                    continue
                if decided:
                    yield decided
            if request.items:
                outcomes, left = self._attempt(request)
                yield outcomes
                if left is not None:
                    waiting.append(left)
        last_round = self.policy.max_attempts if rounds is None else min(self.policy.max_attempts, rounds + 1)
        for round_ in range(1, last_round):
            if not waiting or not self._back_off(round_ - 1):
                break
            still: list[Unfinished] = []
            for unfinished in waiting:
                outcomes, left = self._attempt(unfinished.request, unfinished.error)
                yield outcomes
                if left is not None:
                    still.append(left)
            waiting = still
        for unfinished in waiting:
            yield fail_all(
                unfinished.request, unfinished.error.code, unfinished.error.message, retryable=True
            )

    def _back_off(self, round_: int) -> bool:
        """Sleep the backoff of ``round_`` (equal jitter, doubling to ``max_delay``) if time allows."""
        delay = min(self.policy.max_delay, self.policy.base_delay * (2**round_))
        delay = delay / 2 + self.jitter() * delay / 2
        if self.remaining() - delay < self.policy.call_reserve:
            self.stats.out_of_time = True
            return False
        self.sleep(delay)
        return True

    def _attempt(
        self, request: CopyRequest, previous: CallError | None = None
    ) -> tuple[list[Outcome], Unfinished | None]:
        """One call for ``request`` and its SKIPPED follow-ups: the outcomes decided, and what is left."""
        outcomes: list[Outcome] = []
        pending = request
        while pending.items:
            response, error = self._call(self.client.copy_package_versions, pending.api_kwargs(), copy=True)
            if error is not None:
                if error.transient or error.code == NOT_ATTEMPTED:
                    if error.code == NOT_ATTEMPTED and previous is not None:
                        error = previous  # the reason it still waits is what went wrong before
                    return outcomes, Unfinished(pending, error)
                outcomes.extend(fail_all(pending, error.code, error.message, retryable=True))
                return outcomes, None
            decided, skipped = self._decide(pending, response)
            outcomes.extend(decided)
            if not skipped:
                break
            if len(skipped) == len(pending.items):
                # Every version skipped and none failed: no progress is possible in this call.
                outcomes.extend(
                    fail_all(
                        pending,
                        "SKIPPED",
                        "every version was skipped without another failing",
                        retryable=True,
                    )
                )
                break
            pending = pending.only(skipped)
        return outcomes, None

    # ----------------------------------------------------------------- reading what an answer leaves open

    def _decide(self, request: CopyRequest, response: Any) -> tuple[list[Outcome], list[str]]:
        """Outcomes of the versions the answer settles (reading the destination where it does not), and
        the versions it skipped."""
        answer = read_answer(request, response)
        outcomes = answer.outcomes
        if answer.not_allowed:
            outcomes = self._explain_not_allowed(request, outcomes)
        if answer.unsettled:
            outcomes.extend(self._verify(request, answer.unsettled))
        return outcomes, answer.skipped

    def _explain_not_allowed(self, request: CopyRequest, outcomes: list[Outcome]) -> list[Outcome]:
        """Add to each NOT_ALLOWED outcome which origin control refused it: one DescribePackage of the
        destination package per call (promoter.origin_controls); a failed read never fails anything."""

        # Imported on the first NOT_ALLOWED: a copy the origin controls refuse is rare.
        from promoter.origin_controls import not_allowed_note, package_restrictions  # noqa: PLC0415

        def describe() -> Any:
            self.stats.describe_calls += 1
            return package_restrictions(
                self.client,
                domain=request.domain,
                domain_owner=request.domain_owner,
                repository=request.destination_repository,
                format=request.format,
                namespace=request.namespace,
                package=request.package,
            )

        restrictions, error = self._read(describe)
        if error is not None:
            note = f"the destination package's origin controls could not be read: {error.code}"
        else:
            note = not_allowed_note(restrictions)
        return with_not_allowed_note(outcomes, note)

    def _verify(self, request: CopyRequest, unsettled: Sequence[Unsettled]) -> list[Outcome]:
        """Decide versions the answer did not settle by one read of what the destination holds."""
        where = request.destination_repository
        listed, read_error = self._read(
            lambda: package_versions(self.client, request, where, on_page=self._count_verify_read)
        )
        if listed is None:
            assert read_error is not None
            problem = f"reading {where} to verify failed: {read_error.code}: {read_error.message}"
            return unverifiable(request, unsettled, problem)
        return settle(request, unsettled, revisions(listed))

    def _count_verify_read(self) -> None:
        self.stats.verify_reads += 1

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
        """The publish time from ``describe_version``."""
        return self.describe_version(candidate).published_time

    def describe_version(self, candidate: Candidate) -> VersionFacts:
        """DescribePackageVersion in the source: its publish time and origin type; used by the planner only
        for rules with a cooldown, a freeze or an origin filter."""
        kwargs = PackageAt.of(candidate, candidate.source_repository).params(packageVersion=candidate.version)

        def describe() -> Any:
            self.stats.describe_calls += 1
            return self.client.describe_package_version(**kwargs)

        response, error = self._read(describe)
        if error is not None:
            retryable = error.code not in ("ResourceNotFoundException",)
            raise LookupFailed(error.code, error.message, retryable=retryable)
        described = (response.get("packageVersion") or {}) if isinstance(response, Mapping) else {}
        value = described.get("publishedTime") if isinstance(described, Mapping) else None
        origin = described.get("origin") if isinstance(described, Mapping) else None
        kind = origin.get("originType") if isinstance(origin, Mapping) else None
        return VersionFacts(
            value if isinstance(value, datetime) else None, kind if isinstance(kind, str) and kind else None
        )

    # ----------------------------------------------------------------- API calls

    def _read(self, read: Callable[[], _T]) -> tuple[_T | None, CallError | None]:
        """A read with a few quick retries of throttling and 5xx; a timed-out read is not repeated (it would
        hang as long again), and no read starts without ``call_reserve`` seconds left."""
        error: CallError | None = None
        for attempt in range(_READ_ATTEMPTS):
            if self.remaining() < self.policy.call_reserve:
                return None, error or CallError(NOT_ATTEMPTED, "not enough time left to start the read")
            try:
                return read(), None
            except Exception as exc:  # a client must never take the batch down with it
                error = call_error(exc)
            if not error.transient or error.timed_out or attempt == _READ_ATTEMPTS - 1:
                break
            delay = self.policy.base_delay * (2**attempt)
            if self.remaining() - delay < self.policy.call_reserve:
                break
            self.sleep(delay)
        return None, error

    def _call(
        self, operation: Callable[..., Any], kwargs: dict[str, Any], *, copy: bool
    ) -> tuple[Any, CallError | None]:
        """One attempt of one call (paced when it is a copy); retries are the caller's rounds."""
        wait = self.limiter.wait_time() if (copy and self.limiter is not None) else 0.0
        if self.stats.out_of_time or self.remaining() - wait < self.policy.call_reserve:
            self.stats.out_of_time = True
            return None, CallError(NOT_ATTEMPTED, "not enough time left to start the call")
        if wait > 0:
            self.sleep(wait)
        if copy:
            if self.limiter is not None:
                self.limiter.take()
            self.stats.copy_requests += 1
        try:
            response = operation(**kwargs)
        except Exception as exc:  # a client must never take the batch down with it
            error = call_error(exc)
        else:
            if copy and self.limiter is not None:
                self.limiter.succeeded()
            return response, None
        if error.throttled and copy:
            self.stats.throttled += 1
            if self.limiter is not None:
                self.limiter.penalize()
        elif copy and self.limiter is not None and not error.transient:  # answered: AccessDenied, validation
            self.limiter.succeeded()
        return None, error


def call_error(exc: Exception) -> CallError:
    """What a failed call raised, and whether another attempt may go better."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "ClientError")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        throttled = code in THROTTLING_CODES or status == 429
        transient = throttled or code in TRANSIENT_CODES or status >= 500
        return CallError(code, str(error.get("Message") or exc)[:500], throttled, transient)
    name = type(exc).__name__
    if isinstance(exc, BotoCoreError):
        timed_out = "Timeout" in name
        transient = timed_out or "Connect" in name or "ConnectionClosed" in name
        return CallError(name, str(exc)[:500], transient=transient, timed_out=timed_out)
    return CallError(name, str(exc)[:500])
