"""Catch-up end to end: a release's events split over batches and invocations still cost one copy call.

Wired as deployed, against the local CodeArtifact over HTTP (moto server): publish in staging -> the event
on the default bus -> an EventBridge rule -> SQS (with a dead-letter queue) -> ``app.lambda_handler`` with
the batches the event source mapping would hand it. Nothing of the promoter is faked; the copy calls are
counted by the emulator.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import app
import pytest
from codeartifact_moto.testing import AwsEnv

from .flow import DOMAIN, STAGING_TO_RELEASE, Pipeline, configure_function

VERSIONS = [f"2.0.{patch}" for patch in range(6)]


@dataclass
class Flow(Pipeline):
    """The shared pipeline, plus what these tests read: staging's one package, the log, the queues."""

    def publish_burst(self, version: str) -> str:
        return self.publish("staging", "npm", "burst", version)

    def receive_all(self, expected: int, deadline_seconds: float = 30.0) -> list[dict[str, Any]]:
        """Every message of the queue (at least ``expected``), polled with a deadline."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + deadline_seconds
        while len(messages) < expected and time.monotonic() < deadline:
            messages += self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=1
            ).get("Messages", [])
        assert len(messages) == expected, f"{len(messages)} of {expected} messages arrived"
        return messages

    def outcomes(self) -> list[dict[str, Any]]:
        """The outcome log lines written since the last call."""
        lines = self.log_lines()
        self.log.seek(0)
        self.log.truncate()
        return [line for line in lines if "outcome" in line]

    def version_of(self, message: dict[str, Any]) -> str:
        version: str = json.loads(message["Body"])["detail"]["packageVersion"]
        return version

    def released(self) -> dict[str, str]:
        try:
            listed = self.codeartifact.list_package_versions(
                domain=DOMAIN, repository="release", format="npm", package="burst"
            )
        except self.codeartifact.exceptions.ResourceNotFoundException:
            return {}
        return {v["version"]: v["revision"] for v in listed["versions"]}

    def dlq_size(self) -> int:
        return len(
            self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        )

    def queue_size(self) -> int:
        return len(
            self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        )


@pytest.fixture
def flow(aws_server: AwsEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flow]:
    configure_function(monkeypatch, tmp_path, STAGING_TO_RELEASE)
    yield Flow.deploy(aws_server, ["staging"], monkeypatch)
    app.reset_state()


def test_a_release_split_over_two_batches_costs_one_copy_call(flow: Flow) -> None:
    # Given six versions of one npm package published in staging, their six events queued
    revisions = {version: flow.publish_burst(version) for version in VERSIONS}
    messages = flow.receive_all(6)
    assert sorted(flow.version_of(m) for m in messages) == VERSIONS
    # When the event source mapping hands them over as a batch of 2, then a batch of 4
    first, second = messages[:2], messages[2:]
    assert flow.invoke(first) == {"batchItemFailures": []}
    first_outcomes = flow.outcomes()
    assert flow.invoke(second) == {"batchItemFailures": []}
    second_outcomes = flow.outcomes()
    # Then the first batch's one call copied all six, pinned to the source's revisions
    assert flow.copy_calls() == 1
    assert flow.released() == revisions
    first_versions = {flow.version_of(m) for m in first}
    assert {(o["version"], o["outcome"], o.get("reason")) for o in first_outcomes} == {
        (v, "promoted", None if v in first_versions else "catch-up") for v in VERSIONS
    }
    # and the second batch found its four versions present: no call, no failure, nothing left over
    assert sorted((o["version"], o["outcome"]) for o in second_outcomes) == sorted(
        (flow.version_of(m), "already_present") for m in second
    )
    assert flow.queue_size() == 0
    assert flow.dlq_size() == 0


def test_two_invocations_with_interleaved_halves_cost_one_copy_call(flow: Flow) -> None:
    # Given the six events, dealt alternately to two invocations (run one after the other)
    revisions = {version: flow.publish_burst(version) for version in VERSIONS}
    messages = flow.receive_all(6)
    one, two = messages[0::2], messages[1::2]
    # When both invocations run
    assert flow.invoke(one) == {"batchItemFailures": []}
    flow.outcomes()
    assert flow.invoke(two) == {"batchItemFailures": []}
    second = flow.outcomes()
    # Then the first invocation's one call copied the release; the second only found its versions present
    assert flow.copy_calls() == 1
    assert flow.released() == revisions
    assert sorted((o["version"], o["outcome"]) for o in second) == sorted(
        (flow.version_of(m), "already_present") for m in two
    )
    assert flow.queue_size() == 0
    assert flow.dlq_size() == 0
