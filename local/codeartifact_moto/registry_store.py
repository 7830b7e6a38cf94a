"""What the package managers' protocols read and write, through the backend's own model.

A publish goes through :meth:`CodeArtifactBackend.seed_package_version` (INTERNAL origin, with the
repository as entry point), so names are normalized, origin controls and package groups apply, a
revision and ``publishedTime`` are set and the same EventBridge event as every other publish is
emitted. Reads hand out copies taken under the backend's lock, so a response is never built from a
version that changes half way.

Which versions a package manager sees follows the user guide's "Package version status": Published
versions are listed and downloadable; Unlisted ones are "not included in the list of versions returned
to package managers" but their assets "are available for download"; Archived and Disposed assets
cannot be downloaded; Unfinished ones are neither listed nor downloadable (*choice*: nothing complete
to hand out).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .exceptions import AccessDeniedException, CodeArtifactError
from .models import CodeArtifactBackend, PackageVersion, codeartifact_backends
from .naming import stored_name

# *Choice*: the default upload limit of PyPI, whose protocol twine speaks (registry.py says more).
MAX_BODY_BYTES = 100 * 1024 * 1024
LISTED = frozenset({"Published"})
DOWNLOADABLE = frozenset({"Published", "Unlisted"})


class RegistryError(Exception):
    """An answer in the package manager's own terms: an HTTP status and a message naming what to fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Request:
    """One request to a repository endpoint, as the protocol handlers read it."""

    method: str
    where: Where
    base_url: str  # the endpoint's absolute URL, ending in "/"
    path: str  # the rest of the path after the endpoint, percent-decoded, without the leading "/"
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None  # PyPI puts its error message in the status line; twine prints it


@dataclass(frozen=True, slots=True)
class Where:
    """One repository endpoint: the backend that holds the domain, and the repository's coordinates."""

    backend: CodeArtifactBackend
    domain: str
    owner: str
    repository: str
    fmt: str


def authorize(domain: str, owner: str, token: str | None) -> CodeArtifactBackend | None:
    """The backend (account and region) that issued ``token`` for ``domain``, else None (a 401)."""
    if not token or not owner.isdigit() or len(owner) != 12:
        return None
    for backend in list(codeartifact_backends[owner].values()):
        if backend.token_is_valid(domain, owner, token):
            return backend
    return None


def check_repository(where: Where) -> None:
    with where.backend.lock:
        domain = where.backend.domains.get(where.domain)
        if domain is None or where.repository not in domain.repositories:
            raise RegistryError(404, f"Repository not found: {where.repository} in domain {where.domain}")


def versions(where: Where, namespace: str | None, name: str) -> list[PackageVersion]:
    """Copies of every version of the package in the repository (empty when there is no such package)."""
    with where.backend.lock:
        check_repository(where)
        repo = where.backend.domains[where.domain].repositories[where.repository]
        pkg = repo.packages.get((where.fmt, namespace, stored_name(where.fmt, name)))
        return [] if pkg is None else [copy.deepcopy(v) for v in pkg.versions.values()]


def package_names(where: Where) -> list[tuple[str | None, str]]:
    """(namespace, name) of every package of this format with a listed version."""
    with where.backend.lock:
        check_repository(where)
        repo = where.backend.domains[where.domain].repositories[where.repository]
        return sorted(
            (pkg.namespace, pkg.name)
            for key, pkg in repo.packages.items()
            if key[0] == where.fmt and any(v.status in LISTED for v in pkg.versions.values())
        )


def download(where: Where, namespace: str | None, name: str, version: str, asset: str) -> bytes:
    """An asset's bytes, when the version's status lets package managers download it."""
    found = next((v for v in versions(where, namespace, name) if v.version == version), None)
    if found is None or asset not in found.assets:
        raise RegistryError(404, f"Not found: {asset}")
    if found.status not in DOWNLOADABLE:
        raise RegistryError(
            404, f"{asset}: package version {version} is {found.status} and cannot be downloaded"
        )
    return found.assets[asset].content


@dataclass(frozen=True, slots=True)
class Upload:
    """One file a package manager publishes, with what its manifest declared."""

    namespace: str | None
    name: str
    version: str
    asset_name: str
    content: bytes
    metadata: Mapping[str, Any]
    dependencies: tuple[Mapping[str, str], ...] = ()
    readme: str | None = None


def publish(where: Where, upload: Upload, *, new_version_only: bool) -> dict[str, Any]:
    """Store ``upload`` as the protocol's publish would: a new version, or a file added to one.

    ``new_version_only`` (npm) refuses any existing version; otherwise (pypi) a file name the
    version already holds is refused and a new file joins the version (a new revision, an Updated
    event), keeping its status and metadata.
    """
    backend = where.backend
    with backend.lock:
        existing = {v.version: v for v in versions(where, upload.namespace, upload.name)}
        current = existing.get(upload.version)
        if current is not None and new_version_only:
            raise RegistryError(
                403, f"You cannot publish over the previously published versions: {upload.version}."
            )
        if current is not None and upload.asset_name in current.assets:
            raise RegistryError(
                400,
                f"File already exists ({upload.asset_name}). A file name can only be uploaded once; "
                "build a new version to publish a changed file",
            )
        kwargs: dict[str, Any] = {}
        if current is None:
            kwargs = {
                "metadata": dict(upload.metadata),
                "dependencies": [dict(d) for d in upload.dependencies],
                "readme": upload.readme,
            }
        try:
            return backend.seed_package_version(
                domain=where.domain,
                repository=where.repository,
                fmt=where.fmt,
                package=upload.name,
                version=upload.version,
                namespace=upload.namespace,
                assets={upload.asset_name: upload.content},
                status=current.status if current is not None else "Published",
                origin_type="INTERNAL",
                **kwargs,
            )
        except AccessDeniedException as denied:
            raise RegistryError(403, denied.message) from denied
        except CodeArtifactError as error:
            raise RegistryError(400, error.message) from error
