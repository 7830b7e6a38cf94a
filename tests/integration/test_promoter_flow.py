"""The promoter against the local CodeArtifact through moto, wired as deployed:

publish in a source repository -> the backend's event on the default bus -> an EventBridge rule
-> an SQS queue (with a dead-letter queue) -> ``app.lambda_handler`` with SQS batches, as the
event source mapping delivers them (failed records become visible again, the rest are deleted).

The handler makes its own boto3 clients and reads its rules file from the environment; nothing
of the promoter is faked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import app
import pytest
from codeartifact_moto.testing import AwsEnv
from promoter_dev.lambda_context import LambdaContext

from .flow import Pipeline, build_pipeline, capture_log, configure_function, json_lines

RULES = """rules:
  - {name: dev-to-staging, domain: acme, sourceRepository: dev, destinationRepositories: [staging]}
  - name: staging-to-release
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    excludePackages: ["*-internal"]
"""


@pytest.fixture
def function_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield configure_function(monkeypatch, tmp_path, RULES)
    app.reset_state()


@pytest.fixture
def pipeline(aws: AwsEnv, function_env: Path) -> Pipeline:
    """In-process moto; the EventBridge rule routes the rules' sources (dev, staging)."""
    return build_pipeline(aws, ["dev", "staging"])


@pytest.fixture
def wide_pipeline(aws: AwsEnv, function_env: Path) -> Pipeline:
    """The rule routes every repository of the domain, destinations included (the loop hazard)."""
    return build_pipeline(aws, ["dev", "staging", "release"])


def test_publish_to_release_over_http(aws_server: AwsEnv, function_env: Path) -> None:
    # Given the deployed wiring against a local AWS over real HTTP
    flow = build_pipeline(aws_server, ["dev", "staging"])
    # When an npm version is published in staging and its event is delivered
    revision = flow.publish("staging", "npm", "widgets", "1.2.3", namespace="acme")
    assert flow.drain() == 1
    # Then release holds exactly the published revision, with one copy call and nothing to retry
    copied = flow.version("release", "npm", "widgets", "1.2.3", namespace="acme")
    assert copied is not None
    assert copied["revision"] == revision
    assert flow.copy_calls() == 1
    assert flow.responses == [{"batchItemFailures": []}]


def test_every_format_is_promoted_pinned(pipeline: Pipeline) -> None:
    revisions = {
        ("pypi", None, "acme-utils", "2.3.1"): pipeline.publish("staging", "pypi", "acme-utils", "2.3.1"),
        ("maven", "com.acme", "core", "1.0"): pipeline.publish(
            "staging", "maven", "core", "1.0", namespace="com.acme"
        ),
        ("generic", "builds", "fw", "2026.11.26"): pipeline.publish(
            "staging", "generic", "fw", "2026.11.26", namespace="builds"
        ),
        ("nuget", None, "Acme.Core", "1.0.0"): pipeline.publish("staging", "nuget", "Acme.Core", "1.0.0"),
    }
    pipeline.drain()
    for (fmt, namespace, package, version), revision in revisions.items():
        copied = pipeline.version("release", fmt, package, version, namespace)
        assert copied is not None, (fmt, package)
        assert copied["revision"] == revision


def test_excluded_package_stays(pipeline: Pipeline) -> None:
    pipeline.publish("staging", "npm", "widgets-internal", "1.0.0")
    pipeline.drain()
    assert pipeline.version("release", "npm", "widgets-internal", "1.0.0") is None
    assert pipeline.copy_calls() == 0


def test_maven_waits_while_unfinished_then_promotes_the_published_revision(pipeline: Pipeline) -> None:
    # Given a Maven version still being uploaded
    pipeline.publish("staging", "maven", "app", "2.0", namespace="com.acme", status="Unfinished")
    pipeline.drain()
    assert pipeline.version("release", "maven", "app", "2.0", "com.acme") is None
    # When its last asset arrives and it turns Published (an Updated event)
    final = pipeline.publish(
        "staging",
        "maven",
        "app",
        "2.0",
        namespace="com.acme",
        status="Published",
        assets={"app-2.0.pom": b"<project/>"},
    )
    pipeline.drain()
    # Then release holds the final revision
    copied = pipeline.version("release", "maven", "app", "2.0", "com.acme")
    assert copied is not None
    assert copied["revision"] == final
    assert copied["status"] == "Published"


def test_unfinished_and_published_in_one_batch_cost_one_copy(pipeline: Pipeline) -> None:
    pipeline.publish("staging", "maven", "lib", "3.0", namespace="com.acme", status="Unfinished")
    final = pipeline.publish(
        "staging", "maven", "lib", "3.0", namespace="com.acme", status="Published", assets={"lib.pom": b"x"}
    )
    messages = pipeline.receive()
    assert len(messages) == 2
    pipeline.invoke(messages)
    assert pipeline.version("release", "maven", "lib", "3.0", "com.acme")["revision"] == final
    assert pipeline.copy_calls() == 1


def test_a_stale_revision_is_superseded_and_the_newer_event_promotes(pipeline: Pipeline) -> None:
    # Given a version whose content changed after its first event
    pipeline.publish("staging", "generic", "tool", "1.0", namespace="builds")
    newer = pipeline.publish(
        "staging", "generic", "tool", "1.0", namespace="builds", assets={"extra.txt": b"x"}
    )
    first, second = pipeline.receive(limit=1), pipeline.receive(limit=1)
    # When the older event is delivered alone
    assert pipeline.invoke(first) == {"batchItemFailures": []}
    # Then nothing was copied (superseded, not a failure), and the newer event promotes the new revision
    assert pipeline.version("release", "generic", "tool", "1.0", "builds") is None
    pipeline.invoke(second)
    assert pipeline.version("release", "generic", "tool", "1.0", "builds")["revision"] == newer


def test_a_conflicting_version_in_release_is_a_final_failure(pipeline: Pipeline) -> None:
    # Given release already holds another build of the same version
    pipeline.publish("release", "npm", "clash", "1.0.0", assets={"package.tgz": b"other build"})
    pipeline.publish("staging", "npm", "clash", "1.0.0", assets={"package.tgz": b"vetted build"})
    # When the event is delivered
    pipeline.drain()
    # Then release keeps its version, the record is not retried, and nothing waits in the DLQ
    assert pipeline.responses == [{"batchItemFailures": []}]
    assert pipeline.dlq_bodies() == []
    assert pipeline.copy_calls() == 1


def test_the_copys_own_event_is_ignored(wide_pipeline: Pipeline) -> None:
    # Given an EventBridge rule that also routes the destination's events back to the function
    wide_pipeline.publish("staging", "npm", "widgets", "1.0.0")
    # When everything is drained (the copy emits an event in release, which arrives too)
    delivered = wide_pipeline.drain()
    # Then that event caused no further copy: no loop
    assert delivered == 2
    assert wide_pipeline.copy_calls() == 1


def test_chain_dev_to_staging_to_release(pipeline: Pipeline) -> None:
    revision = pipeline.publish("dev", "pypi", "chained", "0.9.0")
    pipeline.drain()
    assert pipeline.version("staging", "pypi", "chained", "0.9.0")["revision"] == revision
    assert pipeline.version("release", "pypi", "chained", "0.9.0")["revision"] == revision
    assert pipeline.copy_calls() == 2


def test_a_malformed_record_among_good_ones(pipeline: Pipeline) -> None:
    pipeline.publish("staging", "npm", "good-a", "1.0.0")
    pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody="{this is not an event")
    pipeline.sqs.send_message(
        QueueUrl=pipeline.queue_url, MessageBody=json.dumps({"source": "aws.codeartifact"})
    )
    pipeline.publish("staging", "npm", "good-b", "1.0.0")
    messages = pipeline.receive()
    assert len(messages) == 4
    assert pipeline.invoke(messages) == {"batchItemFailures": []}
    assert pipeline.version("release", "npm", "good-a", "1.0.0") is not None
    assert pipeline.version("release", "npm", "good-b", "1.0.0") is not None
    assert pipeline.receive() == []  # the malformed ones were acknowledged, not retried
    assert pipeline.dlq_bodies() == []


def test_duplicate_deliveries_cost_one_copy_and_are_harmless_later(pipeline: Pipeline) -> None:
    pipeline.publish("staging", "npm", "dup", "1.0.0")
    [message] = pipeline.receive()
    for _ in range(2):
        pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=message["Body"])
    batch = [message, *pipeline.receive()]
    assert len(batch) == 3
    pipeline.invoke(batch)
    assert pipeline.copy_calls() == 1
    # a duplicate delivered after the copy finds the identical version listed in the destination:
    # already present, no failure, and no copy call spent on it (catch-up reads the destination first)
    pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=message["Body"])
    pipeline.drain()
    assert pipeline.responses[-1] == {"batchItemFailures": []}
    assert pipeline.copy_calls() == 1


def test_versions_of_one_package_share_one_call(pipeline: Pipeline) -> None:
    for patch in range(12):
        pipeline.publish("staging", "npm", "many", f"1.0.{patch}")
    messages = pipeline.receive() + pipeline.receive()
    assert len(messages) == 12
    pipeline.invoke(messages)
    assert pipeline.copy_calls() == 1
    assert all(pipeline.version("release", "npm", "many", f"1.0.{p}") for p in range(12))


def test_a_throttling_storm_hands_records_back_and_nothing_is_lost(pipeline: Pipeline) -> None:
    # Given CopyPackageVersions throttles every call for a while
    pipeline.env.control.inject_fault("CopyPackageVersions", "ThrottlingException", count=3)
    pipeline.publish("staging", "npm", "stormy", "1.0.0")
    # When the first delivery runs out of retries
    first = pipeline.invoke(pipeline.receive())
    assert len(first["batchItemFailures"]) == 1
    # Then the record is delivered again and promoted once the storm passed
    pipeline.drain()
    assert pipeline.version("release", "npm", "stormy", "1.0.0") is not None
    assert pipeline.dlq_bodies() == []


def test_a_persistent_failure_ends_in_the_dead_letter_queue(pipeline: Pipeline) -> None:
    pipeline.env.control.inject_fault("CopyPackageVersions", "AccessDeniedException", count=100)
    pipeline.publish("staging", "npm", "denied", "1.0.0")
    for _ in range(2):  # maxReceiveCount
        assert len(pipeline.invoke(pipeline.receive())["batchItemFailures"]) == 1
    assert pipeline.receive() == []
    [body] = pipeline.dlq_bodies()
    assert body["detail"]["packageName"] == "denied"


def test_no_copy_starts_without_time_to_finish_it(pipeline: Pipeline) -> None:
    pipeline.publish("staging", "npm", "late", "1.0.0")
    response = pipeline.invoke(pipeline.receive(), LambdaContext(2.0))
    assert len(response["batchItemFailures"]) == 1
    assert pipeline.copy_calls() == 0
    pipeline.drain()
    assert pipeline.version("release", "npm", "late", "1.0.0") is not None


def test_a_burst_costs_one_call_per_package_and_batch(pipeline: Pipeline) -> None:
    started = time.monotonic()
    for i in range(30):
        pipeline.publish("staging", "npm", f"pkg-{i % 5}", f"1.0.{i}")
    assert pipeline.drain() == 30
    assert pipeline.copy_calls() <= 15  # 5 packages in each of 3 batches of 10 records, at most
    assert all(pipeline.version("release", "npm", f"pkg-{i % 5}", f"1.0.{i}") for i in range(30))
    assert time.monotonic() - started < 60


def test_rules_from_an_ssm_parameter_change_without_a_redeploy(
    aws: AwsEnv, function_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given rules in an SSM parameter (read through Powertools Parameters, cache switched off here)
    flow = build_pipeline(aws, ["staging"])
    ssm = aws.client("ssm")
    only_pypi = RULES.replace('excludePackages: ["*-internal"]', "formats: [pypi]")
    ssm.put_parameter(Name="/promoter/rules", Value=only_pypi, Type="String")
    monkeypatch.setenv("PROMOTION_RULES_PARAMETER", "/promoter/rules")
    monkeypatch.setenv("PROMOTION_RULES_CACHE_SECONDS", "0")
    app.reset_state()
    flow.publish("staging", "npm", "first", "1.0.0")
    flow.drain()
    assert flow.version("release", "npm", "first", "1.0.0") is None  # npm is not in the rules yet
    # When the parameter is changed to allow npm
    ssm.put_parameter(Name="/promoter/rules", Value=RULES, Type="String", Overwrite=True)
    flow.publish("staging", "npm", "second", "1.0.0")
    flow.drain()
    # Then the next invocation promotes with the new rules
    assert flow.version("release", "npm", "second", "1.0.0") is not None


def test_a_bad_rules_parameter_fails_every_record_back_to_the_queue(
    aws: AwsEnv, function_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = build_pipeline(aws, ["staging"])
    aws.client("ssm").put_parameter(Name="/promoter/rules", Value="rules: [{name: x}]", Type="String")
    monkeypatch.setenv("PROMOTION_RULES_PARAMETER", "/promoter/rules")
    app.reset_state()
    flow.publish("staging", "npm", "kept", "1.0.0")
    with pytest.raises(ValueError, match="rule 'x', field 'domain'"):
        flow.invoke(flow.receive())
    assert flow.copy_calls() == 0


@pytest.mark.parametrize("value", ["{secure}", "not a rules document", "- a\n- list"])
def test_a_rules_parameter_that_is_no_rules_document_says_it_must_be_a_string_of_yaml_or_json(
    aws: AwsEnv, function_env: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Given the rules in a SecureString parameter (read undecrypted), or a String that is no rules document
    ssm = aws.client("ssm")
    name = "/promoter/not-rules"
    if value == "{secure}":
        ssm.put_parameter(Name=name, Value=RULES, Type="SecureString")
    else:
        ssm.put_parameter(Name=name, Value=value, Type="String")
    monkeypatch.setenv("PROMOTION_RULES_PARAMETER", name)
    monkeypatch.setenv("PROMOTION_RULES_CACHE_SECONDS", "0")  # Powertools' cache outlives app.reset_state()
    app.reset_state()
    flow = build_pipeline(aws, ["staging"])
    flow.publish("staging", "npm", "kept", "1.0.0")

    # When the function loads its rules
    with pytest.raises(ValueError, match=f"SSM parameter '{name}' does not hold a rules document") as err:
        flow.invoke(flow.receive())

    # Then the error names the parameter and the type and content it needs, and nothing is copied
    assert "must be a String parameter (not SecureString" in str(err.value)
    assert "YAML or JSON" in str(err.value)
    assert flow.copy_calls() == 0


COOLDOWN_RULES = """
rules:
  - name: cooled
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    minimumReleaseAge: 3d
"""


def test_a_cooldown_defers_young_versions_and_copies_old_ones(
    aws: AwsEnv, function_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = capture_log(monkeypatch)
    # Given a rule with a three-day cooldown
    function_env.write_text(COOLDOWN_RULES)
    app.reset_state()
    flow = build_pipeline(aws, ["staging"])
    now = datetime.now(UTC)
    # When a fresh version and a four-day-old one announce themselves
    flow.publish("staging", "npm", "fresh", "1.0.0", published_time=now)
    flow.publish("staging", "npm", "aged", "1.0.0", published_time=now - timedelta(days=4))
    assert flow.invoke(flow.receive()) == {"batchItemFailures": []}
    # Then only the old one is copied; the young one is deferred with the time it becomes eligible
    assert flow.version("release", "npm", "aged", "1.0.0") is not None
    assert flow.version("release", "npm", "fresh", "1.0.0") is None
    assert flow.copy_calls() == 1
    printed = log.getvalue() + capsys.readouterr().out  # log lines, then EMF metrics (printed)
    lines = json_lines(printed)
    [deferred] = [line for line in lines if line.get("outcome") == "deferred"]
    assert deferred["package"] == "fresh"
    eligible = datetime.fromisoformat(deferred["eligibleAt"])
    assert abs(eligible - (now + timedelta(days=3))) < timedelta(seconds=5)
    emitted = [line for line in lines if "VersionsDeferred" in line]
    assert emitted
    assert emitted[0]["VersionsDeferred"] == [1.0]
