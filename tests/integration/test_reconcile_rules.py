"""Reconcile's decisions and costs with several rules, destinations and states (local AWS over HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter.listed import ListQuery, PackageRef
from promoter.matching import RuleSet
from promoter.outcomes import FAILED, PROMOTED
from promoter.pipeline import Dependencies
from promoter.reader import Reader
from promoter.reconcile import COPY, PRESENT, SKIP, reconcile
from promoter.report import MemoryMetrics, Reporter
from promoter.rules import build_ruleset

DOMAIN = "acme"


class NullLog:
    def info(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def warning(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def error(self, msg: object, *args: object, **kwargs: Any) -> None: ...


@pytest.fixture
def env(aws_server: AwsEnv) -> AwsEnv:
    create_domain_with_repositories(
        aws_server.client("codeartifact"), DOMAIN, ["staging", "release", "mirror"]
    )
    return aws_server


def ruleset(*rules: dict[str, Any]) -> RuleSet:
    base = {"domain": DOMAIN, "sourceRepository": "staging"}
    return build_ruleset({"rules": [base | rule for rule in rules]})


def deps(env: AwsEnv, rules: RuleSet) -> Dependencies:
    return Dependencies(
        client=env.client("codeartifact"),
        rules=rules,
        reporter=Reporter(NullLog(), MemoryMetrics()),
        sleep=lambda _: None,
    )


def seed(env: AwsEnv, package: str, version: str, fmt: str = "npm", **kwargs: Any) -> str:
    revision: str = env.control.seed_package_version(DOMAIN, "staging", fmt, package, version, **kwargs)[
        "revision"
    ]
    return revision


def copy(env: AwsEnv, package: str, versions: list[str], destination: str = "release") -> None:
    env.client("codeartifact").copy_package_versions(
        domain=DOMAIN,
        sourceRepository="staging",
        destinationRepository=destination,
        format="npm",
        package=package,
        versions=versions,
    )


def test_versions_go_to_the_union_of_destinations_once_and_only_where_missing(env: AwsEnv) -> None:
    # Given two rules of one source with overlapping destinations, and a version already in release
    rules = ruleset(
        {"name": "to-release", "destinationRepositories": ["release"]},
        {"name": "to-both", "destinationRepositories": ["release", "mirror"], "packages": ["left-*"]},
    )
    seed(env, "left-pad", "1.0.0")
    seed(env, "left-pad", "1.1.0")
    copy(env, "left-pad", ["1.0.0"])

    # When reconcile runs
    result = reconcile(deps(env, rules))

    # Then each missing (version, destination) is copied once, and the present one costs nothing
    promoted = sorted((o.candidate.version, o.destination) for o in result.outcomes if o.candidate)
    assert promoted == [("1.0.0", "mirror"), ("1.1.0", "mirror"), ("1.1.0", "release")]
    assert {o.status for o in result.outcomes} == {PROMOTED}
    assert result.copy.copy_requests == 2  # one per package and destination
    assert [(i.candidate.version, i.destination) for i in result.items if i.reason == PRESENT] == [
        ("1.0.0", "release")
    ]


def test_a_different_revision_in_the_destination_is_a_conflict_unless_overwrite_is_allowed(
    env: AwsEnv,
) -> None:
    # Given release holds 1.0.0, then staging's 1.0.0 changes (a new asset: a new revision)
    old_revision = seed(env, "left-pad", "1.0.0")
    copy(env, "left-pad", ["1.0.0"])
    new_revision = seed(env, "left-pad", "1.0.0", assets={"extra.txt": b"changed"})

    # When reconcile runs without allowOverwrite
    strict = reconcile(deps(env, ruleset({"name": "r", "destinationRepositories": ["release"]})))

    # Then nothing is copied: the conflict fails as the event path's copy would (ALREADY_EXISTS, final,
    # naming the revision the destination holds) without a copy call, and the plan item is a skip
    [failed] = strict.outcomes
    assert (failed.status, failed.error_code, failed.retryable) == (FAILED, "ALREADY_EXISTS", False)
    assert failed.error_message is not None
    assert f"holds revision {old_revision}" in failed.error_message
    assert strict.copy.copy_requests == 0
    assert strict.failed == [failed]
    [item] = strict.items
    assert item.action == SKIP
    assert item.reason is not None
    assert "allowOverwrite is off" in item.reason

    # When the rule allows overwriting
    loose = reconcile(
        deps(env, ruleset({"name": "r", "destinationRepositories": ["release"], "allowOverwrite": True}))
    )

    # Then the new revision replaces the old one
    assert [o.status for o in loose.outcomes] == [PROMOTED]
    listed = env.client("codeartifact").list_package_versions(
        domain=DOMAIN, repository="release", format="npm", package="left-pad"
    )
    assert listed["versions"][0]["revision"] == new_revision


def test_unfinished_and_rejected_versions_cost_no_destination_read(env: AwsEnv) -> None:
    # Given a package with only a prerelease and one with only an Unfinished version
    seed(env, "beta-only", "2.0.0-beta.1")
    seed(env, "unfinished", "1.0.0", status="Unfinished")
    seed(env, "stable", "1.0.0")

    # When reconcile runs with the default rule (Published, no prereleases)
    result = reconcile(deps(env, ruleset({"name": "r", "destinationRepositories": ["release"]})))

    # Then only the stable version is copied; the source is listed per package, the destination is read
    # only for the package some rule accepts a version of, and never enumerated
    assert [o.candidate.package for o in result.outcomes if o.candidate] == ["stable"]
    # 3 source packages (status=Published filter, so "unfinished" lists nothing), 1 read of release for
    # "stable" (which release lacks: ResourceNotFoundException, the same one call)
    assert result.listing.calls["ListPackageVersions"] == 3 + 1
    assert result.listing.calls["ListPackages"] == 1  # staging, one page; release is never enumerated


def test_rules_with_other_states_see_those_versions(env: AwsEnv) -> None:
    seed(env, "legacy", "0.9.0", status="Unlisted")
    rules = ruleset(
        {"name": "r", "destinationRepositories": ["release"], "states": ["Published", "Unlisted"]}
    )
    result = reconcile(deps(env, rules))
    assert [(o.candidate.version, o.status) for o in result.outcomes if o.candidate] == [("0.9.0", PROMOTED)]


def test_package_globs_become_a_server_side_prefix(env: AwsEnv) -> None:
    for package in ("acme-core", "acme-ui", "other"):
        seed(env, package, "1.0.0")
    rules = ruleset(
        {"name": "r", "destinationRepositories": ["release"], "formats": ["npm"], "packages": ["acme-*"]}
    )
    result = reconcile(deps(env, rules))
    assert sorted(o.candidate.package for o in result.outcomes if o.candidate) == ["acme-core", "acme-ui"]
    # "other" was never listed: one read of each acme package in staging and one in release
    assert result.listing.calls["ListPackageVersions"] == 2 + 2


def test_every_page_is_read(env: AwsEnv) -> None:
    # Given 5 packages with 5 versions each, read 2 per page
    for index in range(5):
        for minor in range(5):
            seed(env, f"pkg-{index}", f"1.{minor}.0")
    lister = Reader(env.client("codeartifact"), DOMAIN, page_size=2)

    packages = sorted(lister.packages("staging", [ListQuery(format="npm")]))
    versions = lister.versions("staging", PackageRef("npm", None, "pkg-0"), status="Published")

    assert [p.package for p in packages] == [f"pkg-{i}" for i in range(5)]
    assert sorted(v.version for v in versions) == [f"1.{m}.0" for m in range(5)]
    assert lister.stats.calls == {"ListPackages": 3, "ListPackageVersions": 3}


def test_scoped_and_namespaced_packages_keep_their_namespace(env: AwsEnv) -> None:
    revision = seed(env, "widgets", "3.2.0", namespace="acme")
    maven = seed(env, "app-core", "1.4.0", fmt="maven", namespace="com.acme")
    rules = ruleset({"name": "r", "destinationRepositories": ["release"]})
    plan = reconcile(deps(env, rules), dry_run=True)
    assert sorted(
        (i.candidate.namespace, i.candidate.package, i.candidate.revision, i.action) for i in plan.items
    ) == [
        ("acme", "widgets", revision, COPY),
        ("com.acme", "app-core", maven, COPY),
    ]
    done = reconcile(deps(env, rules))
    assert {o.status for o in done.outcomes} == {PROMOTED}
    assert len(done.outcomes) == 2
