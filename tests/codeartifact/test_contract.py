"""The emulation's contract: each behaviour the promoter relies on, stated once.

Runs against the local backend always (in-process and over HTTP), and against real AWS CodeArtifact when
``CODEARTIFACT_CONTRACT_DOMAIN`` names an existing domain and AWS credentials are available
(optional: ``CODEARTIFACT_CONTRACT_DOMAIN_OWNER``, ``CODEARTIFACT_CONTRACT_REGION``). Against AWS
it creates three repositories with a random suffix in that domain, publishes small generic
packages (the only format the API can publish), and deletes the repositories afterwards.

    CODEARTIFACT_CONTRACT_DOMAIN=my-domain AWS_PROFILE=sandbox \\
        .venv/bin/python -m pytest tests/codeartifact/test_contract.py -m aws

Behaviours marked *choice* are where the AWS documentation is silent and the emulation made a
choice (see codeartifact_moto.models); a failure against AWS there tells us to change the choice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

CONTRACT_DOMAIN = os.environ.get("CODEARTIFACT_CONTRACT_DOMAIN", "")
NAMESPACE = "contract"


@dataclass
class Contract:
    """Three fresh repositories: ``source`` (with ``upstream`` as its upstream) and ``destination``."""

    client: Any
    domain: str
    owner: str | None
    source: str
    destination: str
    upstream: str
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def where(self, **kwargs: Any) -> dict[str, Any]:
        base: dict[str, Any] = {"domain": self.domain}
        if self.owner:
            base["domainOwner"] = self.owner
        return {**base, **kwargs}

    def at(self, repository: str, package: str, **kwargs: Any) -> dict[str, Any]:
        """The arguments naming a generic package of ``repository`` (in the contract namespace)."""
        return self.where(
            repository=repository, format="generic", namespace=NAMESPACE, package=package, **kwargs
        )

    def package(self, name: str) -> str:
        return f"{name}-{self.suffix}"

    def publish(
        self,
        repository: str,
        package: str,
        version: str,
        content: bytes = b"x",
        *,
        unfinished: bool = False,
        asset: str = "asset.bin",
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {"unfinished": True} if unfinished else {}
        response: dict[str, Any] = self.client.publish_package_version(
            **self.at(
                repository,
                package,
                packageVersion=version,
                assetContent=content,
                assetName=asset,
                assetSHA256=hashlib.sha256(content).hexdigest(),
                **extra,
            )
        )
        return response

    def copy(self, package: str, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("sourceRepository", self.source)
        kwargs.setdefault("destinationRepository", self.destination)
        kwargs.setdefault("namespace", NAMESPACE)
        response: dict[str, Any] = self.client.copy_package_versions(
            **self.where(format="generic", package=package, **kwargs)
        )
        return response

    def restrict(self, repository: str, package: str, *, publish: str, upstream: str) -> None:
        self.client.put_package_origin_configuration(
            **self.at(repository, package, restrictions={"publish": publish, "upstream": upstream})
        )

    def restrictions(self, repository: str, package: str) -> dict[str, str]:
        described = self.client.describe_package(**self.at(repository, package))
        return dict(described["package"]["originConfiguration"]["restrictions"])

    def describe(self, repository: str, package: str, version: str) -> dict[str, Any]:
        response: dict[str, Any] = self.client.describe_package_version(
            **self.at(repository, package, packageVersion=version)
        )["packageVersion"]
        return response


@pytest.fixture(params=["local", "local_server", pytest.param("aws", marks=pytest.mark.aws)])
def contract(request: pytest.FixtureRequest) -> Iterator[Contract]:
    if request.param.startswith("local"):
        env = request.getfixturevalue("aws" if request.param == "local" else "aws_server")
        client = env.client("codeartifact")
        client.create_domain(domain="contract")
        domain, owner = "contract", None
    else:
        if not CONTRACT_DOMAIN:
            pytest.skip("set CODEARTIFACT_CONTRACT_DOMAIN (and AWS credentials) to run against real AWS")
        region = os.environ.get("CODEARTIFACT_CONTRACT_REGION")
        client = boto3.client("codeartifact", region_name=region) if region else boto3.client("codeartifact")
        domain, owner = CONTRACT_DOMAIN, os.environ.get("CODEARTIFACT_CONTRACT_DOMAIN_OWNER")
    suffix = uuid.uuid4().hex[:8]
    names = {"upstream": f"ct-{suffix}-up", "source": f"ct-{suffix}-src", "destination": f"ct-{suffix}-dst"}
    contract = Contract(client, domain, owner, names["source"], names["destination"], names["upstream"])
    client.create_repository(**contract.where(repository=names["upstream"]))
    client.create_repository(
        **contract.where(repository=names["source"], upstreams=[{"repositoryName": names["upstream"]}])
    )
    client.create_repository(**contract.where(repository=names["destination"]))
    try:
        yield contract
    finally:
        for name in (names["source"], names["destination"], names["upstream"]):
            with contextlib.suppress(ClientError):
                client.delete_repository(**contract.where(repository=name))


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def failed_codes(result: dict[str, Any]) -> dict[str, str]:
    return {version: error["errorCode"] for version, error in result.get("failedVersions", {}).items()}


# -- publishing and versions -------------------------------------------------------------------


def test_publish_creates_a_published_version_with_a_revision(contract: Contract) -> None:
    package = contract.package("pub")
    published = contract.publish(contract.source, package, "1.0.0")
    assert published["status"] == "Published"
    described = contract.describe(contract.source, package, "1.0.0")
    assert described["revision"] == published["versionRevision"]
    assert described["origin"]["originType"] == "INTERNAL"
    assert described["origin"]["domainEntryPoint"] == {"repositoryName": contract.source}


def test_every_asset_of_an_unfinished_version_changes_its_revision(contract: Contract) -> None:
    package = contract.package("unfinished")
    first = contract.publish(contract.source, package, "1.0.0", unfinished=True, asset="a")
    second = contract.publish(contract.source, package, "1.0.0", b"y", asset="b")
    assert (first["status"], second["status"]) == ("Unfinished", "Published")
    assert first["versionRevision"] != second["versionRevision"]


def test_sha256_mismatch_is_a_validation_error(contract: Contract) -> None:
    with pytest.raises(ClientError) as excinfo:
        contract.client.publish_package_version(
            **contract.at(
                contract.source,
                contract.package("sha"),
                packageVersion="1.0.0",
                assetContent=b"a",
                assetName="a",
                assetSHA256=hashlib.sha256(b"b").hexdigest(),
            )
        )
    assert error_code(excinfo) == "ValidationException"


def test_status_change_gives_a_new_revision(contract: Contract) -> None:
    package = contract.package("status")
    published = contract.publish(contract.source, package, "1.0.0")
    result = contract.client.update_package_versions_status(
        **contract.at(
            contract.source,
            package,
            versions=["1.0.0"],
            targetStatus="Unlisted",
        )
    )
    assert result["successfulVersions"]["1.0.0"]["status"] == "Unlisted"
    assert result["successfulVersions"]["1.0.0"]["revision"] != published["versionRevision"]


def test_list_package_versions_returns_every_status_by_default(contract: Contract) -> None:
    package = contract.package("list")
    contract.publish(contract.source, package, "1.0.0")
    contract.publish(contract.source, package, "2.0.0", unfinished=True)
    listed = contract.client.list_package_versions(**contract.at(contract.source, package))
    assert {v["version"]: v["status"] for v in listed["versions"]} == {
        "1.0.0": "Published",
        "2.0.0": "Unfinished",
    }


def test_missing_repository_is_not_found(contract: Contract) -> None:
    with pytest.raises(ClientError) as excinfo:
        contract.client.describe_repository(**contract.where(repository=f"ct-{contract.suffix}-missing"))
    assert error_code(excinfo) == "ResourceNotFoundException"


# -- CopyPackageVersions -----------------------------------------------------------------------


def test_pinned_copy_keeps_revision_and_status(contract: Contract) -> None:
    package = contract.package("copy")
    published = contract.publish(contract.source, package, "1.0.0")
    result = contract.copy(package, versionRevisions={"1.0.0": published["versionRevision"]})
    assert result["successfulVersions"] == {
        "1.0.0": {"revision": published["versionRevision"], "status": "Published"}
    }
    assert (
        contract.describe(contract.destination, package, "1.0.0")["revision"] == published["versionRevision"]
    )


def test_mismatched_revision_fails_and_skips_the_others(contract: Contract) -> None:
    package = contract.package("mismatch")
    first = contract.publish(contract.source, package, "1.0.0")
    contract.publish(contract.source, package, "1.0.1")
    result = contract.copy(
        package, versionRevisions={"1.0.0": first["versionRevision"], "1.0.1": "Zm9yZ2VkLXJldmlzaW9u"}
    )
    assert failed_codes(result) == {"1.0.1": "MISMATCHED_REVISION", "1.0.0": "SKIPPED"}
    assert not result.get("successfulVersions")


def test_missing_version_fails_and_skips_the_others(contract: Contract) -> None:
    package = contract.package("notfound")
    contract.publish(contract.source, package, "1.0.0")
    result = contract.copy(package, versions=["1.0.0", "9.9.9"])
    assert failed_codes(result) == {"9.9.9": "NOT_FOUND", "1.0.0": "SKIPPED"}


def test_different_version_in_destination_needs_allow_overwrite(contract: Contract) -> None:
    """API reference, CopyPackageVersions, allowOverwrite: "Set to true to overwrite a package version
    that already exists in the destination repository. If set to false and the package version already
    exists in the destination repository, the package version is returned in the failedVersions field of
    the response with an ALREADY_EXISTS error code." """
    package = contract.package("overwrite")
    source = contract.publish(contract.source, package, "1.0.0", b"new")
    contract.publish(contract.source, package, "1.1.0", b"other")
    old = contract.publish(contract.destination, package, "1.0.0", b"old")
    refused = contract.copy(package, versions=["1.0.0", "1.1.0"])
    assert failed_codes(refused) == {"1.0.0": "ALREADY_EXISTS", "1.1.0": "SKIPPED"}
    assert contract.describe(contract.destination, package, "1.0.0")["revision"] == old["versionRevision"]
    result = contract.copy(package, versions=["1.0.0"], allowOverwrite=True)
    assert result["successfulVersions"]["1.0.0"]["revision"] == source["versionRevision"]


def test_identical_version_in_destination_already_exists_and_skips_the_others(contract: Contract) -> None:
    """API reference, CopyPackageVersions, allowOverwrite: "If set to false and the package version
    already exists in the destination repository, the package version is returned in the failedVersions
    field of the response with an ALREADY_EXISTS error code." It exempts no identical copy; as any failed
    version, it fails the whole call and the other versions come back SKIPPED (the local backend's
    default, service variant ``documented``)."""
    # Given 1.0.0 promoted already, pinned to its revision, and 1.1.0 new in the source
    package = contract.package("identical")
    published = contract.publish(contract.source, package, "1.0.0")
    first = contract.copy(package, versionRevisions={"1.0.0": published["versionRevision"]})
    assert list(first["successfulVersions"]) == ["1.0.0"]
    newer = contract.publish(contract.source, package, "1.1.0", b"newer")

    # When both are copied again, pinned (a duplicate delivery next to a new event)
    again = contract.copy(
        package,
        versionRevisions={"1.0.0": published["versionRevision"], "1.1.0": newer["versionRevision"]},
    )

    # Then the identical version is ALREADY_EXISTS, the new one SKIPPED, and nothing was copied
    assert failed_codes(again) == {"1.0.0": "ALREADY_EXISTS", "1.1.0": "SKIPPED"}
    assert not again.get("successfulVersions")
    assert (
        contract.describe(contract.destination, package, "1.0.0")["revision"] == published["versionRevision"]
    )
    with pytest.raises(ClientError) as excinfo:
        contract.describe(contract.destination, package, "1.1.0")
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_identical_version_with_allow_overwrite_is_reported_copied(contract: Contract) -> None:
    """*choice*: allowOverwrite "Set to true to overwrite a package version that already exists in the
    destination repository"; the docs do not say how an identical overwrite is reported. Here: in
    successfulVersions with the revision the destination holds."""
    package = contract.package("identical-overwrite")
    published = contract.publish(contract.source, package, "1.0.0")
    pinned = {"1.0.0": published["versionRevision"]}
    contract.copy(package, versionRevisions=pinned)
    again = contract.copy(package, versionRevisions=pinned, allowOverwrite=True)
    assert again["successfulVersions"]["1.0.0"]["revision"] == published["versionRevision"]
    assert not again.get("failedVersions")


def test_versions_and_version_revisions_are_exclusive(contract: Contract) -> None:
    package = contract.package("xor")
    published = contract.publish(contract.source, package, "1.0.0")
    with pytest.raises(ClientError) as excinfo:
        contract.copy(package, versions=["1.0.0"], versionRevisions={"1.0.0": published["versionRevision"]})
    assert error_code(excinfo) == "ValidationException"


def test_generic_copy_requires_a_namespace(contract: Contract) -> None:
    package = contract.package("nonamespace")
    contract.publish(contract.source, package, "1.0.0")
    with pytest.raises(ClientError) as excinfo:
        contract.client.copy_package_versions(
            **contract.where(
                sourceRepository=contract.source,
                destinationRepository=contract.destination,
                format="generic",
                package=package,
                versions=["1.0.0"],
            )
        )
    assert error_code(excinfo) == "ValidationException"


def test_include_from_upstream_copies_versions_only_the_upstream_has(contract: Contract) -> None:
    package = contract.package("upstream")
    contract.publish(contract.upstream, package, "1.0.0")
    contract.publish(contract.source, package, "2.0.0")
    # Publishing 2.0.0 directly set the source package to upstream=BLOCK; open it to upstreams.
    contract.restrict(contract.source, package, publish="ALLOW", upstream="ALLOW")
    assert failed_codes(contract.copy(package, versions=["1.0.0"])) == {"1.0.0": "NOT_FOUND"}
    result = contract.copy(package, versions=["1.0.0"], includeFromUpstream=True)
    assert list(result["successfulVersions"]) == ["1.0.0"]


def test_source_package_blocking_upstreams_takes_nothing_from_them(contract: Contract) -> None:
    """*choice*: includeFromUpstream sees the source package as a package manager would."""
    package = contract.package("blocked")
    contract.publish(contract.upstream, package, "1.0.0")
    contract.publish(contract.source, package, "2.0.0")  # default: publish=ALLOW, upstream=BLOCK
    result = contract.copy(package, versions=["1.0.0"], includeFromUpstream=True)
    assert failed_codes(result) == {"1.0.0": "NOT_FOUND"}


# -- package origin controls -------------------------------------------------------------------


def test_first_direct_publish_sets_publish_allow_upstream_block(contract: Contract) -> None:
    package = contract.package("origin")
    contract.publish(contract.source, package, "1.0.0")
    assert contract.restrictions(contract.source, package) == {"publish": "ALLOW", "upstream": "BLOCK"}


def test_copy_creates_destination_package_with_the_first_versions_defaults(contract: Contract) -> None:
    """*choice*: a package created by a copy gets the defaults of the copied version's origin."""
    package = contract.package("copied-origin")
    contract.publish(contract.source, package, "1.0.0")
    contract.copy(package, versions=["1.0.0"])
    assert contract.restrictions(contract.destination, package) == {"publish": "ALLOW", "upstream": "BLOCK"}


def test_copy_of_a_published_version_into_publish_block_is_not_allowed(contract: Contract) -> None:
    """*choice*: a copied version enters the way it first entered (INTERNAL: publish)."""
    package = contract.package("no-publish")
    contract.publish(contract.source, package, "1.0.0")
    contract.publish(contract.source, package, "1.0.1")
    contract.restrict(contract.destination, package, publish="BLOCK", upstream="ALLOW")
    result = contract.copy(package, versions=["1.0.0", "1.0.1"])
    assert set(failed_codes(result).values()) <= {"NOT_ALLOWED", "SKIPPED"}
    assert "NOT_ALLOWED" in failed_codes(result).values()
    assert result["successfulVersions"] == {}


def test_unfinished_version_is_mismatched_status(contract: Contract) -> None:
    """*choice*: the docs do not say what copying an Unfinished version does."""
    package = contract.package("incomplete")
    contract.publish(contract.source, package, "1.0.0", unfinished=True)
    assert failed_codes(contract.copy(package, versions=["1.0.0"])) == {"1.0.0": "MISMATCHED_STATUS"}


# -- tags --------------------------------------------------------------------------------------


def test_repository_tags_are_added_updated_listed_and_removed(contract: Contract) -> None:
    """API reference: TagResource "Adds or updates tags for a resource in CodeArtifact."; UntagResource
    "Removes tags from a resource in CodeArtifact."; user guide, "Tagging resources": "Add tags to a domain or
    repository when you create it"."""
    name = f"ct-{contract.suffix}-tags"
    created = contract.client.create_repository(
        **contract.where(repository=name, tags=[{"key": "team", "value": "a"}])
    )["repository"]
    try:
        arn = created["arn"]

        def tags() -> dict[str, str]:
            listed = contract.client.list_tags_for_resource(resourceArn=arn)["tags"]
            return {tag["key"]: tag["value"] for tag in listed}

        assert tags() == {"team": "a"}
        contract.client.tag_resource(
            resourceArn=arn, tags=[{"key": "team", "value": "b"}, {"key": "env", "value": "test"}]
        )
        assert tags() == {"team": "b", "env": "test"}
        contract.client.untag_resource(resourceArn=arn, tagKeys=["team"])
        assert tags() == {"env": "test"}
    finally:
        with contextlib.suppress(ClientError):
            contract.client.delete_repository(**contract.where(repository=name))


def test_tags_of_a_missing_repository_are_not_found(contract: Contract) -> None:
    """API reference, ListTagsForResource errors: ResourceNotFoundException "The operation did not succeed
    because the resource requested is not found in the service." """
    arn = contract.client.describe_repository(**contract.where(repository=contract.destination))[
        "repository"
    ]["arn"]
    with pytest.raises(ClientError) as excinfo:
        contract.client.list_tags_for_resource(resourceArn=f"{arn}-missing")
    assert error_code(excinfo) == "ResourceNotFoundException"


# -- permissions policies ----------------------------------------------------------------------


def _read_policy(repository_arn: str) -> str:
    account = repository_arn.split(":")[4]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "codeartifact:ReadFromRepository",
                    "Resource": "*",
                }
            ],
        }
    )


def test_repository_policy_is_set_read_locked_and_deleted(contract: Contract) -> None:
    """API reference: PutRepositoryPermissionsPolicy "Sets the resource policy on a repository that specifies
    permissions to access it."; policyRevision "This revision is used for optimistic locking, which prevents
    others from overwriting your changes"; GetRepositoryPermissionsPolicy "Returns the resource policy that is
    set on a repository."; DeleteRepositoryPermissionsPolicy "Deletes the resource policy that is set on a
    repository." """
    where = contract.where(repository=contract.destination)
    arn = contract.client.describe_repository(**where)["repository"]["arn"]
    document = _read_policy(arn)
    with pytest.raises(ClientError) as excinfo:
        contract.client.get_repository_permissions_policy(**where)
    assert error_code(excinfo) == "ResourceNotFoundException"

    put = contract.client.put_repository_permissions_policy(policyDocument=document, **where)["policy"]
    assert put["resourceArn"] == arn
    assert json.loads(put["document"]) == json.loads(document)
    got = contract.client.get_repository_permissions_policy(**where)["policy"]
    assert (got["revision"], json.loads(got["document"])) == (put["revision"], json.loads(document))

    # The holder of the current revision may replace it; one holding an older revision may not
    changed = document.replace("ReadFromRepository", "DescribePackageVersion")
    again = contract.client.put_repository_permissions_policy(
        policyDocument=changed, policyRevision=put["revision"], **where
    )["policy"]
    assert again["revision"] != put["revision"]
    with pytest.raises(ClientError) as excinfo:
        contract.client.put_repository_permissions_policy(
            policyDocument=document, policyRevision=put["revision"], **where
        )
    assert error_code(excinfo) == "ConflictException"

    deleted = contract.client.delete_repository_permissions_policy(**where)["policy"]
    assert deleted["revision"] == again["revision"]
    with pytest.raises(ClientError) as excinfo:
        contract.client.get_repository_permissions_policy(**where)
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_a_policy_that_is_not_json_is_invalid(contract: Contract) -> None:
    """API reference, policyDocument: "A valid displayable JSON Aspen policy string"."""
    with pytest.raises(ClientError) as excinfo:
        contract.client.put_repository_permissions_policy(
            policyDocument="{not json", **contract.where(repository=contract.destination)
        )
    assert error_code(excinfo) == "ValidationException"


# -- authorization tokens and endpoints --------------------------------------------------------


def test_authorization_token_lasts_the_duration_asked(contract: Contract) -> None:
    """API reference, GetAuthorizationToken: "Generates a temporary authorization token for accessing
    repositories in the domain."; durationSeconds "Valid values are 0 and any number between 900 (15
    minutes) and 43200 (12 hours)." """
    before = datetime.now(UTC)
    answer = contract.client.get_authorization_token(**contract.where(durationSeconds=900))
    assert answer["authorizationToken"]
    assert (answer["expiration"] - before).total_seconds() == pytest.approx(900, abs=60)
    with pytest.raises(ClientError) as excinfo:
        contract.client.get_authorization_token(**contract.where(durationSeconds=899))
    assert error_code(excinfo) == "ValidationException"


def test_repository_endpoint_has_the_documented_form(contract: Contract) -> None:
    """API reference, GetRepositoryEndpoint: "Returns the endpoint of a repository for a specific package
    format."; the user guide's form: https://my_domain-111122223333.d.codeartifact.us-west-2.amazonaws.com/
    npm/my_repo/"""
    arn = contract.client.describe_repository(**contract.where(repository=contract.destination))[
        "repository"
    ]["arn"]
    region, owner = arn.split(":")[3:5]
    endpoint = contract.client.get_repository_endpoint(
        **contract.where(repository=contract.destination, format="npm")
    )["repositoryEndpoint"]
    service = str(contract.client.meta.endpoint_url)
    if not service.endswith(".amazonaws.com"):  # the local server names itself: it serves npm there
        assert endpoint == f"{service}/{contract.domain}-{owner}/npm/{contract.destination}/"
        return
    assert endpoint == (
        f"https://{contract.domain}-{owner}.d.codeartifact.{region}.amazonaws.com/npm/{contract.destination}/"
    )


# -- external connections ----------------------------------------------------------------------


def test_external_connection_is_associated_and_disassociated(contract: Contract) -> None:
    """API reference: AssociateExternalConnection "Adds an existing external connection to a repository.";
    DisassociateExternalConnection "Removes an existing external connection from a repository." """
    where = contract.where(repository=contract.upstream, externalConnection="public:npmjs")
    added = contract.client.associate_external_connection(**where)["repository"]
    assert [c["externalConnectionName"] for c in added["externalConnections"]] == ["public:npmjs"]
    removed = contract.client.disassociate_external_connection(**where)["repository"]
    assert removed["externalConnections"] == []


# -- package groups ----------------------------------------------------------------------------


@contextlib.contextmanager
def package_group(contract: Contract, pattern: str) -> Iterator[dict[str, Any]]:
    """A package group for one test, deleted afterwards (groups belong to the whole domain)."""
    created = contract.client.create_package_group(**contract.where(packageGroup=pattern))["packageGroup"]
    try:
        yield created
    finally:
        with contextlib.suppress(ClientError):
            contract.client.delete_package_group(**contract.where(packageGroup=pattern))


def test_package_group_is_created_associated_and_deleted(contract: Contract) -> None:
    """API reference: CreatePackageGroup "Creates a package group."; GetAssociatedPackageGroup "Returns
    the most closely associated package group to the specified package. This API does not require that the
    package exist in any repository in the domain."; user guide: "each package is only associated with a
    single group, the most specific match"; DeletePackageGroup "Deletes a package group." """
    package = contract.package("grouped")
    pattern = f"/generic/{NAMESPACE}/{package}$"
    with package_group(contract, pattern) as created:
        assert created["pattern"] == pattern
        assert created["parent"]["pattern"]  # "/*" unless the domain has a closer group
        for restriction in created["originConfiguration"]["restrictions"].values():
            assert restriction["mode"] == "INHERIT"
        answer = contract.client.get_associated_package_group(
            **contract.where(format="generic", namespace=NAMESPACE, package=package)
        )
        assert (answer["packageGroup"]["pattern"], answer["associationType"]) == (pattern, "STRONG")
        contract.publish(contract.source, package, "1.0.0")
        listed = contract.client.list_associated_packages(**contract.where(packageGroup=pattern))["packages"]
        assert [(p["format"], p.get("namespace"), p["package"]) for p in listed] == [
            ("generic", NAMESPACE, package)
        ]
        with pytest.raises(ClientError) as excinfo:
            contract.client.create_package_group(**contract.where(packageGroup=pattern))
        assert error_code(excinfo) == "ConflictException"
    with pytest.raises(ClientError) as excinfo:
        contract.client.describe_package_group(**contract.where(packageGroup=pattern))
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_the_root_package_group_cannot_be_deleted(contract: Contract) -> None:
    """User guide, "Delete a package group": "The root package group, /*, cannot be deleted." *choice*: the
    local error is ValidationException (the docs do not name one)."""
    root = contract.client.describe_package_group(**contract.where(packageGroup="/*"))["packageGroup"]
    assert "parent" not in root
    with pytest.raises(ClientError):
        contract.client.delete_package_group(**contract.where(packageGroup="/*"))


def test_package_group_publish_restriction_applies_to_publishing(contract: Contract) -> None:
    """User guide, "Package group origin controls", PUBLISH: "BLOCK: Package versions cannot be published
    directly to any repository."; "ALLOW_SPECIFIC_REPOSITORIES: Package versions can only be published
    directly to repositories specified in the allowed repository list for publishing." *choice*: the
    refusal is AccessDeniedException, as for a package whose own origin configuration blocks
    publishing."""
    package = contract.package("group-publish")
    pattern = f"/generic/{NAMESPACE}/{package}$"
    with package_group(contract, pattern):
        contract.client.update_package_group_origin_configuration(
            **contract.where(packageGroup=pattern, restrictions={"PUBLISH": "BLOCK"})
        )
        with pytest.raises(ClientError) as excinfo:
            contract.publish(contract.source, package, "1.0.0")
        assert error_code(excinfo) == "AccessDeniedException"
        answer = contract.client.update_package_group_origin_configuration(
            **contract.where(
                packageGroup=pattern,
                restrictions={"PUBLISH": "ALLOW_SPECIFIC_REPOSITORIES"},
                addAllowedRepositories=[
                    {"repositoryName": contract.source, "originRestrictionType": "PUBLISH"}
                ],
            )
        )
        assert answer["allowedRepositoryUpdates"]["PUBLISH"]["ADDED"] == [contract.source]
        allowed = contract.client.list_allowed_repositories_for_group(
            **contract.where(packageGroup=pattern, originRestrictionType="PUBLISH")
        )["allowedRepositories"]
        assert allowed == [contract.source]
        assert contract.publish(contract.source, package, "1.0.0")["status"] == "Published"
        with pytest.raises(ClientError) as excinfo:
            contract.publish(contract.destination, package, "1.0.0")
        assert error_code(excinfo) == "AccessDeniedException"


def test_package_group_inherits_its_parents_restriction(contract: Contract) -> None:
    """API reference, PackageGroupOriginRestriction effectiveMode: "when the value of mode is INHERIT,
    then the value of effectiveMode is the value of mode of the first parent group which does not have a
    value of INHERIT." """
    package = contract.package("inherit")
    parent, child = f"/generic/{NAMESPACE}/{package}~", f"/generic/{NAMESPACE}/{package}-core$"
    with package_group(contract, parent), package_group(contract, child):
        contract.client.update_package_group_origin_configuration(
            **contract.where(packageGroup=parent, restrictions={"EXTERNAL_UPSTREAM": "BLOCK"})
        )
        described = contract.client.describe_package_group(**contract.where(packageGroup=child))[
            "packageGroup"
        ]
        assert described["parent"]["pattern"] == parent
        upstream = described["originConfiguration"]["restrictions"]["EXTERNAL_UPSTREAM"]
        assert (upstream["mode"], upstream["effectiveMode"]) == ("INHERIT", "BLOCK")
        assert upstream["inheritedFrom"]["pattern"] == parent
        subgroups = contract.client.list_sub_package_groups(**contract.where(packageGroup=parent))
        assert [g["pattern"] for g in subgroups["packageGroups"]] == [child]


# -- dependencies and readme -------------------------------------------------------------------


def test_a_generic_version_has_no_dependencies(contract: Contract) -> None:
    """API reference, ListPackageVersionDependencies: "CodeArtifact extracts the dependencies for a package
    version from the metadata file for the package format ... Any package version dependencies that are not
    listed in the configuration file are not returned." A generic publish has no such file."""
    package = contract.package("deps")
    published = contract.publish(contract.source, package, "1.0.0")
    where = contract.at(
        contract.source,
        package,
        packageVersion="1.0.0",
    )
    answer = contract.client.list_package_version_dependencies(**where)
    assert answer.get("dependencies", []) == []
    assert answer["versionRevision"] == published["versionRevision"]
    readme = contract.client.get_package_version_readme(**where)
    assert not readme.get("readme")  # *choice* locally: no readme member at all
