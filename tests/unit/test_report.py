"""One log line and metric per outcome, aggregated metrics, outcome events that never fail a copy."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from promoter.copier import CopyStats
from promoter.observability import OutcomeLines, to_json
from promoter.outcomes import DEFERRED, FAILED, IGNORED, PROMOTED, SUPERSEDED, Outcome
from promoter.report import MALFORMED, MemoryMetrics, Reporter
from promoter_dev.recording_logger import RecordingLogger

from .conftest import NOW, candidate


class Events:
    def __init__(self, fail: bool = False) -> None:
        self.published: list[Mapping[str, Any]] = []
        self.fail = fail
        self.flushed = 0

    def publish(self, detail: Mapping[str, Any]) -> None:
        self.published.append(detail)

    def flush(self) -> None:
        self.flushed += 1
        if self.fail:
            raise RuntimeError("bus down")


def test_one_line_with_every_field(log: RecordingLogger, memory_metrics: MemoryMetrics) -> None:
    reporter = Reporter(log, memory_metrics)
    c = candidate(event_id="ev-1", namespace="acme")
    reporter.outcome(
        Outcome(
            FAILED, c, destination="release", rule="r", error_code="ALREADY_EXISTS", error_message="exists"
        )
    )
    [line] = log.lines
    assert line["level"] == "ERROR"
    assert {k: line[k] for k in ("rule", "domain", "sourceRepository", "destinationRepository")} == {
        "rule": "r",
        "domain": "acme",
        "sourceRepository": "staging",
        "destinationRepository": "release",
    }
    assert (line["format"], line["namespace"], line["package"], line["version"], line["revision"]) == (
        "npm",
        "acme",
        "widgets",
        "1.0.0",
        "rev-1",
    )
    assert (line["outcome"], line["errorCode"], line["errorMessage"]) == (FAILED, "ALREADY_EXISTS", "exists")
    assert line["correlation_id"] == "ev-1"


def test_metrics_are_aggregated_with_low_cardinality_dimensions(
    log: RecordingLogger, memory_metrics: MemoryMetrics
) -> None:
    reporter = Reporter(log, memory_metrics)
    for version in ("1", "2", "3"):
        reporter.outcome(Outcome(PROMOTED, candidate(version=version), destination="release", rule="r"))
    reporter.outcome(Outcome(SUPERSEDED, candidate(), destination="release", rule="r"))
    reporter.outcome(Outcome(FAILED, candidate(), destination="release", rule="r", error_code="NOT_FOUND"))
    reporter.outcome(Outcome(IGNORED, candidate(), reason="exclude"))
    reporter.outcome(
        Outcome(DEFERRED, candidate(), destination="release", eligible_at=NOW + timedelta(days=1))
    )
    reporter.ignored_input(MALFORMED, "bad", record_id="m1", excerpt="{")
    reporter.copy_stats(CopyStats(copy_requests=2, throttled=1))
    assert memory_metrics.values == {}  # nothing until flush
    reporter.flush()
    assert memory_metrics.values == {
        ("VersionsPromoted", None): 3,
        ("VersionsSuperseded", None): 1,
        ("VersionsFailed", ("ErrorCode", "NOT_FOUND")): 1,
        ("VersionsFailedFinal", ("ErrorCode", "NOT_FOUND")): 1,
        ("VersionsIgnored", ("Reason", "exclude")): 1,
        ("VersionsIgnored", ("Reason", MALFORMED)): 1,
        ("VersionsDeferred", None): 1,
        ("CopyRequests", None): 2,
        ("CopyThrottled", None): 1,
    }
    deferred = next(line for line in log.lines if line.get("outcome") == DEFERRED)
    assert deferred["eligibleAt"] == (NOW + timedelta(days=1)).isoformat()


def test_failures_count_as_final_or_retryable_beside_versions_failed(
    log: RecordingLogger, memory_metrics: MemoryMetrics
) -> None:
    # Given one final failure and two retryable ones (the queue delivers those again)
    reporter = Reporter(log, memory_metrics)
    reporter.outcome(Outcome(FAILED, candidate(), destination="release", error_code="ALREADY_EXISTS"))
    for version in ("1", "2"):
        reporter.outcome(
            Outcome(
                FAILED,
                candidate(version=version),
                destination="release",
                error_code="ThrottlingException",
                retryable=True,
            )
        )
    # When flushed, Then VersionsFailed counts all three and the final/retryable split adds up to it
    reporter.flush()
    assert memory_metrics.total("VersionsFailed") == 3
    assert memory_metrics.values[("VersionsFailedFinal", ("ErrorCode", "ALREADY_EXISTS"))] == 1
    assert memory_metrics.values[("VersionsFailedRetryable", ("ErrorCode", "ThrottlingException"))] == 2
    assert memory_metrics.total("VersionsFailedFinal") == 1


def test_outcome_events_for_promotions_not_for_ignored(log: RecordingLogger) -> None:
    events = Events()
    reporter = Reporter(log, None, events)
    reporter.outcome(Outcome(PROMOTED, candidate(), destination="release", rule="r"))
    reporter.outcome(Outcome(IGNORED, candidate(), reason="state"))
    reporter.flush()
    assert [e["outcome"] for e in events.published] == [PROMOTED]
    assert events.flushed == 1


def test_a_failing_event_bus_never_fails_the_report(log: RecordingLogger) -> None:
    reporter = Reporter(log, MemoryMetrics(), Events(fail=True))
    reporter.outcome(Outcome(PROMOTED, candidate(), destination="release", rule="r"))
    reporter.flush()
    assert any("could not be flushed" in line["message"] for line in log.lines)


@pytest.fixture
def powertools_log(request: pytest.FixtureRequest) -> tuple[Logger, io.StringIO]:
    stream = io.StringIO()
    # A service of its own per test: Powertools configures the logging logger of a name only once.
    log = Logger(service=f"outcome-lines-{request.node.name}", stream=stream, json_serializer=to_json)
    log.setLevel("INFO")
    log.append_keys(function_request_id="req-9")
    log.set_correlation_id("event-1")
    return log, stream


def test_outcome_lines_have_the_shape_the_logger_writes(
    powertools_log: tuple[Logger, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a Powertools Logger with Lambda context keys and an X-Ray trace in the environment
    log, stream = powertools_log
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-abc-def;Parent=1;Sampled=1")
    fields = {"outcome": "promoted", "package": "widgets", "eventId": "event-1"}
    # When the Logger and the outcome sink each write the same line
    log.info("version promoted", extra=fields)
    OutcomeLines(log).info("version promoted", extra=fields)
    by_logger, by_sink = (json.loads(line) for line in stream.getvalue().splitlines())
    # Then it holds the Logger's keys and values, but for location and timestamp
    assert {k: v for k, v in by_sink.items() if k not in ("location", "timestamp")} == {
        k: v for k, v in by_logger.items() if k not in ("location", "timestamp")
    }
    assert by_sink["xray_trace_id"] == "1-abc-def"
    assert by_sink["location"] == "outcome"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}[+-]\d{4}", by_sink["timestamp"])


def test_outcome_lines_keep_null_fields_and_values_orjson_refuses(
    powertools_log: tuple[Logger, io.StringIO],
) -> None:
    log, stream = powertools_log
    OutcomeLines(log).warning("version promotion failed", extra={"namespace": None, "size": 2**70})
    line = json.loads(stream.getvalue())
    assert line["level"] == "WARNING"
    assert line["namespace"] is None
    assert line["size"] == 2**70


def test_outcome_lines_follow_the_loggers_level(powertools_log: tuple[Logger, io.StringIO]) -> None:
    log, stream = powertools_log
    log.setLevel("WARNING")
    sink = OutcomeLines(log)
    sink.info("version promoted", extra={"outcome": "promoted"})
    assert stream.getvalue() == ""
    sink.error("version promotion failed", extra={"outcome": "failed"})
    assert json.loads(stream.getvalue())["level"] == "ERROR"
