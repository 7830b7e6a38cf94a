"""Whether a version a rule accepts for a destination is copied now or waits.

A rule's ``minimumReleaseAge``, a freeze (the rule's or the file's) and the ``exceptions`` that lift both
decide it; they need the version's publish time and origin, which events do not carry, so this is also
where DescribePackageVersion is called (through an injected lookup) for the versions that need it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from promoter.events import Candidate
from promoter.matching import RuleSet
from promoter.outcomes import DEFERRED, FAILED, ExceptionUse, Outcome
from promoter.rule_filters import Rule
from promoter.version_entries import Freeze, VersionEntry

UNKNOWN_ORIGIN = "UNKNOWN"
"""``Candidate.origin_type`` once read and not reported (CodeArtifact's own word for it): counted EXTERNAL."""


class LookupFailed(Exception):
    """The publish time of a version could not be read (``retryable``: try again later)."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class VersionFacts(NamedTuple):
    """What DescribePackageVersion says of a version in its source that a listing or an event may not."""

    published_time: datetime | None
    origin_type: str | None


PublishedTimeLookup = Callable[[Candidate], datetime | None]
VersionLookup = Callable[[Candidate], VersionFacts]
_Held = tuple[tuple[str, datetime | None, Freeze | None], Rule]
"""``RuleSet.held_back``'s answer for a rule that waits, and the rule."""


class CopyNow(NamedTuple):
    """A destination the version goes to now, under the first rule that allows it there; a NamedTuple read
    by field name, as ``Candidate``, because one is made per planned version."""

    candidate: Candidate
    """The version as known when this destination was decided (read further only if it had to be)."""
    destination: str
    rule: Rule
    exception: ExceptionUse | None = None
    """The exception that let the version through a cooldown or freeze, if one did."""


def as_version_lookup(published_time: PublishedTimeLookup | None) -> VersionLookup | None:
    """A publish-time-only lookup as a ``VersionLookup`` (the origin stays unknown)."""
    if published_time is None:
        return None
    return lambda candidate: VersionFacts(published_time(candidate), None)


def read_facts(candidate: Candidate, lookup: VersionLookup | None) -> tuple[Candidate, LookupFailed | None]:
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


def lookup_failed(candidate: Candidate, destination: str, rule: Rule, failure: LookupFailed) -> Outcome:
    return Outcome(
        FAILED,
        candidate,
        destination=destination,
        rule=rule.name,
        error_code=failure.code,
        error_message=failure.message,
        retryable=failure.retryable,
    )


def decide_destinations(
    candidate: Candidate,
    by_destination: dict[str, list[Rule]],
    *,
    rules: RuleSet,
    now: datetime,
    lookup: VersionLookup | None,
    looked_up: bool,
    outcomes: list[Outcome],
) -> list[CopyNow]:
    """The destinations to copy ``candidate`` to now; deferrals and failed lookups go to ``outcomes``.

    Per destination, the first rule (in file order) that allows the copy now decides the copy options; a
    destination is deferred only when every rule that targets it still waits (for the version to age, or
    for a freeze to end). An unexpired exception lets the first rule copy at once (``ExceptionUsed``)."""
    copies: list[CopyNow] = []
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
                candidate, failure = read_facts(candidate, lookup)
            if failure is not None:
                # Only destinations that wait for the lookup fail; the others were decided without it.
                outcomes.append(lookup_failed(candidate, destination, rules_here[0], failure))
                continue
            published, origin_type = candidate.published_time, candidate.origin_type
            held: list[_Held] = []
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
                outcomes.append(_deferred(candidate, destination, held, now))
                continue
        if used is None:
            copies.append(CopyNow(candidate, destination, chosen))
        else:
            assert used.expires is not None
            exception = ExceptionUse(used.name, used.reason, used.expires)
            copies.append(CopyNow(candidate, destination, chosen, exception))
    return copies


def _deferred(candidate: Candidate, destination: str, held: list[_Held], now: datetime) -> Outcome:
    """The rule whose wait ends first (an unknown end last) says why and until when."""

    def ends(entry: _Held) -> tuple[bool, datetime, int]:
        (_, eligible, _), rule = entry
        return (eligible is None, eligible or now, rule.position)

    (reason, eligible, freeze), waiting = min(held, key=ends)
    return Outcome(
        DEFERRED,
        candidate,
        destination=destination,
        rule=waiting.name,
        reason=reason,
        eligible_at=eligible,
        error_message=freeze.describe() if freeze is not None else None,
    )
