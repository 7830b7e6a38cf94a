"""Small conveniences for tests and demos that need a domain with repositories quickly."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from .control import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, Control


@dataclass
class AwsEnv:
    """A local AWS account as the shared fixtures hand it out: clients bound to it, and Control.

    ``endpoint_url`` is None in-process (``mock_aws``) and the server's URL over HTTP.
    """

    endpoint_url: str | None
    control: Control
    account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION

    def client(self, service_name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("region_name", self.region)
        if self.endpoint_url is not None:
            kwargs.setdefault("endpoint_url", self.endpoint_url)
        return boto3.client(service_name, **kwargs)  # type: ignore[call-overload]


def create_domain_with_repositories(
    client: Any,
    domain: str,
    repositories: Mapping[str, Sequence[str]] | Sequence[str],
) -> None:
    """Create ``domain`` (if missing) and its repositories, upstreams first.

    ``repositories`` is a list of names, or a mapping of name -> upstream names, e.g.
    ``{"upstream": [], "staging": ["upstream"], "release": []}``. Works against any
    CodeArtifact client: the in-process mock, a local server or real AWS.
    """
    wanted: dict[str, list[str]] = (
        {name: list(ups) for name, ups in repositories.items()}
        if isinstance(repositories, Mapping)
        else {name: [] for name in repositories}
    )
    with contextlib.suppress(client.exceptions.ConflictException):
        client.create_domain(domain=domain)
    created: set[str] = set()
    while len(created) < len(wanted):
        ready = [
            name
            for name, ups in wanted.items()
            if name not in created and all(u in created or u not in wanted for u in ups)
        ]
        if not ready:
            raise ValueError(f"upstreams form a cycle among {sorted(set(wanted) - created)}")
        for name in ready:
            client.create_repository(
                domain=domain,
                repository=name,
                upstreams=[{"repositoryName": u} for u in wanted[name]],
            )
            created.add(name)
