"""Outcome events: every promotion outcome, also put on an EventBridge bus when OUTCOME_EVENT_BUS names one.

Other systems (chat notifications, SBOM or provenance pipelines, audit stores) subscribe to promotions with an
ordinary EventBridge rule instead of parsing logs. The event's ``detail`` is the outcome's log line fields, so
the two never disagree.

Entries go out 10 per PutEvents call (the API's limit), when 10 are waiting and at the end of each
invocation. Publishing is best effort: a failed entry or call is logged and counted as
``OutcomeEventsFailed``, never raised, so it can never fail, retry or undo a copy. The EventBridge client is
created on the first send, so an invocation with nothing to publish never creates it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

SOURCE = "codeartifact-promoter"
DETAIL_TYPE = "CodeArtifact Package Version Promotion"
MAX_ENTRIES_PER_CALL = 10
FAILED_METRIC = "OutcomeEventsFailed"
ENV_BUS = "OUTCOME_EVENT_BUS"


class MetricsSink(Protocol):
    """The part of Powertools Metrics used here (``add_metric(name=, unit=, value=)``)."""

    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


class LoggerSink(Protocol):
    def warning(self, msg: object, *args: object, **kwargs: Any) -> None: ...


def _default_client() -> EventBridgeClient:
    import boto3  # noqa: PLC0415 - only when the feature is on and there is something to send

    return boto3.client("events")


class OutcomeEventPublisher:
    """Buffers outcome details and puts them on one bus, 10 per call, never raising."""

    def __init__(
        self,
        bus_name: str,
        *,
        client: EventBridgeClient | None = None,
        client_factory: Callable[[], EventBridgeClient] = _default_client,
        metrics: MetricsSink | None = None,
        logger: LoggerSink | None = None,
    ) -> None:
        self.bus_name = bus_name
        self._client = client
        self._client_factory = client_factory
        self._metrics = metrics
        self._logger: LoggerSink | logging.Logger = logger or logging.getLogger(__name__)
        self._pending: list[PutEventsRequestEntryTypeDef] = []
        self.sent = 0
        self.failed = 0
        self.calls = 0
        self._flushed = (0, 0)

    @property
    def client(self) -> EventBridgeClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def publish(self, detail: Mapping[str, Any], *, resources: list[str] | None = None) -> None:
        """Queue one outcome; sends a full batch of 10 right away."""
        entry: PutEventsRequestEntryTypeDef = {
            "Source": SOURCE,
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps(dict(detail), default=str, sort_keys=True),
            "EventBusName": self.bus_name,
        }
        if resources:
            entry["Resources"] = resources
        self._pending.append(entry)
        if len(self._pending) >= MAX_ENTRIES_PER_CALL:
            self.flush()

    def flush(self) -> tuple[int, int]:
        """Send everything buffered, 10 entries per PutEvents call.

        Returns (sent, failed) since the previous ``flush`` (full batches go out as soon as they fill up).
        """
        while self._pending:
            chunk = self._pending[:MAX_ENTRIES_PER_CALL]
            del self._pending[:MAX_ENTRIES_PER_CALL]
            self._send(chunk)
        delta = (self.sent - self._flushed[0], self.failed - self._flushed[1])
        self._flushed = (self.sent, self.failed)
        return delta

    def _send(self, chunk: list[PutEventsRequestEntryTypeDef]) -> None:
        self.calls += 1
        try:
            response = self.client.put_events(Entries=chunk)
        except Exception as error:  # best effort by design: never fail a copy
            code = getattr(error, "response", {}).get("Error", {}).get("Code") or type(error).__name__
            self._record_failure(len(chunk), str(code), str(error))
            return
        failed_count = int(response.get("FailedEntryCount", 0) or 0)
        self.sent += len(chunk) - failed_count
        if failed_count:
            entries = response.get("Entries", [])
            codes = sorted({str(e["ErrorCode"]) for e in entries if e.get("ErrorCode")})
            messages = sorted({str(e["ErrorMessage"]) for e in entries if e.get("ErrorMessage")})
            self._record_failure(failed_count, ",".join(codes) or "Unknown", "; ".join(messages))

    def _record_failure(self, count: int, code: str, message: str) -> None:
        self.failed += count
        self._logger.warning(
            "outcome events not delivered",
            extra={
                "eventBus": self.bus_name,
                "failedEntries": count,
                "errorCode": code,
                "errorMessage": message,
            },
        )
        if self._metrics is not None:
            self._metrics.add_metric(name=FAILED_METRIC, unit="Count", value=count)


def from_environment(
    *,
    metrics: MetricsSink | None = None,
    logger: LoggerSink | None = None,
    client: EventBridgeClient | None = None,
    environ: Mapping[str, str] | None = None,
) -> OutcomeEventPublisher | None:
    """A publisher for the bus in OUTCOME_EVENT_BUS, or None when it is unset or empty (feature off)."""
    bus = (environ if environ is not None else os.environ).get(ENV_BUS, "").strip()
    if not bus:
        return None
    return OutcomeEventPublisher(bus, client=client, metrics=metrics, logger=logger)
