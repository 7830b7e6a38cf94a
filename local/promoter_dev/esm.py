"""A minimal SQS event source mapping: receive a batch, invoke the function, settle the messages.

Lambda's poller receives up to BatchSize messages, invokes the function with them as an SQS event
(the record shape below is Lambda's), deletes the messages of a successful invocation, and with
ReportBatchItemFailures deletes all but the reported ones; a failed invocation deletes nothing.
What is not deleted comes back after the visibility timeout and, after maxReceiveCount receives,
moves to the dead-letter queue (moto's SQS does that part itself).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from promoter_dev.invoke import Invocation
from promoter_dev.stack import EventWiring


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One ReceiveMessage result as Lambda hands it to the handler."""
    attributes = message.get("Attributes", {})
    body = message["Body"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
            ),
        },
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def receive_batch(
    sqs: Any, wiring: EventWiring, *, expected: int = 1, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Up to BatchSize messages; keeps polling (long polls, no sleeps) until ``expected`` or the deadline."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < min(expected, wiring.batch_size) and time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=wiring.queue_url,
            MaxNumberOfMessages=min(10, wiring.batch_size - len(messages)),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
        )
        messages.extend(response.get("Messages", []))
    return messages


def failed_message_ids(invocation: Invocation, message_ids: Sequence[str], partial: bool) -> list[str]:
    """The messages Lambda would leave in the queue after this invocation."""
    if invocation.failed:
        return list(message_ids)
    payload = invocation.payload
    if not partial or not isinstance(payload, dict):
        return []
    failures = payload.get("batchItemFailures") or []
    reported = [str(item.get("itemIdentifier")) for item in failures if isinstance(item, dict)]
    if any(identifier not in message_ids for identifier in reported):
        return list(message_ids)  # Lambda treats an unknown identifier as a failure of the whole batch
    return reported


@dataclass
class Delivery:
    """One batch delivered to the function and how it was settled."""

    records: list[dict[str, Any]]
    invocation: Invocation
    deleted: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)


def deliver(
    sqs: Any,
    wiring: EventWiring,
    invoke: Callable[[dict[str, Any]], Invocation],
    messages: Sequence[dict[str, Any]],
    region: str = "us-east-1",
) -> Delivery:
    """Invoke the function with ``messages`` as one SQS event and delete what it did not hand back."""
    records = [sqs_record(message, wiring.queue_arn, region) for message in messages]
    invocation = invoke({"Records": records})
    ids = [record["messageId"] for record in records]
    returned = failed_message_ids(invocation, ids, wiring.report_batch_item_failures)
    delivery = Delivery(records=records, invocation=invocation, returned=returned)
    to_delete = [m for m in messages if m["MessageId"] not in returned]
    for start in range(0, len(to_delete), 10):
        chunk = to_delete[start : start + 10]
        sqs.delete_message_batch(
            QueueUrl=wiring.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
        )
        delivery.deleted.extend(m["MessageId"] for m in chunk)
    return delivery


def queue_depth(sqs: Any, queue_url: str) -> int:
    """Visible plus in-flight messages."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )
