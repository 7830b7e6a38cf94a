"""Faults in the function's configuration: rules kept in SSM that cannot be read or are broken.

Either way the function must not acknowledge the batch as done: the invocation fails, Lambda hands every
record back to the queue (and the dead-letter queue keeps what never succeeds), and nothing is copied under
rules it could not read. Once the parameter is fixed, the next invocation promotes without a redeploy.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter.rules_document import RulesError
from promoter_dev.lambda_context import LambdaContext

from .conftest import DOMAIN, RULES
from .harness import Output, invoke, version_event


@pytest.fixture
def env(aws: AwsEnv, function_env: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[AwsEnv, str]:
    create_domain_with_repositories(aws.client("codeartifact"), DOMAIN, ["staging", "release"])
    name = f"/promoter/{uuid.uuid4().hex}/rules"  # Parameters caches by name across tests
    monkeypatch.setenv("PROMOTION_RULES_PARAMETER", name)
    monkeypatch.setenv("PROMOTION_RULES_CACHE_SECONDS", "0")
    monkeypatch.delenv("PROMOTION_RULES_FILE")
    return aws, name


def batch_for(env: AwsEnv) -> dict[str, Any]:
    seeded = env.control.seed_package_version(DOMAIN, "staging", "npm", "configured", "1.0.0")
    event = version_event("configured", revision=seeded["revision"], owner=env.account_id)
    return {"Records": [{"messageId": "m1", "receiptHandle": "h1", "body": json.dumps(event)}]}


def copy_calls(env: AwsEnv) -> int:
    return int(env.control.stats().get("CopyPackageVersions", {}).get("calls", 0))


def test_an_unreadable_rules_parameter_fails_the_invocation_and_copies_nothing(
    env: tuple[AwsEnv, str],
) -> None:
    aws, name = env
    batch = batch_for(aws)

    # Given the parameter does not exist (deleted, or the role may not read it)
    result, error = invoke(batch, LambdaContext(30.0), Output())

    # Then the invocation fails (every record goes back to the queue) and nothing is copied
    assert result is None
    assert error is not None
    assert isinstance(error, GetParameterError)
    assert "ParameterNotFound" in str(error)
    assert name in str(error)
    assert copy_calls(aws) == 0

    # When the parameter is created, the next invocation promotes without a redeploy
    aws.client("ssm").put_parameter(Name=name, Type="String", Value=json.dumps(RULES))
    result, error = invoke(batch, LambdaContext(30.0), Output())
    assert error is None
    assert result == {"batchItemFailures": []}
    assert copy_calls(aws) == 1


def test_broken_rules_in_the_parameter_are_refused_with_rule_and_field(env: tuple[AwsEnv, str]) -> None:
    aws, name = env
    broken = {"rules": [{**RULES["rules"][0], "versions": ">=banana"}]}
    aws.client("ssm").put_parameter(Name=name, Type="String", Value=json.dumps(broken))
    output = Output()

    result, error = invoke(batch_for(aws), LambdaContext(30.0), output)

    assert result is None
    assert isinstance(error, RulesError)
    assert error.rule == "staging-to-release"
    assert error.field == "versions"
    assert copy_calls(aws) == 0
    (line,) = [line for line in output.logs if line.get("level") == "ERROR"]
    assert "field 'versions'" in json.dumps(line)
