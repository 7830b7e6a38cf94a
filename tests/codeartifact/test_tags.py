"""Tags on domains and repositories: TagResource, UntagResource, ListTagsForResource, and create-time tags.

API reference: TagResource "Adds or updates tags for a resource in CodeArtifact."; UntagResource "Removes
tags from a resource in CodeArtifact."; ListTagsForResource "Gets information about Amazon Web Services
tags for a specified Amazon Resource Name (ARN) in CodeArtifact." User guide, "Tagging resources": "Add
tags to a domain or repository when you create it" and "Add, manage, and remove tags for a domain or
repository." (The repository cases also run against real AWS in test_contract.py.)
"""

from __future__ import annotations

import pytest

from .conftest import DOMAIN, World, rejected


def tags_of(world: World, arn: str) -> dict[str, str]:
    listed = world.client.list_tags_for_resource(resourceArn=arn)["tags"]
    return {tag["key"]: tag["value"] for tag in listed}


def domain_arn(world: World) -> str:
    return str(world.client.describe_domain(domain=DOMAIN)["domain"]["arn"])


def repository_arn(world: World, name: str) -> str:
    return str(world.client.describe_repository(domain=DOMAIN, repository=name)["repository"]["arn"])


def test_a_domain_is_tagged_retagged_and_untagged(world: World) -> None:
    arn = domain_arn(world)
    assert tags_of(world, arn) == {}
    world.client.tag_resource(
        resourceArn=arn, tags=[{"key": "team", "value": "a"}, {"key": "env", "value": ""}]
    )
    world.client.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "b"}])  # adds or updates
    assert tags_of(world, arn) == {"team": "b", "env": ""}
    world.client.untag_resource(resourceArn=arn, tagKeys=["env", "not-there"])
    assert tags_of(world, arn) == {"team": "b"}


def test_tags_given_at_creation(world: World) -> None:
    world.client.create_domain(domain="tagged", tags=[{"key": "cost-center", "value": "42"}])
    arn = world.client.describe_domain(domain="tagged")["domain"]["arn"]
    assert tags_of(world, arn) == {"cost-center": "42"}
    repo = world.client.create_repository(
        domain=DOMAIN, repository="tagged-repo", tags=[{"key": "team", "value": "platform"}]
    )["repository"]
    assert tags_of(world, repo["arn"]) == {"team": "platform"}
    assert tags_of(world, repository_arn(world, "release")) == {}


def test_tags_belong_to_one_resource_and_go_with_it(world: World) -> None:
    release = repository_arn(world, "release")
    world.client.tag_resource(resourceArn=release, tags=[{"key": "team", "value": "a"}])
    assert tags_of(world, repository_arn(world, "staging")) == {}
    assert tags_of(world, domain_arn(world)) == {}
    world.client.delete_repository(domain=DOMAIN, repository="release")
    with rejected("ResourceNotFoundException", 404):
        world.client.list_tags_for_resource(resourceArn=release)
    world.client.create_repository(domain=DOMAIN, repository="release")
    assert tags_of(world, release) == {}


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:codeartifact:us-east-1:123456789012:repository/acme/missing",
        "arn:aws:codeartifact:us-east-1:123456789012:domain/missing",
        "arn:aws:codeartifact:eu-west-1:123456789012:domain/acme",
        "arn:aws:codeartifact:us-east-1:210987654321:domain/acme",
        "arn:aws:codeartifact:us-east-1:123456789012:package-group/acme/npm",
    ],
)
def test_an_arn_of_a_missing_resource_is_not_found(world: World, arn: str) -> None:
    calls: list[tuple[str, dict[str, object]]] = [
        ("list_tags_for_resource", {}),
        ("tag_resource", {"tags": [{"key": "k", "value": "v"}]}),
        ("untag_resource", {"tagKeys": ["k"]}),
    ]
    for method, extra in calls:
        with rejected("ResourceNotFoundException", 404):
            getattr(world.client, method)(resourceArn=arn, **extra)


@pytest.mark.parametrize(
    "arn", ["not-an-arn", "arn:aws:s3:::bucket", "arn:aws:codeartifact:us-east-1:123456789012:thing/acme"]
)
def test_an_arn_of_another_form_is_invalid(world: World, arn: str) -> None:
    with rejected("ValidationException", 400):
        world.client.list_tags_for_resource(resourceArn=arn)


def test_model_constraints_on_tags_are_checked(world: World) -> None:
    """API reference, Tag: key "Length Constraints: Minimum length of 1. Maximum length of 128.", value
    "Maximum length of 256."; TagResource tags "Maximum number of 200 items"."""
    arn = domain_arn(world)
    client = world.raw_client()
    for tags in ([{"key": "k" * 129, "value": "v"}], [{"key": "k", "value": "v" * 257}]):
        with rejected("ValidationException", 400):
            client.tag_resource(resourceArn=arn, tags=tags)
    assert tags_of(world, arn) == {}


def test_choices_reserved_prefix_and_fifty_tags(world: World) -> None:
    """*choice*: CodeArtifact documents no tag count limit or reserved prefix; AWS's tagging guidance gives
    50 tags per resource and reserves ``aws:``."""
    arn = domain_arn(world)
    with rejected("ValidationException", 400):
        world.client.tag_resource(resourceArn=arn, tags=[{"key": "aws:owner", "value": "me"}])
    world.client.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": ""} for i in range(50)])
    with rejected("ServiceQuotaExceededException", 402):
        world.client.tag_resource(resourceArn=arn, tags=[{"key": "one-more", "value": ""}])
    world.client.tag_resource(resourceArn=arn, tags=[{"key": "k0", "value": "updated"}])  # not a new key
    assert len(tags_of(world, arn)) == 50
