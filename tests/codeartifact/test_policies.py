"""Resource policies of domains and repositories: Put/Get/Delete Domain/RepositoryPermissionsPolicy.

API reference: PutDomainPermissionsPolicy "Sets a resource policy on a domain that specifies permissions to
access it."; policyDocument "A valid displayable JSON Aspen policy string to be set as the access control
resource policy"; policyRevision "The current revision of the resource policy to be set. This revision is
used for optimistic locking, which prevents others from overwriting your changes"; GetDomainPermissionsPolicy
"Returns the resource policy attached to the specified domain."; DeleteDomainPermissionsPolicy "Deletes the
resource policy set on a domain." (and the same for repositories). The repository cases also run against
real AWS in test_contract.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import DOMAIN, World, rejected


def policy_document(action: str = "codeartifact:ReadFromRepository") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": action,
                    "Resource": "*",
                }
            ],
        },
        indent=2,
    )


class Policies:
    """The three calls for the domain (repository None) or one repository."""

    def __init__(self, world: World, repository: str | None) -> None:
        self.client = world.raw_client()
        self.where: dict[str, Any] = {"domain": DOMAIN}
        kind = "Domain"
        if repository is not None:
            self.where["repository"] = repository
            kind = "Repository"
        self.put = getattr(self.client, f"put_{kind.lower()}_permissions_policy")
        self.get = getattr(self.client, f"get_{kind.lower()}_permissions_policy")
        self.delete = getattr(self.client, f"delete_{kind.lower()}_permissions_policy")
        described = (
            self.client.describe_repository(**self.where)["repository"]
            if repository
            else self.client.describe_domain(domain=DOMAIN)["domain"]
        )
        self.arn = described["arn"]


@pytest.fixture(params=[None, "release"], ids=["domain", "repository"])
def policies(world: World, request: pytest.FixtureRequest) -> Policies:
    return Policies(world, request.param)


def test_a_policy_is_set_read_and_deleted_as_given(policies: Policies) -> None:
    # Given no policy
    with rejected("ResourceNotFoundException", 404):
        policies.get(**policies.where)

    # When one is put, Then it is returned exactly as given, with the resource's ARN and a revision
    document = policy_document()
    put = policies.put(policyDocument=document, **policies.where)["policy"]
    assert put["document"] == document
    assert put["resourceArn"] == policies.arn
    assert put["revision"]
    assert policies.get(**policies.where)["policy"] == put

    # And deleting it answers the deleted policy; afterwards there is none
    assert policies.delete(**policies.where)["policy"] == put
    with rejected("ResourceNotFoundException", 404):
        policies.get(**policies.where)
    with rejected("ResourceNotFoundException", 404):
        policies.delete(**policies.where)


def test_the_revision_locks_optimistically(policies: Policies) -> None:
    first = policies.put(policyDocument=policy_document(), **policies.where)["policy"]
    second = policies.put(
        policyDocument=policy_document("codeartifact:*"), policyRevision=first["revision"], **policies.where
    )["policy"]
    assert second["revision"] != first["revision"]

    # A writer holding the old revision is refused, and changes nothing
    with rejected("ConflictException", 409):
        policies.put(policyDocument=policy_document(), policyRevision=first["revision"], **policies.where)
    with rejected("ConflictException", 409):
        policies.delete(policyRevision=first["revision"], **policies.where)
    assert policies.get(**policies.where)["policy"] == second

    # Without a revision the put overwrites; with the current one the delete goes through
    third = policies.put(policyDocument=policy_document(), **policies.where)["policy"]
    assert policies.delete(policyRevision=third["revision"], **policies.where)["policy"] == third


@pytest.mark.parametrize(
    "document",
    [
        "{not json",
        '"a string"',
        "[]",
        '{"Version": "2012-10-17"}',
        " " * 8 + "x" * 7200,
        '{"Statement": [], "Sid": "\x01"}',
    ],
    ids=["not-json", "string", "array", "no-statement", "too-long", "control-character"],
)
def test_a_document_that_is_not_a_json_policy_is_invalid(policies: Policies, document: str) -> None:
    """policyDocument: "A valid displayable JSON Aspen policy string"; the model: at most 7168 characters
    matching [\\P{C}\\s]+ (no control characters but whitespace). *choice*: a JSON object with a Statement."""
    with rejected("ValidationException", 400):
        policies.put(policyDocument=document, **policies.where)


def test_a_revision_without_a_policy_conflicts(policies: Policies) -> None:
    """*choice*: a policyRevision given where no policy is set is not the current revision."""
    with rejected("ConflictException", 409):
        policies.put(policyDocument=policy_document(), policyRevision="stale", **policies.where)


def test_missing_domain_or_repository_is_not_found(world: World) -> None:
    client = world.raw_client()
    for call, where in (
        (client.get_domain_permissions_policy, {"domain": "missing"}),
        (client.put_domain_permissions_policy, {"domain": "missing", "policyDocument": policy_document()}),
        (client.get_repository_permissions_policy, {"domain": DOMAIN, "repository": "missing"}),
        (client.delete_repository_permissions_policy, {"domain": DOMAIN, "repository": "missing"}),
    ):
        with rejected("ResourceNotFoundException", 404):
            call(**where)


def test_domain_and_repository_policies_are_separate_and_go_with_their_resource(world: World) -> None:
    domain, release = Policies(world, None), Policies(world, "release")
    domain.put(policyDocument=policy_document("codeartifact:*"), **domain.where)
    release.put(policyDocument=policy_document(), **release.where)
    assert json.loads(domain.get(**domain.where)["policy"]["document"])["Statement"][0]["Action"] == (
        "codeartifact:*"
    )
    with pytest.raises(ClientError):
        Policies(world, "staging").get(domain=DOMAIN, repository="staging")
    world.client.delete_repository(domain=DOMAIN, repository="release")
    world.client.create_repository(domain=DOMAIN, repository="release")
    with rejected("ResourceNotFoundException", 404):
        release.get(**release.where)
