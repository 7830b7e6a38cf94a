"""What a read of CodeArtifact returns, as values: packages, listed versions, the filters of a package walk,
and a version's coordinates; and the candidate a listed version becomes (``promoter.reader`` reads them)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from promoter.events import Candidate


@dataclass(frozen=True, slots=True)
class PackageRef:
    """A package of one repository, as ListPackages names it (namespace is None when the format has none)."""

    format: str
    namespace: str | None
    package: str

    def __lt__(self, other: PackageRef) -> bool:
        """No namespace sorts first: one npm repository holds unscoped packages beside scoped ones."""
        mine = (self.format, self.namespace or "", self.package)
        return mine < (other.format, other.namespace or "", other.package)


@dataclass(frozen=True, slots=True)
class ListedVersion:
    """One row of ListPackageVersions: enough to decide and to pin a copy without another call."""

    version: str
    revision: str | None
    status: str
    origin_type: str | None = None
    entry_repository: str | None = None
    external_connection: str | None = None


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Server-side filters for one ListPackages walk; None means "do not filter on this"."""

    format: str | None = None
    namespace: str | None = None
    prefix: str | None = None


@dataclass(frozen=True, slots=True)
class PackagePage:
    """One ListPackages page: the token it was requested with (for a cursor) and the next page's token."""

    token: str | None
    packages: list[PackageRef]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class Coordinate:
    """One package version, ``FORMAT/[NAMESPACE/]PACKAGE@VERSION``, in no repository in particular."""

    format: str
    namespace: str | None
    package: str
    version: str


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


class PackageCall(Protocol):
    """The package coordinates of a copy call (``planner.CopyRequest``)."""

    @property
    def domain(self) -> str: ...
    @property
    def domain_owner(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def namespace(self) -> str | None: ...
    @property
    def package(self) -> str: ...


Listed = dict[str, tuple[str | None, str]]
"""version -> (revision, status), as ListPackageVersions names them."""


def listed_candidate(
    domain: str,
    domain_owner: str,
    repository: str,
    ref: PackageRef,
    listed: ListedVersion,
    *,
    origin: str,
    origin_type: str | None = None,
) -> Candidate:
    """A version read from a source's listing, pinned to the revision listed: what the rules and planner
    take from catch-up and reconcile, as they take a version from an event."""
    return Candidate(
        domain=domain,
        domain_owner=domain_owner,
        source_repository=repository,
        format=ref.format,
        namespace=ref.namespace,
        package=ref.package,
        version=listed.version,
        revision=listed.revision,
        state=listed.status,
        origin=origin,
        origin_type=origin_type,
    )
