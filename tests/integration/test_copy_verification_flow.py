"""Copy verification over HTTP, wired as deployed, under both answers the service may give an identical copy.

The API reference says a version that already exists in the destination comes back ALREADY_EXISTS when
allowOverwrite is false, and does not exempt an identical copy; the local CodeArtifact answers that by
default and, as a selectable variant, leaves an identical copy out of both maps. Every path where the pinned
build can already be in release must end ``already_present`` (never a final failure, never an alarm) under
either answer: a retry after a lost answer, a duplicate delivery (catch-up on and off), catch-up's listing
failing with a 5xx, another invocation that copied it first, and reconcile that got there first.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import app
import pytest
from codeartifact_moto.testing import AwsEnv
from promoter_dev.lambda_context import LambdaContext

from .flow import DOMAIN, STAGING_TO_RELEASE, Pipeline, configure_function


@dataclass
class Flow(Pipeline):
    def outcomes(self) -> list[tuple[str, str | None, bool | None]]:
        """(outcome, errorCode, retryable) of every outcome line so far."""
        return [
            (line["outcome"], line.get("errorCode"), line.get("retryable"))
            for line in self.log_lines()
            if "outcome" in line and "package" in line
        ]


@pytest.fixture
def flow(
    aws_server: AwsEnv, service_variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flow]:
    """The deployed wiring over HTTP, the local CodeArtifact answering as ``service_variant``."""
    assert aws_server.control.service_variant() == service_variant
    configure_function(monkeypatch, tmp_path, STAGING_TO_RELEASE)
    monkeypatch.setenv("PROMOTER_CALL_TIMEOUT_SECONDS", "1")
    yield Flow.deploy(aws_server, ["staging"], monkeypatch)
    app.reset_state()


def release_revision(flow: Flow, package: str, version: str = "1.0.0") -> str | None:
    found = flow.version("release", "npm", package, version)
    return None if found is None else str(found["revision"])


def copy_by_hand(flow: Flow, package: str, revision: str, version: str = "1.0.0") -> None:
    """Another invocation (or a person) copies the pinned build into release first."""
    flow.codeartifact.copy_package_versions(
        domain=DOMAIN,
        sourceRepository="staging",
        destinationRepository="release",
        format="npm",
        package=package,
        versionRevisions={version: revision},
    )


def test_a_duplicate_delivery_is_already_present(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a version promoted once
    revision = flow.publish("staging", "npm", "dup", "1.0.0")
    [message] = flow.receive()
    body = message["Body"]
    flow.invoke([message])
    assert release_revision(flow, "dup") == revision
    # When its event is delivered again, with catch-up on and then off
    for catch_up in ("true", "false"):
        monkeypatch.setenv("PROMOTER_CATCH_UP", catch_up)
        app.reset_state()
        flow.sqs.send_message(QueueUrl=flow.queue_url, MessageBody=body)
        assert flow.drain() == 1
    # Then each duplicate is already_present, nothing fails and nothing goes back to the queue
    assert [o[0] for o in flow.outcomes()] == ["promoted", "already_present", "already_present"]
    assert all(r == {"batchItemFailures": []} for r in flow.responses)


@pytest.mark.parametrize("catch_up", ["true", "false"])
def test_another_invocation_copied_it_first(
    flow: Flow, monkeypatch: pytest.MonkeyPatch, catch_up: str
) -> None:
    monkeypatch.setenv("PROMOTER_CATCH_UP", catch_up)
    revision = flow.publish("staging", "npm", "raced", "1.0.0")
    [message] = flow.receive()
    copy_by_hand(flow, "raced", revision)
    response = flow.invoke([message])
    assert response == {"batchItemFailures": []}
    assert flow.outcomes() == [("already_present", None, None)]


def test_a_retry_after_a_lost_answer_whose_copy_went_through(flow: Flow) -> None:
    # Given a copy answered slower than the client's read timeout (the server still copies)
    revision = flow.publish("staging", "npm", "slow", "1.0.0")
    flow.env.control.inject_fault("CopyPackageVersions", "", count=1, delay_seconds=1.2)
    # and the first retry throttled, so that the second one surely comes after the slow copy has landed
    flow.env.control.inject_fault("CopyPackageVersions", "ThrottlingException", count=1)
    # When its event is delivered
    assert flow.drain() == 1
    # Then the retry's answer is verified against release: already there, pinned
    assert release_revision(flow, "slow") == revision
    assert flow.outcomes() == [("already_present", None, None)]
    assert flow.responses == [{"batchItemFailures": []}]


def test_catch_up_listing_failing_with_5xx(flow: Flow) -> None:
    revision = flow.publish("staging", "npm", "listed", "1.0.0")
    [message] = flow.receive()
    copy_by_hand(flow, "listed", revision)
    flow.env.control.inject_fault("ListPackageVersions", "InternalServerException", count=1, status=500)
    response = flow.invoke([message])
    assert response == {"batchItemFailures": []}
    assert flow.outcomes() == [("already_present", None, None)]


def test_reconcile_got_there_first(flow: Flow) -> None:
    # Given a version reconcile promotes before its event is delivered
    revision = flow.publish("staging", "npm", "reconciled", "1.0.0")
    [message] = flow.receive()
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "time": "2026-12-06T00:00:00Z"}
    app.lambda_handler(scheduled, LambdaContext())
    assert release_revision(flow, "reconciled") == revision
    # When the event arrives
    response = flow.invoke([message])
    # Then it is already_present
    assert response == {"batchItemFailures": []}
    assert flow.outcomes() == [("promoted", None, None), ("already_present", None, None)]


def test_another_build_in_release_stays_the_final_conflict(flow: Flow) -> None:
    flow.env.control.seed_package_version(
        DOMAIN, "release", "npm", "clash", "1.0.0", assets={"x.tgz": b"another build"}
    )
    flow.publish("staging", "npm", "clash", "1.0.0")
    assert flow.drain() == 1
    assert flow.outcomes() == [("failed", "ALREADY_EXISTS", False)]
    assert flow.responses == [{"batchItemFailures": []}]


# ----------------------------------------------------------------------------- odd answers over the wire

UNSETTLED = ["empty-body", "empty-object", "null-maps", "unrequested-versions", "html", "unparseable"]


@pytest.mark.parametrize("kind", UNSETTLED)
def test_an_answer_naming_nothing_goes_back_to_the_queue_when_nothing_landed(flow: Flow, kind: str) -> None:
    flow.publish("staging", "npm", "odd", "1.0.0")
    flow.env.control.inject_answer("CopyPackageVersions", kind, perform=False)
    [message] = flow.receive()
    response = flow.invoke([message])
    assert response == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert flow.outcomes() == [("failed", "Unverified", True)]
    assert release_revision(flow, "odd") is None


@pytest.mark.parametrize("kind", UNSETTLED)
def test_an_answer_naming_nothing_is_already_present_when_the_copy_landed(flow: Flow, kind: str) -> None:
    revision = flow.publish("staging", "npm", "odd", "1.0.0")
    flow.env.control.inject_answer("CopyPackageVersions", kind, perform=True)
    assert flow.drain() == 1
    assert flow.outcomes() == [("already_present", None, None)]
    assert release_revision(flow, "odd") == revision
    assert flow.responses == [{"batchItemFailures": []}]


def test_success_naming_another_revision_is_not_a_promotion(flow: Flow) -> None:
    flow.publish("staging", "npm", "other", "1.0.0")
    flow.env.control.inject_answer("CopyPackageVersions", "other-revision", perform=False)
    [message] = flow.receive()
    response = flow.invoke([message])
    assert response["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    assert flow.outcomes() == [("failed", "UnexpectedRevision", True)]
    # and its next delivery promotes it
    assert flow.drain() == 1
    assert flow.outcomes()[-1] == ("promoted", None, None)


@pytest.mark.parametrize("kind", ["unknown-error-code", "missing-error-code", "null-error-code"])
def test_an_error_code_nobody_documented_is_retryable(flow: Flow, kind: str) -> None:
    revision = flow.publish("staging", "npm", "coded", "1.0.0")
    flow.env.control.inject_answer("CopyPackageVersions", kind, perform=False)
    assert flow.drain() == 2  # handed back once, promoted on the next delivery
    [first, second] = flow.outcomes()
    assert (first[0], first[2]) == ("failed", True)
    assert second == ("promoted", None, None)
    assert release_revision(flow, "coded") == revision


# ----------------------------------------------------------------------------- one stuck package


@pytest.mark.parametrize(
    "fault",
    [
        {"error_code": "ThrottlingException", "rate": 1.0},
        {"error_code": "InternalServerException", "rate": 1.0, "status": 500},
        {"error_code": "", "rate": 1.0, "delay_seconds": 1.5},
    ],
    ids=["throttled", "5xx", "hangs-past-the-read-timeout"],
)
def test_a_stuck_package_does_not_starve_the_others(flow: Flow, fault: dict[str, Any]) -> None:
    # Given a batch of a stuck package (published first) and two healthy ones, 6 s left, calls of 1 s
    for package in ("stuck", "healthy-a", "healthy-b"):
        flow.publish("staging", "npm", package, "1.0.0")
    for operation in ("CopyPackageVersions", "ListPackageVersions"):
        flow.env.control.inject_fault(operation, package="stuck", **fault)
    messages = flow.receive()
    assert len(messages) == 3
    started = time.monotonic()
    response = flow.invoke(messages, LambdaContext(6.0))
    elapsed = time.monotonic() - started
    # Then the healthy ones are promoted, only the stuck one goes back, and the handler kept its deadline
    stuck = next(m["MessageId"] for m in messages if '"stuck"' in m["Body"])
    assert response == {"batchItemFailures": [{"itemIdentifier": stuck}]}
    assert release_revision(flow, "healthy-a") is not None
    assert release_revision(flow, "healthy-b") is not None
    if not fault.get("delay_seconds"):  # a hung copy may still land: its next delivery verifies it
        assert release_revision(flow, "stuck") is None
    assert elapsed < 6.0
