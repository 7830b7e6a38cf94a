"""What the end-to-end tests share: the real PublishPackageVersion and DescribePackageVersion over HTTP."""

from __future__ import annotations

import hashlib
from typing import Any

from codeartifact_moto.testing import AwsEnv


def publish_generic(
    aws: AwsEnv, repository: str, package: str, version: str, content: bytes, *, domain: str = "acme"
) -> str:
    """PublishPackageVersion of a generic package in namespace ``domain``; returns the new revision."""
    response = aws.client("codeartifact").publish_package_version(
        domain=domain,
        repository=repository,
        format="generic",
        namespace=domain,
        package=package,
        packageVersion=version,
        assetContent=content,
        assetName=f"{package}-{version}.tar.gz",
        assetSHA256=hashlib.sha256(content).hexdigest(),
    )
    revision: str = response["versionRevision"]
    return revision


def describe(
    aws: AwsEnv, repository: str, package: str, version: str, *, fmt: str = "generic", domain: str = "acme"
) -> dict[str, Any] | None:
    """The version as DescribePackageVersion answers (namespace ``domain``), or None where it is absent."""
    client = aws.client("codeartifact")
    try:
        found: dict[str, Any] = client.describe_package_version(
            domain=domain,
            repository=repository,
            format=fmt,
            namespace=domain,
            package=package,
            packageVersion=version,
        )["packageVersion"]
    except client.exceptions.ResourceNotFoundException:
        return None
    return found


def revision_in(
    aws: AwsEnv, repository: str, package: str, version: str, *, domain: str = "acme"
) -> str | None:
    """The revision of a generic version in ``repository``, or None where it is absent."""
    found = describe(aws, repository, package, version, domain=domain)
    return None if found is None else str(found["revision"])
