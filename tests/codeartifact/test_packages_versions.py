"""Publishing, seeding, listing, describing, status changes, deletion and origin controls."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import DOMAIN, World, rejected

FORMAT_EXAMPLES = [
    ("npm", None, "left-pad", "1.3.0"),
    ("npm", "acme", "ui", "2.0.0"),
    ("pypi", None, "requests", "2.32.3"),
    ("maven", "com.acme", "core", "1.0.0"),
    ("nuget", None, "Acme.Core", "3.1.0"),
    ("generic", "tools", "cli", "0.1.0"),
    ("ruby", None, "rails", "7.1.0"),
    ("swift", "acme", "kit", "1.2.3"),
    ("cargo", None, "serde", "1.0.200"),
]


# -- PublishPackageVersion ---------------------------------------------------------------------


def test_publish_creates_a_published_version_with_hashes(world: World) -> None:
    content = b"#!/bin/sh\necho hi\n"
    published = world.publish("staging", "cli", "1.0.0", content=content, asset="cli.sh")

    assert published["format"] == "generic"
    assert published["namespace"] == "acme"
    assert published["package"] == "cli"
    assert published["version"] == "1.0.0"
    assert published["status"] == "Published"
    assert published["asset"]["name"] == "cli.sh"
    assert published["asset"]["size"] == len(content)
    assert published["asset"]["hashes"]["SHA-256"] == hashlib.sha256(content).hexdigest()
    assert set(published["asset"]["hashes"]) == {"MD5", "SHA-1", "SHA-256", "SHA-512"}

    described = world.describe("staging", "generic", "cli", "1.0.0", namespace="acme")
    assert described["revision"] == published["versionRevision"]
    assert described["origin"] == {
        "domainEntryPoint": {"repositoryName": "staging"},
        "originType": "INTERNAL",
    }


def test_unfinished_version_takes_assets_until_published(world: World) -> None:
    first = world.publish("staging", "bundle", "1.0.0", asset="a.bin", unfinished=True)
    second = world.publish("staging", "bundle", "1.0.0", asset="b.bin", content=b"b", unfinished=True)
    final = world.publish("staging", "bundle", "1.0.0", asset="c.bin", content=b"c")

    assert [first["status"], second["status"], final["status"]] == ["Unfinished", "Unfinished", "Published"]
    revisions = {first["versionRevision"], second["versionRevision"], final["versionRevision"]}
    assert len(revisions) == 3, "every asset changes the revision"
    assets = world.client.list_package_version_assets(
        **world.package("staging", "generic", "bundle", namespace="acme"), packageVersion="1.0.0"
    )
    assert [a["name"] for a in assets["assets"]] == ["a.bin", "b.bin", "c.bin"]
    assert assets["versionRevision"] == final["versionRevision"]


def test_assets_cannot_be_added_to_a_published_version(world: World) -> None:
    world.publish("staging", "cli", "1.0.0")
    with rejected("ConflictException", 409):
        world.publish("staging", "cli", "1.0.0", asset="other.bin")


def test_same_asset_twice_is_a_conflict(world: World) -> None:
    world.publish("staging", "cli", "1.0.0", unfinished=True)
    with rejected("ConflictException", 409):
        world.publish("staging", "cli", "1.0.0", unfinished=True)


@pytest.mark.parametrize(
    ("fmt", "namespace", "content", "sha256_of"),
    [
        pytest.param("generic", "acme", b"real", b"other", id="sha256-mismatch"),
        pytest.param("npm", None, b"x", b"x", id="only-generic-is-published"),
        pytest.param("generic", None, b"x", b"x", id="generic-needs-a-namespace"),
    ],
)
def test_invalid_publish_is_rejected(
    world: World, fmt: str, namespace: str | None, content: bytes, sha256_of: bytes
) -> None:
    with rejected("ValidationException", 400):
        world.client.publish_package_version(
            **world.package("staging", fmt, "cli", namespace=namespace),
            packageVersion="1.0.0",
            assetContent=content,
            assetName="cli",
            assetSHA256=hashlib.sha256(sha256_of).hexdigest(),
        )


def test_get_package_version_asset_returns_the_bytes(world: World) -> None:
    published = world.publish("staging", "cli", "1.0.0", content=b"\x00\x01binary\xff", asset="cli.bin")
    got = world.client.get_package_version_asset(
        **world.package("staging", "generic", "cli", namespace="acme"),
        packageVersion="1.0.0",
        asset="cli.bin",
    )
    assert got["asset"].read() == b"\x00\x01binary\xff"
    assert got["assetName"] == "cli.bin"
    assert got["packageVersionRevision"] == published["versionRevision"]


# -- the seed helper ---------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "namespace", "package", "version"), FORMAT_EXAMPLES)
def test_seed_any_format(world: World, fmt: str, namespace: str | None, package: str, version: str) -> None:
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    seeded = world.seed(
        "staging",
        fmt,
        package,
        version,
        namespace=namespace,
        assets={"a": b"1", "b": b"2"},
        published_time=when,
        metadata={"summary": "a package", "homePage": "https://example.com"},
    )
    kwargs = {"namespace": namespace} if namespace else {}
    described = world.describe("staging", fmt, package, version, **kwargs)
    assert described["revision"] == seeded["revision"]
    assert described["status"] == "Published"
    assert described["publishedTime"] == when
    assert described["summary"] == "a package"
    assert described["homePage"] == "https://example.com"
    assert described.get("namespace") == namespace
    assert described["origin"]["originType"] == "INTERNAL"


@pytest.mark.parametrize("fmt", ["maven", "swift", "generic"])
def test_namespaced_formats_require_a_namespace(world: World, fmt: str) -> None:
    with rejected("ValidationException", 400):
        world.client.describe_package(**world.package("staging", fmt, "x"))


def test_seed_into_a_missing_repository_raises_not_found(world: World) -> None:
    with pytest.raises(Exception, match="Repository not found") as excinfo:
        world.seed("ghost", "npm", "x", "1.0.0")
    assert type(excinfo.value).__name__ == "ResourceNotFoundException"


def test_seed_again_updates_and_changes_revision(world: World) -> None:
    def seed(status: str, assets: dict[str, bytes]) -> dict[str, Any]:
        return world.seed(
            "staging", "maven", "core", "1.0.0", namespace="com.acme", status=status, assets=assets
        )

    first = seed("Unfinished", {"core-1.0.0.pom": b"<project/>"})
    second = seed("Unfinished", {"core-1.0.0.jar": b"jar"})
    third = seed("Published", {})
    unchanged = seed("Published", {})
    assert len({first["revision"], second["revision"], third["revision"]}) == 3
    assert unchanged["revision"] == third["revision"]
    assert third["status"] == "Published"


# -- listing -----------------------------------------------------------------------------------


def test_list_packages_filters(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0", namespace="acme")
    world.seed("staging", "npm", "left-pad", "1.0.0")
    world.seed("staging", "pypi", "requests", "1.0.0")
    world.client.put_package_origin_configuration(
        **world.package("staging", "pypi", "requests"), restrictions={"publish": "BLOCK", "upstream": "ALLOW"}
    )

    def names(**kwargs: str) -> list[str]:
        listed = world.client.list_packages(domain=DOMAIN, repository="staging", **kwargs)["packages"]
        return [p["package"] for p in listed]

    assert names() == ["left-pad", "ui", "requests"]
    assert names(format="npm") == ["left-pad", "ui"]
    assert names(format="npm", namespace="ac") == ["ui"]
    assert names(packagePrefix="le") == ["left-pad"]
    assert names(publish="BLOCK") == ["requests"]
    assert names(upstream="BLOCK") == ["left-pad", "ui"]  # published directly: upstream=BLOCK
    listed = world.client.list_packages(domain=DOMAIN, repository="staging", format="npm", namespace="acme")
    assert listed["packages"][0] == {
        "format": "npm",
        "namespace": "acme",
        "package": "ui",
        "originConfiguration": {"restrictions": {"publish": "ALLOW", "upstream": "BLOCK"}},
    }


def test_list_package_versions_returns_every_status_by_default(world: World) -> None:
    now = datetime.now(UTC)
    for i, status in enumerate(["Published", "Unlisted", "Archived", "Unfinished"]):
        world.seed(
            "staging", "npm", "ui", f"1.0.{i}", status=status, published_time=now - timedelta(days=10 - i)
        )
    world.seed("staging", "npm", "ui", "0.9.0", published_time=now - timedelta(days=30))

    listed = world.client.list_package_versions(**world.package("staging", "npm", "ui"))
    assert {v["version"]: v["status"] for v in listed["versions"]} == {
        "1.0.0": "Published",
        "1.0.1": "Unlisted",
        "1.0.2": "Archived",
        "1.0.3": "Unfinished",
        "0.9.0": "Published",
    }
    assert listed["defaultDisplayVersion"] == "1.0.0"
    assert listed["format"] == "npm"
    assert listed["package"] == "ui"

    archived = world.client.list_package_versions(**world.package("staging", "npm", "ui"), status="Archived")
    assert [v["version"] for v in archived["versions"]] == ["1.0.2"]

    newest_first = world.client.list_package_versions(
        **world.package("staging", "npm", "ui"), sortBy="PUBLISHED_TIME"
    )
    assert [v["version"] for v in newest_first["versions"]] == ["1.0.3", "1.0.2", "1.0.1", "1.0.0", "0.9.0"]


def test_list_package_versions_pages_and_filters_by_origin(world: World) -> None:
    world.client.associate_external_connection(
        domain=DOMAIN, repository="upstream", externalConnection="public:npmjs"
    )
    for i in range(3):
        world.seed("upstream", "npm", "ui", f"1.0.{i}")
    # Published first, so upstream=BLOCK by default: open it to ingestion too
    world.client.put_package_origin_configuration(
        **world.package("upstream", "npm", "ui"), restrictions={"publish": "ALLOW", "upstream": "ALLOW"}
    )
    for i in range(3, 5):
        world.seed("upstream", "npm", "ui", f"1.0.{i}", origin_type="EXTERNAL")
    pages = world.client.get_paginator("list_package_versions").paginate(
        domain=DOMAIN, repository="upstream", format="npm", package="ui", PaginationConfig={"PageSize": 2}
    )
    assert len([v for page in pages for v in page["versions"]]) == 5

    def versions(origin: str) -> list[str]:
        listed = world.client.list_package_versions(
            **world.package("upstream", "npm", "ui"), originType=origin
        )
        return [v["version"] for v in listed["versions"]]

    assert versions("INTERNAL") == ["1.0.0", "1.0.1", "1.0.2"]
    assert versions("EXTERNAL") == ["1.0.3", "1.0.4"]
    assert world.describe("upstream", "npm", "ui", "1.0.4")["origin"] == {
        "domainEntryPoint": {"externalConnectionName": "public:npmjs"},
        "originType": "EXTERNAL",
    }


def test_origin_controls_block_new_versions_by_their_way_in(world: World) -> None:
    world.client.associate_external_connection(
        domain=DOMAIN, repository="upstream", externalConnection="public:npmjs"
    )
    world.client.put_package_origin_configuration(
        **world.package("upstream", "npm", "ui"), restrictions={"publish": "BLOCK", "upstream": "ALLOW"}
    )
    with pytest.raises(Exception, match="blocks publishing") as excinfo:
        world.seed("upstream", "npm", "ui", "1.0.0")
    assert type(excinfo.value).__name__ == "AccessDeniedException"
    world.seed("upstream", "npm", "ui", "1.0.0", origin_type="EXTERNAL")

    world.client.put_package_origin_configuration(
        **world.package("upstream", "npm", "ui"), restrictions={"publish": "ALLOW", "upstream": "BLOCK"}
    )
    with pytest.raises(Exception, match="blocks ingestion"):
        world.seed("upstream", "npm", "ui", "1.0.1", origin_type="EXTERNAL")
    world.seed("upstream", "npm", "ui", "1.0.1")


def test_external_origin_needs_an_external_connection(world: World) -> None:
    with pytest.raises(Exception, match="no external connection") as excinfo:
        world.seed("staging", "npm", "ui", "1.0.0", origin_type="EXTERNAL")
    assert type(excinfo.value).__name__ == "ValidationException"


def test_missing_package_and_version_are_not_found(world: World) -> None:
    with rejected("ResourceNotFoundException", 404):
        world.client.list_package_versions(**world.package("staging", "npm", "nope"))
    world.seed("staging", "npm", "ui", "1.0.0")
    with rejected("ResourceNotFoundException", 404):
        world.describe("staging", "npm", "ui", "9.9.9")


def test_listing_a_package_another_repository_holds_is_not_found_and_status_filters(world: World) -> None:
    # What the promoter's catch-up reads before a copy: the package in the destination (not there yet:
    # ResourceNotFoundException, as for any package the repository lacks) and its Published versions
    # in the source, with their revisions.
    published = {v: world.seed("staging", "npm", "ui", v)["revision"] for v in ("1.0.0", "1.1.0")}
    world.seed("staging", "npm", "ui", "1.2.0", status="Unlisted")
    world.seed("staging", "npm", "ui", "1.3.0", status="Unfinished")
    with rejected("ResourceNotFoundException", 404):
        world.client.list_package_versions(**world.package("release", "npm", "ui"))
    listed = world.client.list_package_versions(**world.package("staging", "npm", "ui"), status="Published")
    assert {v["version"]: (v["revision"], v["status"]) for v in listed["versions"]} == {
        v: (revision, "Published") for v, revision in published.items()
    }


# -- UpdatePackageVersionsStatus ---------------------------------------------------------------


def test_status_update_gives_a_new_revision(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    result = world.client.update_package_versions_status(
        **world.package("staging", "npm", "ui"), versions=["1.0.0"], targetStatus="Archived"
    )
    info = result["successfulVersions"]["1.0.0"]
    assert info["status"] == "Archived"
    assert info["revision"] != seeded["revision"]
    assert result["failedVersions"] == {}
    assert world.describe("staging", "npm", "ui", "1.0.0")["revision"] == info["revision"]


def test_status_update_reports_each_version_on_its_own(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    world.seed("staging", "npm", "ui", "1.0.1", status="Unlisted")
    ok = world.seed("staging", "npm", "ui", "1.0.2")
    world.seed("staging", "npm", "ui", "1.0.3")
    result = world.client.update_package_versions_status(
        **world.package("staging", "npm", "ui"),
        versions=["1.0.0", "1.0.1", "1.0.2", "9.9.9"],
        versionRevisions={"1.0.0": "not-the-revision", "1.0.2": ok["revision"]},
        expectedStatus="Published",
        targetStatus="Unlisted",
    )
    assert {v: e["errorCode"] for v, e in result["failedVersions"].items()} == {
        "1.0.0": "MISMATCHED_REVISION",
        "1.0.1": "MISMATCHED_STATUS",
        "9.9.9": "NOT_FOUND",
    }
    assert list(result["successfulVersions"]) == ["1.0.2"]


def test_unchanged_status_keeps_the_revision(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    result = world.client.update_package_versions_status(
        **world.package("staging", "npm", "ui"), versions=["1.0.0"], targetStatus="Published"
    )
    assert result["successfulVersions"]["1.0.0"]["revision"] == seeded["revision"]


@pytest.mark.parametrize("target", ["Disposed", "Unfinished", "Deleted"])
def test_status_update_refuses_targets_it_does_not_own(world: World, target: str) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    with rejected("ValidationException", 400):
        world.client.update_package_versions_status(
            **world.package("staging", "npm", "ui"), versions=["1.0.0"], targetStatus=target
        )


def test_unfinished_version_can_be_published_by_status(world: World) -> None:
    world.seed("staging", "maven", "core", "1.0.0", namespace="com.acme", status="Unfinished")
    result = world.client.update_package_versions_status(
        **world.package("staging", "maven", "core", namespace="com.acme"),
        versions=["1.0.0"],
        targetStatus="Published",
    )
    assert result["successfulVersions"]["1.0.0"]["status"] == "Published"


# -- DeletePackageVersions / DisposePackageVersions --------------------------------------------


def test_delete_versions(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    world.seed("staging", "npm", "ui", "1.0.1", status="Archived")
    result = world.client.delete_package_versions(
        **world.package("staging", "npm", "ui"),
        versions=["1.0.0", "1.0.1", "2.0.0"],
        expectedStatus="Published",
    )
    assert result["successfulVersions"]["1.0.0"]["status"] == "Deleted"
    assert {v: e["errorCode"] for v, e in result["failedVersions"].items()} == {
        "1.0.1": "MISMATCHED_STATUS",
        "2.0.0": "NOT_FOUND",
    }
    listed = world.client.list_package_versions(**world.package("staging", "npm", "ui"))
    assert [v["version"] for v in listed["versions"]] == ["1.0.1"]


def test_dispose_removes_assets(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0", assets={"ui.tgz": b"x"})
    result = world.client.dispose_package_versions(
        **world.package("staging", "npm", "ui"), versions=["1.0.0"]
    )
    assert result["successfulVersions"]["1.0.0"]["status"] == "Disposed"
    assets = world.client.list_package_version_assets(
        **world.package("staging", "npm", "ui"), packageVersion="1.0.0"
    )
    assert assets["assets"] == []


# -- origin configuration ----------------------------------------------------------------------


def test_origin_configuration_on_a_new_package_creates_it(world: World) -> None:
    configured = world.client.put_package_origin_configuration(
        **world.package("release", "npm", "ui"), restrictions={"publish": "BLOCK", "upstream": "ALLOW"}
    )
    assert configured["originConfiguration"] == {"restrictions": {"publish": "BLOCK", "upstream": "ALLOW"}}
    described = world.client.describe_package(**world.package("release", "npm", "ui"))
    assert described["package"] == {
        "format": "npm",
        "name": "ui",
        "originConfiguration": {"restrictions": {"publish": "BLOCK", "upstream": "ALLOW"}},
    }
    listed = world.client.list_package_versions(**world.package("release", "npm", "ui"))
    assert listed["versions"] == []


def test_publish_blocked_by_origin_configuration(world: World) -> None:
    world.client.put_package_origin_configuration(
        **world.package("staging", "generic", "cli", namespace="acme"),
        restrictions={"publish": "BLOCK", "upstream": "ALLOW"},
    )
    with rejected("AccessDeniedException", 403):
        world.publish("staging", "cli", "1.0.0")


def test_delete_package_removes_it_and_its_versions(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    world.seed("staging", "npm", "ui", "1.0.1")
    deleted = world.client.delete_package(**world.package("staging", "npm", "ui"))
    assert deleted["deletedPackage"]["package"] == "ui"
    assert world.client.list_packages(domain=DOMAIN, repository="staging")["packages"] == []
    with rejected("ResourceNotFoundException", 404):
        world.client.describe_package(**world.package("staging", "npm", "ui"))
