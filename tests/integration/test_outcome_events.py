"""Outcome events through the local EventBridge over HTTP: bus -> rule -> SQS, batching, and failures.

The promoter's Reporter publishes through ``promoter.outcome_events.OutcomeEventPublisher``; these tests
subscribe an SQS queue to the bus with an ordinary EventBridge rule, as a consumer would, and read what
arrives. Failures (a missing bus, entries the service rejects) must be logged and counted, never raised.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter.outcome_events import (
    DETAIL_TYPE,
    FAILED_METRIC,
    SOURCE,
    OutcomeEventPublisher,
    from_environment,
)
from promoter.outcomes import DEFERRED, PROMOTED
from promoter.pipeline import Dependencies
from promoter.reconcile import reconcile
from promoter.report import MemoryMetrics, Reporter
from promoter.rules import build_ruleset

from .flow import poll_events, subscribe_queue

DOMAIN = "acme"
BUS = "promotions"


class Recorder:
    """Both a log sink and a Powertools-shaped metrics sink, keeping what it is given."""

    def __init__(self) -> None:
        self.logs: list[tuple[str, str, dict[str, Any]]] = []
        self.metrics: list[tuple[str, float]] = []

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.logs.append(("info", str(msg), dict(kwargs.get("extra") or {})))

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.logs.append(("warning", str(msg), dict(kwargs.get("extra") or {})))

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.logs.append(("error", str(msg), dict(kwargs.get("extra") or {})))

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.metrics.append((name, value))


@pytest.fixture
def env(aws_server: AwsEnv) -> AwsEnv:
    create_domain_with_repositories(aws_server.client("codeartifact"), DOMAIN, ["staging", "release"])
    return aws_server


def subscribe(env: AwsEnv) -> str:
    """A bus, and a rule on it that sends the promoter's outcome events to a new queue."""
    return subscribe_queue(env, BUS, {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}, "promotion-outcomes")


def deps_with_events(env: AwsEnv, publisher: OutcomeEventPublisher, **rule: Any) -> Dependencies:
    ruleset = build_ruleset(
        {
            "rules": [
                {
                    "name": "to-release",
                    "domain": DOMAIN,
                    "sourceRepository": "staging",
                    "destinationRepositories": ["release"],
                    **rule,
                }
            ]
        }
    )
    return Dependencies(
        client=env.client("codeartifact"),
        rules=ruleset,
        reporter=Reporter(Recorder(), MemoryMetrics(), publisher),
        sleep=lambda _: None,
    )


def test_outcome_events_reach_a_queue_through_a_rule_on_the_bus(env: AwsEnv) -> None:
    # Given a bus with a subscriber, and a version to promote
    queue_url = subscribe(env)
    revision = env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")["revision"]
    publisher = OutcomeEventPublisher(BUS, client=env.client("events"))
    deps = deps_with_events(env, publisher)

    # When reconcile promotes it and the invocation ends
    result = reconcile(deps)
    deps.reporter.flush()

    # Then one event arrives, shaped as documented, its detail the outcome's log line fields
    [event] = poll_events(env, queue_url, expected=1)
    assert event["source"] == SOURCE
    assert event["detail-type"] == DETAIL_TYPE
    [outcome] = result.outcomes
    assert outcome.status == PROMOTED
    assert event["detail"] == json.loads(json.dumps(outcome.log_fields(), default=str))
    assert event["detail"]["revision"] == revision
    assert event["detail"]["destinationRepository"] == "release"
    assert publisher.failed == 0


def test_at_most_ten_entries_per_put_events_call(env: AwsEnv) -> None:
    # Given 23 versions to promote
    queue_url = subscribe(env)
    for index in range(23):
        env.control.seed_package_version(DOMAIN, "staging", "npm", f"pkg-{index:02d}", "1.0.0")
    publisher = OutcomeEventPublisher(BUS, client=env.client("events"))
    deps = deps_with_events(env, publisher)

    # When they are promoted and the reporter flushes
    reconcile(deps)
    deps.reporter.flush()

    # Then 23 events were sent in 3 calls, and all 23 arrived
    assert (publisher.sent, publisher.calls) == (23, 3)
    arrived = poll_events(env, queue_url, expected=23)
    assert sorted(e["detail"]["package"] for e in arrived) == [f"pkg-{i:02d}" for i in range(23)]


def test_deferred_outcomes_are_published_too(env: AwsEnv) -> None:
    queue_url = subscribe(env)
    env.control.seed_package_version(DOMAIN, "staging", "npm", "fresh", "1.0.0")
    publisher = OutcomeEventPublisher(BUS, client=env.client("events"))
    deps = deps_with_events(env, publisher, minimumReleaseAge="7d")
    reconcile(deps)
    deps.reporter.flush()
    [event] = poll_events(env, queue_url, expected=1)
    assert event["detail"]["outcome"] == DEFERRED
    assert "eligibleAt" in event["detail"]


def test_a_missing_bus_is_logged_and_counted_and_never_fails_the_copy(env: AwsEnv) -> None:
    # Given a publisher pointed at a bus that does not exist
    recorder = Recorder()
    publisher = OutcomeEventPublisher(
        "no-such-bus", client=env.client("events"), metrics=recorder, logger=recorder
    )
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    deps = deps_with_events(env, publisher)

    # When a version is promoted and the invocation ends
    result = reconcile(deps)
    deps.reporter.flush()

    # Then the copy happened, and the failed event is one warning and one OutcomeEventsFailed count
    assert [o.status for o in result.outcomes] == [PROMOTED]
    assert recorder.metrics == [(FAILED_METRIC, 1)]
    [(level, message, fields)] = recorder.logs
    assert level == "warning"
    assert message == "outcome events not delivered"
    assert fields["errorCode"] == "ResourceNotFoundException"
    assert fields["failedEntries"] == 1


def test_entries_the_service_rejects_are_counted(env: AwsEnv) -> None:
    # Given a PutEvents answer with one failed entry of two (as EventBridge reports partial failures)
    client = env.client("events")
    recorder = Recorder()
    publisher = OutcomeEventPublisher(BUS, client=client, metrics=recorder, logger=recorder)
    with Stubber(client) as stub:
        stub.add_response(
            "put_events",
            {
                "FailedEntryCount": 1,
                "Entries": [{"EventId": "1"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "try later"}],
            },
        )
        publisher.publish({"outcome": "promoted", "package": "a"})
        publisher.publish({"outcome": "promoted", "package": "b"})

        # When the publisher flushes
        sent, failed = publisher.flush()

    # Then one was sent, one is logged and counted
    assert (sent, failed) == (1, 1)
    assert recorder.metrics == [(FAILED_METRIC, 1)]
    assert recorder.logs[0][2]["errorCode"] == "InternalFailure"


def test_off_unless_the_bus_is_configured() -> None:
    assert from_environment(environ={}) is None
    assert from_environment(environ={"OUTCOME_EVENT_BUS": " "}) is None
    publisher = from_environment(environ={"OUTCOME_EVENT_BUS": "promotions"})
    assert publisher is not None
    assert publisher.bus_name == "promotions"
    assert publisher.flush() == (0, 0)  # nothing to send: no client is even created
    assert publisher.calls == 0
