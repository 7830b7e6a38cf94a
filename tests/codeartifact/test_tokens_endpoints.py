"""GetAuthorizationToken and GetRepositoryEndpoint.

API reference: GetAuthorizationToken "Generates a temporary authorization token for accessing repositories
in the domain."; durationSeconds "Valid values are 0 and any number between 900 (15 minutes) and 43200 (12
hours)."; "CodeArtifact authorization tokens are valid for a period of 12 hours when created with the login
command." GetRepositoryEndpoint "Returns the endpoint of a repository for a specific package format. A
repository has one endpoint for each package format". The user guide shows endpoints as
``https://my_domain-111122223333.d.codeartifact.us-west-2.amazonaws.com/npm/my_repo/``. The cases that hold
on AWS also run there in test_contract.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .conftest import DOMAIN, World, rejected


def expires_in(world: World, **kwargs: object) -> float:
    before = datetime.now(UTC)
    answer = world.client.get_authorization_token(domain=DOMAIN, **kwargs)
    assert answer["authorizationToken"]
    return float((answer["expiration"] - before).total_seconds())


def test_a_token_is_fresh_and_lasts_what_was_asked(world: World) -> None:
    first = world.client.get_authorization_token(domain=DOMAIN)["authorizationToken"]
    second = world.client.get_authorization_token(domain=DOMAIN)["authorizationToken"]
    assert first != second
    assert expires_in(world, durationSeconds=900) == pytest.approx(900, abs=5)
    assert expires_in(world, durationSeconds=43200) == pytest.approx(43200, abs=5)


def test_a_token_lasts_twelve_hours_by_default(world: World) -> None:
    """*choice* for the API call: the 12 hours the docs give for `login`; 0 (the credentials' own expiry)
    also gives 12 hours, as the local account's credentials never expire."""
    assert expires_in(world) == pytest.approx(43200, abs=5)
    assert expires_in(world, durationSeconds=0) == pytest.approx(43200, abs=5)


@pytest.mark.parametrize("seconds", [1, 899, 43201])
def test_a_duration_outside_the_valid_values_is_invalid(world: World, seconds: int) -> None:
    with rejected("ValidationException", 400):
        world.raw_client().get_authorization_token(domain=DOMAIN, durationSeconds=seconds)


def test_a_token_for_a_missing_domain_is_not_found(world: World) -> None:
    with rejected("ResourceNotFoundException", 404):
        world.raw_client().get_authorization_token(domain="missing")


@pytest.mark.parametrize("fmt", ["npm", "pypi", "maven", "nuget", "generic", "ruby", "swift", "cargo"])
def test_one_endpoint_per_format(world: World, fmt: str) -> None:
    endpoint = world.client.get_repository_endpoint(domain=DOMAIN, repository="release", format=fmt)
    # Over HTTP the local server names itself (it serves the protocols there, test_registry_*.py).
    host = world.env.endpoint_url or f"https://{DOMAIN}-123456789012.d.codeartifact.us-east-1.amazonaws.com"
    path = f"/{DOMAIN}-123456789012" if world.env.endpoint_url else ""
    assert endpoint["repositoryEndpoint"] == f"{host}{path}/{fmt}/release/"


def test_dualstack_endpoint_is_the_same_url(world: World) -> None:
    """*choice*: the docs give no dual-stack host."""
    ipv4 = world.client.get_repository_endpoint(domain=DOMAIN, repository="release", format="npm")
    dual = world.client.get_repository_endpoint(
        domain=DOMAIN, repository="release", format="npm", endpointType="dualstack"
    )
    assert dual["repositoryEndpoint"] == ipv4["repositoryEndpoint"]


def test_endpoint_of_a_missing_repository_is_not_found(world: World) -> None:
    client = world.raw_client()
    with rejected("ResourceNotFoundException", 404):
        client.get_repository_endpoint(domain=DOMAIN, repository="missing", format="npm")
    with rejected("ValidationException", 400):
        client.get_repository_endpoint(domain=DOMAIN, repository="release", format="rpm")


def test_expiration_is_in_the_future(world: World) -> None:
    expiration = world.client.get_authorization_token(domain=DOMAIN, durationSeconds=900)["expiration"]
    assert datetime.now(UTC) + timedelta(seconds=800) < expiration
