"""Domains and repositories: shapes, validation and errors, in-process and over HTTP."""

from __future__ import annotations

import pytest

from .conftest import DOMAIN, World, error_field, rejected


def test_describe_domain_counts_repositories_and_assets(world: World) -> None:
    # Given the acme domain with three repositories and one published asset
    world.publish("staging", "tool", "1.0.0", content=b"12345")

    # When it is described
    domain = world.client.describe_domain(domain=DOMAIN)["domain"]

    # Then the description is complete
    assert domain["name"] == DOMAIN
    assert domain["owner"] == world.env.account_id
    assert domain["arn"] == f"arn:aws:codeartifact:us-east-1:{world.env.account_id}:domain/{DOMAIN}"
    assert domain["status"] == "Active"
    assert domain["repositoryCount"] == 3
    assert domain["assetSizeBytes"] == 5
    assert domain["encryptionKey"].startswith("arn:aws:kms:")


def test_list_domains_pages(world: World) -> None:
    for name in ("beta", "gamma"):
        world.client.create_domain(domain=name)
    pages = world.client.get_paginator("list_domains").paginate(PaginationConfig={"PageSize": 2})
    names = [d["name"] for page in pages for d in page["domains"]]
    assert names == ["acme", "beta", "gamma"]


def test_duplicate_domain_is_a_conflict(world: World) -> None:
    with rejected("ConflictException", 409) as excinfo:
        world.client.create_domain(domain=DOMAIN)
    assert error_field(excinfo, "resourceType") == "domain"


def test_missing_domain_is_not_found_with_resource_fields(world: World) -> None:
    with rejected("ResourceNotFoundException", 404) as excinfo:
        world.client.describe_domain(domain="nowhere")
    assert error_field(excinfo, "resourceId") == "nowhere"
    assert error_field(excinfo, "resourceType") == "domain"


def test_other_domain_owner_is_not_found(world: World) -> None:
    with rejected("ResourceNotFoundException", 404):
        world.client.describe_domain(domain=DOMAIN, domainOwner="999999999999")


@pytest.mark.parametrize("name", ["Upper", "ends-", "under_score", "x" * 51])
def test_domain_name_pattern_is_enforced_by_the_service(world: World, name: str) -> None:
    with rejected("ValidationException", 400) as excinfo:
        world.client.create_domain(domain=name)
    assert error_field(excinfo, "reason") == "FIELD_VALIDATION_FAILED"
    assert "at 'domain' failed to satisfy constraint" in excinfo.value.response["Error"]["Message"]


def test_repository_description_and_upstreams(world: World) -> None:
    repo = world.client.describe_repository(domain=DOMAIN, repository="staging")["repository"]
    assert repo["name"] == "staging"
    assert repo["domainName"] == DOMAIN
    assert repo["domainOwner"] == world.env.account_id
    assert repo["administratorAccount"] == world.env.account_id
    assert repo["arn"].endswith(f":repository/{DOMAIN}/staging")
    assert repo["upstreams"] == [{"repositoryName": "upstream"}]
    assert repo["externalConnections"] == []


def test_create_repository_with_missing_upstream_is_not_found(world: World) -> None:
    with rejected("ResourceNotFoundException", 404):
        world.client.create_repository(
            domain=DOMAIN, repository="dev", upstreams=[{"repositoryName": "ghost"}]
        )


def test_duplicate_repository_is_a_conflict(world: World) -> None:
    with rejected("ConflictException", 409):
        world.client.create_repository(domain=DOMAIN, repository="staging")


def test_update_repository_changes_description_and_refuses_cycles(world: World) -> None:
    updated = world.client.update_repository(
        domain=DOMAIN, repository="release", description="vetted", upstreams=[{"repositoryName": "staging"}]
    )["repository"]
    assert updated["description"] == "vetted"
    assert updated["upstreams"] == [{"repositoryName": "staging"}]

    # upstream <- staging <- release; making release an upstream of upstream closes a cycle
    with rejected("ValidationException", 400):
        world.client.update_repository(
            domain=DOMAIN, repository="upstream", upstreams=[{"repositoryName": "release"}]
        )


def test_list_repositories_in_domain_filters_by_prefix(world: World) -> None:
    listed = world.client.list_repositories_in_domain(domain=DOMAIN, repositoryPrefix="st")
    assert [r["name"] for r in listed["repositories"]] == ["staging"]
    every = world.client.list_repositories_in_domain(domain=DOMAIN)["repositories"]
    assert [r["name"] for r in every] == ["release", "staging", "upstream"]
    assert set(every[0]) >= {
        "name",
        "administratorAccount",
        "domainName",
        "domainOwner",
        "arn",
        "createdTime",
    }


def test_list_repositories_in_domain_pages(world: World) -> None:
    pages = world.client.get_paginator("list_repositories_in_domain").paginate(
        domain=DOMAIN, PaginationConfig={"PageSize": 1}
    )
    assert [r["name"] for page in pages for r in page["repositories"]] == ["release", "staging", "upstream"]


def test_external_connection_is_recorded_once(world: World) -> None:
    repo = world.client.associate_external_connection(
        domain=DOMAIN, repository="upstream", externalConnection="public:npmjs"
    )["repository"]
    assert repo["externalConnections"] == [
        {"externalConnectionName": "public:npmjs", "packageFormat": "npm", "status": "Available"}
    ]
    with rejected("ConflictException", 409):
        world.client.associate_external_connection(
            domain=DOMAIN, repository="upstream", externalConnection="public:pypi"
        )


def test_an_external_connection_is_disassociated(world: World) -> None:
    """API reference, DisassociateExternalConnection: "Removes an existing external connection from a
    repository." *choice*: one the repository does not have is ResourceNotFoundException; versions
    ingested through it stay."""
    world.client.associate_external_connection(
        domain=DOMAIN, repository="upstream", externalConnection="public:npmjs"
    )
    world.seed("upstream", "npm", "left-pad", "1.0.0", origin_type="EXTERNAL")
    repo = world.client.disassociate_external_connection(
        domain=DOMAIN, repository="upstream", externalConnection="public:npmjs"
    )["repository"]
    assert repo["externalConnections"] == []
    assert (
        world.client.describe_repository(domain=DOMAIN, repository="upstream")["repository"][
            "externalConnections"
        ]
        == []
    )
    assert world.describe("upstream", "npm", "left-pad", "1.0.0")["origin"]["originType"] == "EXTERNAL"
    with rejected("ResourceNotFoundException", 404):
        world.client.disassociate_external_connection(
            domain=DOMAIN, repository="upstream", externalConnection="public:npmjs"
        )
    # and another connection may now be associated
    world.client.associate_external_connection(
        domain=DOMAIN, repository="upstream", externalConnection="public:pypi"
    )


def test_unknown_external_connection_is_invalid(world: World) -> None:
    with rejected("ValidationException", 400):
        world.client.associate_external_connection(
            domain=DOMAIN, repository="upstream", externalConnection="public:nowhere"
        )


def test_repository_used_as_upstream_cannot_be_deleted(world: World) -> None:
    with rejected("ConflictException", 409):
        world.client.delete_repository(domain=DOMAIN, repository="upstream")
    world.client.delete_repository(domain=DOMAIN, repository="release")
    names = [r["name"] for r in world.client.list_repositories_in_domain(domain=DOMAIN)["repositories"]]
    assert names == ["staging", "upstream"]


def test_domain_with_repositories_cannot_be_deleted(world: World) -> None:
    with rejected("ConflictException", 409):
        world.client.delete_domain(domain=DOMAIN)
    world.client.create_domain(domain="empty")
    deleted = world.client.delete_domain(domain="empty")["domain"]
    assert deleted["name"] == "empty"
    assert [d["name"] for d in world.client.list_domains()["domains"]] == [DOMAIN]


def test_list_repositories_across_domains(world: World) -> None:
    world.client.create_domain(domain="other")
    world.client.create_repository(domain="other", repository="stage-two")
    listed = world.client.list_repositories(repositoryPrefix="sta")["repositories"]
    assert [(r["domainName"], r["name"]) for r in listed] == [(DOMAIN, "staging"), ("other", "stage-two")]
