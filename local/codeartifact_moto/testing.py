"""Small conveniences for tests and demos that need a domain with repositories quickly."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from .control import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, Control

FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
_shared_session: boto3.session.Session | None = None
_session_lock = threading.Lock()


def _session() -> boto3.session.Session:
    """One boto3 session for every local client: its loader caches the service models.

    ``mock_aws()`` drops boto3's default session on every start, and a fresh session parses the
    models again (~0.2 s a test); clients from this one still see moto's stubs and the server.
    """
    global _shared_session  # noqa: PLW0603 - a process-wide cache
    with _session_lock:
        if _shared_session is None:
            _shared_session = boto3.session.Session()
        return _shared_session


@dataclass
class AwsEnv:
    """A local AWS account as the shared fixtures hand it out: clients bound to it, and Control.

    ``endpoint_url`` is None in-process (``mock_aws``) and the server's URL over HTTP. Clients
    use the fake credentials of the local account unless others are passed.
    """

    endpoint_url: str | None
    control: Control
    account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION

    def client(self, service_name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("region_name", self.region)
        if self.endpoint_url is not None:
            kwargs.setdefault("endpoint_url", self.endpoint_url)
        for name, value in FAKE_CREDENTIALS.items():
            kwargs.setdefault(name, value)
        return _session().client(service_name, **kwargs)  # type: ignore[call-overload]


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
