"""The one CodeArtifact reader: packages, versions, and what a destination holds of a planned version.

Catch-up, reconcile, the copier's verification, the CLI, revoke and the origin-control checks read through
this module, so that every listing is paged by boto3's paginators, checks the time left before each call,
retries transient failures the same way and is counted; and so that one function (``compare``) decides
whether a destination holds a planned version (missing, identical, or another revision).
"""

from __future__ import annotations

import random
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from promoter.listed import (
    Listed,
    ListedVersion,
    ListingStats,
    ListQuery,
    PackageAt,
    PackageCall,
    PackagePage,
    PackageRef,
    coordinates,
)

PAGE_SIZE = 1000
"""The largest page ListPackages and ListPackageVersions return."""

MISSING = "missing"
IDENTICAL = "identical"
OTHER_REVISION = "other-revision"

_OPERATIONS = {
    "list_packages": "ListPackages",
    "list_package_versions": "ListPackageVersions",
    "list_allowed_repositories_for_group": "ListAllowedRepositoriesForGroup",
}
_EVERY_PACKAGE = ListQuery()


class OutOfTime(Exception):
    """Raised by a ``deadline`` check: not enough time is left to start another call."""


# --------------------------------------------------------------------------- errors


def error_code(error: BaseException) -> str:
    """The service's error code (``AccessDeniedException``), or the botocore error's class name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    return type(error).__name__


def error_line(error: BaseException) -> tuple[str, str]:
    """(code, message) of a failed call, for one line a human reads."""
    if isinstance(error, ClientError):
        return error_code(error), str(error.response.get("Error", {}).get("Message") or error)
    return type(error).__name__, str(error)


def not_found_resource(error: BaseException) -> str | None:
    """For a ResourceNotFoundException, what was not found (domain, repository, package, package-version;
    from ``resourceType``, else the message's first words, "" when neither says); None for other errors."""
    if not isinstance(error, ClientError) or error_code(error) != "ResourceNotFoundException":
        return None
    kind = str(error.response.get("resourceType") or "")
    if kind:
        return kind
    message = str(error.response.get("Error", {}).get("Message") or "").lower()
    for prefix in ("package version", "package", "repository", "domain"):
        if message.startswith(prefix):
            return prefix.replace(" ", "-")
    return ""


def lacks_package(error: BaseException) -> bool:
    """The repository answered that it lacks the package or version (the repository itself exists); an
    answer that does not say what it lacks is read so too, as a missing repository or domain says so."""
    return not_found_resource(error) in ("package", "package-version", "")


def _transient(error: BaseException) -> bool:
    # Imported here because the copier reads through this module: the import must go one way at load time.
    from promoter.copier import call_error  # noqa: PLC0415

    return isinstance(error, Exception) and call_error(error).transient


def _backoff(attempt: int) -> float:
    return min(2.0, 0.2 * 2.0**attempt) * (0.5 + random.random() / 2)


# --------------------------------------------------------------------------- paging


_PAGINATORS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def paginator(client: Any, operation: str) -> Any:
    """The client's paginator for ``operation``, made once: botocore builds a new paginator class on every
    ``get_paginator``, and a paginator can page through any number of requests."""
    try:
        made = _PAGINATORS.setdefault(client, {})
    except TypeError:  # a client that cannot be weakly referenced: no cache
        return client.get_paginator(operation)
    if operation not in made:
        made[operation] = client.get_paginator(operation)
    return made[operation]


def pages(
    client: Any,
    operation: str,
    params: Mapping[str, Any],
    *,
    token: str | None = None,
    page_size: int | None = PAGE_SIZE,
    before_call: Callable[[], None] | None = None,
    attempts: int = 1,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Every page of a list operation from ``token`` on, each with the token it was requested with.

    ``before_call`` runs before every call made (the deadline check and the call count); a transient
    failure (throttling, 5xx, a broken connection) is tried again from the page that failed, up to
    ``attempts`` calls in a row.
    """
    pager = paginator(client, operation)
    config = {"PaginationConfig": {"PageSize": page_size}} if page_size else {}
    failures = 0
    while True:
        start = {"nextToken": token} if token else {}
        iterator = iter(pager.paginate(**params, **start, **config))
        try:
            while True:
                if before_call is not None:
                    before_call()
                page = next(iterator, None)
                if page is None:
                    return
                failures = 0
                yield token, page
                token = page.get("nextToken") or None
                if token is None:
                    return
        except (ClientError, BotoCoreError) as error:
            failures += 1
            if failures >= attempts or not _transient(error):
                raise
            sleep(_backoff(failures - 1))


def read_versions(
    client: Any,
    at: PackageAt,
    *,
    status: str | None = None,
    on_page: Callable[[], None] | None = None,
) -> Listed:
    """Every version of one package in its repository (``{}`` when the repository lacks the package).

    Raises whatever else the client raises (a missing repository included); ``on_page`` is called once per
    call made, for the callers' call counts.
    """
    found: Listed = {}
    try:
        for _, page in pages(client, "list_package_versions", at.params(status=status), before_call=on_page):
            for summary in page.get("versions") or ():
                origin = summary.get("origin") or {}
                found[summary["version"]] = (
                    summary.get("revision"),
                    summary.get("status", ""),
                    origin.get("originType") or None,
                )
    except ClientError as error:
        if lacks_package(error):
            return {}
        raise
    return found


def package_versions(
    client: Any,
    request: PackageCall,
    repository: str,
    *,
    status: str | None = None,
    on_page: Callable[[], None] | None = None,
) -> Listed:
    """``read_versions`` of the package a copy call is about, in ``repository`` (source or destination)."""
    return read_versions(client, PackageAt.of(request, repository), status=status, on_page=on_page)


def describe_version(client: Any, at: PackageAt, version: str) -> dict[str, Any] | None:
    """DescribePackageVersion's ``packageVersion``; None when the repository lacks the package or version
    (other errors, such as a missing repository, raise)."""
    try:
        described = client.describe_package_version(**at.params(packageVersion=version))
    except ClientError as error:
        if lacks_package(error):
            return None
        raise
    found: dict[str, Any] = described.get("packageVersion") or {}
    return found


# --------------------------------------------------------------------------- comparing


def revisions(listed: Listed) -> dict[str, str | None]:
    """version -> revision, what ``compare`` reads, from a listing."""
    return {version: revision for version, (revision, _, _) in listed.items()}


def compare(held: Mapping[str, str | None], version: str, pinned: str | None) -> str:
    """``MISSING``, ``IDENTICAL`` or ``OTHER_REVISION``: what ``held`` (version -> revision, as a read of
    the destination gives it) says of ``version`` pinned to ``pinned``.

    A version is done only when the destination holds the pinned revision (DESIGN.md); an unpinned version
    (an event without a revision) has nothing to compare, so any revision there counts as identical.
    """
    if version not in held:
        return MISSING
    revision = held[version]
    if pinned is None or revision == pinned:
        return IDENTICAL
    return OTHER_REVISION


# --------------------------------------------------------------------------- listing a domain


class Reader:
    """Paged, timed and counted reads of one domain; the boto3 client is passed in (tests hand in a fake)."""

    def __init__(
        self,
        client: Any,
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

    def _pages(
        self, operation: str, params: dict[str, Any], token: str | None = None
    ) -> Iterator[tuple[str | None, dict[str, Any]]]:
        def before_call() -> None:
            if self.deadline is not None:
                self.deadline()
            self.stats.add(_OPERATIONS[operation])

        return pages(
            self.client,
            operation,
            params,
            token=token,
            page_size=self.page_size,
            before_call=before_call,
            attempts=self.attempts,
            sleep=self.sleep,
        )

    def package_pages(
        self, repository: str, query: ListQuery = _EVERY_PACKAGE, token: str | None = None
    ) -> Iterator[PackagePage]:
        """The ListPackages pages of the query, from the page ``token`` names (None: the first)."""
        params = coordinates(
            self.domain,
            self.domain_owner,
            repository,
            format=query.format,
            namespace=query.namespace,
            packagePrefix=query.prefix,
        )
        for requested, page in self._pages("list_packages", params, token):
            refs = [
                PackageRef(
                    format=summary.get("format", ""),
                    namespace=summary.get("namespace") or None,
                    package=summary.get("package", ""),
                )
                for summary in page.get("packages") or []
            ]
            yield PackagePage(requested, refs, page.get("nextToken") or None)

    def packages(
        self, repository: str, queries: Sequence[ListQuery] = (_EVERY_PACKAGE,)
    ) -> Iterator[PackageRef]:
        """Every package of the repository that one of the queries returns, each once."""
        seen: set[PackageRef] = set()
        for query in queries:
            for page in self.package_pages(repository, query):
                for ref in page.packages:
                    if ref not in seen:
                        seen.add(ref)
                        yield ref

    def versions(
        self, repository: str, package: PackageRef, *, status: str | None = None
    ) -> list[ListedVersion]:
        """All versions of a package in a repository (optionally of one status), following every page."""
        params = package.at(self.domain, self.domain_owner, repository).params(status=status)
        found: list[ListedVersion] = []
        for _, page in self._pages("list_package_versions", params):
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
        return found
