"""A platform engineer's first deployment, end to end: their own domain (``DomainName=mycorp``, the
template has no default), the bundled rules (which name no domain), the template's wiring in the local
AWS, and the function under the runtime emulator with the environment the template gives it.

Before DOMAIN_NAME reached the function, the bundled rules named ``acme`` and such a stack ignored every
event (reason ``domain``, INFO only). Also here: the rule target's dead-letter queue exists in the
deployed wiring.
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
    # moto cannot create AWS::SQS::QueuePolicy (its SQS enforces none); the unit tests check the policies.
    pytest.mark.filterwarnings("ignore:Tried to parse AWS..SQS..QueuePolicy"),
]

DOMAIN = "mycorp"
PARAMETERS = {"DomainName": DOMAIN}


@pytest.fixture(scope="module")
def promoter(moto_server: tuple[ThreadedMotoServer, str]) -> Iterator[Emulator]:
    _, url = moto_server
    with Emulator(endpoint_url=url, parameter_overrides=PARAMETERS) as emulator:
        yield emulator


@pytest.fixture
def wiring(aws_server: AwsEnv) -> stack.EventWiring:
    create_domain_with_repositories(aws_server.client("codeartifact"), DOMAIN, ["staging", "release"])
    return stack.deploy_event_wiring(
        aws_server.client("cloudformation"), aws_server.client("sqs"), parameters=PARAMETERS
    )


def test_the_function_serves_the_domain_the_stack_was_deployed_for(promoter: Emulator) -> None:
    assert promoter.env["DOMAIN_NAME"] == DOMAIN
    assert promoter.env["DOMAIN_OWNER"] == ""
    assert promoter.env["PROMOTION_RULES_FILE"] == "promotion-rules.yaml"  # the bundled rules


def test_a_first_deployment_for_its_own_domain_promotes_with_the_bundled_rules(
    aws_server: AwsEnv, wiring: stack.EventWiring, promoter: Emulator
) -> None:
    # Given a build published to mycorp/staging
    revision = publish_generic(
        aws_server, "staging", "build-tools", "1.0.0", b"the vetted build", domain=DOMAIN
    )

    # When the template's rule routes its event and the queue is delivered to the function
    sqs = aws_server.client("sqs")
    messages = esm.receive_batch(sqs, wiring, expected=1)
    assert len(messages) == 1
    delivery = esm.deliver(sqs, wiring, promoter.invoke, messages)

    # Then the bundled generic rule promoted it into mycorp/release, pinned
    assert delivery.invocation.payload == {"batchItemFailures": []}, delivery.invocation.logs
    outcomes = [r for r in delivery.invocation.log_records() if r.get("outcome")]
    assert [(o["outcome"], o["domain"], o["rule"]) for o in outcomes] == [
        ("promoted", DOMAIN, "generic-to-release")
    ]
    assert revision_in(aws_server, "release", "build-tools", "1.0.0", domain=DOMAIN) == revision


def test_the_rule_target_keeps_undeliverable_events_in_their_own_queue(
    aws_server: AwsEnv, wiring: stack.EventWiring
) -> None:
    events = aws_server.client("events")
    (target,) = events.list_targets_by_rule(Rule=wiring.rule_name)["Targets"]
    undelivered_arn = aws_server.client("sqs").get_queue_attributes(
        QueueUrl=wiring.undelivered_events_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    assert target["Arn"] == wiring.queue_arn
    assert target["DeadLetterConfig"] == {"Arn": undelivered_arn}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert undelivered_arn not in (wiring.queue_arn, wiring.dead_letter_queue_arn)
