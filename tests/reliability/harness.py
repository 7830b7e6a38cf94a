"""What the reliability tests share: the function's output (JSON log lines and EMF metrics) captured
and parsed, and an EventBridge -> SQS (+ DLQ) pipeline drained the way Lambda's SQS event source
mapping drains it.

The handler is invoked in-process (fast), but everything it talks to is real: moto over HTTP with
our CodeArtifact backend, moto's EventBridge routing the backend's events into SQS, and SQS's own
visibility timeout and redrive policy deciding what comes back and what ends in the dead-letter queue.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import app
from promoter_dev.lambda_context import LambdaContext

from .conftest import DOMAIN

Json = dict[str, Any]
EVENT_PATTERN_SOURCE = "aws.codeartifact"
EVENT_DETAIL_TYPE = "CodeArtifact Package Version State Change"


def version_event(
    package: str,
    version: str = "1.0.0",
    revision: str = "rev-1",
    *,
    sequence: int = 1,
    repository: str = "staging",
    domain: str = DOMAIN,
    owner: str = "123456789012",
    region: str = "us-east-1",
) -> Json:
    """The EventBridge event CodeArtifact emits when an npm version is published (every documented field)."""
    return {
        "version": "0",
        "id": f"id-{package}-{version}",
        "detail-type": EVENT_DETAIL_TYPE,
        "source": EVENT_PATTERN_SOURCE,
        "account": owner,
        "time": "2026-11-26T12:00:00Z",
        "region": region,
        "resources": [],
        "detail": {
            "domainName": domain,
            "domainOwner": owner,
            "repositoryName": repository,
            "repositoryAdministrator": owner,
            "packageFormat": "npm",
            "packageNamespace": None,
            "packageName": package,
            "packageVersion": version,
            "packageVersionState": "Published",
            "packageVersionRevision": revision,
            "operationType": "Created",
            "sequenceNumber": sequence,
            "eventDeduplicationId": "dedup",
            "changes": {},
        },
    }


# --------------------------------------------------------------------------- the function's output


@dataclass
class Output:
    """Everything the function printed: Powertools JSON log lines and EMF metric documents."""

    logs: list[Json] = field(default_factory=list)
    emf: list[Json] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    def feed(self, text: str) -> None:
        for raw in text.splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                if raw.strip():
                    self.other.append(raw)
                continue
            if not isinstance(line, dict):
                self.other.append(raw)
            elif "_aws" in line:
                self.emf.append(line)
            else:
                self.logs.append(line)

    def outcomes(self) -> list[Json]:
        return [line for line in self.logs if "outcome" in line]

    def metrics(self) -> Counter[tuple[str, tuple[str, str] | None]]:
        """Metric values by (name, dimension): undimensioned totals under None, dimensioned ones under
        their one extra dimension (the ``service`` default dimension is not counted as one)."""
        values: Counter[tuple[str, tuple[str, str] | None]] = Counter()
        for document in self.emf:
            for directive in document["_aws"]["CloudWatchMetrics"]:
                dimensions = [d for group in directive["Dimensions"] for d in group if d != "service"]
                extra = (dimensions[0], str(document[dimensions[0]])) if dimensions else None
                for metric in directive["Metrics"]:
                    value = document[metric["Name"]]
                    values[(metric["Name"], extra)] += sum(value) if isinstance(value, list) else value
        return values

    def metric(self, name: str, dimension: tuple[str, str] | None = None) -> float:
        return float(self.metrics().get((name, dimension), 0))


@contextlib.contextmanager
def captured(output: Output) -> Iterator[None]:
    """Route the handler's logger and its metric prints (both go to stdout in Lambda) into ``output``."""
    buffer = io.StringIO()
    handler: Any = app.logger.registered_handler
    previous = handler.setStream(buffer)
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        handler.setStream(previous)
        output.feed(buffer.getvalue())


def invoke(event: Any, context: Any, output: Output) -> tuple[Any, BaseException | None]:
    """Run the real handler in-process; return its result or the exception that escaped it."""
    with captured(output):
        try:
            return app.lambda_handler(event, context), None
        except Exception as exc:
            return None, exc


# --------------------------------------------------------------------------- EventBridge -> SQS -> DLQ


@dataclass
class Pipeline:
    """An EventBridge rule on the default bus -> an SQS queue with a redrive policy -> a dead-letter queue."""

    sqs: Any
    queue_url: str
    queue_arn: str
    dlq_url: str

    @classmethod
    def create(
        cls,
        env: Any,
        *,
        domain: str,
        sources: list[str],
        visibility_timeout: int,
        max_receive_count: int,
        name: str = "promoter",
    ) -> Pipeline:
        sqs = env.client("sqs")
        events = env.client("events")
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = _arn(sqs, dlq_url)
        queue_url = sqs.create_queue(
            QueueName=name,
            Attributes={
                "VisibilityTimeout": str(visibility_timeout),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
                ),
            },
        )["QueueUrl"]
        queue_arn = _arn(sqs, queue_url)
        pattern = {
            "source": [EVENT_PATTERN_SOURCE],
            "detail-type": [EVENT_DETAIL_TYPE],
            "detail": {"domainName": [domain], "repositoryName": sources},
        }
        events.put_rule(Name=f"{name}-rule", EventPattern=json.dumps(pattern))
        events.put_targets(Rule=f"{name}-rule", Targets=[{"Id": "queue", "Arn": queue_arn}])
        return cls(sqs, queue_url, queue_arn, dlq_url)

    def depth(self, url: str | None = None) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def dead_letters(self) -> list[Json]:
        """The bodies waiting in the dead-letter queue (read without deleting them)."""
        bodies: dict[str, Json] = {}
        handles: list[str] = []
        deadline = time.monotonic() + 10
        expected = self.depth(self.dlq_url)
        while len(bodies) < expected and time.monotonic() < deadline:
            for message in self.sqs.receive_message(
                QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=30
            ).get("Messages", []):
                bodies[message["MessageId"]] = json.loads(message["Body"])
                handles.append(message["ReceiptHandle"])
        for start in range(0, len(handles), 10):  # visible again, as they were
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.dlq_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                    for i, h in enumerate(handles[start : start + 10])
                ],
            )
        return list(bodies.values())


def _arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


@dataclass
class Invocation:
    records: int
    failures: int
    seconds: float
    error: str | None


def sqs_record(message: Json, queue_arn: str) -> Json:
    """One received message in the shape Lambda hands to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


def drain(
    pipeline: Pipeline,
    handler: Callable[[Json, LambdaContext], tuple[Any, BaseException | None]],
    *,
    timeout_seconds: float,
    batch_size: int = 10,
    deadline_seconds: float = 120.0,
) -> list[Invocation]:
    """Do what the SQS event source mapping does until the queue is empty (or the deadline passes).

    Receive a batch, invoke, delete the records that succeeded (all of them, or all but the reported
    ``batchItemFailures``; none when the invocation raised or overran its timeout), and leave the rest
    to come back after the visibility timeout - where SQS's redrive policy moves them to the DLQ once
    they were received ``maxReceiveCount`` times. One poller, so a record is never held twice.
    """
    invocations: list[Invocation] = []
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        messages = pipeline.sqs.receive_message(
            QueueUrl=pipeline.queue_url,
            MaxNumberOfMessages=min(10, batch_size),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            if pipeline.depth() == 0:
                return invocations
            continue
        event = {"Records": [sqs_record(m, pipeline.queue_arn) for m in messages]}
        context = LambdaContext(timeout_seconds, aws_request_id=f"req-{len(invocations)}")
        started = time.monotonic()
        response, error = handler(event, context)
        seconds = time.monotonic() - started
        ids = {m["MessageId"] for m in messages}
        if error is not None or seconds > timeout_seconds:
            failed = ids  # Lambda retries the whole batch after an error or a timeout
        else:
            failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
            assert failed <= ids, (
                f"batchItemFailures names records that were not in the batch: {failed - ids}"
            )
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            pipeline.sqs.delete_message_batch(
                QueueUrl=pipeline.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        invocations.append(
            Invocation(len(messages), len(failed), seconds, None if error is None else repr(error)[:300])
        )
    raise AssertionError(f"the queue did not drain within {deadline_seconds} s ({pipeline.depth()} left)")


def take_batch(pipeline: Pipeline, expected: int, deadline_seconds: float = 10.0) -> Json:
    """Receive ``expected`` messages (polling with a deadline) and shape them as one Lambda SQS event."""
    messages: dict[str, Json] = {}
    deadline = time.monotonic() + deadline_seconds
    while len(messages) < expected and time.monotonic() < deadline:
        for message in pipeline.sqs.receive_message(
            QueueUrl=pipeline.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=60
        ).get("Messages", []):
            messages[message["MessageId"]] = message
    assert len(messages) == expected, f"expected {expected} events on the queue, got {len(messages)}"
    return {"Records": [sqs_record(m, pipeline.queue_arn) for m in messages.values()]}


def redrive(pipeline: Pipeline) -> int:
    """Move every dead letter back to the events queue, as ``aws sqs start-message-move-task --source-arn
    <DLQ>`` does (moto has no message move tasks): same body, a fresh receive count. Returns how many."""
    moved = 0
    deadline = time.monotonic() + 30
    while pipeline.depth(pipeline.dlq_url) and time.monotonic() < deadline:
        for message in pipeline.sqs.receive_message(
            QueueUrl=pipeline.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=30
        ).get("Messages", []):
            pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=message["Body"])
            pipeline.sqs.delete_message(QueueUrl=pipeline.dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved
