"""Lambda entry point: Powertools wired to ``promoter.pipeline``.

Accepts an SQS batch of EventBridge events (the default wiring; the answer is a partial batch response),
a single raw EventBridge event (a direct rule target, ``sam local invoke -e events/<file>.json``) and a
scheduled event (reconcile). Clients and rules are made on the first invocation (``promoter.container``).
"""

from __future__ import annotations

import os
from typing import Any

from promoter import collector

collector.hold()  # before boto3 and Powertools load: see promoter.collector

from promoter.container import account_of, build_dependencies, reset_state, state  # noqa: E402
from promoter.observability import SERVICE, logger, metrics  # noqa: E402
from promoter.pipeline import Dependencies, process_event, process_sqs_records  # noqa: E402

__all__ = ["account_of", "build_dependencies", "lambda_handler", "logger", "reset_state", "state"]


def is_scheduled(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and event.get("source") == "aws.events"
        and event.get("detail-type") == "Scheduled Event"
    )


def is_sqs_batch(event: Any) -> bool:
    return isinstance(event, dict) and isinstance(event.get("Records"), list)


def handle_sqs(event: dict[str, Any], deps: Dependencies) -> dict[str, Any]:
    """The SQS partial batch response, built as a dict: the pipeline promotes the batch as a whole (one
    copy call covers the records of many versions), so which records failed is known only at its end."""
    records = event["Records"]
    # Only records with a message id can be handed back by id; the rest are logged as malformed.
    addressable = [
        r for r in records if isinstance(r, dict) and isinstance(r.get("messageId"), str) and r["messageId"]
    ]
    try:
        with collector.paused():
            failing = process_sqs_records(records, deps)
    except Exception:  # a bug must not lose versions: every record goes back to the queue
        logger.exception("unexpected error while promoting a batch; every record will be retried")
        failing = {r["messageId"] for r in addressable}
    if failing:
        logger.info("records handed back to the queue", extra={"count": len(failing)})
    return {
        "batchItemFailures": [
            {"itemIdentifier": r["messageId"]} for r in addressable if r["messageId"] in failing
        ]
    }


def handle_scheduled(event: dict[str, Any], context: Any, deps: Dependencies) -> dict[str, Any]:
    # Imported when a schedule fires: the event path never needs reconcile's code.
    from promoter.reconcile import run  # noqa: PLC0415

    return run(event=event, context=context, deps=deps)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and isinstance(event.get("id"), str):
        logger.set_correlation_id(event["id"])
    try:
        deps = build_dependencies(context)
    finally:
        collector.release()  # initialisation ends here, also when the rules are invalid
    try:
        if is_sqs_batch(event):
            return handle_sqs(event, deps)
        if is_scheduled(event):
            return handle_scheduled(event, context, deps)
        return process_event(event, deps)
    finally:
        deps.reporter.flush()


if os.environ.get("PROMOTER_TRACING", "").strip().lower() == "true":  # pragma: no cover - needs the X-Ray SDK
    from aws_lambda_powertools import Tracer

    lambda_handler = Tracer(service=SERVICE).capture_lambda_handler(lambda_handler)
