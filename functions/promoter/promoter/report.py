"""Every outcome goes through ``Reporter.outcome``: one JSON log line, a metric count, and
(when ``OUTCOME_EVENT_BUS`` is set) one outcome event through ``promoter.outcome_events``
(ignored versions are not published: they are not promotions).

Metrics are aggregated in memory and emitted once per invocation by ``flush`` (EMF allows
100 values per metric, and thousands of identical ``1`` values would only cost bytes).
Dimensions stay low-cardinality: ``ErrorCode`` for failures and ``Reason`` for ignored
versions, never package names.

Every failed version counts in ``VersionsFailed`` and in exactly one of ``VersionsFailedFinal`` (retrying
cannot change it: the alarm's metric) and ``VersionsFailedRetryable`` (handed back to the queue, which
usually heals it on the next delivery, or keeps it in the dead-letter queue, which has its own alarm).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Protocol

from promoter.copier import CopyStats
from promoter.outcomes import ALREADY_PRESENT, DEFERRED, FAILED, IGNORED, PROMOTED, SUPERSEDED, Outcome

METRIC_BY_STATUS = {
    PROMOTED: "VersionsPromoted",
    ALREADY_PRESENT: "VersionsAlreadyPresent",
    SUPERSEDED: "VersionsSuperseded",
    FAILED: "VersionsFailed",
    DEFERRED: "VersionsDeferred",
    IGNORED: "VersionsIgnored",
}
FAILED_FINAL = "VersionsFailedFinal"
FAILED_RETRYABLE = "VersionsFailedRetryable"
"""VersionsFailed split by whether the version is retried; the same ErrorCode dimension."""
FROZEN = "VersionsFrozen"
"""Deferred versions (also in VersionsDeferred) that a freeze holds back."""
EXCEPTION_USED = "ExceptionUsed"
"""Versions (per destination) an ``exceptions`` entry let through a cooldown or freeze; dimension
``Exception``: the entry's name (``FORMAT/[NAMESPACE/]PACKAGE@VERSIONS``), a handful per rules file."""
FREEZE = "freeze"
FROZEN_MESSAGE = "version deferred while a freeze holds"
MESSAGE_BY_STATUS = {
    PROMOTED: "version promoted",
    ALREADY_PRESENT: "version already present in destination",
    SUPERSEDED: "version superseded by a newer revision",
    FAILED: "version promotion failed",
    DEFERRED: "version deferred until old enough",
    IGNORED: "version ignored",
}

MALFORMED = "malformed"
NOT_CODEARTIFACT = "not-codeartifact"
REGION = "region"
"""An event of another region than the function's (cross-region routing, a replayed archive)."""


class LogSink(Protocol):
    def info(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def warning(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def error(self, msg: object, *args: object, **kwargs: Any) -> None: ...


class MetricsSink(Protocol):
    def add(self, name: str, value: float, dimension: tuple[str, str] | None = None) -> None: ...


class MemoryMetrics:
    """A MetricsSink for tests and the CLI: totals by (name, dimension)."""

    def __init__(self) -> None:
        self.values: Counter[tuple[str, tuple[str, str] | None]] = Counter()

    def add(self, name: str, value: float, dimension: tuple[str, str] | None = None) -> None:
        self.values[(name, dimension)] += value  # type: ignore[assignment]

    def total(self, name: str) -> float:
        return sum(v for (n, _), v in self.values.items() if n == name)


class OutcomeEventSink(Protocol):
    """``promoter.outcome_events.OutcomeEventPublisher``: buffers, sends 10 per PutEvents, never raises."""

    def publish(self, detail: Mapping[str, Any]) -> None: ...
    def flush(self) -> object: ...


class Reporter:
    """The single place outcomes become logs, metrics and outcome events."""

    def __init__(
        self,
        logger: LogSink,
        metrics: MetricsSink | None = None,
        events: OutcomeEventSink | None = None,
    ) -> None:
        self.logger = logger
        self.metrics = metrics
        self.events = events
        self.counts: Counter[tuple[str, tuple[str, str] | None]] = Counter()
        self.outcomes_by_status: Counter[str] = Counter()

    def outcome(self, outcome: Outcome) -> None:
        fields = outcome.log_fields()
        if "eventId" in fields:  # the candidate's event id, when it has one
            fields["correlation_id"] = fields["eventId"]
        status = outcome.status
        message = MESSAGE_BY_STATUS[status] if outcome.reason != FREEZE else FROZEN_MESSAGE
        dimension: tuple[str, str] | None = None
        if status == FAILED:
            (self.logger.warning if outcome.retryable else self.logger.error)(message, extra=fields)
            dimension = ("ErrorCode", outcome.error_code or "Unknown")
            self.count(FAILED_RETRYABLE if outcome.retryable else FAILED_FINAL, 1, dimension)
        else:
            self.logger.info(message, extra=fields)
            if status == IGNORED:
                dimension = ("Reason", outcome.reason or "unknown")
            elif status == DEFERRED and outcome.reason == FREEZE:
                self.count(FROZEN)
        self.count(METRIC_BY_STATUS[status], 1, dimension)
        if outcome.exception is not None:
            self.count(EXCEPTION_USED, 1, ("Exception", outcome.exception.name))
        self.outcomes_by_status[status] += 1
        if self.events is not None and status != IGNORED:
            self.events.publish(fields)

    def ignored_input(
        self, reason: str, message: str, *, record_id: str | None = None, excerpt: str = ""
    ) -> None:
        """Input that is not a version (malformed, another source): logged and counted, never retried."""
        self.logger.warning(
            "malformed input ignored" if reason == MALFORMED else "event of another kind ignored",
            extra={
                "outcome": IGNORED,
                "reason": reason,
                "errorMessage": message,
                "messageId": record_id,
                "input": excerpt,
            },
        )
        self.count("VersionsIgnored", 1, ("Reason", reason))
        self.outcomes_by_status[IGNORED] += 1

    def count(self, name: str, value: float = 1, dimension: tuple[str, str] | None = None) -> None:
        self.counts[(name, dimension)] += value  # type: ignore[assignment]

    def copy_stats(self, stats: CopyStats) -> None:
        if stats.copy_requests:
            self.count("CopyRequests", stats.copy_requests)
        if stats.throttled:
            self.count("CopyThrottled", stats.throttled)

    def flush(self) -> None:
        """Emit aggregated metrics and pending outcome events; failures here never fail a copy."""
        if self.events is not None:
            try:
                self.events.flush()  # counts its own failures as OutcomeEventsFailed
            except Exception:  # best effort: outcome events never fail a copy
                self.logger.warning("outcome events could not be flushed", exc_info=True)
        counts, self.counts = self.counts, Counter()
        if self.metrics is not None:
            for (name, dimension), value in sorted(
                counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or ("", ""))
            ):
                self.metrics.add(name, value, dimension)
