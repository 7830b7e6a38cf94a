"""One Lambda execution environment behind an emulated SQS event source mapping.

It does what the mapping does for a standard queue: long-polls the queue, gathers up to the batch
size (waiting at most the batching window once a message is in hand), invokes the handler with
the records in Lambda's shape, deletes what succeeded (all records, or all but the reported
``batchItemFailures``) and leaves the rest to come back after the visibility timeout. Several of
these processes run side by side to give the mapping's concurrency.

Coordination with the parent is by files: ``ready_file`` once the handler is imported (its cold
start is not part of the drain), then it waits for ``go_file`` and stops when ``stop_file`` exists.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from promoter_dev.lambda_context import LambdaContext

Json = dict[str, Any]


def _record(message: Json, queue_arn: str, region: str) -> Json:
    attrs = dict(message.get("Attributes") or {})
    msg_attrs = {
        name: {
            "stringValue": a.get("StringValue"),
            "binaryValue": a.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": a.get("DataType", "String"),
        }
        for name, a in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attrs,
        "messageAttributes": msg_attrs,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _gather(
    sqs: Any, queue_url: str, batch_size: int, window: float, stop: Path, counts: dict[str, int]
) -> list[Json]:
    messages: list[Json] = []
    first_at: float | None = None
    while len(messages) < batch_size and not stop.exists():
        if first_at is not None and time.monotonic() - first_at >= window:
            break
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, batch_size - len(messages)),
            WaitTimeSeconds=1 if not messages else 0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        counts["receive"] += 1
        got = response.get("Messages") or []
        if got and first_at is None:
            first_at = time.monotonic()
        messages.extend(got)
        if not got and messages:
            if window <= 0:
                break
            time.sleep(min(0.05, window))
    return messages


def run_worker(spec: Json, handler: Callable[[Json, Any], Any]) -> Json:
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    sqs = boto3.client("sqs")
    queue_url: str = spec["queue_url"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    go, stop = Path(spec["go_file"]), Path(spec["stop_file"])
    Path(spec["ready_file"]).touch()
    while not go.exists():
        time.sleep(0.005)
    invocations: list[Json] = []
    counts = {"receive": 0, "delete": 0}
    while not stop.exists():
        messages = _gather(
            sqs, queue_url, int(spec["batch_size"]), float(spec["batching_window_seconds"]), stop, counts
        )
        if not messages:
            continue
        event = {"Records": [_record(m, queue_arn, region) for m in messages]}
        context = LambdaContext(
            function_name=spec.get("function_name", "codeartifact-promoter"),
            timeout_seconds=float(spec["timeout_seconds"]),
        )
        started = time.time()
        error = None
        failed: set[str] = set()
        try:
            response = handler(event, context)
            failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures") or []}
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            failed = {m["MessageId"] for m in messages}
        ended = time.time()
        done = [m for m in messages if m["MessageId"] not in failed]
        for i in range(0, len(done), 10):
            counts["delete"] += 1
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(j), "ReceiptHandle": m["ReceiptHandle"]}
                    for j, m in enumerate(done[i : i + 10])
                ],
            )
        invocations.append(
            {"start": started, "end": ended, "records": len(messages), "failed": len(failed), "error": error}
        )
    return {"invocations": invocations, "sqs_requests": counts, "peak_rss_kb": _peak_rss_kb()}


def _peak_rss_kb() -> int:
    """VmHWM: the most this execution environment held, what Lambda reports as Max Memory Used."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0
