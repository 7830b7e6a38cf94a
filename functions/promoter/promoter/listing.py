"""What reconcile reads from CodeArtifact: packages, their versions, and a version's publish time.

Reconcile's cost is its list calls, so this layer exists to spend as few as possible:

- ``ListPackages`` is filtered server-side by format, namespace and package-name prefix whenever the rules
  allow it (``ListQuery``), with the largest page size (1,000).
- ``ListPackageVersions`` is filtered by status when every rule of a source only accepts ``Published``.
- A destination's package set is listed once (one call per 1,000 packages) so that a package the destination
  does not have costs no ``ListPackageVersions`` call there at all (the backfill case).
- ``DescribePackageVersion`` (the only way to read ``publishedTime``) is left to the planner's lookup, which
  reconcile only reaches for a version a destination lacks under a rule with ``minimumReleaseAge``.

Every call is counted in ``ListingStats`` so the benchmark and the CLI summary can show what a run cost.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_codeartifact import CodeArtifactClient

PAGE_SIZE = 1000
_GLOB_CHARS = frozenset("*?[")
_FOLDED_FORMATS = frozenset({"pypi", "nuget", "swift"})
"""Formats whose names the rules compare folded (PEP 503, case): a literal prefix is not safe for them."""


@dataclass(frozen=True)
class PackageRef:
    """A package of one repository, as ListPackages names it (namespace is None when the format has none)."""

    format: str
    namespace: str | None
    package: str

    def __lt__(self, other: PackageRef) -> bool:
        """Ordered as (format, namespace, package) with no namespace first: one npm repository holds
        unscoped packages (None) beside scoped ones, and None does not compare with a string."""
        return (self.format, self.namespace or "", self.package) < (
            other.format,
            other.namespace or "",
            other.package,
        )


@dataclass(frozen=True)
class ListedVersion:
    """One row of ListPackageVersions: enough to decide and to pin a copy without another call."""

    version: str
    revision: str | None
    status: str
    origin_type: str | None = None
    entry_repository: str | None = None
    external_connection: str | None = None


@dataclass(frozen=True)
class ListQuery:
    """Server-side filters for one ListPackages walk; None means "do not filter on this"."""

    format: str | None = None
    namespace: str | None = None
    prefix: str | None = None


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


def literal_prefix(glob: str) -> str:
    """The part of a glob before its first wildcard: what ListPackages' packagePrefix can filter on."""
    for index, char in enumerate(glob):
        if char in _GLOB_CHARS:
            return glob[:index]
    return glob


def _common_prefix(values: Iterable[str]) -> str:
    items = list(values)
    if not items:
        return ""
    low, high = min(items), max(items)
    size = 0
    while size < min(len(low), len(high)) and low[size] == high[size]:
        size += 1
    return low[:size]


def list_queries(
    formats: Sequence[Sequence[str] | None],
    namespaces: Sequence[Sequence[str] | None],
    packages: Sequence[Sequence[str] | None],
) -> list[ListQuery]:
    """The fewest ListPackages walks that still return every package some rule of one source could match.

    Each argument holds one entry per rule of the source (None = the rule does not restrict it). Filters are
    only pushed to the server when they are exact for every rule: a single literal namespace shared by all
    rules (the empty namespace means "none" and cannot be expressed server-side), the common literal prefix of
    all package globs (unless pypi or nuget names, which rules compare folded, may be involved), and one walk
    per format when every rule names its formats. The matcher still applies
    every filter afterwards, so a query may return more than the rules accept, never less.
    """
    if any(f is None for f in formats):
        format_values: list[str | None] = [None]
    else:
        named: list[str | None] = [*sorted({value for group in formats if group for value in group})]
        format_values = named or [None]

    namespace: str | None = None
    if all(group is not None for group in namespaces):
        names = {value for group in namespaces if group for value in group}
        if len(names) == 1:
            (only,) = names
            if only and not (_GLOB_CHARS & set(only)):
                namespace = only

    prefix: str | None = None
    folded = any(f is None or set(f) & _FOLDED_FORMATS for f in formats)
    if not folded and all(group is not None for group in packages):
        prefixes = [literal_prefix(glob) for group in packages if group for glob in group]
        common = _common_prefix(prefixes) if prefixes else ""
        prefix = common or None

    return [ListQuery(format=value, namespace=namespace, prefix=prefix) for value in format_values]


class Lister:
    """Paginated, counted reads of one domain. The boto3 client is passed in (tests hand in a local one)."""

    def __init__(
        self,
        client: CodeArtifactClient,
        domain: str,
        domain_owner: str | None = None,
        *,
        page_size: int = PAGE_SIZE,
        stats: ListingStats | None = None,
    ) -> None:
        self.client = client
        self.domain = domain
        self.domain_owner = domain_owner
        self.page_size = page_size
        self.stats = stats if stats is not None else ListingStats()

    def _base(self, repository: str) -> dict[str, Any]:
        params: dict[str, Any] = {"domain": self.domain, "repository": repository}
        if self.domain_owner:
            params["domainOwner"] = self.domain_owner
        return params

    def packages(
        self, repository: str, queries: Sequence[ListQuery] = (ListQuery(),)
    ) -> Iterator[PackageRef]:
        """Every package of the repository that one of the queries returns, each once."""
        seen: set[PackageRef] = set()
        for query in queries:
            params = self._base(repository) | {"maxResults": self.page_size}
            if query.format:
                params["format"] = query.format
            if query.namespace:
                params["namespace"] = query.namespace
            if query.prefix:
                params["packagePrefix"] = query.prefix
            while True:
                self.stats.add("ListPackages")
                page = self.client.list_packages(**params)
                for summary in page.get("packages", []):
                    ref = PackageRef(
                        format=summary.get("format", ""),
                        namespace=summary.get("namespace") or None,
                        package=summary.get("package", ""),
                    )
                    if ref not in seen:
                        seen.add(ref)
                        yield ref
                token = page.get("nextToken")
                if not token:
                    break
                params["nextToken"] = token

    def package_set(self, repository: str, queries: Sequence[ListQuery] = (ListQuery(),)) -> set[PackageRef]:
        return set(self.packages(repository, queries))

    def versions(
        self, repository: str, package: PackageRef, *, status: str | None = None
    ) -> list[ListedVersion]:
        """All versions of a package in a repository (optionally of one status), following every page."""
        params = self._base(repository) | {
            "format": package.format,
            "package": package.package,
            "maxResults": self.page_size,
        }
        if package.namespace:
            params["namespace"] = package.namespace
        if status:
            params["status"] = status
        found: list[ListedVersion] = []
        while True:
            self.stats.add("ListPackageVersions")
            page = self.client.list_package_versions(**params)
            for summary in page.get("versions", []):
                origin = summary.get("origin") or {}
                entry = origin.get("domainEntryPoint") or {}
                found.append(
                    ListedVersion(
                        version=summary["version"],
                        revision=summary.get("revision"),
                        status=summary["status"],
                        origin_type=origin.get("originType"),
                        entry_repository=entry.get("repositoryName"),
                        external_connection=entry.get("externalConnectionName"),
                    )
                )
            token = page.get("nextToken")
            if not token:
                return found
            params["nextToken"] = token
