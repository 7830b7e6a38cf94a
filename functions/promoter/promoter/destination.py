"""What a destination holds of a planned version: the one comparison the event path, catch-up, reconcile
and the CLI all make before they call a version done or a conflict.

A version is done only when the destination holds it with the revision that was pinned (DESIGN.md: "a
version is reported done only when an answer names it with the pinned revision, or the destination is read
and holds it"); holding another revision is a conflict unless ``allowOverwrite`` lets the copy replace it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from botocore.exceptions import ClientError

MISSING = "missing"
IDENTICAL = "identical"
OTHER_REVISION = "other-revision"


def compare(held: Mapping[str, str | None], version: str, pinned: str | None) -> str:
    """``MISSING``, ``IDENTICAL`` or ``OTHER_REVISION``: what ``held`` (version -> revision, as a listing of
    the destination reads it) says of ``version`` pinned to ``pinned``.

    An unpinned version (an event without a revision) has nothing to compare, so any revision counts as
    identical: the only answer available without a revision is whether the version is there.
    """
    if version not in held:
        return MISSING
    revision = held[version]
    if pinned is None or revision == pinned:
        return IDENTICAL
    return OTHER_REVISION


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


PAGE_SIZE = 1000
"""ListPackageVersions' largest page."""

Listed = dict[str, tuple[str | None, str]]
"""version -> (revision, status), as ListPackageVersions names them."""


def revisions(listed: Listed) -> dict[str, str | None]:
    """version -> revision, what ``compare`` reads, from a listing."""
    return {version: revision for version, (revision, _) in listed.items()}


def read_versions(
    client: Any,
    *,
    domain: str,
    domain_owner: str,
    repository: str,
    format: str,
    namespace: str | None,
    package: str,
    status: str | None = None,
    on_page: Callable[[], None] | None = None,
) -> Listed:
    """Every version of one package in ``repository`` (``{}`` when the repository lacks the package).

    Raises whatever the client raises for anything but ResourceNotFoundException; ``on_page`` is called
    once per call made, for the callers' call counts.
    """
    params: dict[str, Any] = {
        "domain": domain,
        "domainOwner": domain_owner,
        "repository": repository,
        "format": format,
        "package": package,
        "maxResults": PAGE_SIZE,
    }
    if namespace:
        params["namespace"] = namespace
    if status:
        params["status"] = status
    found: Listed = {}
    while True:
        if on_page is not None:
            on_page()
        try:
            page = client.list_package_versions(**params)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return {}
            raise
        for summary in page.get("versions") or ():
            found[summary["version"]] = (summary.get("revision"), summary.get("status", ""))
        token = page.get("nextToken")
        if not token:
            return found
        params["nextToken"] = token


def package_versions(
    client: Any,
    request: PackageCall,
    repository: str,
    *,
    status: str | None = None,
    on_page: Callable[[], None] | None = None,
) -> Listed:
    """``read_versions`` of the package a copy call is about, in ``repository`` (source or destination)."""
    return read_versions(
        client,
        domain=request.domain,
        domain_owner=request.domain_owner,
        repository=repository,
        format=request.format,
        namespace=request.namespace,
        package=request.package,
        status=status,
        on_page=on_page,
    )
