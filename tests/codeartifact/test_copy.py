"""CopyPackageVersions: pinning, all-or-nothing, idempotency, overwrite, upstreams, statuses."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories

from .conftest import DOMAIN, World, rejected


def codes(result: dict[str, object]) -> dict[str, str]:
    failed = result["failedVersions"]
    assert isinstance(failed, dict)
    return {version: error["errorCode"] for version, error in failed.items()}


def test_copy_keeps_revision_status_time_assets_and_origin(world: World) -> None:
    # Given a version published to staging a while ago
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    seeded = world.seed("staging", "npm", "ui", "1.0.0", assets={"ui.tgz": b"tarball"}, published_time=when)

    # When it is copied pinned to its revision
    result = world.copy("npm", "ui", versionRevisions={"1.0.0": seeded["revision"]})

    # Then it is reported and the destination holds the very same version
    assert result["successfulVersions"] == {"1.0.0": {"revision": seeded["revision"], "status": "Published"}}
    assert result["failedVersions"] == {}
    copied = world.describe("release", "npm", "ui", "1.0.0")
    assert copied["revision"] == seeded["revision"]
    assert copied["status"] == "Published"
    assert copied["publishedTime"] == when
    assert copied["origin"] == {"domainEntryPoint": {"repositoryName": "staging"}, "originType": "INTERNAL"}
    assets = world.client.list_package_version_assets(
        **world.package("release", "npm", "ui"), packageVersion="1.0.0"
    )["assets"]
    assert [(a["name"], a["size"]) for a in assets] == [("ui.tgz", 7)]


def test_copy_by_version_list(world: World) -> None:
    world.seed("staging", "pypi", "requests", "2.0.0")
    world.seed("staging", "pypi", "requests", "2.1.0")
    result = world.copy("pypi", "requests", versions=["2.0.0", "2.1.0"])
    assert sorted(result["successfulVersions"]) == ["2.0.0", "2.1.0"]


def test_copy_keeps_a_non_published_status(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0", status="Unlisted")
    result = world.copy("npm", "ui", versions=["1.0.0"])
    assert result["successfulVersions"]["1.0.0"]["status"] == "Unlisted"
    assert world.describe("release", "npm", "ui", "1.0.0")["status"] == "Unlisted"


def test_mismatched_revision_fails_and_skips_the_rest(world: World) -> None:
    first = world.seed("staging", "npm", "ui", "1.0.0")
    world.seed("staging", "npm", "ui", "1.0.1")
    result = world.copy("npm", "ui", versionRevisions={"1.0.0": first["revision"], "1.0.1": "stale-revision"})
    assert result["successfulVersions"] == {}
    assert codes(result) == {"1.0.1": "MISMATCHED_REVISION", "1.0.0": "SKIPPED"}
    with pytest.raises(ClientError):
        world.describe("release", "npm", "ui", "1.0.0")


def test_not_found_fails_and_skips_the_rest(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    result = world.copy("npm", "ui", versions=["1.0.0", "9.9.9"])
    assert codes(result) == {"9.9.9": "NOT_FOUND", "1.0.0": "SKIPPED"}
    assert result["failedVersions"]["9.9.9"]["errorMessage"]


def test_different_version_in_destination_already_exists_unless_overwrite(world: World) -> None:
    source = world.seed("staging", "npm", "ui", "1.0.0", assets={"ui.tgz": b"new build"})
    world.seed("staging", "npm", "ui", "1.1.0")
    world.seed("release", "npm", "ui", "1.0.0", assets={"ui.tgz": b"old build"})

    refused = world.copy("npm", "ui", versions=["1.0.0", "1.1.0"])
    assert codes(refused) == {"1.0.0": "ALREADY_EXISTS", "1.1.0": "SKIPPED"}

    allowed = world.copy("npm", "ui", versions=["1.0.0", "1.1.0"], allowOverwrite=True)
    assert sorted(allowed["successfulVersions"]) == ["1.0.0", "1.1.0"]
    assert world.describe("release", "npm", "ui", "1.0.0")["revision"] == source["revision"]


def test_identical_version_in_destination_already_exists_by_default(world: World) -> None:
    """API reference, allowOverwrite: "If set to false and the package version already exists in the
    destination repository, the package version is returned in the failedVersions field of the response
    with an ALREADY_EXISTS error code." No exemption for an identical copy (variant ``documented``)."""
    # Given 1.0.0 was promoted already and 1.1.0 is new
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.copy("npm", "ui", versionRevisions={"1.0.0": seeded["revision"]})
    newer = world.seed("staging", "npm", "ui", "1.1.0")

    # When both are copied again (a duplicate delivery plus a new event)
    result = world.copy(
        "npm", "ui", versionRevisions={"1.0.0": seeded["revision"], "1.1.0": newer["revision"]}
    )

    # Then the identical one fails the call: ALREADY_EXISTS, the new one SKIPPED, nothing copied
    assert result["successfulVersions"] == {}
    assert codes(result) == {"1.0.0": "ALREADY_EXISTS", "1.1.0": "SKIPPED"}
    assert world.describe("release", "npm", "ui", "1.0.0")["revision"] == seeded["revision"]
    with pytest.raises(ClientError):
        world.describe("release", "npm", "ui", "1.1.0")


def test_identical_version_succeeds_without_a_copy_in_the_omitted_variant(world: World) -> None:
    """Service variant identical-copy-omitted: the answer a service that treats a repeated copy as harmless
    would give (the API reference says ALREADY_EXISTS; this is the other answer code must survive)."""
    # Given the variant, 1.0.0 promoted already and 1.1.0 new
    world.control.set_service_variant("identical-copy-omitted")
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.copy("npm", "ui", versionRevisions={"1.0.0": seeded["revision"]})
    newer = world.seed("staging", "npm", "ui", "1.1.0")

    # When both are copied again
    result = world.copy(
        "npm", "ui", versionRevisions={"1.0.0": seeded["revision"], "1.1.0": newer["revision"]}
    )

    # Then only the new one is reported; the identical one is in neither map
    assert list(result["successfulVersions"]) == ["1.1.0"]
    assert result["failedVersions"] == {}


@pytest.mark.parametrize(
    ("variant", "expected"),
    [("documented", {"1.0.0": "ALREADY_EXISTS"}), ("identical-copy-omitted", {})],
)
def test_repeating_a_copy_changes_nothing(world: World, variant: str, expected: dict[str, str]) -> None:
    world.control.set_service_variant(variant)
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.copy("npm", "ui", versionRevisions={"1.0.0": seeded["revision"]})
    again = world.copy("npm", "ui", versionRevisions={"1.0.0": seeded["revision"]})
    assert again["successfulVersions"] == {}
    assert codes(again) == expected
    assert world.describe("release", "npm", "ui", "1.0.0")["revision"] == seeded["revision"]


def test_versions_and_version_revisions_are_exclusive(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    with rejected("ValidationException", 400):
        world.copy("npm", "ui", versions=["1.0.0"], versionRevisions={"1.0.0": seeded["revision"]})
    with rejected("ValidationException", 400):
        world.copy("npm", "ui")


def test_at_most_100_versions_per_call(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    with rejected("ValidationException", 400):
        world.copy("npm", "ui", versions=[f"1.0.{i}" for i in range(101)])
    result = world.copy("npm", "ui", versions=[f"1.0.{i}" for i in range(100)])
    assert len(result["failedVersions"]) == 100


@pytest.mark.parametrize("fmt", ["maven", "swift", "generic"])
def test_copy_of_namespaced_formats_requires_namespace(world: World, fmt: str) -> None:
    world.seed("staging", fmt, "core", "1.0.0", namespace="acme")
    with rejected("ValidationException", 400):
        world.copy(fmt, "core", versions=["1.0.0"])
    result = world.copy(fmt, "core", namespace="acme", versions=["1.0.0"])
    assert list(result["successfulVersions"]) == ["1.0.0"]


def test_missing_repository_or_package_is_not_found(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    with rejected("ResourceNotFoundException", 404):
        world.copy("npm", "ui", versions=["1.0.0"], destinationRepository="ghost")
    with rejected("ResourceNotFoundException", 404):
        world.copy("npm", "absent", versions=["1.0.0"])
    with rejected("ResourceNotFoundException", 404):
        world.copy("npm", "ui", versions=["1.0.0"], domain="other-domain")


def test_copy_into_the_source_itself_is_invalid(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    with rejected("ValidationException", 400):
        world.copy("npm", "ui", versions=["1.0.0"], destinationRepository="staging")


def test_include_from_upstream(world: World) -> None:
    # Given 1.0.0 exists only in staging's upstream
    world.seed("upstream", "npm", "ui", "1.0.0")
    world.seed("staging", "npm", "ui", "2.0.0")

    without = world.copy("npm", "ui", versions=["1.0.0"])
    assert codes(without) == {"1.0.0": "NOT_FOUND"}

    # And staging's package, published there directly (so upstream=BLOCK), opened to upstreams
    world.client.put_package_origin_configuration(
        **world.package("staging", "npm", "ui"), restrictions={"publish": "ALLOW", "upstream": "ALLOW"}
    )
    with_upstream = world.copy("npm", "ui", versions=["1.0.0", "2.0.0"], includeFromUpstream=True)
    assert sorted(with_upstream["successfulVersions"]) == ["1.0.0", "2.0.0"]


def test_source_package_blocking_upstreams_takes_nothing_from_them(world: World) -> None:
    world.seed("upstream", "npm", "ui", "1.0.0")
    world.client.put_package_origin_configuration(
        **world.package("staging", "npm", "ui"), restrictions={"publish": "ALLOW", "upstream": "BLOCK"}
    )
    result = world.copy("npm", "ui", versions=["1.0.0"], includeFromUpstream=True)
    assert codes(result) == {"1.0.0": "NOT_FOUND"}


def test_package_only_upstream_is_not_found_without_include_from_upstream(world: World) -> None:
    world.seed("upstream", "npm", "only-up", "1.0.0")
    with rejected("ResourceNotFoundException", 404):
        world.copy("npm", "only-up", versions=["1.0.0"])
    result = world.copy("npm", "only-up", versions=["1.0.0"], includeFromUpstream=True)
    assert list(result["successfulVersions"]) == ["1.0.0"]


@pytest.mark.parametrize("status", ["Unfinished", "Disposed"])
def test_incomplete_versions_are_mismatched_status(world: World, status: str) -> None:
    world.seed("staging", "maven", "core", "1.0.0", namespace="com.acme", status=status)
    world.seed("staging", "maven", "core", "1.0.1", namespace="com.acme")
    result = world.copy("maven", "core", namespace="com.acme", versions=["1.0.0", "1.0.1"])
    assert codes(result) == {"1.0.0": "MISMATCHED_STATUS", "1.0.1": "SKIPPED"}


def restrict(world: World, repository: str, package: str, publish: str, upstream: str) -> None:
    world.client.put_package_origin_configuration(
        **world.package(repository, "npm", package), restrictions={"publish": publish, "upstream": upstream}
    )


@pytest.mark.parametrize(
    ("origin", "publish", "upstream", "allowed"),
    [
        ("INTERNAL", "BLOCK", "ALLOW", False),
        ("INTERNAL", "ALLOW", "BLOCK", True),
        ("EXTERNAL", "ALLOW", "BLOCK", False),
        ("EXTERNAL", "BLOCK", "ALLOW", True),
        ("INTERNAL", "BLOCK", "BLOCK", False),
        ("EXTERNAL", "BLOCK", "BLOCK", False),
    ],
)
def test_destination_origin_controls_gate_a_copy_by_the_versions_origin(
    world: World, origin: str, publish: str, upstream: str, allowed: bool
) -> None:
    # Given a version in staging that entered the domain INTERNALly (published) or EXTERNALly
    world.client.associate_external_connection(
        domain=DOMAIN, repository="staging", externalConnection="public:npmjs"
    )
    world.seed("staging", "npm", "ui", "1.0.0", origin_type=origin)
    world.seed("staging", "npm", "ui", "1.0.1", origin_type=origin)
    # And the destination package's origin controls
    restrict(world, "release", "ui", publish, upstream)

    result = world.copy("npm", "ui", versions=["1.0.0", "1.0.1"])

    # Then the copy needs publish=ALLOW for INTERNAL, upstream=ALLOW for EXTERNAL, all or nothing
    if allowed:
        assert sorted(result["successfulVersions"]) == ["1.0.0", "1.0.1"]
    else:
        assert codes(result) == {"1.0.0": "NOT_ALLOWED", "1.0.1": "NOT_ALLOWED"}
        assert result["successfulVersions"] == {}


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("INTERNAL", {"publish": "ALLOW", "upstream": "BLOCK"}),
        ("EXTERNAL", {"publish": "BLOCK", "upstream": "ALLOW"}),
    ],
)
def test_copy_creates_the_destination_package_with_the_defaults_of_the_versions_origin(
    world: World, origin: str, expected: dict[str, str]
) -> None:
    world.client.associate_external_connection(
        domain=DOMAIN, repository="staging", externalConnection="public:npmjs"
    )
    world.seed("staging", "npm", "ui", "1.0.0", origin_type=origin)
    world.copy("npm", "ui", versions=["1.0.0"])
    described = world.client.describe_package(**world.package("release", "npm", "ui"))
    assert described["package"]["originConfiguration"]["restrictions"] == expected
    # And a later copy of a version of the same origin is let in
    world.seed("staging", "npm", "ui", "1.0.1", origin_type=origin)
    assert list(world.copy("npm", "ui", versions=["1.0.1"])["successfulVersions"]) == ["1.0.1"]


def test_copied_version_is_independent_of_the_source(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.copy("npm", "ui", versions=["1.0.0"])
    world.client.update_package_versions_status(
        **world.package("staging", "npm", "ui"), versions=["1.0.0"], targetStatus="Archived"
    )
    copied = world.describe("release", "npm", "ui", "1.0.0")
    assert copied["status"] == "Published"
    assert copied["revision"] == seeded["revision"]


def test_concurrent_copies_over_http_are_consistent(aws_server: AwsEnv) -> None:
    # Given 20 packages in staging and a threaded server
    client = aws_server.client("codeartifact")
    create_domain_with_repositories(client, DOMAIN, {"staging": [], "release": []})
    revisions = {
        f"pkg-{i}": aws_server.control.seed_package_version(DOMAIN, "staging", "npm", f"pkg-{i}", "1.0.0")[
            "revision"
        ]
        for i in range(20)
    }

    def copy(package: str) -> dict[str, object]:
        result: dict[str, object] = aws_server.client("codeartifact").copy_package_versions(
            domain=DOMAIN,
            sourceRepository="staging",
            destinationRepository="release",
            format="npm",
            package=package,
            versionRevisions={"1.0.0": revisions[package]},
        )["successfulVersions"]
        return result

    # When they are copied from 8 threads at once, twice each
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(copy, [*revisions, *revisions]))

    # Then each package was copied exactly once and the destination holds them all
    copied = [r for r in results if r]
    assert len(copied) == 20
    listed = client.get_paginator("list_packages").paginate(domain=DOMAIN, repository="release")
    assert sorted(p["package"] for page in listed for p in page["packages"]) == sorted(revisions)
