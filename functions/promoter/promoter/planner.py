"""Candidates in, copy requests and immediate outcomes out.

The planner is pure apart from one injected lookup (``describe``: DescribePackageVersion), which it
calls only for versions that a rule with ``minimumReleaseAge``, a freeze or an origin filter accepts and
whose publish time or origin is not known yet. Events and reconcile feed it alike.

Cost model: CopyPackageVersions calls are the scarce resource (5 req/s per account by
default), so the planner coalesces events of one version to the newest ``sequenceNumber``,
groups versions by everything a single call shares, and chunks at the API's 100 versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import FrozenInstanceError
from datetime import datetime
from typing import Any, NamedTuple

from promoter.events import Candidate, VersionKey
from promoter.matching import RuleSet
from promoter.outcomes import DEFERRED, FAILED, IGNORED, ExceptionUse, Outcome
from promoter.record import Record
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
from promoter.version_entries import Freeze, VersionEntry

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


class LookupFailed(Exception):
    """The publish time of a version could not be read (``retryable``: try again later)."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


PublishedTimeLookup = Callable[[Candidate], datetime | None]
UNKNOWN_ORIGIN = "UNKNOWN"
"""``Candidate.origin_type`` once read and not reported (CodeArtifact's own word for it): counted EXTERNAL."""


class VersionFacts(NamedTuple):
    """What DescribePackageVersion says of a version in its source that a listing or an event may not."""

    published_time: datetime | None
    origin_type: str | None


VersionLookup = Callable[[Candidate], VersionFacts]


class PlannedVersion(NamedTuple):
    candidate: Candidate
    rule: str


_new_tuple = tuple.__new__
"""Builds a NamedTuple from all its fields without its Python ``__new__`` (once per planned version)."""


GroupKey = tuple[str, str, str, str, str, str | None, str, bool, bool, bool]


class CopyRequest(Record):
    """One CopyPackageVersions call: one package, one destination, at most 100 versions.

    Immutable, compared and hashed by its fields, as the frozen dataclass it was; a ``Record`` because the
    dataclass's generated methods cost ~4.5M instructions of every cold start to create (see
    ``with_items`` for ``dataclasses.replace``).
    """

    __slots__ = (
        "allow_overwrite",
        "destination_repository",
        "domain",
        "domain_owner",
        "format",
        "include_from_upstream",
        "items",
        "namespace",
        "package",
        "source_repository",
    )
    _fields = (
        "domain",
        "domain_owner",
        "source_repository",
        "destination_repository",
        "format",
        "namespace",
        "package",
        "allow_overwrite",
        "include_from_upstream",
        "items",
    )

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

    def __init__(  # noqa: PLR0917 - positional too, as the dataclass's
        self,
        domain: str,
        domain_owner: str,
        source_repository: str,
        destination_repository: str,
        format: str,
        namespace: str | None,
        package: str,
        allow_overwrite: bool,
        include_from_upstream: bool,
        items: tuple[PlannedVersion, ...],
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "domain", domain)
        setattr_(self, "domain_owner", domain_owner)
        setattr_(self, "source_repository", source_repository)
        setattr_(self, "destination_repository", destination_repository)
        setattr_(self, "format", format)
        setattr_(self, "namespace", namespace)
        setattr_(self, "package", package)
        setattr_(self, "allow_overwrite", allow_overwrite)
        setattr_(self, "include_from_upstream", include_from_upstream)
        setattr_(self, "items", items)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def with_items(self, items: tuple[PlannedVersion, ...]) -> CopyRequest:
        """The same call for ``items`` (what ``dataclasses.replace(request, items=...)`` gave)."""
        return CopyRequest(
            self.domain,
            self.domain_owner,
            self.source_repository,
            self.destination_repository,
            self.format,
            self.namespace,
            self.package,
            self.allow_overwrite,
            self.include_from_upstream,
            items,
        )

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
        return self.with_items(tuple(i for i in self.items if i.candidate.version in keep))


class Plan:
    """The planner's answer: copy requests to make, and outcomes decided without a copy."""

    __slots__ = ("exceptions", "outcomes", "requests")

    def __init__(
        self, requests: list[CopyRequest] | None = None, outcomes: list[Outcome] | None = None
    ) -> None:
        self.requests: list[CopyRequest] = requests if requests is not None else []
        self.outcomes: list[Outcome] = outcomes if outcomes is not None else []
        self.exceptions: dict[tuple[VersionKey, str], ExceptionUse] = {}
        """The planned copies an exception let through a cooldown or freeze, by version and destination."""

    def annotate(self, outcome: Outcome) -> Outcome:
        """``outcome`` of a planned copy, naming the exception that let it through (if one did)."""
        if not self.exceptions or outcome.candidate is None or outcome.destination is None:
            return outcome
        used = self.exceptions.get((outcome.candidate[:7], outcome.destination))
        return outcome if used is None else outcome._replace(exception=used)

    @property
    def versions_to_copy(self) -> int:
        return sum(len(r.items) for r in self.requests)


def coalesce(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per version: the newest ``sequenceNumber`` (later wins a tie), in first-seen order."""
    newest: dict[VersionKey, Candidate] = {}
    for candidate in candidates:
        key = candidate[:7]  # its version_key, without a Python call
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
) -> Plan:
    """Decide, for every candidate version, its destinations now, its deferrals, or why it is ignored.

    ``describe`` (or the older ``published_time``) reads what a listing or event did not say: the publish
    time (for a cooldown or a freeze) and the origin (for ``origins`` and ``minimumReleaseAgeFor``). Without
    either, both are unknown: too young, frozen and EXTERNAL (fail closed)."""
    lookup = describe if describe is not None else _adapt(published_time)
    result = Plan()
    groups: dict[GroupKey, list[PlannedVersion]] = {}
    # Looked up once per plan: per candidate these cost a test each when the rules use none of them.
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
            looked_up = True
            candidate, failure = _facts(candidate, lookup)  # noqa: PLW2901 - the same version, read more
            if failure is not None:
                for destination in dict.fromkeys(d for r in accepted for d in r.destination_repositories):
                    result.outcomes.append(_lookup_failed(candidate, destination, accepted[0], failure))
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
        if len(accepted) == 1:  # the common case; _decide only reads the lists, so they may be one
            by_destination = dict.fromkeys(accepted[0].destination_repositories, accepted)
        else:
            by_destination = {}
            for rule in accepted:
                for destination in rule.destination_repositories:
                    by_destination.setdefault(destination, []).append(rule)
        _decide(
            candidate,
            by_destination,
            rules=rules,
            now=now,
            lookup=lookup,
            looked_up=looked_up,
            groups=groups,
            result=result,
        )
    for key, items in groups.items():
        for start in range(0, len(items), max_versions_per_call):
            result.requests.append(_request(key, items[start : start + max_versions_per_call]))
    return result


def _adapt(published_time: PublishedTimeLookup | None) -> VersionLookup | None:
    """A publish-time-only lookup as a ``VersionLookup`` (the origin stays unknown)."""
    if published_time is None:
        return None
    return lambda candidate: VersionFacts(published_time(candidate), None)


def _facts(candidate: Candidate, lookup: VersionLookup | None) -> tuple[Candidate, LookupFailed | None]:
    """``candidate`` with its publish time and origin read (one DescribePackageVersion); an origin nobody
    reported is ``UNKNOWN`` from here on, which the rules count as EXTERNAL and the log line names."""
    facts = VersionFacts(None, None)
    if lookup is not None:
        try:
            facts = lookup(candidate)
        except LookupFailed as exc:
            return candidate, exc
    return (
        candidate._replace(
            published_time=candidate.published_time or facts.published_time,
            origin_type=candidate.origin_type or facts.origin_type or UNKNOWN_ORIGIN,
        ),
        None,
    )


def _origin_detail(rule: Rule, candidate: Candidate) -> str:
    return rejection_detail(rule, candidate, ORIGIN)


def _lookup_failed(candidate: Candidate, destination: str, rule: Rule, failure: LookupFailed) -> Outcome:
    return Outcome(
        FAILED,
        candidate,
        destination=destination,
        rule=rule.name,
        error_code=failure.code,
        error_message=failure.message,
        retryable=failure.retryable,
    )


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


def _decide(
    candidate: Candidate,
    by_destination: dict[str, list[Rule]],
    *,
    rules: RuleSet,
    now: datetime,
    lookup: VersionLookup | None,
    looked_up: bool,
    groups: dict[GroupKey, list[PlannedVersion]],
    result: Plan,
) -> None:
    """Per destination: the first rule (in file order) that allows the copy now decides the copy options;
    a destination is deferred only when every rule that targets it still waits (for the version to age, or
    for a freeze to end). An unexpired exception lets the first rule copy at once (``ExceptionUsed``)."""
    failure: LookupFailed | None = None
    top_freeze = rules.freeze
    for destination, rules_here in by_destination.items():
        chosen: Rule | None = None
        used: VersionEntry | None = None
        for rule in rules_here:
            if (rule.minimum_release_age is None and rule.freeze is None and top_freeze is None) or (
                not rules.needs_published_time(rule, candidate.origin_type, now)
            ):
                chosen = rule
                break
        if chosen is None:
            if not looked_up:
                looked_up = True
                candidate, failure = _facts(candidate, lookup)
            if failure is not None:
                # Only destinations that wait for the lookup fail; the others were decided without it.
                result.outcomes.append(_lookup_failed(candidate, destination, rules_here[0], failure))
                continue
            published, origin_type = candidate.published_time, candidate.origin_type
            held: list[tuple[tuple[str, datetime | None, Freeze | None], Rule]] = []
            for rule in rules_here:
                hold = rules.held_back(rule, published, origin_type, now)
                if hold is None:
                    chosen = rule
                    break
                held.append((hold, rule))
            if chosen is None and rules.exceptions:
                used = rules.exceptions.find(candidate, now)
                if used is not None:
                    chosen = rules_here[0]
            if chosen is None:
                # The rule whose wait ends first (an unknown end last) says why and until when.
                (reason, eligible, freeze), waiting = min(
                    held, key=lambda h: (h[0][1] is None, h[0][1] or now, h[1].position)
                )
                result.outcomes.append(
                    Outcome(
                        DEFERRED,
                        candidate,
                        destination=destination,
                        rule=waiting.name,
                        reason=reason,
                        eligible_at=eligible,
                        error_message=freeze.describe() if freeze is not None else None,
                    )
                )
                continue
        if used is not None:
            assert used.expires is not None
            result.exceptions[(candidate[:7], destination)] = ExceptionUse(
                used.name, used.reason, used.expires
            )
        domain, owner, source, fmt, namespace, package, _, revision = candidate[:8]
        key: GroupKey = (
            domain,
            owner,
            source,
            destination,
            fmt,
            namespace,
            package,
            chosen.allow_overwrite,
            chosen.include_from_upstream,
            bool(revision),
        )
        item = _new_tuple(PlannedVersion, (candidate, chosen.name))
        group = groups.get(key)
        if group is None:
            groups[key] = [item]
        else:
            group.append(item)


def _request(key: GroupKey, items: list[PlannedVersion]) -> CopyRequest:
    domain, owner, source, destination, fmt, namespace, package, overwrite, upstream, _ = key
    return CopyRequest(
        domain=domain,
        domain_owner=owner,
        source_repository=source,
        destination_repository=destination,
        format=fmt,
        namespace=namespace,
        package=package,
        allow_overwrite=overwrite,
        include_from_upstream=upstream,
        items=tuple(items),
    )
