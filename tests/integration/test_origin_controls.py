"""Origin controls explained before and after a NOT_ALLOWED, against the local AWS over HTTP (issue 20, 5).

``promoter explain`` and ``plan`` read the destination package's origin configuration (DescribePackage) and
its package group's (GetAssociatedPackageGroup, INHERIT resolved up the tree) and say "would be refused:
..." before a copy is tried; ``reconcile`` (the function's copier) adds to a NOT_ALLOWED outcome which
control refused it, with one DescribePackage per call that answered NOT_ALLOWED, and never fails anything
else when that read fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codeartifact_moto.testing import AwsEnv
from promoter.cli import EXIT_FAILED, EXIT_OK
from promoter_dev.sample_rules import DOMAIN

from .test_cli import run


def client(env: AwsEnv) -> Any:
    return env.client("codeartifact")


def block_package(env: AwsEnv, package: str, *, publish: str, upstream: str) -> None:
    client(env).put_package_origin_configuration(
        domain=DOMAIN,
        repository="release",
        format="npm",
        package=package,
        restrictions={"publish": publish, "upstream": upstream},
    )


def group(env: AwsEnv, pattern: str, **kwargs: Any) -> None:
    client(env).create_package_group(domain=DOMAIN, packageGroup=pattern)
    if kwargs:
        client(env).update_package_group_origin_configuration(domain=DOMAIN, packageGroup=pattern, **kwargs)


def explain_line(rules_file: Path, coordinate: str) -> str:
    code, out, err = run("explain", "--rules", str(rules_file), coordinate)
    assert code == EXIT_OK, err
    (line,) = [line for line in out.splitlines() if "rule npm-to-release" in line]
    return line


def test_explain_names_a_destination_package_that_blocks_publish(env: AwsEnv, rules_file: Path) -> None:
    # Given a version published into staging and a release package that blocks publishing
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    block_package(env, "left-pad", publish="BLOCK", upstream="ALLOW")
    # When explained, Then the copy is said to be refused, and by which control
    line = explain_line(rules_file, "npm/left-pad@1.0.0")
    assert "accepted -> release: would be refused: destination package blocks publish" in line
    assert "NOT_ALLOWED" in line


def test_explain_names_an_external_version_blocked_upstream(env: AwsEnv, rules_file: Path) -> None:
    client(env).associate_external_connection(
        domain=DOMAIN, repository="staging", externalConnection="public:npmjs"
    )
    env.control.seed_package_version(DOMAIN, "staging", "npm", "react", "18.0.0", origin_type="EXTERNAL")
    block_package(env, "react", publish="ALLOW", upstream="BLOCK")
    assert "would be refused: destination package blocks upstream (origin EXTERNAL" in explain_line(
        rules_file, "npm/react@18.0.0"
    )
    block_package(env, "react", publish="BLOCK", upstream="ALLOW")  # publish does not concern it
    assert "would copy: CopyPackageVersions" in explain_line(rules_file, "npm/react@18.0.0")


def test_explain_resolves_the_package_group_that_blocks(env: AwsEnv, rules_file: Path) -> None:
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    assert "would copy" in explain_line(rules_file, "npm/left-pad@1.0.0")  # the root group allows all
    # Given /npm/* blocking publish and a more specific group that inherits it
    group(env, "/npm/*", restrictions={"PUBLISH": "BLOCK"})
    group(env, "/npm//left~")
    line = explain_line(rules_file, "npm/left-pad@1.0.0")
    assert "would be refused: package group '/npm//left~' (inheriting from '/npm/*') blocks publish" in line
    # When the group allows only staging, Then release is named as not allowed
    client(env).update_package_group_origin_configuration(
        domain=DOMAIN,
        packageGroup="/npm//left~",
        restrictions={"PUBLISH": "ALLOW_SPECIFIC_REPOSITORIES"},
        addAllowedRepositories=[{"repositoryName": "staging", "originRestrictionType": "PUBLISH"}],
    )
    line = explain_line(rules_file, "npm/left-pad@1.0.0")
    assert "would be refused: package group '/npm//left~' allows publish only into staging" in line


def test_plan_reports_a_refusal_as_a_failure_before_reconcile_meets_it(env: AwsEnv, rules_file: Path) -> None:
    # Given two versions of a package whose release package blocks publishing, and one that is open
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.1.0")
    env.control.seed_package_version(DOMAIN, "staging", "npm", "right-pad", "2.0.0")
    block_package(env, "left-pad", publish="BLOCK", upstream="ALLOW")

    # When planned, Then both are skipped as NOT_ALLOWED with the reason, the open one is copied, exit 1
    code, out, _ = run("plan", "--rules", str(rules_file), "--json")
    assert code == EXIT_FAILED
    items = {(i["package"], i["version"]): i for i in json.loads(out)}
    for version in ("1.0.0", "1.1.0"):
        assert items[("left-pad", version)]["action"] == "skip"
        assert items[("left-pad", version)]["reason"] == "NOT_ALLOWED"
        assert items[("left-pad", version)]["detail"] == (
            "would be refused: destination package blocks publish (origin INTERNAL)"
        )
    assert items[("right-pad", "2.0.0")]["action"] == "copy"
    # read once per destination package (left-pad's two versions share one read)
    assert env.control.stats()["DescribePackage"]["calls"] == 2

    # When reconciled, Then the copier meets the refusal, and its outcome line names the control
    code, out, _ = run("reconcile", "--rules", str(rules_file))
    assert code == EXIT_FAILED
    refused = [line for line in out.splitlines() if "left-pad" in line]
    assert len(refused) == 2
    for line in refused:
        assert "NOT_ALLOWED" in line
        assert "destination package blocks publish (publish=BLOCK, upstream=ALLOW)" in line
    assert env.control.stats()["DescribePackage"]["calls"] == 3  # plan's two, and one for the refused call


def test_a_group_refusal_is_told_apart_from_the_packages(env: AwsEnv, rules_file: Path) -> None:
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    group(
        env,
        "/npm/*",
        restrictions={"PUBLISH": "ALLOW_SPECIFIC_REPOSITORIES"},
        addAllowedRepositories=[{"repositoryName": "staging", "originRestrictionType": "PUBLISH"}],
    )
    code, out, _ = run("reconcile", "--rules", str(rules_file))
    assert code == EXIT_FAILED
    (line,) = [line for line in out.splitlines() if "left-pad" in line]
    assert "NOT_ALLOWED" in line
    assert "the destination has no such package yet, so a package group's origin controls refused it" in line


def test_a_failed_read_of_the_origin_controls_changes_nothing_else(env: AwsEnv, rules_file: Path) -> None:
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    env.control.seed_package_version(DOMAIN, "staging", "npm", "right-pad", "2.0.0")
    block_package(env, "left-pad", publish="BLOCK", upstream="ALLOW")
    env.control.inject_fault("DescribePackage", "AccessDeniedException", count=10)
    code, out, _ = run("reconcile", "--rules", str(rules_file))
    assert code == EXIT_FAILED  # the refusal is final, as before
    (refused,) = [line for line in out.splitlines() if "left-pad" in line]
    assert "NOT_ALLOWED" in refused
    assert "origin controls could not be read: AccessDeniedException" in refused
    (copied,) = [line for line in out.splitlines() if "right-pad" in line]
    assert copied.startswith("promoted")
