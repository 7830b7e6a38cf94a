"""Listing one package of the walk: its versions in the source, which rules want them where, and what each
of those destinations holds.

Per package this costs one ListPackageVersions call per 1,000 versions in the source, and one per
destination some rule would send one of its versions to (a destination lacking the package answers
ResourceNotFoundException, which costs the same call); none for the destinations' other packages. It runs
on worker threads, ahead of the copying.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from promoter.events import Candidate
from promoter.holds import UNKNOWN_ORIGIN
from promoter.listed import PackageRef, listed_candidate
from promoter.reader import error_code, error_line, lacks_package, not_found_resource
from promoter.reconcile.results import ORIGIN, SKIP, PlanItem
from promoter.reconcile.results import ORIGIN as ORIGIN_FILTER
from promoter.reconcile.state import RunState
from promoter.reconcile.walk import Source
from promoter.rule_filters import EXCLUDE, PRERELEASE, RANGE, STATE, Rule, rejection_detail

_SHOWN_REJECTIONS = frozenset({EXCLUDE, RANGE, PRERELEASE, STATE, ORIGIN_FILTER})
"""The filters ``plan --all`` reports: those that turn away a version of a package the rule is about (its
format, namespace and package globs match); the others would list every package of the source per rule."""


@dataclass(frozen=True, slots=True)
class ListedPackage:
    """What was listed for one package: candidates that some rule accepts, what each destination holds
    (version -> revision), and the destinations that could not be read (destination -> (code, message))."""

    source: Source
    ref: PackageRef
    wanted: list[tuple[Candidate, tuple[str, ...]]]
    held: dict[str, dict[str, str | None]]
    unreadable: dict[str, tuple[str, str]] = field(default_factory=dict)
    rejected: list[PlanItem] = field(default_factory=list)
    """With ``include_rejected`` (``plan --all``): versions a rule's filters turned away, with the filter."""
    origins: dict[str, str | None] = field(default_factory=dict)
    """version -> ``origin.originType`` in the source, as listed (which origin control a copy meets)."""


class PackageLister:
    """Lists packages for one run, remembering the destinations found unreadable."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self._unreadable: dict[tuple[str, str], tuple[str, str]] = {}
        """(domain, destination) -> (code, message) of a destination found unreadable in this run."""

    def list(self, source: Source, ref: PackageRef) -> ListedPackage:
        reader = self.state.reader(source.domain, source.owner)
        at = ref.at(source.domain, source.owner, source.repository)
        include_rejected = self.state.include_rejected
        wanted: list[tuple[Candidate, tuple[str, ...]]] = []
        rejected: list[PlanItem] = []
        # Every state with --all, to say which versions were turned away for their state.
        status = None if include_rejected else source.status
        try:
            listed_versions = reader.versions(source.repository, ref, status=status)
        except ClientError as error:
            if not lacks_package(error):
                raise
            listed_versions = []  # deleted since it was listed (or no version of that status)
        for listed in listed_versions:
            origin_type = listed.origin_type or UNKNOWN_ORIGIN
            candidate = listed_candidate(at, listed, origin=ORIGIN, origin_type=origin_type)
            destinations = tuple(
                dict.fromkeys(
                    d
                    for rule in source.rules
                    if rule.rejection(candidate) is None
                    for d in rule.destination_repositories
                )
            )
            if destinations:
                wanted.append((candidate, destinations))
            if include_rejected:
                rejected.extend(_rejected_items(candidate, source.rules, destinations))
        held: dict[str, dict[str, str | None]] = {}
        unreadable: dict[str, tuple[str, str]] = {}
        for destination in dict.fromkeys(d for _, dests in wanted for d in dests):
            known = self._unreadable.get((source.domain, destination))
            if known is not None:
                unreadable[destination] = known
                continue
            try:
                held[destination] = {v.version: v.revision for v in reader.versions(destination, ref)}
            except (ClientError, BotoCoreError) as error:
                if lacks_package(error):
                    held[destination] = {}
                    continue
                unreadable[destination] = error_line(error)
                if not_found_resource(error) or error_code(error) == "AccessDeniedException":
                    # the repository or domain itself: spare the other packages the same answer
                    self._unreadable.setdefault((source.domain, destination), unreadable[destination])
        origins = {v.version: v.origin_type for v in listed_versions}
        return ListedPackage(source, ref, wanted, held, unreadable, rejected, origins)


def _rejected_items(
    candidate: Candidate, rules: tuple[Rule, ...], accepted: tuple[str, ...]
) -> list[PlanItem]:
    """One skip item per destination a rule would send ``candidate`` to but its filters turn it away (the
    first rule per destination; a destination some rule accepts it for is not rejected)."""
    items: dict[str, PlanItem] = {}
    for rule in rules:
        reason = rule.rejection(candidate)
        if reason not in _SHOWN_REJECTIONS:
            continue
        detail = rejection_detail(rule, candidate, reason)
        for destination in rule.destination_repositories:
            if destination not in accepted and destination not in items:
                items[destination] = PlanItem(candidate, destination, SKIP, detail, rule.name, reason)
    return list(items.values())
