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
from promoter_dev.lambda_context import LambdaContext as Context
from promoter_dev.sample_rules import DOMAIN, STAGING_TO_RELEASE

RULES = STAGING_TO_RELEASE
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


def _emf(text: str) -> list[dict[str, Any]]:
    """The EMF documents Powertools printed (one JSON object per line with an ``_aws`` key)."""
    documents = []
    for line in text.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


def _value(value: Any) -> float:
    """An EMF value: a number, or Powertools' list of the values added in the invocation (here one)."""
    values = value if isinstance(value, list) else [value]
    assert len(values) == 1
    return float(values[0])


def test_scheduled_event_resumes_from_the_stacks_cursor_parameter_and_resets_it(
    handler_env: AwsEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = handler_env
    # Given the stack's cursor parameter, left by a run that stopped after package "b"
    for package in ("a", "b", "c", "d"):
        env.control.seed_package_version(DOMAIN, "staging", "npm", package, "1.0.0")
    owner = env.client("codeartifact").describe_domain(domain=DOMAIN)["domain"]["owner"]
    name = "/codeartifact-promoter/stack/reconcile-cursor"
    cursor = {
        "domain": DOMAIN,
        "domainOwner": owner,
        "repository": "staging",
        "query": 0,
        "format": "npm",
        "namespace": None,
        "package": "b",
        "nextToken": None,
    }
    env.client("ssm").put_parameter(Name=name, Value=json.dumps(cursor), Type="String")
    monkeypatch.setenv("RECONCILE_CURSOR_PARAMETER", name)

    # When the schedule fires
    summary = app.lambda_handler(SCHEDULED, Context())["reconcile"]

    # Then the run continued after "b", completed, and reset the parameter for the next walk
    assert summary["resumedFrom"]["package"] == "b"
    assert summary["outcomes"] == {"promoted": 2}
    assert summary["complete"] is True
    assert env.client("ssm").get_parameter(Name=name)["Parameter"]["Value"] == "{}"
    # and ReconcileErrors was emitted as 0: the alarm sees a clean run
    metrics = [doc for doc in _emf(capsys.readouterr().out) if "ReconcileErrors" in doc]
    assert [_value(doc["ReconcileErrors"]) for doc in metrics] == [0.0]


def test_scheduled_event_with_a_missing_source_emits_reconcile_errors_by_code(
    handler_env: AwsEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = handler_env
    # Given rules whose second source repository does not exist
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    rules = tmp_path / "rules-with-a-missing-source.yaml"
    rules.write_text(
        RULES + RULES.split("rules:\n")[1].replace("staging-to-release", "gone").replace("staging", "gone")
    )
    monkeypatch.setenv("PROMOTION_RULES_FILE", str(rules))
    app.reset_state()

    # When the schedule fires
    summary = app.lambda_handler(SCHEDULED, Context())["reconcile"]

    # Then the good source was promoted, the run is incomplete, and the metric names the error's code
    assert summary["outcomes"] == {"promoted": 1}
    assert summary["complete"] is False
    documents = _emf(capsys.readouterr().out)
    by_code = [
        doc
        for doc in documents
        if "ReconcileErrors" in doc and doc.get("ErrorCode") == "ResourceNotFoundException"
    ]
    assert [_value(doc["ReconcileErrors"]) for doc in by_code] == [1.0]
    totals = [
        _value(doc["ReconcileErrors"])
        for doc in documents
        if "ReconcileErrors" in doc and "ErrorCode" not in doc
    ]
    assert totals == [1.0]
