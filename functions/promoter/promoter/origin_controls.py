"""Which origin control would refuse a copy into a destination (CopyPackageVersions' ``NOT_ALLOWED``).

Two controls govern how versions enter a repository (user guide, "Package origin controls" and "Package
group origin controls"): the destination package's own ``originConfiguration.restrictions`` (``publish``,
``upstream``: ALLOW or BLOCK; DescribePackage) and the package group the package is associated with
(GetAssociatedPackageGroup: "Returns the most closely associated package group to the specified package";
its ``PUBLISH``/``EXTERNAL_UPSTREAM`` restriction, with ``INHERIT`` resolved up the group tree, and the
allowed repository list when the mode is ALLOW_SPECIFIC_REPOSITORIES). A BLOCK on either refuses.

The AWS docs do not say which restriction a *copy* is checked against. The promoter assumes what the local
CodeArtifact does (local/codeartifact_moto/README.md): a copied version enters the way it first entered the
domain, a version published into the domain (origin INTERNAL) by ``publish``/``PUBLISH`` and one ingested
from a public repository (EXTERNAL) by ``upstream``/``EXTERNAL_UPSTREAM``; an UNKNOWN origin is refused only
when both are closed. So this explains the likely cause; the copy's own answer stays the authority.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from promoter.listed import PackageAt, coordinates
from promoter.reader import error_code, not_found_resource, pages

MAX_GROUP_DEPTH = 32
"""Parents followed to resolve an INHERIT the service left unresolved (a guard against a loop)."""

_WAYS = {"INTERNAL": (("publish", "PUBLISH"),), "EXTERNAL": (("upstream", "EXTERNAL_UPSTREAM"),)}
_BOTH = (("publish", "PUBLISH"), ("upstream", "EXTERNAL_UPSTREAM"))


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class GroupRestriction(NamedTuple):
    """The effective mode of one restriction of the package's group, and where it comes from."""

    mode: str
    source: str
    """The pattern of the group whose own mode this is (the associated group, or the one it inherits from)."""
    allowed: tuple[str, ...] = ()
    """The allowed repository list, when ``mode`` is ALLOW_SPECIFIC_REPOSITORIES."""


@dataclass(frozen=True, slots=True)
class Controls:
    """The origin controls read for one destination package; ``errors`` names what could not be read."""

    package: Mapping[str, str] | None = None
    """``{"publish": ..., "upstream": ...}``; None when the destination lacks the package (or is unread)."""
    group: str | None = None
    """The pattern of the package's group."""
    group_restrictions: Mapping[str, GroupRestriction] = field(default_factory=dict)
    errors: tuple[str, ...] = ()


def package_restrictions(
    client: Any,
    *,
    domain: str,
    domain_owner: str | None,
    repository: str,
    format: str,
    namespace: str | None,
    package: str,
) -> Mapping[str, str] | None:
    """DescribePackage's ``originConfiguration.restrictions``; None when the repository lacks the package.

    Raises whatever else the client raises.
    """
    at = PackageAt(domain, domain_owner, repository, format, namespace, package)
    return _restrictions(client, at.params())


def _restrictions(client: Any, params: Mapping[str, Any]) -> Mapping[str, str] | None:
    try:
        described = client.describe_package(**params)
    except ClientError as error:
        if not_found_resource(error) == "package":
            return None
        raise
    restrictions = ((described.get("package") or {}).get("originConfiguration") or {}).get("restrictions")
    return dict(restrictions) if isinstance(restrictions, Mapping) else None


def read_controls(client: Any, at: PackageAt) -> Controls:
    """Both controls of a package in its repository; a failed read is named in ``errors``, not raised."""
    errors: list[str] = []
    restrictions: Mapping[str, str] | None = None
    domain, domain_owner = at.domain, at.domain_owner
    try:
        restrictions = _restrictions(client, at.params())
    except (ClientError, BotoCoreError) as error:
        errors.append(f"DescribePackage: {error_code(error)}")
    group: str | None = None
    resolved: dict[str, GroupRestriction] = {}
    try:
        where = coordinates(
            domain, domain_owner, format=at.format, namespace=at.namespace, package=at.package
        )
        described = client.get_associated_package_group(**where).get("packageGroup") or {}
        group = described.get("pattern")
        parents: dict[str, Mapping[str, Any]] = {}  # one DescribePackageGroup per parent, for both kinds
        for kind in ("PUBLISH", "EXTERNAL_UPSTREAM"):
            found = _effective(client, domain, domain_owner, described, kind, parents)
            if found is not None:
                resolved[kind] = found
    except (ClientError, BotoCoreError) as error:
        errors.append(f"GetAssociatedPackageGroup: {error_code(error)}")
    return Controls(restrictions, group, resolved, tuple(errors))


def _effective(  # noqa: PLR0917 - one walk's pieces
    client: Any,
    domain: str,
    domain_owner: str | None,
    described: Mapping[str, Any],
    kind: str,
    parents: dict[str, Mapping[str, Any]],
) -> GroupRestriction | None:
    """The effective restriction ``kind`` of a group: ``effectiveMode`` as the service resolved it, else the
    mode of the first parent that does not INHERIT (PackageGroupOriginRestriction: "when the value of mode
    is INHERIT, then the value of effectiveMode is the value of mode of the first parent group which does
    not have a value of INHERIT")."""
    current = described
    for _ in range(MAX_GROUP_DEPTH):
        entry = ((current.get("originConfiguration") or {}).get("restrictions") or {}).get(kind) or {}
        mode, effective = entry.get("mode"), entry.get("effectiveMode")
        pattern = str(current.get("pattern") or "")
        if effective and effective != "INHERIT":
            source = (entry.get("inheritedFrom") or {}).get("pattern") or pattern
            return _with_allowed(client, domain, domain_owner, GroupRestriction(effective, source), kind)
        if mode and mode != "INHERIT":
            return _with_allowed(client, domain, domain_owner, GroupRestriction(mode, pattern), kind)
        parent = (current.get("parent") or {}).get("pattern")
        if not parent:
            return None
        if parent not in parents:
            parents[parent] = client.describe_package_group(
                **coordinates(domain, domain_owner), packageGroup=parent
            )["packageGroup"]
        current = parents[parent]
    return None


def _with_allowed(
    client: Any, domain: str, domain_owner: str | None, found: GroupRestriction, kind: str
) -> GroupRestriction:
    if found.mode != "ALLOW_SPECIFIC_REPOSITORIES":
        return found
    params = coordinates(domain, domain_owner) | {"packageGroup": found.source, "originRestrictionType": kind}
    names = [
        name
        for _, page in pages(client, "list_allowed_repositories_for_group", params, page_size=None)
        for name in page.get("allowedRepositories") or ()
    ]
    return GroupRestriction(found.mode, found.source, tuple(names))


def refusal(controls: Controls, origin_type: str | None, repository: str) -> str | None:
    """Why a copy of a version of ``origin_type`` into ``repository`` would be refused, or None.

    E.g. "destination package blocks publish", "package group '/npm/*' blocks publish" or "package group
    '/npm/*' allows publish only into staging".
    """
    reasons = [_refused_by(controls, ways, repository) for ways in _WAYS.get(origin_type or "", _BOTH)]
    if origin_type in _WAYS:
        return reasons[0]
    if all(reasons):  # UNKNOWN: refused only when both ways are closed
        return " and ".join(r for r in reasons if r)
    return None


def not_allowed_note(restrictions: Mapping[str, str] | None) -> str:
    """Which control refused a copy that answered NOT_ALLOWED, from the destination package's restrictions
    alone (the copier reads nothing more): the package's own BLOCKs, or else its package group's."""
    if restrictions is None:
        return "the destination has no such package yet, so a package group's origin controls refused it"
    publish, upstream = restrictions.get("publish", "?"), restrictions.get("upstream", "?")
    blocked = [way for way, mode in (("publish", publish), ("upstream", upstream)) if mode == "BLOCK"]
    settings = f"publish={publish}, upstream={upstream}"
    if blocked:
        return f"destination package blocks {' and '.join(blocked)} ({settings})"
    return f"destination package allows both ({settings}), so a package group's origin controls refused it"


def _refused_by(controls: Controls, ways: tuple[str, str], repository: str) -> str | None:
    package_key, group_key = ways
    if controls.package is not None and controls.package.get(package_key) == "BLOCK":
        return f"destination package blocks {package_key}"
    found = controls.group_restrictions.get(group_key)
    if found is None:
        return None
    group = f"package group '{controls.group}'" + (
        f" (inheriting from '{found.source}')" if found.source != controls.group else ""
    )
    if found.mode == "BLOCK":
        return f"{group} blocks {package_key}"
    if found.mode == "ALLOW_SPECIFIC_REPOSITORIES" and repository not in found.allowed:
        allowed = ", ".join(found.allowed) or "no repository"
        return f"{group} allows {package_key} only into {allowed}"
    return None
