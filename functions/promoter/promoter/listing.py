"""What reconcile reads from CodeArtifact: packages, their versions, and a version's publish time.

Reconcile's cost is its list calls, so this layer exists to spend as few as possible:

- ``ListPackages`` is filtered server-side by format, namespace and package-name prefix whenever the rules
  allow it (``ListQuery``), with the largest page size (1,000).
- ``ListPackageVersions`` is filtered by status when every rule of a source only accepts ``Published``.
- A destination is never enumerated: its size is not bounded by anything the rules say (a release repository
  with an upstream cache can hold hundreds of thousands of packages), so reconcile reads one package of it
  at a time (``versions``; ResourceNotFoundException for the package = the destination lacks it).
- Every page can check the time left first (``deadline``, raising ``OutOfTime``), and throttling or a 5xx is
  retried a few times (``attempts``) with short backoff, each attempt checking the time again.
- ``DescribePackageVersion`` (the only way to read ``publishedTime``) is left to the planner's lookup, which
  reconcile only reaches for a version a destination lacks under a rule with ``minimumReleaseAge``.

Every call is counted in ``ListingStats`` so the benchmark and the CLI summary can show what a run cost.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_codeartifact import CodeArtifactClient

PAGE_SIZE = 1000
RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "InternalServerException", "ServiceUnavailable"}
)
"""Error codes of a read worth another attempt (the service's throttling and 5xx errors)."""


class OutOfTime(Exception):
    """Raised by a ``deadline`` check: not enough time is left to start another call."""


def error_code(error: BaseException) -> str:
    """The service's error code (``AccessDeniedException``), or the botocore error's class name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    return type(error).__name__


def not_found_resource(error: BaseException) -> str | None:
    """For a ResourceNotFoundException, what was not found (``resourceType``: domain, repository, package,
    package-version; "" when the answer does not say); None for any other error."""
    if not isinstance(error, ClientError) or error_code(error) != "ResourceNotFoundException":
        return None
    return str(error.response.get("resourceType") or "")


def _retryable(error: BaseException) -> bool:
    if isinstance(error, ClientError):
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return error_code(error) in RETRYABLE_CODES or status >= 500 or status == 429
    return isinstance(error, BotoCoreError)


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
        deadline: Callable[[], None] | None = None,
        attempts: int = 1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.domain = domain
        self.domain_owner = domain_owner
        self.page_size = page_size
        self.stats = stats if stats is not None else ListingStats()
        self.deadline = deadline
        """Called before every call; raises ``OutOfTime`` when the run must not start another one."""
        self.attempts = max(1, attempts)
        self.sleep = sleep

    def _call(self, operation: str, method: Callable[..., Any], params: dict[str, Any]) -> dict[str, Any]:
        """One page: the deadline is checked before every attempt; throttling and 5xx are retried."""
        for attempt in range(self.attempts):
            if self.deadline is not None:
                self.deadline()
            self.stats.add(operation)
            try:
                page: dict[str, Any] = method(**params)
            except (ClientError, BotoCoreError) as error:
                if attempt + 1 >= self.attempts or not _retryable(error):
                    raise
                self.sleep(min(2.0, 0.2 * 2**attempt) * (0.5 + random.random() / 2))
                continue
            return page
        raise AssertionError("unreachable")  # pragma: no cover

    def _base(self, repository: str) -> dict[str, Any]:
        params: dict[str, Any] = {"domain": self.domain, "repository": repository}
        if self.domain_owner:
            params["domainOwner"] = self.domain_owner
        return params

    def packages_page(
        self, repository: str, query: ListQuery = ListQuery(), token: str | None = None
    ) -> tuple[list[PackageRef], str | None]:
        """One ListPackages page of the query (``token`` = the nextToken of the page before; None for the
        first): its packages, and the token of the next page (None after the last)."""
        params = self._base(repository) | {"maxResults": self.page_size}
        if query.format:
            params["format"] = query.format
        if query.namespace:
            params["namespace"] = query.namespace
        if query.prefix:
            params["packagePrefix"] = query.prefix
        if token:
            params["nextToken"] = token
        page = self._call("ListPackages", self.client.list_packages, params)
        refs = [
            PackageRef(
                format=summary.get("format", ""),
                namespace=summary.get("namespace") or None,
                package=summary.get("package", ""),
            )
            for summary in page.get("packages") or []
        ]
        return refs, page.get("nextToken") or None

    def packages(
        self, repository: str, queries: Sequence[ListQuery] = (ListQuery(),)
    ) -> Iterator[PackageRef]:
        """Every package of the repository that one of the queries returns, each once."""
        seen: set[PackageRef] = set()
        for query in queries:
            token: str | None = None
            while True:
                refs, token = self.packages_page(repository, query, token)
                for ref in refs:
                    if ref not in seen:
                        seen.add(ref)
                        yield ref
                if not token:
                    break

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
            page = self._call("ListPackageVersions", self.client.list_package_versions, params)
            for summary in page.get("versions") or []:
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
