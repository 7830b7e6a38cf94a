"""Lose nothing, trust nothing: every answer CopyPackageVersions may give (as the API reference allows,
or as a proxy or a later API version might) ends in a verified outcome, and one failing package never
starves the others of a batch.

A version is promoted or already_present only when the answer names it with the pinned revision or a read of
the destination shows that revision; anything else is a retryable failure whose record goes back to the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from promoter.copier import Copier, RetryPolicy
from promoter.outcomes import (
    ALREADY_PRESENT,
    FAILED,
    PROMOTED,
    UNEXPECTED_REVISION,
    UNVERIFIED,
    Outcome,
)
from promoter.pipeline import Dependencies, process_sqs_records, promote
from promoter.planner import CopyRequest, plan
from promoter.report import Reporter
from promoter_dev.recording_logger import RecordingLogger

from .conftest import NOW, FakeClock, candidate, event, event_for, rules, sqs_record
from .fake_codeartifact import FakeCodeArtifact, client_error, paginator

PINNED = "rev-pinned"


class Answering:
    """The in-memory CodeArtifact, whose next CopyPackageVersions answers are replaced by ``answers``.

    ``perform`` makes the real copy happen first (the answer then only misreports it), as a proxy that
    mangles a successful response would.
    """

    def __init__(self, fake: FakeCodeArtifact, *answers: Any, perform: bool = False) -> None:
        self.fake = fake
        self.answers = list(answers)
        self.perform = perform

    def copy_package_versions(self, **kwargs: Any) -> Any:
        if not self.answers:
            return self.fake.copy_package_versions(**kwargs)
        if self.perform:
            self.fake.copy_package_versions(**kwargs)
        else:
            self.fake.calls.append(kwargs)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def list_package_versions(self, **kwargs: Any) -> Any:
        return self.fake.list_package_versions(**kwargs)

    def get_paginator(self, operation: str) -> Any:
        return paginator(self, operation)

    def describe_package_version(self, **kwargs: Any) -> Any:
        return self.fake.describe_package_version(**kwargs)


def request(*versions: str, package: str = "widgets", revision: str = PINNED) -> list[CopyRequest]:
    cands = [candidate(package=package, version=v, revision=revision) for v in versions]
    return plan(cands, rules(), now=NOW).requests


def copier(client: Any, clock: FakeClock | None = None, **kwargs: Any) -> Copier:
    clock = clock or FakeClock()
    return Copier(client, sleep=clock.sleep, jitter=lambda: 0.5, **kwargs)


def one(outcomes: list[Outcome]) -> tuple[str, str | None, bool]:
    [outcome] = outcomes
    return outcome.status, outcome.error_code, outcome.retryable


ODD_ANSWERS = [
    pytest.param({}, id="empty-object"),
    pytest.param({"successfulVersions": None, "failedVersions": None}, id="null-maps"),
    pytest.param({"successfulVersions": {}, "failedVersions": {}}, id="empty-maps"),
    pytest.param({"successfulVersions": {"9.9.9": {"revision": "x"}}}, id="names-another-version"),
    pytest.param({"message": "<html><body>502 Bad Gateway</body></html>"}, id="proxy-page"),
    pytest.param(None, id="no-body"),
    pytest.param("not a map", id="a-string"),
    pytest.param({"successfulVersions": {"1.0.0": None}}, id="success-without-details"),
    pytest.param({"successfulVersions": {"1.0.0": {"status": "Published"}}}, id="success-without-revision"),
    pytest.param({"successfulVersions": "1.0.0"}, id="map-is-a-string"),
]


# ----------------------------------------------------------------------------- 1. verified or retried


@pytest.mark.parametrize("answer", ODD_ANSWERS)
def test_an_answer_that_names_nothing_is_not_success(fake: FakeCodeArtifact, answer: Any) -> None:
    # Given a version whose copy is answered with something that does not name it
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision=PINNED)
    client = Answering(fake, answer)
    # When it is copied and the copy did not happen
    outcomes = copier(client).copy_all(request("1.0.0"))
    # Then it is a retryable failure, decided by a read of the destination
    assert one(outcomes) == (FAILED, UNVERIFIED, True)
    assert "does not hold this version" in (outcomes[0].error_message or "")
    assert [c["repository"] for c in fake.list_calls] == ["release"]


def test_success_with_another_revision_is_a_retryable_failure_naming_both(fake: FakeCodeArtifact) -> None:
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision=PINNED)
    fake.publish("acme", "release", "npm", "widgets", "1.0.0", revision="rev-other")
    answer = {"successfulVersions": {"1.0.0": {"revision": "rev-other", "status": "Published"}}}
    outcomes = copier(Answering(fake, answer)).copy_all(request("1.0.0"))
    assert one(outcomes) == (FAILED, UNEXPECTED_REVISION, True)
    fields = outcomes[0].log_fields()
    assert (fields["revision"], fields["destinationRevision"]) == (PINNED, "rev-other")
    assert "rev-other" in fields["errorMessage"]
    assert PINNED in fields["errorMessage"]


def test_success_with_another_revision_is_already_present_when_the_pinned_one_is_there(
    fake: FakeCodeArtifact,
) -> None:
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision=PINNED)
    answer = {"successfulVersions": {"1.0.0": {"revision": "rev-other"}}}
    outcomes = copier(Answering(fake, answer, perform=True)).copy_all(request("1.0.0"))
    assert one(outcomes) == (ALREADY_PRESENT, None, False)


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        ({"errorCode": "QUOTA_PER_PACKAGE", "errorMessage": "new in 2027"}, "QUOTA_PER_PACKAGE"),
        ({"errorMessage": "no code"}, "UNKNOWN"),
        ({"errorCode": None, "errorMessage": None}, "UNKNOWN"),
        ({"errorCode": ""}, "UNKNOWN"),
        (None, "UNKNOWN"),
        ("garbage", "UNKNOWN"),
    ],
)
def test_an_unknown_error_code_is_retryable_and_quoted(fake: FakeCodeArtifact, entry: Any, code: str) -> None:
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision=PINNED)
    outcomes = copier(Answering(fake, {"failedVersions": {"1.0.0": entry}})).copy_all(request("1.0.0"))
    assert one(outcomes) == (FAILED, code, True)
    raw = entry.get("errorCode") if isinstance(entry, dict) else None
    assert repr(raw) in (outcomes[0].error_message or "")


def test_the_documented_final_codes_stay_final(fake: FakeCodeArtifact) -> None:
    for code in ("MISMATCHED_STATUS", "NOT_ALLOWED", "NOT_FOUND"):
        answer = {"failedVersions": {"1.0.0": {"errorCode": code, "errorMessage": "m"}}}
        assert one(copier(Answering(fake, answer)).copy_all(request("1.0.0"))) == (FAILED, code, False)


# ----------------------------------------------------------------------------- 2. ALREADY_EXISTS


def test_already_exists_for_the_pinned_build_is_already_present(fake: FakeCodeArtifact) -> None:
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision=PINNED)
    fake.publish("acme", "release", "npm", "widgets", "1.0.0", revision=PINNED)
    answer = {"failedVersions": {"1.0.0": {"errorCode": "ALREADY_EXISTS", "errorMessage": "exists"}}}
    outcomes = copier(Answering(fake, answer)).copy_all(request("1.0.0"))
    assert one(outcomes) == (ALREADY_PRESENT, None, False)


def test_already_exists_for_another_build_is_the_final_conflict(fake: FakeCodeArtifact) -> None:
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision=PINNED)
    fake.publish("acme", "release", "npm", "widgets", "1.0.0", revision="rev-other")
    outcomes = copier(fake).copy_all(request("1.0.0"))
    assert one(outcomes) == (FAILED, "ALREADY_EXISTS", False)
    assert outcomes[0].log_fields()["destinationRevision"] == "rev-other"


def test_already_exists_when_the_destination_cannot_be_read_is_retryable(fake: FakeCodeArtifact) -> None:
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision=PINNED)
    fake.publish("acme", "release", "npm", "widgets", "1.0.0", revision=PINNED)
    answer = {"failedVersions": {"1.0.0": {"errorCode": "ALREADY_EXISTS"}}}
    fake.list_faults = [client_error("AccessDeniedException", 403, operation="ListPackageVersions")]
    outcomes = copier(Answering(fake, answer)).copy_all(request("1.0.0"))
    assert one(outcomes) == (FAILED, "ALREADY_EXISTS", True)
    assert "AccessDeniedException" in (outcomes[0].error_message or "")


@pytest.mark.parametrize(
    "answer",
    [
        *ODD_ANSWERS,
        pytest.param(ReadTimeoutError(endpoint_url="https://x"), id="lost-read-timeout"),
        pytest.param(ConnectionClosedError(endpoint_url="https://x"), id="lost-connection-reset"),
    ],
)
def test_an_answer_that_settles_nothing_is_already_present_when_the_destination_shows_it(
    fake: FakeCodeArtifact, answer: Any
) -> None:
    # Given a copy that lands but whose answer names nothing, or is lost (read timeout, connection reset)
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision=PINNED)
    client = Answering(fake, answer, perform=True)
    # When it is copied (a lost answer is retried)
    outcomes = copier(client).copy_all(request("1.0.0"))
    # Then the answer, or the retry's (ALREADY_EXISTS as documented, or nothing), is verified against release
    assert one(outcomes) == (ALREADY_PRESENT, None, False)
    assert outcomes[0].revision == PINNED
    assert len(fake.calls) == (2 if isinstance(answer, Exception) else 1)


def test_a_duplicate_delivery_is_already_present_with_catch_up_on_and_off(fake: FakeCodeArtifact) -> None:
    rev = fake.publish("acme", "staging", "npm", "widgets", "1.0.0")
    for catch_up in (True, False, True, False):
        log = RecordingLogger()
        deps = Dependencies(fake, rules(), Reporter(log), clock=lambda: NOW, catch_up=catch_up)
        retry = process_sqs_records([sqs_record(event_for("1.0.0", rev), "m-1")], deps)
        assert retry == set()
        assert [line["outcome"] for line in log.outcomes()] in ([PROMOTED], [ALREADY_PRESENT])
    assert fake.get("acme", "release", "npm", "widgets", "1.0.0").revision == rev  # type: ignore[union-attr]


def test_catch_up_listing_failing_with_5xx_still_ends_already_present(fake: FakeCodeArtifact) -> None:
    # Given the pinned build already in release, and release's listing failing once with a 5xx
    rev = fake.publish("acme", "staging", "npm", "widgets", "1.0.0")
    fake.publish("acme", "release", "npm", "widgets", "1.0.0", revision=rev)
    fake.list_faults = [client_error("InternalServerException", 500, operation="ListPackageVersions")]
    deps = Dependencies(fake, rules(), Reporter(RecordingLogger()), clock=lambda: NOW, sleep=lambda _: None)
    # When its event arrives
    outcomes = promote([candidate(revision=rev)], deps)
    # Then the copy's answer is verified by a read of release
    assert [(o.status, o.retryable) for o in outcomes] == [(ALREADY_PRESENT, False)]


# ----------------------------------------------------------------------------- 3. fair time


class StuckPackage:
    """The in-memory CodeArtifact where every call naming ``package`` fails with ``fail()``; ``cost`` is the
    time each such call takes on ``clock`` (a hung connection costs the client's read timeout)."""

    def __init__(
        self,
        fake: FakeCodeArtifact,
        clock: FakeClock,
        package: str,
        fail: Callable[[], Exception],
        cost: float,
    ) -> None:
        self.fake, self.clock, self.package, self.fail, self.cost = fake, clock, package, fail, cost
        self.stuck_calls = 0

    def _maybe_fail(self, kwargs: dict[str, Any]) -> None:
        self.clock.now += 0.05
        if kwargs["package"] == self.package:
            self.stuck_calls += 1
            self.clock.now += self.cost
            raise self.fail()

    def copy_package_versions(self, **kwargs: Any) -> Any:
        self._maybe_fail(kwargs)
        return self.fake.copy_package_versions(**kwargs)

    def list_package_versions(self, **kwargs: Any) -> Any:
        self._maybe_fail(kwargs)
        return self.fake.list_package_versions(**kwargs)

    def get_paginator(self, operation: str) -> Any:
        return paginator(self, operation)

    def describe_package_version(self, **kwargs: Any) -> Any:
        self._maybe_fail(kwargs)
        return self.fake.describe_package_version(**kwargs)


STUCK = [
    pytest.param(lambda: client_error("ThrottlingException", 400), 0.0, id="throttled"),
    pytest.param(lambda: client_error("InternalServerException", 500), 0.0, id="5xx"),
    pytest.param(lambda: ReadTimeoutError(endpoint_url="https://x"), 10.0, id="hangs-until-read-timeout"),
]


@pytest.mark.parametrize("catch_up", [True, False])
@pytest.mark.parametrize(("fail", "cost"), STUCK)
def test_a_stuck_package_does_not_starve_the_others(
    fake: FakeCodeArtifact, fail: Callable[[], Exception], cost: float, catch_up: bool
) -> None:
    # Given a batch of a stuck package (first in line) and two healthy ones, 30 s left, calls of 10 s at most
    clock = FakeClock()
    client = StuckPackage(fake, clock, "stuck", fail, cost)
    records = []
    for number, package in enumerate(("stuck", "healthy-a", "healthy-b")):
        rev = fake.publish("acme", "staging", "npm", package, "1.0.0")
        body = event(
            packageFormat="npm",
            packageNamespace=None,
            packageName=package,
            packageVersion="1.0.0",
            packageVersionRevision=rev,
        )
        records.append(sqs_record(body, f"m-{number}"))
    deadline = 30.0
    deps = Dependencies(
        client,
        rules(),
        Reporter(RecordingLogger()),
        clock=lambda: NOW,
        remaining=lambda: deadline - clock.now,
        policy=RetryPolicy(call_reserve=12.0),
        sleep=clock.sleep,
        catch_up=catch_up,
    )
    # When the batch is processed
    retry = process_sqs_records(records, deps)
    # Then the healthy ones are promoted, only the stuck one goes back, and the deadline is kept
    assert retry == {"m-0"}
    for package in ("healthy-a", "healthy-b"):
        assert fake.get("acme", "release", "npm", package, "1.0.0") is not None
    assert clock.now <= deadline
    assert client.stuck_calls >= 1


def test_retries_share_what_is_left_in_rounds(fake: FakeCodeArtifact) -> None:
    # Given two packages that are throttled twice each and then succeed
    for package in ("a", "b"):
        fake.publish("acme", "staging", "npm", package, "1.0.0", revision=PINNED)
    fake.faults = [client_error("ThrottlingException", 400) for _ in range(4)]
    clock = FakeClock()
    c = copier(fake, clock)
    # When both are copied
    outcomes = c.copy_all(request("1.0.0", package="a") + request("1.0.0", package="b"))
    # Then each got its first attempt before either's second: a, b, a, b, a, b
    assert [call["package"] for call in fake.calls] == ["a", "b", "a", "b", "a", "b"]
    assert {o.candidate.package: o.status for o in outcomes if o.candidate} == {"a": PROMOTED, "b": PROMOTED}
    # and one shared backoff per round (0.2 s then 0.4 s, equal jitter at 0.5)
    assert clock.sleeps == pytest.approx([0.15, 0.3])


def test_rounds_cap_the_retries_of_a_caller_that_must_move_on(fake: FakeCodeArtifact) -> None:
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision=PINNED)
    fake.faults = [client_error("ThrottlingException", 400) for _ in range(10)]
    outcomes = copier(fake).copy_all(request("1.0.0"), rounds=1)
    assert one(outcomes) == (FAILED, "ThrottlingException", True)
    assert len(fake.calls) == 2  # the first attempt and one retry round
