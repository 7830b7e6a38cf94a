"""CopyPackageVersions calls: pacing, fair retries, follow-ups, and one verified Outcome per version.

A version is reported done only when the answer names it with the pinned revision, or a read of the
destination (ListPackageVersions) shows that revision there. What each answer means here:

- ``successfulVersions[v]`` with the pinned revision      -> promoted
- ``successfulVersions[v]`` with another or no revision   -> destination read: pinned revision there ->
                                                              already_present; else failed, retryable
- ``failedVersions[v].errorCode == ALREADY_EXISTS``       -> destination read: pinned revision there ->
                                                              already_present; another revision -> failed,
                                                              final; unreadable or absent -> retryable
- ``failedVersions[v].errorCode == MISMATCHED_REVISION``  -> superseded (a newer event follows)
- ``failedVersions[v].errorCode == SKIPPED``              -> retried in a follow-up call without the failures
- ``MISMATCHED_STATUS``, ``NOT_ALLOWED``, ``NOT_FOUND``    -> failed, final (retrying cannot change it);
                                                              after a NOT_ALLOWED one DescribePackage of the
                                                              destination package says which control refused
                                                              it (its own origin controls, or else a package
                                                              group's); a failed read only says so
- any other code (unknown, missing, null)                  -> failed, retryable, with the raw code and message
- in neither map (an empty, ``{}``, ``null`` or unparsable body, a proxy's page)
                                                           -> destination read, as for ALREADY_EXISTS, but
                                                              another revision there is retryable

A call-level error that is not transient (AccessDenied, ResourceNotFound, validation) fails every version of
the call as *retryable*: the handler gives their records back to the queue, so nothing is lost and the
dead-letter queue keeps what never succeeds.

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
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from promoter.destination import IDENTICAL, OTHER_REVISION, compare, package_versions, revisions
from promoter.events import Candidate
from promoter.origin_controls import not_allowed_note, package_restrictions
from promoter.outcomes import (
    ALREADY_EXISTS,
    ALREADY_PRESENT,
    FAILED,
    NOT_ATTEMPTED,
    PROMOTED,
    SUPERSEDED,
    UNEXPECTED_REVISION,
    UNKNOWN_CODE,
    UNVERIFIED,
    Outcome,
)
from promoter.pacing import RateLimiter
from promoter.planner import CopyRequest, LookupFailed, PlannedVersion, VersionFacts
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
_T = TypeVar("_T")


def no_deadline() -> float:
    return float("inf")


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


@dataclass(slots=True)
class CopyStats:
    """What the copier's calls cost."""

    copy_requests: int = 0
    throttled: int = 0
    describe_calls: int = 0
    verify_reads: int = 0
    """ListPackageVersions calls that read a destination to verify an answer."""
    out_of_time: bool = False


@dataclass(frozen=True, slots=True)
class CallError:
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


@dataclass(frozen=True, slots=True)
class Unfinished:
    """What is left of a request after an attempt that failed in a transient way, and why."""

    request: CopyRequest
    error: CallError


Prepare = Callable[[CopyRequest], tuple[CopyRequest, list[Outcome]]]
"""Turns a planned request into the call to make and outcomes decided without it (catch-up); may raise
``ReadFailed``."""

_DOCUMENTED_FINAL = frozenset({"MISMATCHED_STATUS", "NOT_ALLOWED", "NOT_FOUND"})
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
            yield _all(
                unfinished.request,
                FAILED,
                unfinished.error.code,
                unfinished.error.message,
                retryable=True,
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
                outcomes.extend(_all(pending, FAILED, error.code, error.message, retryable=True))
                return outcomes, None
            decided, skipped = self._decide(pending, response)
            outcomes.extend(decided)
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
        return outcomes, None

    # ----------------------------------------------------------------- what an answer means

    def _decide(self, request: CopyRequest, response: Any) -> tuple[list[Outcome], list[str]]:
        """Outcomes of the versions the answer settles (reading the destination where it does not), and
        the versions it skipped."""
        succeeded = _answer_map(response, "successfulVersions")
        failed = _answer_map(response, "failedVersions")
        outcomes: list[Outcome] = []
        skipped: list[str] = []
        to_verify: list[tuple[PlannedVersion, str, str | None]] = []  # (item, why, revision named)
        for item in request.items:
            candidate = item.candidate
            version, pinned = candidate.version, candidate.revision
            success = succeeded.get(version)
            failure = failed.get(version)
            if isinstance(success, Mapping):
                named = success.get("revision")
                named = named if isinstance(named, str) and named else None
                if named is not None and (pinned is None or named == pinned):
                    outcomes.append(_outcome(request, candidate, item.rule, PROMOTED, revision=named))
                else:
                    to_verify.append((item, UNEXPECTED_REVISION if named else UNVERIFIED, named))
            elif version in failed:
                code = failure.get("errorCode") if isinstance(failure, Mapping) else None
                message = failure.get("errorMessage") if isinstance(failure, Mapping) else None
                text = str(message)[:500] if message is not None else ""
                if code == "SKIPPED":
                    skipped.append(version)
                elif code == "MISMATCHED_REVISION":
                    outcomes.append(
                        _outcome(request, candidate, item.rule, SUPERSEDED, code=code, message=text)
                    )
                elif code == ALREADY_EXISTS:
                    to_verify.append((item, ALREADY_EXISTS, None))
                elif code in _DOCUMENTED_FINAL:
                    outcomes.append(_outcome(request, candidate, item.rule, FAILED, code=code, message=text))
                else:
                    raw = code if isinstance(code, str) and code else UNKNOWN_CODE
                    outcomes.append(
                        _outcome(
                            request,
                            candidate,
                            item.rule,
                            FAILED,
                            code=raw[:100],
                            message=f"errorCode {code!r}, errorMessage {message!r}"[:500],
                            retryable=True,
                        )
                    )
            else:
                to_verify.append((item, UNVERIFIED, None))
        if any(o.error_code == "NOT_ALLOWED" for o in outcomes):
            outcomes = self._explain_not_allowed(request, outcomes)
        if to_verify:
            outcomes.extend(self._verify(request, to_verify))
        return outcomes, skipped

    def _explain_not_allowed(self, request: CopyRequest, outcomes: list[Outcome]) -> list[Outcome]:
        """Add to each NOT_ALLOWED outcome which origin control refused it: one DescribePackage of the
        destination package per call (promoter.origin_controls); a failed read never fails anything."""

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
        return [
            o._replace(error_message=f"{o.error_message}; {note}"[:500])
            if o.error_code == "NOT_ALLOWED"
            else o
            for o in outcomes
        ]

    def _verify(
        self, request: CopyRequest, items: Sequence[tuple[PlannedVersion, str, str | None]]
    ) -> list[Outcome]:
        """Decide versions the answer did not settle by what the destination holds (``destination.compare``,
        the rule every path shares): the pinned revision there is success, whatever the answer said."""
        where = request.destination_repository
        listed, read_error = self._read(
            lambda: package_versions(self.client, request, where, on_page=self._count_verify_read)
        )
        if listed is None:
            assert read_error is not None
            problem = f"reading {where} to verify failed: {read_error.code}: {read_error.message}"
            return [
                _outcome(
                    request,
                    item.candidate,
                    item.rule,
                    FAILED,
                    code=why,
                    message=f"{_unsettled(why, named, item.candidate.revision, where)}; {problem}",
                    retryable=True,
                    revision=named,
                )
                for item, why, named in items
            ]
        held = revisions(listed)
        return [_verdict(request, item, why, named, held) for item, why, named in items]

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


def _verdict(
    request: CopyRequest, item: PlannedVersion, why: str, named: str | None, held: Mapping[str, str | None]
) -> Outcome:
    """The outcome of one unsettled version, given what the destination holds (version -> revision)."""
    candidate = item.candidate
    where = request.destination_repository
    state = compare(held, candidate.version, candidate.revision)
    there = held.get(candidate.version)
    if state == IDENTICAL:
        return _outcome(request, candidate, item.rule, ALREADY_PRESENT, revision=there)
    if state == OTHER_REVISION and why == ALREADY_EXISTS and not request.allow_overwrite:
        code, retryable = ALREADY_EXISTS, False
        message = f"{where} holds revision {there} of this version, not {candidate.revision}, "
        message += "and allowOverwrite is off"
    else:
        code, retryable = why, True
        found = (
            f"{where} holds revision {there}"
            if state == OTHER_REVISION
            else f"{where} does not hold this version"
        )
        message = f"{_unsettled(why, named, candidate.revision, where)}; {found}"
    revision = there if state == OTHER_REVISION else named
    return _outcome(
        request,
        candidate,
        item.rule,
        FAILED,
        code=code,
        message=message,
        retryable=retryable,
        revision=revision,
    )


def _answer_map(response: Any, key: str) -> Mapping[str, Any]:
    """One map of a CopyPackageVersions answer, or ``{}`` for anything that is not a map (null, a string)."""
    value = response.get(key) if isinstance(response, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _unsettled(why: str, named: str | None, pinned: str | None, where: str) -> str:
    if why == ALREADY_EXISTS:
        return f"the copy answered ALREADY_EXISTS for revision {pinned}"
    if why == UNEXPECTED_REVISION:
        return f"the copy answered success with revision {named}, not the pinned {pinned}"
    return f"the copy's answer did not name this version as copied to {where}"


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
