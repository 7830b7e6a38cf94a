"""Events: the documented shape, routed by moto's EventBridge rules to SQS."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .conftest import DOMAIN, World

PATTERN = {
    "source": ["aws.codeartifact"],
    "detail-type": ["CodeArtifact Package Version State Change"],
    "detail": {"domainName": [DOMAIN]},
}
DETAIL_FIELDS = {
    "domainOwner",
    "domainName",
    "repositoryName",
    "repositoryAdministrator",
    "packageFormat",
    "packageNamespace",
    "packageName",
    "packageVersion",
    "packageVersionState",
    "packageVersionRevision",
    "changes",
    "operationType",
    "sequenceNumber",
    "eventDeduplicationId",
}


class Inbox:
    """An SQS queue behind an EventBridge rule on the default bus."""

    def __init__(self, world: World, pattern: dict[str, Any] = PATTERN, name: str = "inbox") -> None:
        self.sqs = world.env.client("sqs")
        events = world.env.client("events")
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name=f"{name}-rule", EventPattern=json.dumps(pattern))
        events.put_targets(Rule=f"{name}-rule", Targets=[{"Id": "queue", "Arn": arn}])

    def drain(self, expected: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Receive until ``expected`` events arrived (or the deadline passed); then check for extras."""
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(received) < expected and time.monotonic() < deadline:
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            for message in messages:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        extra = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
        received.extend(json.loads(m["Body"]) for m in extra)
        return received


def test_publish_is_routed_to_sqs_with_the_documented_shape(world: World) -> None:
    # Given an EventBridge rule with the CodeArtifact pattern targeting a queue
    inbox = Inbox(world)

    # When a version is published
    published = world.publish("staging", "cli", "1.0.0")

    # Then exactly one real-shaped event arrives
    (event,) = inbox.drain(1)
    assert event["source"] == "aws.codeartifact"
    assert event["detail-type"] == "CodeArtifact Package Version State Change"
    assert event["account"] == world.env.account_id
    assert event["region"] == "us-east-1"
    assert event["version"] == "0"
    assert event["id"]
    assert event["time"].endswith("Z")
    assert event["resources"] == [
        f"arn:aws:codeartifact:us-east-1:{world.env.account_id}:package/{DOMAIN}/staging/generic/acme/cli"
    ]
    detail = event["detail"]
    assert set(detail) == DETAIL_FIELDS
    assert detail["domainOwner"] == world.env.account_id
    assert detail["repositoryAdministrator"] == world.env.account_id
    assert detail["repositoryName"] == "staging"
    assert (detail["packageFormat"], detail["packageNamespace"], detail["packageName"]) == (
        "generic",
        "acme",
        "cli",
    )
    assert detail["packageVersion"] == "1.0.0"
    assert detail["packageVersionState"] == "Published"
    assert detail["packageVersionRevision"] == published["versionRevision"]
    assert detail["operationType"] == "Created"
    assert detail["sequenceNumber"] == 1
    assert detail["changes"] == {
        "assetsAdded": 1,
        "assetsRemoved": 0,
        "assetsUpdated": 0,
        "metadataUpdated": False,
        "statusChanged": True,
    }


def test_npm_namespace_is_null_when_absent(world: World) -> None:
    inbox = Inbox(world)
    world.seed("staging", "npm", "left-pad", "1.0.0")
    (event,) = inbox.drain(1)
    assert event["detail"]["packageNamespace"] is None
    assert event["resources"][0].endswith("/staging/npm//left-pad")


def test_maven_style_publish_raises_sequence_and_revision(world: World) -> None:
    # Given an Unfinished version that gets a second asset and is then published
    inbox = Inbox(world)
    first = world.publish("staging", "lib", "1.0.0", asset="lib.pom", unfinished=True)
    second = world.publish("staging", "lib", "1.0.0", asset="lib.jar", content=b"jar", unfinished=True)
    status = world.client.update_package_versions_status(
        **world.package("staging", "generic", "lib", namespace="acme"),
        versions=["1.0.0"],
        targetStatus="Published",
    )

    events = sorted((e["detail"] for e in inbox.drain(3)), key=lambda d: d["sequenceNumber"])

    # Then three events follow each other, each naming the revision it produced
    assert [d["sequenceNumber"] for d in events] == [1, 2, 3]
    assert [d["operationType"] for d in events] == ["Created", "Updated", "Updated"]
    assert [d["packageVersionState"] for d in events] == ["Unfinished", "Unfinished", "Published"]
    assert [d["packageVersionRevision"] for d in events] == [
        first["versionRevision"],
        second["versionRevision"],
        status["successfulVersions"]["1.0.0"]["revision"],
    ]
    assert [d["changes"]["assetsAdded"] for d in events] == [1, 1, 0]
    assert [d["changes"]["statusChanged"] for d in events] == [True, False, True]
    assert len({d["eventDeduplicationId"] for d in events}) == 3


def test_sequence_numbers_are_per_version(world: World) -> None:
    inbox = Inbox(world)
    world.seed("staging", "npm", "ui", "1.0.0")
    world.seed("staging", "npm", "ui", "1.0.1")
    world.seed("staging", "npm", "ui", "1.0.0", status="Unlisted")
    by_version: dict[str, list[int]] = {}
    for event in inbox.drain(3):
        detail = event["detail"]
        by_version.setdefault(detail["packageVersion"], []).append(detail["sequenceNumber"])
    assert {v: sorted(s) for v, s in by_version.items()} == {"1.0.0": [1, 2], "1.0.1": [1]}


def test_copy_emits_in_the_destination_only(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    inbox = Inbox(world)

    world.copy("npm", "ui", versionRevisions={"1.0.0": seeded["revision"]})
    world.copy("npm", "ui", versionRevisions={"1.0.0": seeded["revision"]})  # present: no copy, no event

    (event,) = inbox.drain(1)
    detail = event["detail"]
    assert detail["repositoryName"] == "release"
    assert detail["operationType"] == "Created"
    assert detail["packageVersionRevision"] == seeded["revision"]
    assert detail["packageVersionState"] == "Published"
    assert detail["sequenceNumber"] == 1


def test_overwriting_copy_is_an_update(world: World) -> None:
    world.seed("release", "npm", "ui", "1.0.0", assets={"ui.tgz": b"old"})
    source = world.seed("staging", "npm", "ui", "1.0.0", assets={"ui.tgz": b"new"})
    inbox = Inbox(world, {**PATTERN, "detail": {"repositoryName": ["release"]}})
    world.copy("npm", "ui", versions=["1.0.0"], allowOverwrite=True)
    (event,) = inbox.drain(1)
    assert event["detail"]["operationType"] == "Updated"
    assert event["detail"]["packageVersionRevision"] == source["revision"]
    assert event["detail"]["changes"]["assetsUpdated"] == 1
    assert event["detail"]["sequenceNumber"] == 2


def test_delete_emits_deleted(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0", assets={"a": b"1", "b": b"2"})
    inbox = Inbox(world)
    world.client.delete_package_versions(**world.package("staging", "npm", "ui"), versions=["1.0.0"])
    (event,) = inbox.drain(1)
    detail = event["detail"]
    assert detail["operationType"] == "Deleted"
    assert detail["packageVersionRevision"] == seeded["revision"]
    assert detail["packageVersionState"] == "Published"
    assert detail["changes"]["assetsRemoved"] == 2
    assert detail["sequenceNumber"] == 2


def test_rules_filter_on_detail_fields(world: World) -> None:
    # Given a rule that listens to the staging repository only
    inbox = Inbox(world, {**PATTERN, "detail": {"domainName": [DOMAIN], "repositoryName": ["staging"]}})
    world.seed("release", "npm", "ui", "1.0.0")
    world.seed("staging", "npm", "ui", "2.0.0")
    events = inbox.drain(1)
    assert [e["detail"]["packageVersion"] for e in events] == ["2.0.0"]


@pytest.mark.parametrize("operation", ["status", "dispose"])
def test_status_changes_emit_updated(world: World, operation: str) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    inbox = Inbox(world)
    if operation == "status":
        world.client.update_package_versions_status(
            **world.package("staging", "npm", "ui"), versions=["1.0.0"], targetStatus="Archived"
        )
        expected_state = "Archived"
    else:
        world.client.dispose_package_versions(**world.package("staging", "npm", "ui"), versions=["1.0.0"])
        expected_state = "Disposed"
    (event,) = inbox.drain(1)
    assert event["detail"]["operationType"] == "Updated"
    assert event["detail"]["packageVersionState"] == expected_state
    assert event["detail"]["changes"]["statusChanged"] is True
