"""Whose domains the function works on: a rule without ``domainOwner`` means the function's own account's
domain, taken from its ARN - except under the runtime emulator (``sam local invoke``, promoter_dev.invoke),
whose ARNs carry the placeholder account 012345678912, where no owner is assumed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import app
import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter_dev.lambda_context import LambdaContext

from .conftest import DOMAIN
from .harness import Output, invoke

CATALOGUE = Path(__file__).resolve().parents[2] / "events" / "bad-input"


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:promoter", "123456789012"),
        ("arn:aws:lambda:us-east-1:012345678912:function:PromoterFunction", None),  # the emulator's
        ("arn:aws:lambda:us-east-1:12345:function:x", None),
        ("", None),
        (None, None),
    ],
)
def test_the_account_comes_from_the_function_arn(arn: str | None, account: str | None) -> None:
    context = LambdaContext()
    context.invoked_function_arn = arn
    assert app.account_of(context) == account


@pytest.mark.parametrize(
    ("arn", "outcome"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:promoter", "promoted"),
        ("arn:aws:lambda:us-east-1:012345678912:function:PromoterFunction", "promoted"),
        ("arn:aws:lambda:us-east-1:999999999999:function:promoter", "ignored"),
    ],
)
def test_a_rule_without_owner_promotes_in_its_own_account_only(
    aws: AwsEnv, function_env: Any, arn: str, outcome: str
) -> None:
    # Given acme/staging of account 123456789012 holding the version an event announces
    create_domain_with_repositories(aws.client("codeartifact"), DOMAIN, ["staging", "release"])
    event = json.loads((CATALOGUE / "non-ascii-package-name.json").read_text(encoding="utf-8"))
    detail = event["detail"]
    detail.update(packageName="owned", packageVersion="1.0.0")
    detail["packageVersionRevision"] = aws.control.seed_package_version(
        DOMAIN, "staging", "pypi", "owned", "1.0.0"
    )["revision"]
    context = LambdaContext(30.0, invoked_function_arn=arn)

    # When a function of the given account (or the emulator) handles it
    result, error = invoke(event, context, Output())

    # Then it promotes in its own account (or locally), and leaves another account's domain alone
    assert error is None
    assert result == {"outcomes": {outcome: 1}}
