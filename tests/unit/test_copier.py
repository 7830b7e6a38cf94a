"""The copier against CopyPackageVersions' real answers: every error code, SKIPPED follow-ups,
throttling with backoff, the remaining-time budget, and pacing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from promoter.copier import Copier, RetryPolicy
from promoter.holds import LookupFailed
from promoter.outcomes import ALREADY_PRESENT, FAILED, NOT_ATTEMPTED, PROMOTED, SUPERSEDED
from promoter.pacing import RateLimiter
from promoter.planner import CopyRequest, plan

from .conftest import NOW, FakeClock, candidate, rules
from .fake_codeartifact import IDENTICAL_OMITTED, FakeCodeArtifact, client_error


def requests_for(*cands: Any) -> list[CopyRequest]:
    return plan(list(cands), rules(), now=NOW).requests


class Scripted:
    """Answers CopyPackageVersions with prepared responses (or raises prepared errors)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def copy_package_versions(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def copier(client: Any, clock: FakeClock | None = None, **kwargs: Any) -> Copier:
    clock = clock or FakeClock()
    return Copier(client, sleep=clock.sleep, jitter=lambda: 0.5, **kwargs)


def statuses(outcomes: list[Any]) -> dict[str, tuple[str, str | None]]:
    return {o.candidate.version: (o.status, o.error_code) for o in outcomes}


def test_promoted_and_already_present(fake: FakeCodeArtifact) -> None:
    rev_a = fake.publish("acme", "staging", "npm", "widgets", "1.0.0")
    rev_b = fake.publish("acme", "staging", "npm", "widgets", "1.1.0")
    fake.publish("acme", "release", "npm", "widgets", "1.1.0", revision=rev_b)
    outcomes = copier(fake).copy_all(
        requests_for(candidate(revision=rev_a), candidate(version="1.1.0", revision=rev_b))
    )
    assert statuses(outcomes) == {"1.0.0": (PROMOTED, None), "1.1.0": (ALREADY_PRESENT, None)}
    assert fake.get("acme", "release", "npm", "widgets", "1.0.0").revision == rev_a  # type: ignore[union-attr]
    # Documented: 1.1.0 answers ALREADY_EXISTS (1.0.0 SKIPPED, copied by a follow-up); the variant leaves it
    # out of both maps. Either way one read of release shows the pinned revision there.
    assert len(fake.calls) == (1 if fake.variant == IDENTICAL_OMITTED else 2)
    assert [call["repository"] for call in fake.list_calls] == ["release"]


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("MISMATCHED_STATUS", FAILED, False),
        ("NOT_ALLOWED", FAILED, False),
        ("NOT_FOUND", FAILED, False),
        ("MISMATCHED_REVISION", SUPERSEDED, False),
        ("SOMETHING_NEW", FAILED, True),
    ],
)
def test_each_failed_version_code(code: str, status: str, retryable: bool) -> None:
    client = Scripted(
        {"successfulVersions": {}, "failedVersions": {"1.0.0": {"errorCode": code, "errorMessage": "m"}}}
    )
    [outcome] = copier(client).copy_all(requests_for(candidate()))
    assert (outcome.status, outcome.error_code, outcome.retryable) == (status, code, retryable)
    assert outcome.destination == "release"
    assert outcome.rule == "to-release"


def test_skipped_versions_are_retried_without_the_failed_ones(fake: FakeCodeArtifact) -> None:
    # Given three versions, one of which already exists in release with other content
    revs = {v: fake.publish("acme", "staging", "npm", "widgets", v) for v in ("1.0.0", "1.1.0", "1.2.0")}
    fake.publish("acme", "release", "npm", "widgets", "1.1.0", revision="different")
    cands = [candidate(version=v, revision=r) for v, r in revs.items()]
    # When they are copied in one request
    outcomes = copier(fake).copy_all(requests_for(*cands))
    # Then the conflict fails alone and the others are promoted by a follow-up call
    assert statuses(outcomes) == {
        "1.0.0": (PROMOTED, None),
        "1.1.0": (FAILED, "ALREADY_EXISTS"),
        "1.2.0": (PROMOTED, None),
    }
    assert [sorted(c["versionRevisions"]) for c in fake.calls] == [
        ["1.0.0", "1.1.0", "1.2.0"],
        ["1.0.0", "1.2.0"],
    ]


def test_stale_revision_is_superseded(fake: FakeCodeArtifact) -> None:
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision="new")
    [outcome] = copier(fake).copy_all(requests_for(candidate(revision="old")))
    assert (outcome.status, outcome.error_code) == (SUPERSEDED, "MISMATCHED_REVISION")
    assert fake.get("acme", "release", "npm", "widgets", "1.0.0") is None


def test_all_skipped_without_a_failure_does_not_loop() -> None:
    answer = {"successfulVersions": {}, "failedVersions": {"1.0.0": {"errorCode": "SKIPPED"}}}
    client = Scripted(answer)
    [outcome] = copier(client).copy_all(requests_for(candidate()))
    assert (outcome.status, outcome.error_code, outcome.retryable) == (FAILED, "SKIPPED", True)
    assert len(client.calls) == 1


def test_throttling_is_absorbed_with_backoff(fake: FakeCodeArtifact) -> None:
    rev = fake.publish("acme", "staging", "npm", "widgets", "1.0.0")
    fake.faults = [client_error("ThrottlingException", 429), client_error("InternalServerException", 500)]
    clock = FakeClock()
    c = copier(fake, clock)
    [outcome] = c.copy_all(requests_for(candidate(revision=rev)))
    assert outcome.status == PROMOTED
    assert (c.stats.copy_requests, c.stats.throttled) == (3, 1)
    # exponential backoff with jitter (fixed at 0.5 here): 0.2 -> 0.15, 0.4 -> 0.3
    assert clock.sleeps == pytest.approx([0.15, 0.3])


def test_retries_run_out_into_a_retryable_failure(fake: FakeCodeArtifact) -> None:
    fake.faults = [client_error("ThrottlingException", 400) for _ in range(10)]
    c = copier(fake, policy=RetryPolicy(max_attempts=4))
    [outcome] = c.copy_all(requests_for(candidate()))
    assert (outcome.status, outcome.error_code, outcome.retryable) == (FAILED, "ThrottlingException", True)
    assert c.stats.copy_requests == 4
    assert c.stats.throttled == 4


@pytest.mark.parametrize(
    "code", ["AccessDeniedException", "ResourceNotFoundException", "ValidationException"]
)
def test_call_level_errors_fail_every_version_retryably_without_retrying(code: str) -> None:
    client = Scripted(client_error(code, 403))
    outcomes = copier(client).copy_all(requests_for(candidate(), candidate(version="1.1.0")))
    assert {(o.status, o.error_code, o.retryable) for o in outcomes} == {(FAILED, code, True)}
    assert len(client.calls) == 1


def test_unexpected_client_exceptions_never_escape() -> None:
    client = Scripted(RuntimeError("boom"))
    [outcome] = copier(client).copy_all(requests_for(candidate()))
    assert (outcome.status, outcome.error_code, outcome.retryable) == (FAILED, "RuntimeError", True)


def test_no_call_starts_without_enough_time(fake: FakeCodeArtifact) -> None:
    c = copier(fake, remaining=lambda: 5.0, policy=RetryPolicy(call_reserve=12.0))
    outcomes = c.copy_all(requests_for(candidate(), candidate(package="other")))
    assert {(o.status, o.error_code, o.retryable) for o in outcomes} == {(FAILED, NOT_ATTEMPTED, True)}
    assert fake.calls == []


def test_backoff_never_sleeps_past_the_deadline(fake: FakeCodeArtifact) -> None:
    clock = FakeClock()
    fake.faults = [client_error("ThrottlingException", 400) for _ in range(10)]
    c = copier(fake, clock, remaining=lambda: 13.0 - clock.now, policy=RetryPolicy(call_reserve=12.0))
    [outcome] = c.copy_all(requests_for(candidate()))
    assert (outcome.error_code, outcome.retryable) == ("ThrottlingException", True)
    assert clock.now <= 1.0


def test_time_runs_out_between_requests(fake: FakeCodeArtifact) -> None:
    for package in ("a", "b", "c"):
        fake.publish("acme", "staging", "npm", package, "1.0.0", revision="r")
    budget = iter([100.0, 100.0, 1.0, 1.0, 1.0, 1.0])
    c = copier(fake, remaining=lambda: next(budget), policy=RetryPolicy(call_reserve=12.0))
    outcomes = c.copy_all(requests_for(*(candidate(package=p, revision="r") for p in ("a", "b", "c"))))
    assert [(o.candidate.package, o.status) for o in outcomes] == [  # type: ignore[union-attr]
        ("a", PROMOTED),
        ("b", PROMOTED),
        ("c", FAILED),
    ]
    assert outcomes[-1].error_code == NOT_ATTEMPTED


def test_rate_limiter_paces_to_the_quota() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5.0, burst=1.0, clock=clock)
    starts = []
    for _ in range(6):
        wait = limiter.wait_time()
        clock.sleep(wait)
        limiter.take()
        starts.append(round(clock.now, 6))
    assert starts == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_throttle_empties_the_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5.0, clock=clock)
    assert limiter.wait_time() == 0
    limiter.penalize()
    assert limiter.wait_time() == pytest.approx(0.2)


def test_rate_zero_means_unpaced() -> None:
    limiter = RateLimiter(0.0)
    for _ in range(100):
        assert limiter.wait_time() == 0
        limiter.take()


def test_copies_are_paced_by_the_limiter(fake: FakeCodeArtifact) -> None:
    clock = FakeClock()
    c = copier(fake, clock, limiter=RateLimiter(5.0, burst=1.0, clock=clock))
    for p in "abcd":
        fake.publish("acme", "staging", "npm", p, "1.0.0", revision="r")
    c.copy_all(requests_for(*(candidate(package=p, revision="r") for p in "abcd")))
    assert clock.now == pytest.approx(0.6)
    assert len(fake.calls) == 4


def test_published_time_lookup(fake: FakeCodeArtifact) -> None:
    when = datetime(2026, 11, 20, tzinfo=UTC)
    fake.publish("acme", "staging", "maven", "core", "1.0", namespace="com.acme", published_time=when)
    c = copier(fake)
    assert (
        c.published_time(candidate(format="maven", namespace="com.acme", package="core", version="1.0"))
        == when
    )
    assert fake.describe_calls[0]["namespace"] == "com.acme"
    with pytest.raises(LookupFailed) as info:
        c.published_time(candidate(package="missing"))
    assert (info.value.code, info.value.retryable) == ("ResourceNotFoundException", False)
    fake.describe_faults = [client_error("AccessDeniedException", 403, operation="DescribePackageVersion")]
    with pytest.raises(LookupFailed) as info:
        c.published_time(candidate(format="maven", namespace="com.acme", package="core", version="1.0"))
    assert info.value.retryable
