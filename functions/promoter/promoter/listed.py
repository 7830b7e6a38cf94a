"""What a read of CodeArtifact returns, as values: packages, listed versions, the filters of a package walk,
and a version's coordinates; and the candidate a listed version becomes (``promoter.reader`` reads them)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from promoter.events import Candidate


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class PackageRef(NamedTuple):
    """A package of one repository, as ListPackages names it (namespace is None when the format has none)."""

    format: str
    namespace: str | None
    package: str

    def at(self, domain: str, domain_owner: str | None, repository: str) -> PackageAt:
        return PackageAt(domain, domain_owner, repository, self.format, self.namespace, self.package)

    def sort_key(self) -> tuple[str, str, str]:
        """No namespace sorts first: one npm repository holds unscoped packages beside scoped ones."""
        return (self.format, self.namespace or "", self.package)

    # tuple's own ordering would compare None with a namespace; refs are ordered only among themselves.
    def __lt__(self, other: PackageRef) -> bool:  # type: ignore[override]
        return self.sort_key() < other.sort_key()

    def __le__(self, other: PackageRef) -> bool:  # type: ignore[override]
        return self.sort_key() <= other.sort_key()

    def __gt__(self, other: PackageRef) -> bool:  # type: ignore[override]
        return self.sort_key() > other.sort_key()

    def __ge__(self, other: PackageRef) -> bool:  # type: ignore[override]
        return self.sort_key() >= other.sort_key()


class ListedVersion(NamedTuple):
    """One row of ListPackageVersions: enough to decide and to pin a copy without another call."""

    version: str
    revision: str | None
    status: str
    origin_type: str | None = None
    entry_repository: str | None = None
    external_connection: str | None = None


class ListQuery(NamedTuple):
    """Server-side filters for one ListPackages walk; None means "do not filter on this"."""

    format: str | None = None
    namespace: str | None = None
    prefix: str | None = None


class PackagePage(NamedTuple):
    """One ListPackages page: the token it was requested with (for a cursor) and the next page's token."""

    token: str | None
    packages: list[PackageRef]
    next_token: str | None


class Coordinate(NamedTuple):
    """One package version, ``FORMAT/[NAMESPACE/]PACKAGE@VERSION``, in no repository in particular."""

    format: str
    namespace: str | None
    package: str
    version: str

    @property
    def ref(self) -> PackageRef:
        return PackageRef(self.format, self.namespace, self.package)


@dataclass
class ListingStats:
    """Calls made, per CodeArtifact operation (one per page for the list operations); thread-safe."""

    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1

    def total(self) -> int:
        return sum(self.calls.values())


class PackageName(Protocol):
    """Anything that names a package: a candidate, a copy request, a coordinate."""

    @property
    def format(self) -> str: ...
    @property
    def namespace(self) -> str | None: ...
    @property
    def package(self) -> str: ...


class PackageCall(PackageName, Protocol):
    """The package coordinates of a copy call (``planner.CopyRequest``) or of a candidate."""

    @property
    def domain(self) -> str: ...
    @property
    def domain_owner(self) -> str: ...


def coordinates(
    domain: str,
    domain_owner: str | None,
    repository: str | None = None,
    **package: str | None,
) -> dict[str, Any]:
    """Request parameters naming a domain (and a repository, a package...), leaving out the empty ones."""
    params: dict[str, Any] = {"domain": domain}
    if domain_owner:
        params["domainOwner"] = domain_owner
    if repository:
        params["repository"] = repository
    params.update({key: value for key, value in package.items() if value})
    return params


class PackageAt(NamedTuple):
    """One package in one repository: what a read of its versions or its origin controls names."""

    domain: str
    domain_owner: str | None
    repository: str
    format: str
    namespace: str | None
    package: str

    @classmethod
    def of(cls, package: PackageCall, repository: str) -> PackageAt:
        """The package of a candidate or a copy call, in ``repository`` (its source or a destination)."""
        return cls(
            package.domain,
            package.domain_owner,
            repository,
            package.format,
            package.namespace,
            package.package,
        )

    def params(self, **extra: str | None) -> dict[str, Any]:
        """The request parameters naming the package (and ``extra`` ones, such as ``packageVersion``)."""
        named = {"format": self.format, "namespace": self.namespace, "package": self.package} | extra
        return coordinates(self.domain, self.domain_owner, self.repository, **named)


Listed = dict[str, tuple[str | None, str, str | None]]
"""version -> (revision, status, origin type), as ListPackageVersions names them."""


def listed_candidate(
    at: PackageAt,
    listed: ListedVersion,
    *,
    origin: Any = None,
    origin_type: str | None = None,
    published_time: datetime | None = None,
) -> Candidate:
    """A version read in a source (``at``), pinned to the revision read: what the rules and planner take
    from catch-up, reconcile and the CLI, as they take a version from an event."""
    return Candidate(
        domain=at.domain,
        domain_owner=at.domain_owner or "",
        source_repository=at.repository,
        format=at.format,
        namespace=at.namespace,
        package=at.package,
        version=listed.version,
        revision=listed.revision,
        state=listed.status,
        published_time=published_time,
        origin=origin,
        origin_type=origin_type,
    )
