"""The deployed event path in a local account, shared by the integration tests that drive the handler.

publish in a source repository -> the backend's event on the default bus -> an EventBridge rule -> an SQS
queue (with a dead-letter queue) -> ``app.lambda_handler`` with SQS batches, as the event source mapping
delivers them (failed records become visible again, the rest are deleted).
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import app
import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter_dev.lambda_context import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "acme"
DETAIL_TYPE = "CodeArtifact Package Version State Change"


STAGING_TO_RELEASE = """rules:
  - {name: staging-to-release, domain: acme, sourceRepository: staging, destinationRepositories: [release]}
"""
SCHEDULED: dict[str, Any] = json.loads((ROOT / "events" / "scheduled-reconcile.json").read_text())
"""The event of the reconcile schedule (an EventBridge scheduled rule)."""


def configure_function(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, rules: str) -> Path:
    """The function's environment for these tests: ``rules`` in its rules file (returned), no pacing,
    three attempts, and none of the optional settings a developer's shell might carry; its cached state
    forgotten."""
    path = tmp_path / "rules.yaml"
    path.write_text(rules)
    monkeypatch.setenv("PROMOTION_RULES_FILE", str(path))
    monkeypatch.setenv("PROMOTER_COPY_RATE", "0")
    monkeypatch.setenv("PROMOTER_MAX_ATTEMPTS", "3")
    for name in (
        "PROMOTION_RULES_PARAMETER",
        "ALLOWED_SOURCE_REPOSITORIES",
        "ALLOWED_DESTINATION_REPOSITORIES",
        "OUTCOME_EVENT_BUS",
        "PROMOTER_CATCH_UP",
    ):
        monkeypatch.delenv(name, raising=False)
    app.reset_state()
    return path


def capture_log(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The function's log lines from now on (Powertools' Logger writes to this stream)."""
    log = io.StringIO()
    monkeypatch.setattr(app.logger.registered_handler, "stream", log)
    return log


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among printed lines (log lines, EMF metric documents)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@dataclass
class Pipeline:
    """The deployed wiring in a local account, and an event source mapping that drives the handler."""

    env: AwsEnv
    queue_url: str
    dlq_url: str
    responses: list[dict[str, Any]] = field(default_factory=list)
    log: io.StringIO = field(default_factory=io.StringIO)
    """The function's log lines, when ``build_pipeline`` was given a monkeypatch to capture them."""

    def log_lines(self) -> list[dict[str, Any]]:
        return json_lines(self.log.getvalue())

    @classmethod
    def deploy(
        cls, env: AwsEnv, repositories: list[str], monkeypatch: pytest.MonkeyPatch | None = None
    ) -> Self:
        """The wiring whose EventBridge rule routes ``repositories``' events; with ``monkeypatch``, the
        function's log lines go to the pipeline's ``log``."""
        create_domain_with_repositories(env.client("codeartifact"), DOMAIN, ["dev", "staging", "release"])
        sqs, events = env.client("sqs"), env.client("events")
        dlq_url = sqs.create_queue(QueueName="promoter-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        queue_url = sqs.create_queue(
            QueueName="promoter-events",
            Attributes={
                "VisibilityTimeout": "60",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="codeartifact-promoter",
            EventPattern=json.dumps(
                {
                    "source": ["aws.codeartifact"],
                    "detail-type": [DETAIL_TYPE],
                    "detail": {"domainName": [DOMAIN], "repositoryName": repositories},
                }
            ),
        )
        events.put_targets(Rule="codeartifact-promoter", Targets=[{"Id": "queue", "Arn": arn}])
        pipeline = cls(env, queue_url, dlq_url)
        if monkeypatch is not None:
            monkeypatch.setattr(app.logger.registered_handler, "stream", pipeline.log)
        return pipeline

    @property
    def codeartifact(self) -> Any:
        return self.env.client("codeartifact")

    @property
    def sqs(self) -> Any:
        return self.env.client("sqs")

    def publish(self, repository: str, fmt: str, package: str, version: str, **kwargs: Any) -> str:
        revision: str = self.env.control.seed_package_version(
            DOMAIN, repository, fmt, package, version, **kwargs
        )["revision"]
        return revision

    def receive(self, limit: int = 10) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=limit,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return messages

    def invoke(self, messages: list[dict[str, Any]], context: LambdaContext | None = None) -> dict[str, Any]:
        """One invocation with an SQS batch, then what the event source mapping does with the answer."""
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": self.env.region,
            }
            for m in messages
        ]
        response: dict[str, Any] = app.lambda_handler({"Records": records}, context or LambdaContext(120.0))
        self.responses.append(response)
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return response

    def drain(self, *, rounds: int = 20, context: LambdaContext | None = None) -> int:
        """Deliver batches until the queue stays empty (polling with a bound, never sleeping blindly)."""
        delivered = 0
        for _ in range(rounds):
            messages = self.receive()
            if not messages:
                return delivered
            delivered += len(messages)
            self.invoke(messages, context)
        raise AssertionError(f"queue not drained after {rounds} rounds")

    def version(
        self, repository: str, fmt: str, package: str, version: str, namespace: str | None = None
    ) -> Any:
        named: dict[str, Any] = {"repository": repository, "format": fmt, "package": package}
        named |= {"namespace": namespace} if namespace else {}
        try:
            return self.codeartifact.describe_package_version(domain=DOMAIN, packageVersion=version, **named)[
                "packageVersion"
            ]
        except self.codeartifact.exceptions.ResourceNotFoundException:
            return None

    def copy_calls(self) -> int:
        return int(self.env.control.stats().get("CopyPackageVersions", {}).get("calls", 0))

    def dlq_bodies(self) -> list[Any]:
        messages = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]


def build_pipeline(env: AwsEnv, repositories: list[str]) -> Pipeline:
    return Pipeline.deploy(env, repositories)


def subscribe_queue(env: AwsEnv, bus: str, pattern: dict[str, Any], name: str) -> str:
    """An event bus, and a rule on it (both named ``name``'s way) sending what ``pattern`` matches to a new
    queue; returns the queue's URL."""
    events, sqs = env.client("events"), env.client("sqs")
    events.create_event_bus(Name=bus)
    queue_url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return queue_url


def poll_events(env: AwsEnv, queue_url: str, expected: int, deadline_seconds: float = 10.0) -> list[Any]:
    """Take events off the queue until ``expected`` arrived or the deadline passed (no sleeping blind)."""
    sqs = env.client("sqs")
    received: list[Any] = []
    deadline = time.monotonic() + deadline_seconds
    while len(received) < expected and time.monotonic() < deadline:
        page = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in page.get("Messages", []):
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return received
