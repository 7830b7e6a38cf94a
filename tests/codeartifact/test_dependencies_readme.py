"""ListPackageVersionDependencies and GetPackageVersionReadme, from what a publish stored.

API reference: ListPackageVersionDependencies "Returns the direct dependencies for a package version. ...
CodeArtifact extracts the dependencies for a package version from the metadata file for the package format
(for example, the package.json file for npm packages and the pom.xml file for Maven). Any package version
dependencies that are not listed in the configuration file are not returned."; GetPackageVersionReadme "Gets
the readme file or descriptive text for a package version." The API's generic PublishPackageVersion carries
no metadata file, so such a version has no dependencies and no readme; Control.seed_package_version takes
``dependencies`` and ``readme`` for what a package manager's publish would have stored.
"""

from __future__ import annotations

from .conftest import DOMAIN, World, rejected

DEPENDENCIES = [
    {"package": "lodash", "dependencyType": "regular", "versionRequirement": "^4.17.0"},
    {"namespace": "types", "package": "node", "dependencyType": "dev", "versionRequirement": "20.x"},
]


def where(fmt: str, package: str, version: str, namespace: str | None = None) -> dict[str, str]:
    out = {
        "domain": DOMAIN,
        "repository": "staging",
        "format": fmt,
        "package": package,
        "packageVersion": version,
    }
    if namespace:
        out["namespace"] = namespace
    return out


def test_a_generic_publish_has_no_dependencies_and_no_readme(world: World) -> None:
    published = world.publish("staging", "tool", "1.0.0")
    dependencies = world.client.list_package_version_dependencies(**where("generic", "tool", "1.0.0", "acme"))
    assert dependencies["dependencies"] == []
    assert (dependencies["version"], dependencies["versionRevision"]) == (
        "1.0.0",
        published["versionRevision"],
    )
    assert (dependencies["format"], dependencies["namespace"], dependencies["package"]) == (
        "generic",
        "acme",
        "tool",
    )
    readme = world.client.get_package_version_readme(**where("generic", "tool", "1.0.0", "acme"))
    assert "readme" not in readme  # *choice*: no text to return
    assert readme["versionRevision"] == published["versionRevision"]


def test_seeded_manifest_is_answered_and_kept_by_copies(world: World) -> None:
    seeded = world.seed("staging", "npm", "app", "2.0.0", dependencies=DEPENDENCIES, readme="# app\n\nHello.")
    answer = world.client.list_package_version_dependencies(**where("npm", "app", "2.0.0"))
    assert answer["dependencies"] == DEPENDENCIES
    assert answer["versionRevision"] == seeded["revision"]
    assert (
        world.client.get_package_version_readme(**where("npm", "app", "2.0.0"))["readme"] == "# app\n\nHello."
    )

    world.copy("npm", "app", versionRevisions={"2.0.0": seeded["revision"]})
    copied = world.client.list_package_version_dependencies(
        **{**where("npm", "app", "2.0.0"), "repository": "release"}
    )
    assert copied["dependencies"] == DEPENDENCIES


def test_a_new_manifest_is_a_metadata_change(world: World) -> None:
    first = world.seed("staging", "npm", "app", "2.0.0", readme="old")
    second = world.seed("staging", "npm", "app", "2.0.0", readme="new")
    assert first["revision"] != second["revision"]
    assert world.client.get_package_version_readme(**where("npm", "app", "2.0.0"))["readme"] == "new"


def test_a_missing_version_is_not_found(world: World) -> None:
    world.seed("staging", "npm", "app", "2.0.0")
    for call in (world.client.list_package_version_dependencies, world.client.get_package_version_readme):
        with rejected("ResourceNotFoundException", 404):
            call(**where("npm", "app", "9.9.9"))
