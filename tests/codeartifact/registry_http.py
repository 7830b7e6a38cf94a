"""Talking to the local CodeArtifact's repository endpoints over raw HTTP (the protocols' own tests)."""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from codeartifact_moto.real_clients import Clients
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories

DOMAIN = "acme"
OWNER = "123456789012"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Registry:
    """Domain ``acme`` with ``staging`` and ``release`` on the local server, and a token for it."""

    env: AwsEnv
    client: Any
    token: str

    @classmethod
    def create(cls, env: AwsEnv) -> Registry:
        client = env.client("codeartifact")
        create_domain_with_repositories(client, DOMAIN, ["staging", "release"])
        token = client.get_authorization_token(domain=DOMAIN)["authorizationToken"]
        return cls(env, client, token)

    def endpoint(self, fmt: str, repository: str = "staging") -> str:
        answer = self.client.get_repository_endpoint(domain=DOMAIN, repository=repository, format=fmt)
        return str(answer["repositoryEndpoint"])

    def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        token: str | None = "<own>",
        scheme: str = "Basic",
    ) -> Answer:
        """One request; ``token=None`` sends no credentials, another string sends that token."""
        parts = urlsplit(url)
        sent = dict(headers or {})
        secret = self.token if token == "<own>" else token
        if secret is not None:
            credential = base64.b64encode(f"aws:{secret}".encode()).decode() if scheme == "Basic" else secret
            sent["Authorization"] = f"{scheme} {credential}"
        connection = http.client.HTTPConnection(parts.netloc, timeout=60)
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            return Answer(
                response.status,
                response.reason,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()

    def packages(self, repository: str = "staging") -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.client.list_packages(domain=DOMAIN, repository=repository)[
            "packages"
        ]
        return found

    def version(self, repository: str, fmt: str, package: str, version: str, **kwargs: Any) -> dict[str, Any]:
        where = {"repository": repository, "format": fmt, "package": package, "packageVersion": version}
        answer: dict[str, Any] = self.client.describe_package_version(domain=DOMAIN, **where, **kwargs)
        return dict(answer["packageVersion"])

    def assets(
        self, repository: str, fmt: str, package: str, version: str, **kwargs: Any
    ) -> list[dict[str, Any]]:
        where = {"repository": repository, "format": fmt, "package": package, "packageVersion": version}
        answer: dict[str, Any] = self.client.list_package_version_assets(domain=DOMAIN, **where, **kwargs)
        return list(answer["assets"])

    def copy(self, fmt: str, package: str, versions: list[str], **kwargs: Any) -> None:
        """CopyPackageVersions from staging to release; every version must be copied."""
        repositories = {"sourceRepository": "staging", "destinationRepository": "release"}
        answer = self.client.copy_package_versions(
            domain=DOMAIN, format=fmt, package=package, versions=versions, **repositories, **kwargs
        )
        assert set(answer["successfulVersions"]) == set(versions), answer

    def set_status(self, fmt: str, package: str, version: str, status: str, **kwargs: Any) -> None:
        self.client.update_package_versions_status(
            domain=DOMAIN,
            repository="staging",
            format=fmt,
            package=package,
            versions=[version],
            targetStatus=status,
            **kwargs,
        )


@pytest.fixture(name="registry")
def registry_fixture(aws_server: AwsEnv) -> Registry:
    """Domain acme with staging and release on the local server, and a token for it."""
    return Registry.create(aws_server)


@pytest.fixture(name="clients")
def clients_fixture(registry: Registry) -> Iterator[Clients]:
    """twine, pip and npm with the registry's token, in a temporary home removed afterwards."""
    clients = Clients.in_temporary_home(registry.token)
    try:
        yield clients
    finally:
        clients.cleanup()


def multipart(
    fields: Mapping[str, str | list[str]], files: Mapping[str, tuple[str, bytes]]
) -> tuple[bytes, str]:
    """A multipart/form-data body as twine sends it, and its Content-Type."""
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            chunks.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{item}\r\n'.encode()
            )
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        chunks.append(head.encode() + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
