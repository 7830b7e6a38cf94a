"""Package groups: patterns, the group tree, association, origin restrictions and where they apply.

Sources, quoted per test: the API reference (CreatePackageGroup, DescribePackageGroup, UpdatePackageGroup,
DeletePackageGroup, ListPackageGroups, ListSubPackageGroups, ListAssociatedPackages,
GetAssociatedPackageGroup, UpdatePackageGroupOriginConfiguration, ListAllowedRepositoriesForGroup,
PackageGroupOriginRestriction) and the user guide pages "Package group definition syntax and matching
behavior", "Package group origin controls" and "Delete a package group". Tests marked *choice* pin what
the emulation chose where the docs are silent (codeartifact_moto.package_groups and models docstrings).
Every test runs in-process and over HTTP; test_contract.py runs the core of it against real AWS.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import DOMAIN, World, rejected

ALL_ALLOW = {"mode": "ALLOW", "effectiveMode": "ALLOW"}


def create(world: World, pattern: str, **kwargs: Any) -> dict[str, Any]:
    group: dict[str, Any] = world.client.create_package_group(domain=DOMAIN, packageGroup=pattern, **kwargs)[
        "packageGroup"
    ]
    return group


def describe(world: World, pattern: str) -> dict[str, Any]:
    group: dict[str, Any] = world.client.describe_package_group(domain=DOMAIN, packageGroup=pattern)[
        "packageGroup"
    ]
    return group


def associated(world: World, fmt: str, package: str, namespace: str | None = None) -> tuple[str, str]:
    extra = {"namespace": namespace} if namespace else {}
    answer = world.client.get_associated_package_group(domain=DOMAIN, format=fmt, package=package, **extra)
    return answer["packageGroup"]["pattern"], answer["associationType"]


def allow_only(repository: str, restriction: str) -> list[dict[str, str]]:
    """The one repository that a restriction set to ALLOW_SPECIFIC_REPOSITORIES lets through."""
    return [{"repositoryName": repository, "originRestrictionType": restriction}]


def restrict_to(world: World, pattern: str, restriction: str, repository: str) -> None:
    """``restriction`` of the group set to ALLOW_SPECIFIC_REPOSITORIES, with ``repository`` allowed."""
    restrict(
        world,
        pattern,
        restrictions={restriction: "ALLOW_SPECIFIC_REPOSITORIES"},
        addAllowedRepositories=allow_only(repository, restriction),
    )


def restrict(world: World, pattern: str, **kwargs: Any) -> dict[str, Any]:
    answer: dict[str, Any] = world.client.update_package_group_origin_configuration(
        domain=DOMAIN, packageGroup=pattern, **kwargs
    )
    return answer


# -- the root group and the lifecycle ------------------------------------------------------------


def test_every_domain_has_the_root_group_which_cannot_be_deleted(world: World) -> None:
    """User guide, "Delete a package group": "The root package group, /*, cannot be deleted." """
    root = describe(world, "/*")
    assert root["pattern"] == "/*"
    assert root["domainName"] == DOMAIN
    assert "parent" not in root
    assert root["originConfiguration"]["restrictions"] == dict.fromkeys(
        ("PUBLISH", "EXTERNAL_UPSTREAM", "INTERNAL_UPSTREAM"), ALL_ALLOW
    )
    with rejected("ValidationException", 400):
        world.client.delete_package_group(domain=DOMAIN, packageGroup="/*")
    assert [g["pattern"] for g in world.client.list_package_groups(domain=DOMAIN)["packageGroups"]] == ["/*"]


def test_a_group_is_created_described_updated_and_deleted(world: World) -> None:
    """API reference: CreatePackageGroup "Creates a package group."; UpdatePackageGroup "This API cannot
    be used to update a package group's origin configuration or pattern."; DeletePackageGroup "Deleting a
    package group does not delete packages or package versions associated with the package group." """
    world.seed("staging", "npm", "react", "18.0.0")
    created = create(world, "/npm/*", contactInfo="team@example.com", description="npm")
    assert created["arn"].startswith("arn:aws:codeartifact:us-east-1:123456789012:package-group/acme")
    assert created["parent"]["pattern"] == "/*"
    assert (created["contactInfo"], created["description"]) == ("team@example.com", "npm")
    assert describe(world, "/npm/*") == created

    updated = world.client.update_package_group(domain=DOMAIN, packageGroup="/npm/*", description="changed")[
        "packageGroup"
    ]
    assert (updated["contactInfo"], updated["description"]) == ("team@example.com", "changed")
    assert updated["originConfiguration"] == created["originConfiguration"]

    with rejected("ConflictException", 409):
        create(world, "/npm/*")

    deleted = world.client.delete_package_group(domain=DOMAIN, packageGroup="/npm/*")["packageGroup"]
    assert deleted["pattern"] == "/npm/*"
    for call in (
        lambda: describe(world, "/npm/*"),
        lambda: world.client.update_package_group(domain=DOMAIN, packageGroup="/npm/*", description="x"),
        lambda: world.client.delete_package_group(domain=DOMAIN, packageGroup="/npm/*"),
    ):
        with rejected("ResourceNotFoundException", 404):
            call()
    assert world.describe("staging", "npm", "react", "18.0.0")["status"] == "Published"


def test_groups_of_a_missing_domain_are_not_found(world: World) -> None:
    with rejected("ResourceNotFoundException", 404):
        world.client.create_package_group(domain="missing", packageGroup="/npm/*")


@pytest.mark.parametrize(
    "pattern",
    [
        "npm/*",  # no leading slash
        "/npm",  # no suffix
        "/cobol/*",  # no such format
        "/npm/*/x$",  # * only ends a pattern
        "/npm/a~/b$",  # ~ only ends a pattern
        "/pypi/ns/requests$",  # pypi has no namespace
        "/maven//log4j-core$",  # maven names need their namespace
        "/npm/space/$",  # an empty name
        "/npm/space/x/y$",  # too many components
    ],
)
def test_a_pattern_outside_the_syntax_is_invalid(world: World, pattern: str) -> None:
    """User guide, "Package group definition syntax and matching behavior": the pattern "is terminated
    with a suffix" ($, ~ or *), with the allowed combinations /*, /npm/*, /maven/com.anycompany~,
    /npm/space/*, /npm/space/anycompany-ui~ and /maven/org.apache.logging.log4j/log4j-core$; "For packages
    or package formats without namespaces (Python and NuGet), package groups must not contain a
    namespace", and for maven, generic and swift "if the package name is included, the namespace must be
    included"."""
    with rejected("ValidationException", 400):
        create(world, pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "/*",
        "/npm/*",
        "/maven/com.anycompany~",
        "/npm/space/*",
        "/npm/space/anycompany-ui~",
        "/maven/org.apache.logging.log4j/log4j-core$",
        "/pypi//requests$",
    ],
)
def test_the_guides_example_patterns_are_valid(world: World, pattern: str) -> None:
    """User guide: "Here are example patterns for each of the allowed combinations" (and /pypi//requests, the
    guide's path of a package without namespace)."""
    if pattern == "/*":
        assert describe(world, pattern)["pattern"] == "/*"
        return
    assert create(world, pattern)["pattern"] == pattern


# -- hierarchy and association -------------------------------------------------------------------


def test_the_most_specific_group_wins(world: World) -> None:
    """User guide: "given the package groups /npm/* and /npm/space/*, the package path /npm//react is
    associated with the first group (/npm/*) while /npm/space/aui.components and
    /npm/space/amplify-ui-core are associated with the second group (/npm/space/*). Even though a package
    may match multiple groups, each package is only associated with a single group, the most specific
    match"; GetAssociatedPackageGroup "does not require that the package exist in any repository in the
    domain"."""
    create(world, "/npm/*")
    create(world, "/npm/space/*")
    assert associated(world, "npm", "react") == ("/npm/*", "STRONG")
    assert associated(world, "npm", "aui.components", "space") == ("/npm/space/*", "STRONG")
    assert associated(world, "npm", "amplify-ui-core", "space") == ("/npm/space/*", "STRONG")
    assert associated(world, "pypi", "requests") == ("/*", "STRONG")

    create(world, "/npm/space/amplify~")
    create(world, "/npm/space/amplify-ui-core$")
    assert associated(world, "npm", "amplify-ui-core", "space") == ("/npm/space/amplify-ui-core$", "STRONG")
    assert associated(world, "npm", "amplify-ui", "space") == ("/npm/space/amplify~", "STRONG")
    assert associated(world, "npm", "aui.components", "space") == ("/npm/space/*", "STRONG")


def test_a_namespace_prefix_is_less_specific_than_the_namespace(world: World) -> None:
    """*choice*: /maven/com.anycompany~ matches a superset of /maven/com.anycompany/*, so it ranks lower; a
    longer prefix ranks higher."""
    create(world, "/maven/com.anycompany~")
    create(world, "/maven/com.anycompany/*")
    create(world, "/maven/com.anycompany.tools~")
    assert associated(world, "maven", "core", "com.anycompany") == ("/maven/com.anycompany/*", "STRONG")
    assert associated(world, "maven", "core", "com.anycompany.web") == ("/maven/com.anycompany~", "STRONG")
    assert associated(world, "maven", "cli", "com.anycompany.tools.x") == (
        "/maven/com.anycompany.tools~",
        "STRONG",
    )
    assert describe(world, "/maven/com.anycompany.tools~")["parent"]["pattern"] == "/maven/com.anycompany~"


def test_a_prefix_matches_at_a_word_boundary(world: World) -> None:
    """*choice* after the guide's "Words, word boundaries, and prefix matching": anycompany-ui~ matches
    anycompany-ui and anycompany-ui-components, not anycompany-uicomponents."""
    create(world, "/npm/space/anycompany-ui~")
    assert associated(world, "npm", "anycompany-ui", "space")[0] == "/npm/space/anycompany-ui~"
    assert associated(world, "npm", "anycompany-ui-components", "space")[0] == "/npm/space/anycompany-ui~"
    assert associated(world, "npm", "anycompany-ui.core", "space")[0] == "/npm/space/anycompany-ui~"
    assert associated(world, "npm", "anycompany-uicomponents", "space")[0] == "/*"


def test_a_match_that_ignores_case_is_weak(world: World) -> None:
    """API reference, AssociatedPackage associationType: "A strong match can be thought of as an exact
    match, and a weak match can be thought of as a variation match, for example, the package name matches a
    variation of the package group pattern". *choice*: a match only when case is ignored is the variation
    (WEAK); the most specific group still wins, STRONG first between equally specific ones."""
    create(world, "/npm/Space/*")
    create(world, "/npm/*")
    assert associated(world, "npm", "ui", "space") == ("/npm/Space/*", "WEAK")
    assert associated(world, "npm", "ui", "Space") == ("/npm/Space/*", "STRONG")
    create(world, "/npm/space/*")
    assert associated(world, "npm", "ui", "space") == ("/npm/space/*", "STRONG")
    assert associated(world, "npm", "react") == ("/npm/*", "STRONG")


def test_normalized_names_are_matched(world: World) -> None:
    """User guide: "CodeArtifact uses these normalized names when matching packages to package group
    definitions. Therefore, package groups that contain a namespace or name in these formats must use the
    normalized namespace and name." (nuget requests are normalized, so either spelling finds the
    group)."""
    create(world, "/nuget//newtonsoft.json$")
    create(world, "/pypi//foo-bar$")
    assert associated(world, "nuget", "Newtonsoft.Json")[0] == "/nuget//newtonsoft.json$"
    assert associated(world, "pypi", "foo-bar")[0] == "/pypi//foo-bar$"


def test_sub_groups_are_the_direct_children_and_deleting_a_group_moves_them_up(world: World) -> None:
    """API reference: ListSubPackageGroups "Returns a list of direct children of the specified package
    group."; DeletePackageGroup "When a package group is deleted, the direct child package groups will
    become children of the package group's direct parent package group. Therefore, if any of the child
    groups are inheriting any settings from the parent, those settings could change." """
    for pattern in ("/npm/*", "/npm/space/*", "/npm/space/ui~", "/npm/other/*", "/pypi/*"):
        create(world, pattern)

    def children(pattern: str) -> list[str]:
        listed = world.client.list_sub_package_groups(domain=DOMAIN, packageGroup=pattern)["packageGroups"]
        return [g["pattern"] for g in listed]

    assert children("/*") == ["/npm/*", "/pypi/*"]
    assert children("/npm/*") == ["/npm/other/*", "/npm/space/*"]
    assert children("/npm/space/*") == ["/npm/space/ui~"]

    restrict(world, "/npm/*", restrictions={"PUBLISH": "BLOCK"})
    inherited = describe(world, "/npm/space/*")["originConfiguration"]["restrictions"]["PUBLISH"]
    assert (inherited["effectiveMode"], inherited["inheritedFrom"]["pattern"]) == ("BLOCK", "/npm/*")

    world.client.delete_package_group(domain=DOMAIN, packageGroup="/npm/*")
    assert children("/*") == ["/npm/other/*", "/npm/space/*", "/pypi/*"]
    moved = describe(world, "/npm/space/*")
    assert moved["parent"]["pattern"] == "/*"
    assert moved["originConfiguration"]["restrictions"]["PUBLISH"]["effectiveMode"] == "ALLOW"


def test_list_package_groups_filters_by_prefix_and_pages(world: World) -> None:
    """API reference, ListPackageGroups prefix: "When included, ListPackageGroups will return only package
    groups with patterns that match the prefix." """
    for pattern in ("/npm/*", "/npm/space/*", "/pypi/*"):
        create(world, pattern)
    listed = world.client.list_package_groups(domain=DOMAIN, prefix="/npm")["packageGroups"]
    assert [g["pattern"] for g in listed] == ["/npm/*", "/npm/space/*"]
    first = world.client.list_package_groups(domain=DOMAIN, maxResults=3)
    second = world.client.list_package_groups(domain=DOMAIN, maxResults=3, nextToken=first["nextToken"])
    assert [g["pattern"] for g in first["packageGroups"] + second["packageGroups"]] == [
        "/*",
        "/npm/*",
        "/npm/space/*",
        "/pypi/*",
    ]
    assert "nextToken" not in second


def test_associated_packages_and_their_preview(world: World) -> None:
    """API reference, ListAssociatedPackages: "Returns a list of packages associated with the requested
    package group."; preview: "When this flag is included, ListAssociatedPackages will return a list of
    packages that would be associated with a package group, even if it does not exist." """
    world.seed("staging", "npm", "react", "18.0.0")
    world.seed("release", "npm", "react", "18.0.0")  # one package, in two repositories
    world.seed("staging", "npm", "ui", "1.0.0", namespace="space")
    world.seed("staging", "pypi", "requests", "2.0.0")
    create(world, "/npm/*")

    def packages(pattern: str, **kwargs: Any) -> list[tuple[str, str | None, str, str]]:
        listed = world.client.list_associated_packages(domain=DOMAIN, packageGroup=pattern, **kwargs)
        return [
            (p["format"], p.get("namespace"), p["package"], p["associationType"]) for p in listed["packages"]
        ]

    assert packages("/npm/*") == [("npm", None, "react", "STRONG"), ("npm", "space", "ui", "STRONG")]
    assert packages("/*") == [("pypi", None, "requests", "STRONG")]
    assert packages("/npm/space/*", preview=True) == [("npm", "space", "ui", "STRONG")]
    with rejected("ResourceNotFoundException", 404):
        packages("/npm/space/*")
    assert packages("/npm/*") == [("npm", None, "react", "STRONG"), ("npm", "space", "ui", "STRONG")]


# -- origin configuration ------------------------------------------------------------------------


def test_inherit_resolves_to_the_first_parent_that_does_not_inherit(world: World) -> None:
    """API reference, PackageGroupOriginRestriction: "when the value of mode is INHERIT, then the value of
    effectiveMode is the value of mode of the first parent group which does not have a value of INHERIT";
    inheritedFrom "The parent package group that the package group origin restrictions are inherited
    from." """
    created = create(world, "/npm/*")
    for kind, entry in created["originConfiguration"]["restrictions"].items():
        assert entry["mode"] == "INHERIT", kind
        assert entry["effectiveMode"] == "ALLOW"
        assert entry["inheritedFrom"]["pattern"] == "/*"
    create(world, "/npm/space/*")
    restrict(world, "/npm/*", restrictions={"EXTERNAL_UPSTREAM": "BLOCK"})
    restrictions = describe(world, "/npm/space/*")["originConfiguration"]["restrictions"]
    assert restrictions["EXTERNAL_UPSTREAM"]["effectiveMode"] == "BLOCK"
    assert restrictions["EXTERNAL_UPSTREAM"]["inheritedFrom"]["pattern"] == "/npm/*"
    assert restrictions["PUBLISH"]["inheritedFrom"]["pattern"] == "/*"
    restrict(world, "/npm/space/*", restrictions={"EXTERNAL_UPSTREAM": "ALLOW"})
    own = describe(world, "/npm/space/*")["originConfiguration"]["restrictions"]["EXTERNAL_UPSTREAM"]
    assert own == ALL_ALLOW


def test_the_root_group_cannot_inherit(world: World) -> None:
    """*choice*: the root group has no parent to inherit from."""
    with rejected("ValidationException", 400):
        restrict(world, "/*", restrictions={"PUBLISH": "INHERIT"})


def test_allowed_repository_lists(world: World) -> None:
    """API reference, UpdatePackageGroupOriginConfiguration addAllowedRepositories "The repository name
    and restrictions to add to the allowed repository list of the specified package group.";
    allowedRepositoryUpdates "Information about the updated allowed repositories after processing the
    request."; ListAllowedRepositories- ForGroup "Lists the repositories in the added repositories list of
    the specified restriction type for a package group." """
    create(world, "/generic/*")
    answer = restrict(
        world,
        "/generic/*",
        restrictions={"PUBLISH": "ALLOW_SPECIFIC_REPOSITORIES"},
        addAllowedRepositories=[
            {"repositoryName": "staging", "originRestrictionType": "PUBLISH"},
            {"repositoryName": "upstream", "originRestrictionType": "PUBLISH"},
        ],
    )
    assert answer["allowedRepositoryUpdates"] == {"PUBLISH": {"ADDED": ["staging", "upstream"]}}
    publish = answer["packageGroup"]["originConfiguration"]["restrictions"]["PUBLISH"]
    assert publish == {
        "mode": "ALLOW_SPECIFIC_REPOSITORIES",
        "effectiveMode": "ALLOW_SPECIFIC_REPOSITORIES",
        "repositoriesCount": 2,
    }
    removed = restrict(
        world,
        "/generic/*",
        removeAllowedRepositories=[{"repositoryName": "upstream", "originRestrictionType": "PUBLISH"}],
    )
    assert removed["allowedRepositoryUpdates"] == {"PUBLISH": {"REMOVED": ["upstream"]}}

    def allowed(kind: str) -> list[str]:
        return list(
            world.client.list_allowed_repositories_for_group(
                domain=DOMAIN, packageGroup="/generic/*", originRestrictionType=kind
            )["allowedRepositories"]
        )

    assert allowed("PUBLISH") == ["staging"]
    assert allowed("EXTERNAL_UPSTREAM") == []
    # *choice*: a deleted repository leaves the lists, so a namesake created later is not allowed by accident
    world.client.create_repository(domain=DOMAIN, repository="scratch")
    restrict(world, "/generic/*", addAllowedRepositories=allow_only("scratch", "PUBLISH"))
    world.client.delete_repository(domain=DOMAIN, repository="scratch")
    world.client.create_repository(domain=DOMAIN, repository="scratch")
    assert allowed("PUBLISH") == ["staging"]
    with rejected("ResourceNotFoundException", 404):
        restrict(world, "/generic/*", addAllowedRepositories=allow_only("missing", "PUBLISH"))


def test_an_unknown_restriction_mode_is_invalid(world: World) -> None:
    create(world, "/npm/*")
    with rejected("ValidationException", 400):
        world.raw_client().update_package_group_origin_configuration(
            domain=DOMAIN, packageGroup="/npm/*", restrictions={"PUBLISH": "MAYBE"}
        )


def test_publish_restriction_applies_to_publishing(world: World) -> None:
    """User guide, "Package group origin controls", PUBLISH: "BLOCK: Package versions cannot be published
    directly to any repository."; "ALLOW_SPECIFIC_REPOSITORIES: Package versions can only be published
    directly to repositories specified in the allowed repository list for publishing." """
    create(world, "/generic/acme/*")
    restrict(world, "/generic/acme/*", restrictions={"PUBLISH": "BLOCK"})
    with rejected("AccessDeniedException", 403) as excinfo:
        world.publish("staging", "tool", "1.0.0")
    assert "/generic/acme/*" in excinfo.value.response["Error"]["Message"]
    world.publish("staging", "tool", "1.0.0", namespace="other")  # another group: the root allows it

    restrict_to(world, "/generic/acme/*", "PUBLISH", "staging")
    assert world.publish("staging", "tool", "1.0.0")["status"] == "Published"
    with rejected("AccessDeniedException", 403):
        world.publish("release", "tool", "1.0.0")


def test_a_package_block_wins_over_a_group_allow(world: World) -> None:
    """*choice* (the guide's table of package and package group settings: a BLOCK on either side blocks): a
    package whose own origin configuration blocks publishing stays blocked in a group that allows it."""
    create(world, "/generic/acme/*")
    restrict(world, "/generic/acme/*", restrictions={"PUBLISH": "ALLOW"})
    world.client.put_package_origin_configuration(
        **world.package("staging", "generic", "tool", namespace="acme"),
        restrictions={"publish": "BLOCK", "upstream": "ALLOW"},
    )
    with rejected("AccessDeniedException", 403):
        world.publish("staging", "tool", "1.0.0")


def test_external_upstream_restriction_applies_to_ingestion(world: World) -> None:
    """User guide, EXTERNAL_UPSTREAM: "BLOCK: Package versions cannot be ingested into any repository from
    public sources with an external connection." """
    world.client.associate_external_connection(
        domain=DOMAIN, repository="upstream", externalConnection="public:npmjs"
    )
    create(world, "/npm/*")
    restrict(world, "/npm/*", restrictions={"EXTERNAL_UPSTREAM": "BLOCK"})
    with pytest.raises(Exception, match="blocks EXTERNAL_UPSTREAM") as excinfo:
        world.seed("upstream", "npm", "left-pad", "1.0.0", origin_type="EXTERNAL")
    assert type(excinfo.value).__name__ == "AccessDeniedException"
    world.seed("upstream", "npm", "left-pad", "1.0.0")  # published directly: PUBLISH still allows it


def test_internal_upstream_restriction_keeps_upstream_versions_out_of_copies(world: World) -> None:
    """User guide, INTERNAL_UPSTREAM: "BLOCK: Package versions cannot be retained from other CodeArtifact
    repositories configured as upstream repositories." *choice*: includeFromUpstream then takes nothing from
    the source's upstreams (NOT_FOUND), as a package manager reading the source would see nothing there."""
    world.seed("upstream", "npm", "ui", "1.0.0")
    create(world, "/npm/*")
    restrict_to(world, "/npm/*", "INTERNAL_UPSTREAM", "release")
    refused = world.copy("npm", "ui", versions=["1.0.0"], includeFromUpstream=True)
    assert {v: e["errorCode"] for v, e in refused["failedVersions"].items()} == {"1.0.0": "NOT_FOUND"}
    restrict(world, "/npm/*", addAllowedRepositories=allow_only("staging", "INTERNAL_UPSTREAM"))
    copied = world.copy("npm", "ui", versions=["1.0.0"], includeFromUpstream=True)
    assert list(copied["successfulVersions"]) == ["1.0.0"]


def test_a_copy_into_a_repository_the_group_blocks_is_not_allowed(world: World) -> None:
    """*choice* (the docs are silent on copies and origin controls): a copied version enters the way it
    first entered the domain, so the destination's PUBLISH restriction governs an INTERNAL version; the
    failure names the package group."""
    world.seed("staging", "npm", "ui", "1.0.0")
    world.seed("staging", "npm", "ui", "1.1.0")
    create(world, "/npm/*")
    restrict_to(world, "/npm/*", "PUBLISH", "staging")
    refused = world.copy("npm", "ui", versions=["1.0.0", "1.1.0"])
    codes = {v: e["errorCode"] for v, e in refused["failedVersions"].items()}
    assert codes == {"1.0.0": "NOT_ALLOWED", "1.1.0": "NOT_ALLOWED"}
    message = next(
        e["errorMessage"] for e in refused["failedVersions"].values() if e["errorCode"] == "NOT_ALLOWED"
    )
    assert "package group /npm/*" in message
    restrict(world, "/npm/*", addAllowedRepositories=allow_only("release", "PUBLISH"))
    assert sorted(world.copy("npm", "ui", versions=["1.0.0", "1.1.0"])["successfulVersions"]) == [
        "1.0.0",
        "1.1.0",
    ]


def test_package_groups_are_tagged_by_arn(world: World) -> None:
    """API reference, CreatePackageGroup tags: "One or more tag key-value pairs for the package group.";
    TagResource "Adds or updates tags for a resource in CodeArtifact." """
    arn = create(world, "/npm/*", tags=[{"key": "team", "value": "web"}])["arn"]
    world.client.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "prod"}])
    listed = world.client.list_tags_for_resource(resourceArn=arn)["tags"]
    assert {t["key"]: t["value"] for t in listed} == {"team": "web", "env": "prod"}
    world.client.delete_package_group(domain=DOMAIN, packageGroup="/npm/*")
    with rejected("ResourceNotFoundException", 404):
        world.client.list_tags_for_resource(resourceArn=arn)
