"""The deployed wiring: a scheduled event through ``app.lambda_handler`` reconciles, over HTTP.

The handler builds its own boto3 clients from the environment (AWS_ENDPOINT_URL points at the local
server), reads the rules file named by PROMOTION_RULES_FILE, and publishes outcome events when
OUTCOME_EVENT_BUS is set: exactly what the function does on a schedule.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import app
import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories

DOMAIN = "acme"
RULES = """
rules:
  - name: staging-to-release
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
"""
SCHEDULED = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-26T13:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/codeartifact-promoter-reconcile"],
    "detail": {},
}


class Context:
    function_name = "codeartifact-promoter"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:codeartifact-promoter"
    aws_request_id = "req-reconcile"

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


@pytest.fixture
def handler_env(aws_server: AwsEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsEnv]:
    create_domain_with_repositories(aws_server.client("codeartifact"), DOMAIN, ["staging", "release"])
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    monkeypatch.setenv("PROMOTION_RULES_FILE", str(rules))
    for name in (
        "PROMOTION_RULES_PARAMETER",
        "ALLOWED_SOURCE_REPOSITORIES",
        "ALLOWED_DESTINATION_REPOSITORIES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OUTCOME_EVENT_BUS", raising=False)
    app.reset_state()
    yield aws_server
    app.reset_state()


def test_scheduled_event_backfills_and_publishes_outcome_events(
    handler_env: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = handler_env
    # Given versions that no event announced, and an outcome bus with a subscribed queue
    sqs, events = env.client("sqs"), env.client("events")
    events.create_event_bus(Name="promotions")
    queue_url = sqs.create_queue(QueueName="outcomes")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="all-promotions",
        EventBusName="promotions",
        EventPattern=json.dumps({"source": ["codeartifact-promoter"]}),
    )
    events.put_targets(Rule="all-promotions", EventBusName="promotions", Targets=[{"Id": "q", "Arn": arn}])
    monkeypatch.setenv("OUTCOME_EVENT_BUS", "promotions")
    revisions = {
        v: env.control.seed_package_version(DOMAIN, "staging", "pypi", "acme-utils", v)["revision"]
        for v in ("1.0.0", "1.1.0")
    }

    # When the schedule fires
    response = app.lambda_handler(SCHEDULED, Context())

    # Then the versions are in release with their revisions, and the summary says so
    summary = response["reconcile"]
    assert summary["outcomes"] == {"promoted": 2}
    assert summary["copyCalls"] == 1
    assert summary["complete"] is True
    listed = env.client("codeartifact").list_package_versions(
        domain=DOMAIN, repository="release", format="pypi", package="acme-utils"
    )
    assert {v["version"]: v["revision"] for v in listed["versions"]} == revisions

    # And each promotion was put on the outcome bus
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(received) < 2 and time.monotonic() < deadline:
        page = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        received.extend(json.loads(m["Body"]) for m in page.get("Messages", []))
    assert sorted(e["detail"]["version"] for e in received) == ["1.0.0", "1.1.0"]
    assert {e["detail"]["outcome"] for e in received} == {"promoted"}

    # And the next scheduled run finds nothing to do
    again = app.lambda_handler(SCHEDULED | {"time": "2026-11-26T14:00:00Z"}, Context())
    assert again["reconcile"]["outcomes"] == {}
    assert again["reconcile"]["copyCalls"] == 0
