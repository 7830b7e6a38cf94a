"""The stack's scope reaches the function: the environment template.yaml gives it (resolved by
promoter_dev.cfn for a parameter set), the bundled rules (no domain, no owner), and the local AWS.

A cross-account stack: the function runs in account 999999999999 (its ARN) for a domain owned by
123456789012, the local AWS's account (``DomainOwner=123456789012``). Before DOMAIN_OWNER reached the
function, every event of that domain was ignored (reason ``domain``): nothing promoted, nothing failed.
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
from promoter_dev import cfn
from promoter_dev.lambda_context import LambdaContext

from .harness import Output, invoke, version_event

DOMAIN = "corp"
DOMAIN_OWNER = "123456789012"  # the local AWS's account owns the domain
FUNCTION_ACCOUNT = "999999999999"  # the stack (and function) live in another account
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{FUNCTION_ACCOUNT}:function:codeartifact-promoter"


def template_environment(**parameters: str) -> dict[str, str]:
    """The function's environment as template.yaml sets it for these parameters (no local defaults: a
    deployment names its domain)."""
    resolver = cfn.Resolver(cfn.load_template(), parameters, account_id=FUNCTION_ACCOUNT, local_parameters={})
    return cfn.function_config(resolver).environment


@pytest.fixture
def stack_env(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The function configured by the template for a stack serving ``corp`` of account 123456789012."""
    environment = template_environment(DomainName=DOMAIN, DomainOwner=DOMAIN_OWNER)
    for name in ("PROMOTION_RULES_PARAMETER", "PROMOTION_RULES_FILE", "DOMAIN_NAME", "DOMAIN_OWNER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PROMOTER_COPY_RATE", "0")
    monkeypatch.setenv("PROMOTER_CALL_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("AWS_REGION", aws.region)
    create_domain_with_repositories(aws.client("codeartifact"), DOMAIN, ["staging", "release"])
    app.reset_state()
    yield environment
    app.reset_state()


def context() -> LambdaContext:
    return LambdaContext(invoked_function_arn=FUNCTION_ARN)


def published(aws: AwsEnv, package: str, version: str, *, region: str | None = None) -> dict[str, Any]:
    """An npm version in corp/staging, and the EventBridge event CodeArtifact emits for it."""
    revision = aws.control.seed_package_version(DOMAIN, "staging", "npm", package, version)["revision"]
    return version_event(
        package, version, revision, domain=DOMAIN, owner=DOMAIN_OWNER, region=region or aws.region
    )


def sqs_batch(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{i}", "body": json.dumps(e), "eventSource": "aws:sqs"}
            for i, e in enumerate(events)
        ]
    }


def in_release(aws: AwsEnv, package: str, version: str) -> bool:
    client = aws.client("codeartifact")
    try:
        versions = client.list_package_versions(
            domain=DOMAIN, domainOwner=DOMAIN_OWNER, repository="release", format="npm", package=package
        )["versions"]
    except client.exceptions.ResourceNotFoundException:  # no version of the package there at all
        return False
    return version in {v["version"] for v in versions}


def copy_calls(aws: AwsEnv) -> int:
    return int(aws.control.stats().get("CopyPackageVersions", {}).get("calls", 0))


def test_the_template_passes_the_stacks_domain_and_owner() -> None:
    env = template_environment(DomainName="corp", DomainOwner="210987654321")
    assert (env["DOMAIN_NAME"], env["DOMAIN_OWNER"]) == ("corp", "210987654321")
    assert template_environment(DomainName="corp")["DOMAIN_OWNER"] == ""  # the function's own account


def test_a_deployment_must_name_its_domain() -> None:
    with pytest.raises(cfn.TemplateError, match="DomainName has no default"):
        template_environment()


def test_a_cross_account_stack_promotes_with_the_bundled_rules(
    aws: AwsEnv, stack_env: dict[str, str]
) -> None:
    # Given the stack's environment, the bundled rules (no domain, no owner) and a version in corp/staging
    assert stack_env["PROMOTION_RULES_FILE"] == "promotion-rules.yaml"
    event = published(aws, "widgets", "1.0.0")

    # When its event arrives through the queue
    output = Output()
    result, error = invoke(sqs_batch(event), context(), output)

    # Then it is promoted into the stack's domain, owner named in the copy
    assert error is None, error
    assert result == {"batchItemFailures": []}
    assert [(o["outcome"], o.get("reason")) for o in output.outcomes()] == [("promoted", None)]
    assert in_release(aws, "widgets", "1.0.0")


def test_a_cross_account_reconcile_lists_and_copies_in_the_stacks_domain(
    aws: AwsEnv, stack_env: dict[str, str]
) -> None:
    # Given a version published before the promoter existed (no event)
    published(aws, "gadgets", "2.0.0")

    # When the schedule runs reconcile
    output = Output()
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "id": "s1", "detail": {}}
    _, error = invoke(scheduled, context(), output)

    # Then reconcile read and wrote the domain of the stack's owner
    assert error is None, error
    assert in_release(aws, "gadgets", "2.0.0")


def test_without_domain_owner_the_same_stack_promotes_nothing_of_another_accounts_domain(
    aws: AwsEnv, stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same stack deployed without DomainOwner (the function's own account, 999999999999)
    monkeypatch.setenv("DOMAIN_OWNER", template_environment(DomainName=DOMAIN)["DOMAIN_OWNER"])
    app.reset_state()
    event = published(aws, "widgets", "1.0.0")

    # When an event of account 123456789012's domain arrives
    output = Output()
    _, error = invoke(sqs_batch(event), context(), output)

    # Then it is not this stack's domain: ignored, never copied
    assert error is None, error
    assert [(o["outcome"], o.get("reason")) for o in output.outcomes()] == [("ignored", "domain")]
    assert copy_calls(aws) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("domain", "acme", "'acme' is not the stack's domain 'corp'"),
        ("domainOwner", "210987654321", "'210987654321' is not the stack's domain owner '123456789012'"),
    ],
)
def test_a_rule_outside_the_stacks_domain_is_refused_at_start(
    aws: AwsEnv,
    stack_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    value: str,
    message: str,
) -> None:
    # Given rules naming another domain (or owner) than the stack's
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - name: elsewhere\n    sourceRepository: staging\n    destinationRepositories: [release]\n"
        f"    {field}: '{value}'\n"
    )
    monkeypatch.setenv("PROMOTION_RULES_FILE", str(rules))
    app.reset_state()
    event = published(aws, "widgets", "1.0.0")

    # When the function starts on a batch
    output = Output()
    _, error = invoke(sqs_batch(event), context(), output)

    # Then it fails with one error naming the rule and the field, and copies nothing
    assert error is not None
    assert str(error).startswith(f"rule 'elsewhere', field '{field}': {message}")
    logged = [line for line in output.logs if line.get("level") == "ERROR"]
    assert [line["error"] for line in logged] == [str(error)]
    assert copy_calls(aws) == 0


def test_an_event_of_another_region_is_ignored_with_its_reason(
    aws: AwsEnv, stack_env: dict[str, str]
) -> None:
    # Given a version of corp/staging announced by an event of another region (cross-region routing, replay)
    event = published(aws, "widgets", "1.0.0", region="eu-west-1")
    local = published(aws, "gadgets", "1.0.0")

    # When both arrive in one batch
    output = Output()
    result, error = invoke(sqs_batch(event, local), context(), output)

    # Then the other region's is ignored (reason "region"), logged and counted, and never copied here
    assert error is None, error
    assert result == {"batchItemFailures": []}
    outcomes = {o["package"]: o for o in output.outcomes()}
    assert (outcomes["widgets"]["outcome"], outcomes["widgets"]["reason"]) == ("ignored", "region")
    assert "eu-west-1" in outcomes["widgets"]["errorMessage"]
    assert outcomes["gadgets"]["outcome"] == "promoted"
    assert output.metric("VersionsIgnored", ("Reason", "region")) == 1
    assert not in_release(aws, "widgets", "1.0.0")

    # And as a single raw event (a direct rule target, sam local invoke)
    output = Output()
    result, error = invoke(published(aws, "widgets", "1.0.1", region="eu-west-1"), context(), output)
    assert (result, error) == ({"outcomes": {"ignored": 1}}, None)
    assert not in_release(aws, "widgets", "1.0.1")


BOMB = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10)
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (BOMB + "rules: *a9\n", "YAML aliases expand the document"),
        ("rules: " + "[" * 1900 + "]" * 1900, "nested more than 64 levels"),  # past Python's recursion limit
    ],
    ids=["alias bomb", "1,900 nested lists"],
)
def test_a_hostile_rules_parameter_fails_the_invocation_fast_with_one_short_line(
    aws: AwsEnv, stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    # Given the stack's rules parameter holds a hostile document (within SSM's 4 KB)
    name = f"/promoter/{DOMAIN}/{len(value)}/rules"  # Parameters caches by name across tests
    aws.client("ssm").put_parameter(Name=name, Type="String", Value=value)
    monkeypatch.delenv("PROMOTION_RULES_FILE")
    monkeypatch.setenv("PROMOTION_RULES_PARAMETER", name)
    monkeypatch.setenv("PROMOTION_RULES_CACHE_SECONDS", "0")
    app.reset_state()
    event = published(aws, "widgets", "1.0.0")

    # When a batch arrives
    output = Output()
    began = time.monotonic()
    _, error = invoke(sqs_batch(event), context(), output)
    elapsed = time.monotonic() - began

    # Then the invocation fails at once with one short ERROR line, and nothing is copied
    assert error is not None
    assert expected in str(error)
    (line,) = [line for line in output.logs if line.get("level") == "ERROR"]
    assert len(line["error"]) <= 1000
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    assert copy_calls(aws) == 0
