"""End to end: publish -> template rule -> queue -> the function under the runtime emulator -> release.

Nothing is deployed by hand: the rule, queue and dead-letter queue come from template.yaml through
moto's CloudFormation, the function's handler, environment and timeout from the same template, and
every call (publish, routing, copy) goes over HTTP to the local AWS.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from moto.server import ThreadedMotoServer
from promoter_dev import esm, stack
from promoter_dev.invoke import Emulator

from .conftest import publish_generic, revision_in

pytestmark = [
    pytest.mark.e2e,
    # moto cannot create AWS::SQS::QueuePolicy (its SQS enforces none); tests/unit/test_template.py checks it.
    pytest.mark.filterwarnings("ignore:Tried to parse AWS..SQS..QueuePolicy"),
]

DOMAIN, STAGING, RELEASE = "acme", "staging", "release"  # the template's parameter defaults


@pytest.fixture(scope="module")
def promoter(moto_server: tuple[ThreadedMotoServer, str]) -> Iterator[Emulator]:
    """The promoter under the emulator, one execution environment for the module (warm after the first)."""
    _, url = moto_server
    with Emulator(endpoint_url=url) as emulator:
        yield emulator


@pytest.fixture
def wiring(aws_server: AwsEnv) -> stack.EventWiring:
    create_domain_with_repositories(aws_server.client("codeartifact"), DOMAIN, [STAGING, RELEASE, "scratch"])
    return stack.deploy_event_wiring(aws_server.client("cloudformation"), aws_server.client("sqs"))


def test_a_published_version_reaches_release_with_the_same_revision(
    aws_server: AwsEnv, wiring: stack.EventWiring, promoter: Emulator
) -> None:
    # Given the template's wiring in the local AWS, and a version published to staging
    sqs = aws_server.client("sqs")
    revision = publish_generic(aws_server, STAGING, "build-tools", "1.2.0", b"the vetted build")

    # When EventBridge routes its event into the queue and the queue is delivered to the function
    messages = esm.receive_batch(sqs, wiring, expected=1)
    assert len(messages) == 1
    delivery = esm.deliver(sqs, wiring, promoter.invoke, messages)

    # Then release holds exactly the published revision
    invocation = delivery.invocation
    assert not invocation.failed, invocation.payload
    assert invocation.payload == {"batchItemFailures": []}
    assert revision_in(aws_server, RELEASE, "build-tools", "1.2.0") == revision
    # ... the function said so in one log line and in its EMF metrics
    outcomes = [r for r in invocation.log_records() if r.get("outcome") == "promoted"]
    assert [(o["package"], o["version"], o["destinationRepository"]) for o in outcomes] == [
        ("build-tools", "1.2.0", RELEASE)
    ]
    metrics = invocation.metrics()
    assert metrics.get("VersionsPromoted") == 1
    assert metrics.get("CopyRequests") == 1
    assert metrics.get("VersionsFailed", 0) == 0
    # ... and the message left the queue (nothing in the dead-letter queue either)
    assert delivery.deleted == [messages[0]["MessageId"]]
    assert esm.queue_depth(sqs, wiring.queue_url) == 0
    assert esm.queue_depth(sqs, wiring.dead_letter_queue_url) == 0


def test_a_conflicting_build_in_release_fails_with_its_error_code_and_is_not_overwritten(
    aws_server: AwsEnv, wiring: stack.EventWiring, promoter: Emulator
) -> None:
    # Given release already holds another build of the version
    sqs = aws_server.client("sqs")
    existing = publish_generic(aws_server, RELEASE, "cli", "2.0.0", b"built on a laptop")
    publish_generic(aws_server, STAGING, "cli", "2.0.0", b"built by CI")

    # When
    messages = esm.receive_batch(sqs, wiring, expected=1)
    delivery = esm.deliver(sqs, wiring, promoter.invoke, messages)

    # Then the copy failed for good (not retried), is counted by error code, and release is untouched
    assert delivery.returned == []
    failed = [r for r in delivery.invocation.log_records() if r.get("outcome") == "failed"]
    assert [f["errorCode"] for f in failed] == ["ALREADY_EXISTS"]
    assert (
        delivery.invocation.dimensioned_metrics().get(("VersionsFailed", "ErrorCode", "ALREADY_EXISTS")) == 1
    )
    assert revision_in(aws_server, RELEASE, "cli", "2.0.0") == existing


def test_the_rule_only_routes_the_source_repositories_of_the_domain(
    aws_server: AwsEnv, wiring: stack.EventWiring
) -> None:
    # When versions appear in repositories that are not sources (including the destination itself)
    sqs = aws_server.client("sqs")
    publish_generic(aws_server, RELEASE, "tool", "1.0.0", b"x")
    publish_generic(aws_server, "scratch", "tool", "1.0.0", b"y")
    # ... and one in a source, so the absence of the others is not an accident of timing
    publish_generic(aws_server, STAGING, "tool", "1.0.1", b"z")

    # Then only the source repository's event reached the queue
    messages = esm.receive_batch(sqs, wiring, expected=3, timeout=3.0)
    assert len(messages) == 1
    assert '"repositoryName": "staging"' in messages[0]["Body"].replace('":"', '": "')
