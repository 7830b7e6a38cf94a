"""Name/version normalization per format and the default origin controls of new packages."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from codeartifact_moto.naming import stored_name, stored_version

from .conftest import DOMAIN, World, rejected
from .test_events import Inbox


def packages(world: World, repository: str, fmt: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = world.client.list_packages(
        domain=DOMAIN, repository=repository, format=fmt
    )["packages"]
    return listed


def restrictions(world: World, repository: str, fmt: str, package: str, **kwargs: Any) -> dict[str, str]:
    described = world.client.describe_package(**world.package(repository, fmt, package), **kwargs)
    return dict(described["package"]["originConfiguration"]["restrictions"])


# -- normalization -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [("Foo_Bar", "foo-bar"), ("pigeon.cli", "pigeon-cli"), ("A-_.-b", "a-b"), ("requests", "requests")],
)
def test_pypi_names_are_stored_pep503_normalized(given: str, stored: str) -> None:
    assert stored_name("pypi", given) == stored


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1.00", "1.0"),
        ("1.01.1", "1.1.1"),
        ("1.00.0.1", "1.0.0.1"),
        ("1.0.0.0", "1.0.0"),
        ("1.0.01.0", "1.0.1"),
        ("1.0.7+r3456", "1.0.7"),
        ("01.2.3-Beta.1+build", "1.2.3-Beta.1"),
        ("12.0.03.0", "12.0.3"),
    ],
)
def test_nuget_versions_are_normalized_as_nuget_does(given: str, stored: str) -> None:
    assert stored_version("nuget", given) == stored


def test_pypi_seeded_name_is_normalized_and_only_the_normalized_name_finds_it(world: World) -> None:
    # Given a pypi package published as Foo_Bar
    world.seed("staging", "pypi", "Foo_Bar", "1.0.0")

    # Then it is stored (and listed) as foo-bar, its displayName keeps the published spelling
    assert [p["package"] for p in packages(world, "staging", "pypi")] == ["foo-bar"]
    described = world.describe("staging", "pypi", "foo-bar", "1.0.0")
    assert (described["packageName"], described["displayName"]) == ("foo-bar", "Foo_Bar")

    # And API requests must use the normalized name (the guide says so for Python)
    with rejected("ResourceNotFoundException", 404):
        world.describe("staging", "pypi", "Foo_Bar", "1.0.0")

    # And a second spelling is the same package
    world.seed("staging", "pypi", "foo.bar", "1.1.0")
    assert [p["package"] for p in packages(world, "staging", "pypi")] == ["foo-bar"]


def test_nuget_name_and_version_are_normalized_in_storage_and_in_requests(world: World) -> None:
    # Given a NuGet package published as Newtonsoft.JSON 12.0.03.0
    seeded = world.seed("staging", "nuget", "Newtonsoft.JSON", "12.0.03.0")
    assert (seeded["package"], seeded["version"]) == ("newtonsoft.json", "12.0.3")
    assert [p["package"] for p in packages(world, "staging", "nuget")] == ["newtonsoft.json"]

    # Then requests with the non-normalized name and version find it
    described = world.describe("staging", "nuget", "Newtonsoft.JSON", "12.0.03.0")
    assert (described["packageName"], described["version"]) == ("newtonsoft.json", "12.0.3")
    listed = world.client.list_package_versions(**world.package("staging", "nuget", "NEWTONSOFT.json"))
    assert [v["version"] for v in listed["versions"]] == ["12.0.3"]

    # And a copy asked for in either spelling answers with the stored version
    result = world.copy("nuget", "Newtonsoft.Json", versions=["12.0.3.0"])
    assert list(result["successfulVersions"]) == ["12.0.3"]
    assert world.describe("release", "nuget", "newtonsoft.json", "12.0.3")["revision"] == seeded["revision"]
    updated = world.client.update_package_versions_status(
        **world.package("release", "nuget", "Newtonsoft.Json"), versions=["12.0.03"], targetStatus="Archived"
    )
    assert list(updated["successfulVersions"]) == ["12.0.3"]


def test_swift_name_and_namespace_are_lowercased_in_storage_and_in_requests(world: World) -> None:
    world.seed("staging", "swift", "MyPackage", "1.0.0-RC.1", namespace="MyScope")
    listed = packages(world, "staging", "swift")
    assert [(p["namespace"], p["package"]) for p in listed] == [("myscope", "mypackage")]
    # The version is kept as given; name and namespace requests are normalized
    described = world.describe("staging", "swift", "myPACKAGE", "1.0.0-RC.1", namespace="MYSCOPE")
    assert (described["namespace"], described["packageName"]) == ("myscope", "mypackage")
    result = world.copy("swift", "MyPackage", namespace="MyScope", versions=["1.0.0-RC.1"])
    assert list(result["successfulVersions"]) == ["1.0.0-RC.1"]


def test_other_formats_keep_names_as_given(world: World) -> None:
    world.seed("staging", "maven", "My_Lib", "1.0.0", namespace="Com.Acme")
    listed = packages(world, "staging", "maven")
    assert [(p["namespace"], p["package"]) for p in listed] == [("Com.Acme", "My_Lib")]
    with pytest.raises(ClientError):
        world.describe("staging", "maven", "my_lib", "1.0.0", namespace="com.acme")


def test_events_carry_the_normalized_names(world: World) -> None:
    inbox = Inbox(world)
    world.seed("staging", "pypi", "Foo_Bar", "1.0.0")
    world.seed("staging", "nuget", "Acme.Core", "2.01.0.0")
    world.seed("staging", "swift", "Kit", "1.0.0", namespace="Acme")
    details = sorted(
        (e["detail"]["packageFormat"], e["detail"]["packageNamespace"], e["detail"]["packageName"],
         e["detail"]["packageVersion"])
        for e in inbox.drain(3)
    )  # fmt: skip
    assert details == [
        ("nuget", None, "acme.core", "2.1.0"),
        ("pypi", None, "foo-bar", "1.0.0"),
        ("swift", "acme", "kit", "1.0.0"),
    ]


# -- default origin controls -------------------------------------------------------------------


def test_first_version_published_directly_sets_publish_allow_upstream_block(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    world.publish("staging", "tool", "1.0.0")
    assert restrictions(world, "staging", "npm", "ui") == {"publish": "ALLOW", "upstream": "BLOCK"}
    generic = restrictions(world, "staging", "generic", "tool", namespace="acme")
    assert generic == {"publish": "ALLOW", "upstream": "BLOCK"}


def test_first_version_ingested_externally_sets_publish_block_upstream_allow(world: World) -> None:
    world.client.associate_external_connection(
        domain=DOMAIN, repository="upstream", externalConnection="public:npmjs"
    )
    world.seed("upstream", "npm", "lodash", "4.17.21", origin_type="EXTERNAL")
    assert restrictions(world, "upstream", "npm", "lodash") == {"publish": "BLOCK", "upstream": "ALLOW"}
    # So a direct publish of that name is refused afterwards (dependency substitution guard)
    with pytest.raises(Exception, match="blocks publishing"):
        world.seed("upstream", "npm", "lodash", "4.17.22")


def test_later_versions_and_explicit_configuration_keep_their_settings(world: World) -> None:
    world.client.put_package_origin_configuration(
        **world.package("staging", "npm", "ui"), restrictions={"publish": "ALLOW", "upstream": "ALLOW"}
    )
    world.seed("staging", "npm", "ui", "1.0.0")
    assert restrictions(world, "staging", "npm", "ui") == {"publish": "ALLOW", "upstream": "ALLOW"}


def test_unknown_origin_gets_the_pre_origin_control_defaults(world: World) -> None:
    world.seed("staging", "npm", "legacy", "1.0.0", origin_type="UNKNOWN")
    assert restrictions(world, "staging", "npm", "legacy") == {"publish": "ALLOW", "upstream": "ALLOW"}


def test_list_packages_filters_are_normalized_for_nuget_and_swift(world: World) -> None:
    world.seed("staging", "swift", "MyPackage", "1.0.0", namespace="MyScope")
    world.seed("staging", "nuget", "Acme.Core", "1.0.0")
    swift = world.client.list_packages(
        domain=DOMAIN, repository="staging", format="swift", namespace="MyScope", packagePrefix="MyPack"
    )["packages"]
    assert [p["package"] for p in swift] == ["mypackage"]
    nuget = world.client.list_packages(
        domain=DOMAIN, repository="staging", format="nuget", packagePrefix="ACME."
    )["packages"]
    assert [p["package"] for p in nuget] == ["acme.core"]
