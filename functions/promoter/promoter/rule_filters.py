"""A compiled promotion rule and its filters, applied in the order users reason about them: domain/source,
format, namespace, package, exclude, range, prerelease, state, origin (then, for the rule set, denied,
freeze and age). Each filter that rejects names a reason, which is also the metric's Reason dimension."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import NamedTuple

from promoter.events import Candidate
from promoter.globs import GlobSet
from promoter.outcomes import UNKNOWN_ORIGIN_NOTE
from promoter.rules_fields import format_duration
from promoter.version_entries import Freeze
from promoter.versions import VersionRange, is_prerelease

# Rejection reasons, in the order filters are applied (also the metric's Reason dimension).
DOMAIN, FORMAT, NAMESPACE, PACKAGE, EXCLUDE, RANGE, PRERELEASE, STATE, AGE = (
    "domain",
    "format",
    "namespace",
    "package",
    "exclude",
    "range",
    "prerelease",
    "state",
    "age",
)
# Supply-chain controls (also Reason dimensions): the origin filter, a freeze, a denyVersions entry.
ORIGIN, FREEZE, DENIED = "origin", "freeze", "denied"
INTERNAL, EXTERNAL = "INTERNAL", "EXTERNAL"
ORIGIN_TYPES: frozenset[str] = frozenset({INTERNAL, EXTERNAL})
"""What ``origins`` and ``minimumReleaseAgeFor`` may list: CodeArtifact's originType values but UNKNOWN, which
counts as EXTERNAL (fail closed: a version nobody can vouch for waits, and is not selected as internal)."""


def effective_origin(origin_type: str | None) -> str:
    """The origin the rules see: INTERNAL only when CodeArtifact says so; anything else is EXTERNAL."""
    return INTERNAL if origin_type == INTERNAL else EXTERNAL


class Rule(NamedTuple):
    """One validated, compiled promotion rule."""

    name: str
    position: int
    domain: str
    domain_owner: str | None
    source_repository: str
    destination_repositories: tuple[str, ...]
    formats: frozenset[str] | None
    namespaces: GlobSet | None
    packages: GlobSet
    exclude_packages: GlobSet | None
    versions: Mapping[str, VersionRange]
    versions_text: str | Mapping[str, str] | None
    include_prerelease: bool
    states: frozenset[str]
    allow_overwrite: bool
    include_from_upstream: bool
    minimum_release_age: timedelta | None
    minimum_release_age_for: frozenset[str] | None = None
    """Origins the cooldown applies to (None: every origin)."""
    origins: frozenset[str] | None = None
    """Origins the rule selects (None: every origin); see ``origin_rejection``."""
    freeze: Freeze | None = None

    def rejection(self, candidate: Candidate) -> str | None:
        """The first filter (except age) that rejects ``candidate``, or None when the rule accepts it."""
        if (
            candidate.domain != self.domain
            or candidate.source_repository != self.source_repository
            or (self.domain_owner is not None and candidate.domain_owner != self.domain_owner)
        ):
            return DOMAIN
        fmt = candidate.format
        if self.formats is not None and fmt not in self.formats:
            return FORMAT
        namespaces = self.namespaces
        if namespaces is not None:
            namespace = candidate.namespace
            if not namespace:
                if "" not in namespaces.patterns:
                    return NAMESPACE
            elif not namespaces.matches(fmt, namespace):
                return NAMESPACE
        package = candidate.package
        if not self.packages.matches(fmt, package):
            return PACKAGE
        if self.exclude_packages is not None and self.exclude_packages.matches(fmt, package):
            return EXCLUDE
        version = candidate.version
        version_range = self.versions.get(fmt)
        if version_range is not None and not version_range.contains(version):
            return RANGE
        if not self.include_prerelease and is_prerelease(fmt, version):
            return PRERELEASE
        if candidate.state not in self.states:
            return STATE
        if candidate.origin_type is not None and self.origins is not None:
            return self.origin_rejection(candidate.origin_type)
        return None

    def origin_rejection(self, origin_type: str | None) -> str | None:
        """``origin`` when the rule selects by origin and ``origin_type`` (unknown: EXTERNAL) is not one."""
        if self.origins is None or effective_origin(origin_type) in self.origins:
            return None
        return ORIGIN

    def cooldown_applies(self, origin_type: str | None) -> bool:
        """Whether ``minimumReleaseAge`` holds back a version of this origin (unknown: EXTERNAL)."""
        if self.minimum_release_age is None:
            return False
        return (
            self.minimum_release_age_for is None
            or effective_origin(origin_type) in self.minimum_release_age_for
        )

    @property
    def needs_origin(self) -> bool:
        """Whether deciding needs the version's origin (a DescribePackageVersion when no listing gave it)."""
        return self.origins is not None or (
            self.minimum_release_age is not None and self.minimum_release_age_for is not None
        )

    def eligible_at(self, published_time: datetime | None) -> datetime | None:
        """When a version published at ``published_time`` becomes old enough (None: no cooldown)."""
        if self.minimum_release_age is None or published_time is None:
            return None
        return published_time + self.minimum_release_age

    def describe(self) -> str:
        """One line, for ``promoter rules check`` and logs: the rule's route, then each filter it sets
        (``key=value``, or ``key`` alone for a switch that is on)."""
        namespaces, exclude, freeze = self.namespaces, self.exclude_packages, self.freeze
        age, age_for = self.minimum_release_age, self.minimum_release_age_for
        settings: list[tuple[str, str | bool | None]] = [
            ("formats", ",".join(sorted(self.formats)) if self.formats else "*"),
            ("packages", ",".join(self.packages.patterns)),
            ("namespaces", None if namespaces is None else ",".join(repr(p) for p in namespaces.patterns)),
            ("exclude", None if exclude is None else ",".join(exclude.patterns)),
            ("versions", None if self.versions_text is None else json.dumps(self.versions_text)),
            ("states", ",".join(sorted(self.states))),
            ("prerelease", self.include_prerelease),
            ("minimumReleaseAge", None if age is None else format_duration(age)),
            ("minimumReleaseAgeFor", None if age_for is None else ",".join(sorted(age_for))),
            ("origins", None if self.origins is None else ",".join(sorted(self.origins))),
            ("freeze", None if freeze is None else freeze.published_after.isoformat() + _until(freeze.until)),
            ("allowOverwrite", self.allow_overwrite),
            ("includeFromUpstream", self.include_from_upstream),
        ]
        route = f"{self.name}: {self.domain or '<stack domain>'}/{self.source_repository} -> "
        parts = [route + ",".join(self.destination_repositories)]
        parts += [f"{key}={value}" if isinstance(value, str) else key for key, value in settings if value]
        return " ".join(parts)


def _until(until: datetime | None) -> str:
    return f"..{until.isoformat()}" if until is not None else ""


def rejection_detail(
    rule: Rule, candidate: Candidate, reason: str, *, eligible: datetime | None = None
) -> str:
    """``reason: the value, and what the filter wanted``, one line: what ``promoter explain`` and
    ``promoter plan --all`` print for the first filter of ``rule`` that rejects ``candidate``."""
    fmt = candidate.format
    if reason == DOMAIN:
        owner = f" (owner {rule.domain_owner})" if rule.domain_owner else ""
        return (
            f"{DOMAIN}: {candidate.domain}/{candidate.source_repository} is not the rule's "
            f"{rule.domain}/{rule.source_repository}{owner}"
        )
    if reason == FORMAT:
        return f"{FORMAT}: {fmt!r} not in {sorted(rule.formats or ())!r}"
    if reason == NAMESPACE and rule.namespaces is not None:
        value = repr(candidate.namespace) if candidate.namespace else "no namespace"
        return f"{NAMESPACE}: {value} not in {list(rule.namespaces.patterns)!r}"
    if reason == PACKAGE:
        return f"{PACKAGE}: {candidate.package!r} not in {list(rule.packages.patterns)!r}"
    if reason == EXCLUDE and rule.exclude_packages is not None:
        return f"{EXCLUDE}: {candidate.package!r} matches {list(rule.exclude_packages.patterns)!r}"
    if reason == RANGE:
        version_range = rule.versions.get(fmt)
        wanted = version_range.expression if version_range is not None else "?"
        return f"{RANGE}: {candidate.version} not in {wanted} ({fmt})"
    if reason == PRERELEASE:
        return f"{PRERELEASE}: {candidate.version} is a {fmt} prerelease and includePrerelease is false"
    if reason == STATE:
        return f"{STATE}: {candidate.state} not in {sorted(rule.states)!r}"
    if reason == AGE:
        age = format_duration(rule.minimum_release_age) if rule.minimum_release_age else "?"
        when = f"eligible at {eligible.isoformat()}" if eligible else "publish time unknown"
        applies = (
            f", which applies to {'/'.join(sorted(rule.minimum_release_age_for))} versions"
            f"; origin {origin_text(candidate.origin_type)}"
            if rule.minimum_release_age_for is not None
            else ""
        )
        return f"{AGE}: younger than minimumReleaseAge {age}{applies} ({when})"
    if reason == ORIGIN:
        return f"{ORIGIN}: {origin_text(candidate.origin_type)} not in {sorted(rule.origins or ())!r}"
    return reason


def origin_text(origin_type: str | None) -> str:
    """The origin as logs and the CLI say it: ``INTERNAL``, ``EXTERNAL``, or the fail-closed note."""
    if origin_type in ORIGIN_TYPES:
        return str(origin_type)
    return f"{origin_type or 'UNKNOWN'} ({UNKNOWN_ORIGIN_NOTE})"


NO_NAMESPACE_FORMATS: frozenset[str] = frozenset({"pypi", "nuget", "ruby", "cargo"})
"""Formats whose packages never have a namespace (CodeArtifact's packageNamespace is null for them)."""


def rule_warnings(rule: Rule) -> list[str]:
    """Filters that contradict the rule's formats: valid, but the rule can never fire for that format.

    Warnings, not errors (``promoter rules check`` prints them and exits 0): the rest of the rule, and every
    other rule, still works, and a rule for several formats may mean its namespaces for some of them only.
    """
    found: list[str] = []
    where = f"rule {rule.name!r}, field 'namespaces'"
    if rule.namespaces is not None and rule.formats is not None:
        patterns = rule.namespaces.patterns
        if "" not in patterns:
            for fmt in sorted(rule.formats & NO_NAMESPACE_FORMATS):
                found.append(
                    f"{where}: {list(patterns)!r} never matches a {fmt} package ({fmt} packages have no "
                    f"namespace), so every {fmt} version is rejected by namespace; drop the filter, list '' "
                    "(no namespace), or give the formats separate rules"
                )
    if rule.namespaces is not None and (rule.formats is None or "npm" in rule.formats):
        for pattern in rule.namespaces.patterns:
            if pattern.startswith("@"):
                found.append(
                    f"{where}: {pattern!r} never matches an npm package: CodeArtifact stores the npm scope "
                    f"without '@' (write {pattern[1:]!r})"
                )
    return found
