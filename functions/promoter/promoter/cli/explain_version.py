"""``promoter explain FORMAT/[NAMESPACE/]PACKAGE@VERSION``: each rule's answer for a version as its source
describes it, and what each destination holds of it (``reader.compare``), including a copy the
destination's origin controls would refuse (NOT_ALLOWED)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TextIO

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from promoter.cli.aws import codeartifact_client
from promoter.cli.errors import EXIT_OK, one_line
from promoter.cli.output import package_name
from promoter.events import Candidate
from promoter.listed import Coordinate, ListedVersion, PackageAt, listed_candidate
from promoter.matching import RuleSet
from promoter.origin_controls import read_controls, refusal
from promoter.reader import IDENTICAL, MISSING, compare, describe_version
from promoter.report import FREEZE
from promoter.rule_filters import DENIED, PRERELEASE, RANGE, STATE, Rule, rejection_detail


def origin_of(described: Mapping[str, Any]) -> str:
    """DescribePackageVersion's ``origin.originType`` (UNKNOWN when it names none)."""
    origin = described.get("origin") or {}
    kind = origin.get("originType") if isinstance(origin, Mapping) else None
    return str(kind or "UNKNOWN")


_NEEDS_THE_SOURCE = frozenset({RANGE, PRERELEASE, STATE})
"""Filters checked after the source is read (range and prerelease too: another rule may name the source
version's state, and the source line is printed once, before the first rule that reads it)."""


def explain_version(  # noqa: PLR0917 - the command's own pieces, as the other cmd_ helpers take them
    args: argparse.Namespace,
    ruleset: RuleSet,
    coordinate: Coordinate,
    out: TextIO,
    now: datetime,
    client: Any,
) -> int:
    """For each rule: accepted (the copy it would make, or what the destination already holds) or the first
    filter that rejects the version as the source describes it, with the value and what the filter wanted."""
    reader = client if client is not None else codeartifact_client(args)
    sources: dict[tuple[str, str | None, str], dict[str, Any] | str | None] = {}
    print(f"version: {coordinate.format} {package_name(coordinate)} {coordinate.version}", file=out)
    for rule in ruleset.rules:
        source = (rule.domain, rule.domain_owner, rule.source_repository)
        where = f"{rule.domain}/{rule.source_repository}"
        # The filters that need no read first: a rule for another format or package costs no call.
        unread = _candidate(coordinate, rule, "Published", None)
        early = rule.rejection(unread)
        if early is not None and early not in _NEEDS_THE_SOURCE:
            print(f"  rule {rule.name}: rejected by {rejection_detail(rule, unread, early)}", file=out)
            continue
        if source not in sources:
            try:
                sources[source] = describe_version(
                    reader, _in(coordinate, rule, rule.source_repository), coordinate.version
                )
            except (ClientError, BotoCoreError) as error:
                sources[source] = one_line(error)
            described = sources[source]
            if isinstance(described, dict):
                published = described.get("publishedTime")
                print(
                    f"  in {where}: revision {described.get('revision') or '-'}, {described.get('status')}, "
                    f"origin {origin_of(described)}, published "
                    f"{published.isoformat() if isinstance(published, datetime) else 'unknown'}",
                    file=out,
                )
        described = sources[source]
        if described is None:
            print(f"  rule {rule.name}: not in {where} (no such package version in the source)", file=out)
            continue
        if isinstance(described, str):
            print(f"  rule {rule.name}: cannot read {where}: {described}", file=out)
            continue
        published = described.get("publishedTime")
        candidate = _candidate(
            coordinate,
            rule,
            str(described.get("status") or ""),
            described.get("revision"),
            published=published if isinstance(published, datetime) else None,
            origin_type=origin_of(described),
        )
        reason = rule.rejection(candidate)
        eligible = rule.eligible_at(candidate.published_time)
        detail = ""
        denied = ruleset.deny.find(candidate) if reason is None else None
        exception = ruleset.exceptions.find(candidate, now)
        if denied is not None:
            reason = DENIED
            detail = f"{DENIED}: denyVersions[{denied.position}] {denied.name}: {denied.reason}"
        elif reason is None:
            held = ruleset.held_back(rule, candidate.published_time, candidate.origin_type, now)
            if held is not None and exception is None:
                reason, eligible = held[0], held[1]
                if held[2] is not None:
                    until = f"until {eligible.isoformat()}" if eligible else "until the freeze is lifted"
                    detail = f"{FREEZE}: {held[2].describe()} ({until})"
            elif held is not None and exception is not None:
                expires = exception.expires.isoformat() if exception.expires else "-"
                print(
                    f"  rule {rule.name}: {held[0]} passed by exception {exception.name} "
                    f"({exception.reason}, expires {expires})",
                    file=out,
                )
        if reason is not None:
            detail = detail or rejection_detail(rule, candidate, reason, eligible=eligible)
            print(f"  rule {rule.name}: rejected by {detail}", file=out)
            continue
        for destination in rule.destination_repositories:
            held_line = _destination_line(
                reader, rule, destination, candidate, coordinate, origin_of(described)
            )
            print(f"  rule {rule.name}: accepted -> {destination}: {held_line}", file=out)
    return EXIT_OK


def _in(coordinate: Coordinate, rule: Rule, repository: str) -> PackageAt:
    return coordinate.ref.at(rule.domain, rule.domain_owner, repository)


def _candidate(
    coordinate: Coordinate,
    rule: Rule,
    state: str,
    revision: str | None,
    *,
    published: datetime | None = None,
    origin_type: str | None = None,
) -> Candidate:
    """The version as one rule's source holds it (what the rule's filters read)."""
    listed = ListedVersion(coordinate.version, revision, state)
    at = _in(coordinate, rule, rule.source_repository)
    return listed_candidate(at, listed, published_time=published, origin_type=origin_type)


def _destination_line(  # noqa: PLR0917 - the command's own pieces
    reader: Any, rule: Rule, destination: str, candidate: Candidate, coordinate: Coordinate, origin: str
) -> str:
    """What the destination holds of the version (reader.compare), and so what a copy would do,
    including a copy the destination's origin controls would refuse (NOT_ALLOWED)."""
    try:
        held_version = describe_version(reader, _in(coordinate, rule, destination), coordinate.version)
    except (ClientError, BotoCoreError) as error:
        return f"cannot read {rule.domain}/{destination}: {one_line(error)}"
    held = {coordinate.version: held_version.get("revision")} if held_version is not None else {}
    found = compare(held, coordinate.version, candidate.revision)
    if found == IDENTICAL:
        return f"already present (revision {candidate.revision or '-'})"
    pinned = (
        json.dumps({coordinate.version: candidate.revision}) if candidate.revision else coordinate.version
    )
    call = (
        f"CopyPackageVersions {rule.source_repository} -> {destination} {coordinate.format} "
        f"{package_name(candidate)} {pinned} allowOverwrite={str(rule.allow_overwrite).lower()} "
        f"includeFromUpstream={str(rule.include_from_upstream).lower()}"
    )
    if found == MISSING:
        return _origin_checked(reader, rule, destination, coordinate, origin, f"would copy: {call}")
    other = held.get(coordinate.version) or "-"
    if rule.allow_overwrite:
        line = f"another build in {destination} (revision {other}); allowOverwrite replaces it: {call}"
        return _origin_checked(reader, rule, destination, coordinate, origin, line)
    return (
        f"another build in {destination} (revision {other}, not {candidate.revision}): a copy fails "
        "ALREADY_EXISTS unless the rule sets allowOverwrite"
    )


def _origin_checked(  # noqa: PLR0917 - the command's own pieces
    reader: Any, rule: Rule, destination: str, coordinate: Coordinate, origin: str, line: str
) -> str:
    """``line`` (a copy that would be made), or "would be refused: ..." when the destination's origin controls
    (package or package group) would answer it NOT_ALLOWED (promoter.origin_controls); a note when they
    could not be read."""
    controls = read_controls(reader, _in(coordinate, rule, destination))
    why = refusal(controls, origin, destination)
    if why is not None:
        return f"would be refused: {why} (origin {origin}; the copy would fail NOT_ALLOWED)"
    if controls.errors:
        return f"{line} (origin controls not read: {'; '.join(controls.errors)})"
    return line
