"""Fixtures of the backend's own suite: a domain with upstream -> staging and release repositories."""

from __future__ import annotations

import contextlib
import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories

DOMAIN = "acme"
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@dataclass
class World:
    """The local account with domain ``acme``: ``upstream`` <- ``staging``, and ``release``."""

    env: AwsEnv
    client: Any
    domain: str = DOMAIN

    @property
    def control(self) -> Any:
        return self.env.control

    def raw_client(self) -> Any:
        """A client that does not retry, so throttles and faults reach the test as they are."""
        return self.env.client("codeartifact", config=NO_RETRIES)

    def package(
        self, repository: str, fmt: str, package: str, namespace: str | None = None
    ) -> dict[str, str]:
        """The keyword arguments that name a package in every package-level operation."""
        names = {"domain": self.domain, "repository": repository, "format": fmt, "package": package}
        return names | ({"namespace": namespace} if namespace else {})

    def seed(self, repository: str, fmt: str, package: str, version: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.control.seed_package_version(
            self.domain, repository, fmt, package, version, **kwargs
        )
        return result

    def publish(
        self,
        repository: str,
        package: str,
        version: str,
        content: bytes = b"content",
        asset: str = "asset.bin",
        namespace: str = "acme",
        unfinished: bool = False,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"unfinished": True} if unfinished else {}
        response: dict[str, Any] = self.client.publish_package_version(
            **self.package(repository, "generic", package, namespace=namespace),
            packageVersion=version,
            assetContent=content,
            assetName=asset,
            assetSHA256=hashlib.sha256(content).hexdigest(),
            **kwargs,
        )
        return response

    def describe(
        self, repository: str, fmt: str, package: str, version: str, **kwargs: Any
    ) -> dict[str, Any]:
        response: dict[str, Any] = self.client.describe_package_version(
            **self.package(repository, fmt, package), packageVersion=version, **kwargs
        )["packageVersion"]
        return response

    def copy(self, fmt: str, package: str, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("domain", self.domain)
        kwargs.setdefault("sourceRepository", "staging")
        kwargs.setdefault("destinationRepository", "release")
        response: dict[str, Any] = self.client.copy_package_versions(format=fmt, package=package, **kwargs)
        return response


@pytest.fixture
def world(any_aws: AwsEnv) -> World:
    """Each test runs twice: in-process (mock_aws) and over HTTP (moto server)."""
    client = any_aws.client("codeartifact")
    create_domain_with_repositories(client, DOMAIN, {"upstream": [], "staging": ["upstream"], "release": []})
    return World(any_aws, client)


@pytest.fixture
def local_world(aws: AwsEnv) -> World:
    """In-process only, for tests whose subject is not the transport."""
    client = aws.client("codeartifact")
    create_domain_with_repositories(client, DOMAIN, {"upstream": [], "staging": ["upstream"], "release": []})
    return World(aws, client)


def error_of(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, int]:
    """The (code, HTTP status) of a botocore ClientError."""
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@contextlib.contextmanager
def rejected(code: str, status: int) -> Iterator[pytest.ExceptionInfo[ClientError]]:
    """The block raises a ClientError with this error code and HTTP status."""
    with pytest.raises(ClientError) as excinfo:
        yield excinfo
    assert error_of(excinfo) == (code, status)


def post_control(env: AwsEnv, path: str, body: dict[str, object]) -> tuple[int, bytes]:
    """POST ``body`` to the local CodeArtifact's control endpoint over raw HTTP (what a non-Python user of
    `make local-aws` does): the HTTP status and the answer's body."""
    request = urllib.request.Request(
        f"{env.endpoint_url}/_codeartifact_moto/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def error_field(excinfo: pytest.ExceptionInfo[Any], name: str) -> Any:
    """A modelled member of the error body (resourceId, resourceType, reason, ...)."""
    response: dict[str, Any] = dict(excinfo.value.response)
    return response.get(name)
