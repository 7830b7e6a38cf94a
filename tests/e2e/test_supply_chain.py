"""End to end: origin-aware cooldown and revocation, with the function under the runtime emulator.

The template's wiring (rule, queue) comes from template.yaml through moto's CloudFormation, the function's
handler and environment from the same template with the rules file overridden, and every call goes over
HTTP to the local AWS: publish (PublishPackageVersion: an INTERNAL version), an ingestion from npmjs (the
local CodeArtifact's seed with origin EXTERNAL), the copy, and ``promoter revoke`` (the console script).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from moto.server import ThreadedMotoServer
from promoter_dev import esm, stack
from promoter_dev.console import run_promoter
from promoter_dev.invoke import Emulator

from .conftest import describe, publish_generic, revision_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:Tried to parse AWS..SQS..QueuePolicy"),
]

DOMAIN, STAGING, RELEASE = "acme", "staging", "release"  # the template's parameter defaults
RULES = """# the team's rules
rules:
  - name: cooled-external
    sourceRepository: staging
    destinationRepositories: [release]
    minimumReleaseAge: 3d
    minimumReleaseAgeFor: [EXTERNAL]
"""


def test_origin_aware_cooldown_then_revoke_under_the_emulator(
    aws_server: AwsEnv, moto_server: tuple[ThreadedMotoServer, str], tmp_path: Path
) -> None:
    # Given the template's wiring, staging connected to npmjs, and rules that cool down EXTERNAL versions only
    _, url = moto_server
    codeartifact = aws_server.client("codeartifact")
    create_domain_with_repositories(codeartifact, DOMAIN, [STAGING, RELEASE])
    codeartifact.associate_external_connection(
        domain=DOMAIN, repository=STAGING, externalConnection="public:npmjs"
    )
    wiring = stack.deploy_event_wiring(aws_server.client("cloudformation"), aws_server.client("sqs"))
    sqs = aws_server.client("sqs")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)

    # When an internal build is published and a fresh version is ingested from npmjs
    revision = publish_generic(aws_server, STAGING, "build-tools", "1.2.0", b"the vetted build")
    aws_server.control.seed_package_version(
        DOMAIN,
        STAGING,
        "npm",
        "left-pad",
        "9.9.9",
        namespace="acme",
        origin_type="EXTERNAL",
        published_time=datetime.now(UTC),
    )
    with Emulator(endpoint_url=url, env_overrides={"PROMOTION_RULES_FILE": str(rules)}) as promoter:
        messages = esm.receive_batch(sqs, wiring, expected=2)
        assert len(messages) == 2
        delivery = esm.deliver(sqs, wiring, promoter.invoke, messages)

    # Then the internal build is promoted at once; the external one waits for its cooldown
    invocation = delivery.invocation
    assert invocation.payload == {"batchItemFailures": []}, invocation.payload
    assert revision_in(aws_server, RELEASE, "build-tools", "1.2.0") == revision
    assert describe(aws_server, RELEASE, "left-pad", "9.9.9", fmt="npm") is None
    by_package = {r["package"]: r for r in invocation.log_records() if r.get("outcome")}
    assert (by_package["build-tools"]["outcome"], by_package["build-tools"]["originType"]) == (
        "promoted",
        "INTERNAL",
    )
    deferred = by_package["left-pad"]
    assert (deferred["outcome"], deferred["reason"], deferred["originType"]) == (
        "deferred",
        "age",
        "EXTERNAL",
    )
    assert invocation.metrics().get("VersionsDeferred") == 1

    # When the promoted build is revoked with the console script, recorded in the rules with --write
    done = run_promoter(
        *("revoke", "--rules", str(rules), "generic/acme/build-tools@1.2.0", "--reason", "INC-7 bad build"),
        *("--status", "Archived", "--write"),
        endpoint_url=url,
        DOMAIN_NAME=DOMAIN,
    )

    # Then release holds it Archived, staging keeps it, and the rules deny it from now on
    assert done.returncode == 0, done.stdout + done.stderr
    revoked = describe(aws_server, RELEASE, "build-tools", "1.2.0")
    staged = describe(aws_server, STAGING, "build-tools", "1.2.0")
    assert revoked is not None
    assert staged is not None
    assert (revoked["status"], staged["status"]) == ("Archived", "Published")
    assert "denyVersions:" in rules.read_text()
    # ... and the status change's own event in release is not routed to the function (release is no source)
    assert esm.receive_batch(sqs, wiring, expected=1, timeout=1.0) == []

    # When a rebuilt 1.2.0 is published to staging and reaches a freshly started function with those rules
    aws_server.control.seed_package_version(
        DOMAIN, STAGING, "generic", "build-tools", "1.2.0", namespace="acme", assets={"extra.txt": b"rebuilt"}
    )
    with Emulator(endpoint_url=url, env_overrides={"PROMOTION_RULES_FILE": str(rules)}) as promoter:
        messages = esm.receive_batch(sqs, wiring, expected=1)
        delivery = esm.deliver(sqs, wiring, promoter.invoke, messages)

    # Then it is ignored as denied, and release keeps the revoked build, archived
    records = [r for r in delivery.invocation.log_records() if r.get("package") == "build-tools"]
    assert [(r["outcome"], r["reason"]) for r in records] == [("ignored", "denied")]
    assert delivery.invocation.dimensioned_metrics().get(("VersionsIgnored", "Reason", "denied")) == 1
    kept = describe(aws_server, RELEASE, "build-tools", "1.2.0")
    assert kept is not None
    assert (kept["revision"], kept["status"]) == (revoked["revision"], "Archived")
