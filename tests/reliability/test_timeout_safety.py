"""Timeout safety: the handler watches the time it has left, starts no copy it cannot finish, and hands
the records it did not reach back to the queue as batch item failures - never overrunning its timeout.

Real HTTP against the local CodeArtifact (moto server), whose answers are slowed down with
``Control.inject_fault(..., delay_seconds=...)``; the Lambda context's deadline runs on the real clock.
The copier keeps ``PROMOTER_CALL_TIMEOUT_SECONDS`` (0.5 s here) + 2 s in reserve before it starts a call.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter_dev.lambda_context import LambdaContext

from .conftest import DOMAIN
from .harness import Output, Pipeline, invoke, take_batch

COPY = "CopyPackageVersions"
PACKAGES = [f"slow-{i}" for i in range(6)]


def given_published(env: AwsEnv, packages: list[str]) -> dict[str, Any]:
    """One npm version per package published into staging; returns the SQS batch of their real events."""
    create_domain_with_repositories(env.client("codeartifact"), DOMAIN, ["staging", "release"])
    pipeline = Pipeline.create(
        env, domain=DOMAIN, sources=["staging"], visibility_timeout=60, max_receive_count=5
    )
    for package in packages:
        env.control.seed_package_version(
            DOMAIN, "staging", "npm", package, "1.0.0", assets={"p.tgz": package.encode()}
        )
    return take_batch(pipeline, len(packages))


def in_release(env: AwsEnv, package: str) -> bool:
    client = env.client("codeartifact")
    try:
        versions = client.list_package_versions(
            domain=DOMAIN, repository="release", format="npm", package=package
        )
    except client.exceptions.ResourceNotFoundException:
        return False
    return any(v["version"] == "1.0.0" for v in versions["versions"])


def package_of(record: dict[str, Any]) -> str:
    name: str = json.loads(record["body"])["detail"]["packageName"]
    return name


def copy_calls(env: AwsEnv) -> int:
    return int(env.control.stats().get(COPY, {}).get("calls", 0))


def test_no_copy_starts_when_too_little_time_is_left(aws_server: AwsEnv, function_env: Any) -> None:
    # Given a batch of good records, and an invocation with less time left than one call may need
    batch = given_published(aws_server, PACKAGES[:3])
    output = Output()

    # When the handler runs with 2 s left (it keeps 2.5 s in reserve before a call)
    started = time.monotonic()
    response, error = invoke(batch, LambdaContext(2.0), output)

    # Then it returned at once, called nothing, and gave every record back to the queue with a reason
    assert error is None
    assert time.monotonic() - started < 1.0
    assert copy_calls(aws_server) == 0
    ids = {r["messageId"] for r in batch["Records"]}
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == ids
    failed = [line for line in output.outcomes() if line["outcome"] == "failed"]
    assert {line["errorCode"] for line in failed} == {"NotAttempted"}
    assert all(line["retryable"] for line in failed)
    assert len(failed) == 3
    assert output.metric("VersionsFailed", ("ErrorCode", "NotAttempted")) == 3


def test_slow_answers_leave_the_records_not_reached_as_batch_item_failures(
    aws_server: AwsEnv, function_env: Any
) -> None:
    # Given six packages, and CodeArtifact answering every copy in 0.4 s
    batch = given_published(aws_server, PACKAGES)
    aws_server.control.inject_fault(COPY, "", rate=1.0, delay_seconds=0.4)
    output = Output()

    # When the handler has 3.6 s: about 1.1 s of work before it must keep its reserve
    context = LambdaContext(3.6)
    response, error = invoke(batch, context, output)

    # Then it finished in time, the copies it started completed, and exactly the rest goes back
    assert error is None
    assert context.get_remaining_time_in_millis() > 0
    retried = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    promoted = {package_of(r) for r in batch["Records"] if in_release(aws_server, package_of(r))}
    assert 0 < len(promoted) < len(PACKAGES)
    assert retried == {r["messageId"] for r in batch["Records"] if package_of(r) not in promoted}
    assert copy_calls(aws_server) == len(promoted)  # no call was started and abandoned
    not_reached = {line["package"] for line in output.outcomes() if line.get("errorCode") == "NotAttempted"}
    assert not_reached == set(PACKAGES) - promoted


def test_an_answer_slower_than_the_read_timeout_costs_one_call_and_ends_in_time(
    aws_server: AwsEnv, function_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a 1.5 s read timeout (3.5 s reserve), a 4 s invocation, and answers that take 2.5 s
    monkeypatch.setenv("PROMOTER_CALL_TIMEOUT_SECONDS", "1.5")
    batch = given_published(aws_server, PACKAGES[:1])
    aws_server.control.inject_fault(COPY, "", rate=1.0, delay_seconds=2.5)
    output = Output()

    # When the handler runs
    context = LambdaContext(4.0)
    started = time.monotonic()
    response, error = invoke(batch, context, output)
    elapsed = time.monotonic() - started

    # Then the copier's one attempt was one HTTP call, the invocation ended in time, and the record goes back
    assert error is None
    assert elapsed < 4.0 - 1.0, f"the invocation took {elapsed:.2f} s of its 4 s"
    assert copy_calls(aws_server) == output.metric("CopyRequests") == 1
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [batch["Records"][0]["messageId"]]
    codes = {line.get("errorCode") for line in output.outcomes()}
    assert codes == {"ReadTimeoutError"}


@pytest.mark.parametrize(
    ("code", "status"), [("ThrottlingException", None), ("InternalServerException", 500)]
)
def test_every_http_call_is_the_copiers_own(
    aws_server: AwsEnv, function_env: Any, code: str, status: int | None
) -> None:
    """Regression: botocore's ``retries={"max_attempts": 1}`` means one *retry* (two attempts). Such hidden
    retries bypass the copier's pacing (a throttle must empty its token bucket), its time budget (a
    retry's backoff and second read timeout are not in the reserve) and its metrics (CopyThrottled)."""
    # Given one version, and CodeArtifact failing the first copy call
    batch = given_published(aws_server, PACKAGES[:1])
    aws_server.control.inject_fault(COPY, code, count=1, status=status)
    output = Output()

    # When the handler runs
    response, error = invoke(batch, LambdaContext(10.0), output)

    # Then the version is promoted, and every HTTP call the server saw is one the copier made and counted
    assert error is None
    assert response == {"batchItemFailures": []}
    assert in_release(aws_server, PACKAGES[0])
    assert copy_calls(aws_server) == output.metric("CopyRequests") == 2
    assert output.metric("CopyThrottled") == (1 if code == "ThrottlingException" else 0)
