"""Candidates in, copy requests and immediate outcomes out.

The planner is pure apart from one injected lookup (``describe``: DescribePackageVersion), which it
calls only for versions that a rule with ``minimumReleaseAge``, a freeze or an origin filter accepts and
whose publish time or origin is not known yet. Events and reconcile feed it alike.

CopyPackageVersions calls are the scarce resource (5 req/s per account by default), so the planner
coalesces events of one version to the newest ``sequenceNumber``, groups versions by everything a
single call shares, and chunks at the API's 100 versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from promoter.events import Candidate, VersionKey
from promoter.holds import (
    CopyNow,
    PublishedTimeLookup,
    VersionLookup,
    as_version_lookup,
    decide_destinations,
    lookup_failed,
    read_facts,
)
from promoter.matching import RuleSet
from promoter.outcomes import IGNORED, ExceptionUse, Outcome
from promoter.rule_filters import (
    AGE,
    DENIED,
    DOMAIN,
    EXCLUDE,
    FORMAT,
    FREEZE,
    NAMESPACE,
    ORIGIN,
    PACKAGE,
    PRERELEASE,
    RANGE,
    STATE,
    Rule,
    rejection_detail,
)

MAX_VERSIONS_PER_CALL = 100

# Reasons for ignoring a version before any rule is evaluated (see also RuleSet.candidate_rules).
DELETED = "deleted"
OTHER_DOMAIN = "domain"
NOT_A_SOURCE = "source"

# How far a version got through a rule's filters: the ignore reason is the rejection of the rule it
# got furthest in (ties: the first rule in file order), the filter an operator has to look at.
_FILTER_RANK = {
    reason: rank
    for rank, reason in enumerate(
        (DOMAIN, FORMAT, NAMESPACE, PACKAGE, EXCLUDE, RANGE, PRERELEASE, STATE, ORIGIN, DENIED, FREEZE, AGE)
    )
}


class PlannedVersion(NamedTuple):
    """A version in a copy request, and the rule that chose its copy options; a NamedTuple read by field
    name, as ``Candidate``, because one is made per planned version."""

    candidate: Candidate
    rule: str


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class CopyRequest(NamedTuple):
    """One CopyPackageVersions call: one package, one destination, at most 100 versions."""

    domain: str
    domain_owner: str
    source_repository: str
    destination_repository: str
    format: str
    namespace: str | None
    package: str
    allow_overwrite: bool
    include_from_upstream: bool
    items: tuple[PlannedVersion, ...]

    @property
    def pinned(self) -> bool:
        return all(item.candidate.revision for item in self.items)

    def api_kwargs(self) -> dict[str, Any]:
        """The call's arguments: ``versionRevisions`` when every revision is known, else ``versions``."""
        kwargs: dict[str, Any] = {
            "domain": self.domain,
            "domainOwner": self.domain_owner,
            "sourceRepository": self.source_repository,
            "destinationRepository": self.destination_repository,
            "format": self.format,
            "package": self.package,
            "allowOverwrite": self.allow_overwrite,
            "includeFromUpstream": self.include_from_upstream,
        }
        if self.namespace:
            kwargs["namespace"] = self.namespace
        if self.pinned:
            kwargs["versionRevisions"] = {i.candidate.version: i.candidate.revision for i in self.items}
        else:
            kwargs["versions"] = [i.candidate.version for i in self.items]
        return kwargs

    def only(self, versions: Iterable[str]) -> CopyRequest:
        """The same call restricted to ``versions`` (the follow-up after SKIPPED)."""
        keep = set(versions)
        return self._replace(items=tuple(i for i in self.items if i.candidate.version in keep))


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class Plan(NamedTuple):
    """The planner's answer: copy requests to make, and outcomes decided without a copy."""

    requests: list[CopyRequest]
    outcomes: list[Outcome]
    exceptions: dict[tuple[VersionKey, str], ExceptionUse]
    """The planned copies an exception let through a cooldown or freeze, by version and destination."""

    def annotate(self, outcome: Outcome) -> Outcome:
        """``outcome`` of a planned copy, naming the exception that let it through (if one did)."""
        if not self.exceptions or outcome.candidate is None or outcome.destination is None:
            return outcome
        used = self.exceptions.get((outcome.candidate.version_key, outcome.destination))
        return outcome if used is None else outcome._replace(exception=used)

    @property
    def versions_to_copy(self) -> int:
        return sum(len(r.items) for r in self.requests)


def coalesce(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per version: the newest ``sequenceNumber`` (later wins a tie), in first-seen order."""
    newest: dict[VersionKey, Candidate] = {}
    for candidate in candidates:
        key = candidate.version_key
        current = newest.get(key)
        if current is None or (candidate.sequence_number or 0) >= (current.sequence_number or 0):
            newest[key] = candidate
    return list(newest.values())


def plan(
    candidates: Iterable[Candidate],
    rules: RuleSet,
    *,
    now: datetime,
    published_time: PublishedTimeLookup | None = None,
    max_versions_per_call: int = MAX_VERSIONS_PER_CALL,
    own_account: str | None = None,
    describe: VersionLookup | None = None,
    listed_origin: Callable[[Candidate], str | None] | None = None,
) -> Plan:
    """Decide, for every candidate version, its destinations now, its deferrals, or why it is ignored.

    ``describe`` (or the older ``published_time``) reads what a listing or event did not say: the publish
    time (for a cooldown or a freeze) and the origin (for ``origins`` and ``minimumReleaseAgeFor``). Without
    either, both are unknown: too young, frozen and EXTERNAL (fail closed). ``listed_origin`` gives the
    origin from the source's listing when it has one, so that a version whose origin decides alone (an
    INTERNAL one under a cooldown for EXTERNAL versions) is not described at all."""
    lookup = describe if describe is not None else as_version_lookup(published_time)
    result = Plan([], [], {})
    # Keyed by everything one CopyPackageVersions call shares (pinned and unpinned versions never mix).
    calls: dict[tuple[Any, ...], list[CopyNow]] = {}
    # Read once per plan: most rule files use neither, and then no candidate pays a test for them.
    deny = rules.deny if rules.deny.entries else None
    origin_rules = rules.needs_origin
    for candidate in coalesce(candidates):
        if candidate.operation == "Deleted":
            result.outcomes.append(Outcome(IGNORED, candidate, reason=DELETED))
            continue
        source_rules, none_because = rules.candidate_rules(candidate, own_account)
        if none_because is not None:
            result.outcomes.append(Outcome(IGNORED, candidate, reason=none_because))
            continue
        accepted: list[Rule] = []
        rejections: list[tuple[str, Rule]] = []
        for rule in source_rules:
            rejection = rule.rejection(candidate)
            if rejection is None:
                accepted.append(rule)
            elif not accepted:
                rejections.append((rejection, rule))
        if not accepted:
            reason, rejected_by = furthest_rejection(rejections)
            result.outcomes.append(
                Outcome(
                    IGNORED,
                    candidate,
                    rule=rejected_by.name,
                    reason=reason,
                    error_message=_origin_detail(rejected_by, candidate) if reason == ORIGIN else None,
                )
            )
            continue
        if deny is not None:
            denied = deny.find(candidate)
            if denied is not None:
                result.outcomes.append(
                    Outcome(
                        IGNORED,
                        candidate,
                        rule=accepted[0].name,
                        reason=DENIED,
                        error_message=f"denyVersions[{denied.position}] {denied.name}: {denied.reason}",
                    )
                )
                continue
        looked_up = candidate.published_time is not None
        if origin_rules and candidate.origin_type is None and any(rule.needs_origin for rule in accepted):
            listed = listed_origin(candidate) if listed_origin is not None else None
            if listed is not None:
                candidate = candidate._replace(origin_type=listed)  # noqa: PLW2901 - the same version
            else:
                looked_up = True
                candidate, failure = read_facts(candidate, lookup)  # noqa: PLW2901 - the same version
                if failure is not None:
                    for destination in dict.fromkeys(d for r in accepted for d in r.destination_repositories):
                        result.outcomes.append(lookup_failed(candidate, destination, accepted[0], failure))
                    continue
            selected = [rule for rule in accepted if rule.origin_rejection(candidate.origin_type) is None]
            if not selected:
                first = next(rule for rule in accepted if rule.origins is not None)
                result.outcomes.append(
                    Outcome(
                        IGNORED,
                        candidate,
                        rule=first.name,
                        reason=ORIGIN,
                        error_message=_origin_detail(first, candidate),
                    )
                )
                continue
            accepted = selected
        by_destination: dict[str, list[Rule]]
        if len(accepted) == 1:  # the common case; the decision only reads the lists, so they may be one
            by_destination = dict.fromkeys(accepted[0].destination_repositories, accepted)
        else:
            by_destination = {}
            for rule in accepted:
                for destination in rule.destination_repositories:
                    by_destination.setdefault(destination, []).append(rule)
        copies = decide_destinations(
            candidate,
            by_destination,
            rules=rules,
            now=now,
            lookup=lookup,
            looked_up=looked_up,
            outcomes=result.outcomes,
        )
        for copy in copies:
            _add_copy(copy, calls, result)
    for copies in calls.values():
        for start in range(0, len(copies), max_versions_per_call):
            result.requests.append(_request(copies[start : start + max_versions_per_call]))
    return result


def furthest_rejection(rejections: list[tuple[str, Rule]]) -> tuple[str, Rule]:
    """The rejection of the rule that got furthest through the filters (ties: first in file order).

    A catch-all rule listed first rejects a Maven version by its namespace while the Maven rule
    only rejects it by state: the state is what keeps the version back, so that is the reason.
    """
    best = rejections[0]
    best_rank = _FILTER_RANK[best[0]]
    for rejection in rejections[1:]:
        rank = _FILTER_RANK[rejection[0]]
        if rank > best_rank:
            best, best_rank = rejection, rank
    return best


def _origin_detail(rule: Rule, candidate: Candidate) -> str:
    return rejection_detail(rule, candidate, ORIGIN)


def _add_copy(copy: CopyNow, calls: dict[tuple[Any, ...], list[CopyNow]], result: Plan) -> None:
    candidate, rule = copy.candidate, copy.rule
    if copy.exception is not None:
        result.exceptions[(candidate.version_key, copy.destination)] = copy.exception
    key = (
        candidate.domain,
        candidate.domain_owner,
        candidate.source_repository,
        copy.destination,
        candidate.format,
        candidate.namespace,
        candidate.package,
        rule.allow_overwrite,
        rule.include_from_upstream,
        bool(candidate.revision),
    )
    calls.setdefault(key, []).append(copy)


def _request(copies: list[CopyNow]) -> CopyRequest:
    """The call for ``copies``, which share everything but the version (and the rule's name)."""
    first = copies[0]
    candidate = first.candidate
    return CopyRequest(
        domain=candidate.domain,
        domain_owner=candidate.domain_owner,
        source_repository=candidate.source_repository,
        destination_repository=first.destination,
        format=candidate.format,
        namespace=candidate.namespace,
        package=candidate.package,
        allow_overwrite=first.rule.allow_overwrite,
        include_from_upstream=first.rule.include_from_upstream,
        items=tuple(PlannedVersion(copy.candidate, copy.rule.name) for copy in copies),
    )
