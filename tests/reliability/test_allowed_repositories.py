"""Defence in depth beside IAM: the function refuses, at start, rules that reach outside the repositories the
stack was configured with (ALLOWED_SOURCE_REPOSITORIES / ALLOWED_DESTINATION_REPOSITORIES, which
template.yaml sets from the same parameters its IAM policy is built from).

Refusing means: no copy at all, an error log line naming the rule and the field, and the invocation fails so
the queue keeps (and eventually dead-letters) the records - nothing is acknowledged as done.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter.rules_document import RulesError
from promoter_dev.lambda_context import LambdaContext

from .conftest import DOMAIN, RULES
from .harness import Output, invoke, version_event


def rules_with(**changes: Any) -> dict[str, Any]:
    rule = {**RULES["rules"][0], **changes}
    return {"rules": [rule]}


@pytest.fixture
def env(aws: AwsEnv, function_env: Path) -> AwsEnv:
    create_domain_with_repositories(
        aws.client("codeartifact"), DOMAIN, ["staging", "release", "scratch", "prod"]
    )
    return aws


def an_event(env: AwsEnv, repository: str = "staging") -> dict[str, Any]:
    seeded = env.control.seed_package_version(DOMAIN, repository, "npm", "guarded", "1.0.0")
    return version_event("guarded", revision=seeded["revision"], repository=repository, owner=env.account_id)


def copy_calls(env: AwsEnv) -> int:
    return int(env.control.stats().get("CopyPackageVersions", {}).get("calls", 0))


@pytest.mark.parametrize(
    ("changes", "field", "named"),
    [
        (
            {"sourceRepository": "scratch"},
            "sourceRepository",
            "'scratch' is not in ALLOWED_SOURCE_REPOSITORIES",
        ),
        (
            {"destinationRepositories": ["release", "prod"]},
            "destinationRepositories",
            "'prod' is not in ALLOWED_DESTINATION_REPOSITORIES",
        ),
    ],
)
@pytest.mark.parametrize("shape", ["sqs", "raw"])
def test_a_rule_outside_the_configured_repositories_is_refused_at_start(
    env: AwsEnv, function_env: Path, changes: dict[str, Any], field: str, named: str, shape: str
) -> None:
    # Given a stack configured for staging -> release, and rules that reach further
    function_env.write_text(json.dumps(rules_with(**changes)))
    event = an_event(env, repository=changes.get("sourceRepository", "staging"))
    payload: Any = event
    if shape == "sqs":
        payload = {"Records": [{"messageId": "m1", "receiptHandle": "h", "body": json.dumps(event)}]}
    output = Output()

    # When the function starts on an event
    result, error = invoke(payload, LambdaContext(30.0), output)

    # Then it refuses: the invocation fails with the rules error, no copy, the log names rule and field
    assert result is None
    assert isinstance(error, RulesError)
    assert error.rule == "staging-to-release"
    assert error.field == field
    assert named in str(error)
    assert copy_calls(env) == 0
    (line,) = [line for line in output.logs if line.get("level") == "ERROR"]
    assert "rules are invalid" in line["message"]
    assert f"field '{field}'" in json.dumps(line)
    assert "staging-to-release" in json.dumps(line)


def test_domain_qualified_entries_only_allow_that_domain(
    env: AwsEnv, function_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given allow-lists written as domain/repository for another domain
    monkeypatch.setenv("ALLOWED_SOURCE_REPOSITORIES", "other-domain/staging")
    output = Output()
    _, error = invoke(an_event(env), LambdaContext(30.0), output)
    # Then acme's staging is not allowed
    assert isinstance(error, RulesError)
    assert error.field == "sourceRepository"
    assert copy_calls(env) == 0


def test_rules_inside_the_configured_repositories_promote(
    env: AwsEnv, function_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLOWED_SOURCE_REPOSITORIES", f"{DOMAIN}/staging")
    monkeypatch.setenv("ALLOWED_DESTINATION_REPOSITORIES", "release")
    result, error = invoke(an_event(env), LambdaContext(30.0), Output())
    assert error is None
    assert result == {"outcomes": {"promoted": 1}}
    assert copy_calls(env) == 1
