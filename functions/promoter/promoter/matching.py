"""All rules, indexed so that matching a candidate costs a dict lookup plus the few rules of its source that
can match its name, however many rules exist; and ``explain``, which the event handler, reconcile and the
CLI share: for a candidate and every rule, the first filter that rejects it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from promoter.events import Candidate
from promoter.globs import fold, literal_prefix
from promoter.rule_filters import AGE, DENIED, DOMAIN, FORMAT, FREEZE, PACKAGE, Rule, rule_warnings
from promoter.version_entries import Freeze, VersionEntries, VersionEntry
from promoter.versions import FORMATS


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class Explanation(NamedTuple):
    rule: Rule
    rejected_by: str | None
    """The first filter that rejects the candidate; None: the rule accepts it (age aside)."""


class Hold(NamedTuple):
    """Why a rule may not copy a version it accepts yet (``RuleSet.held_back``)."""

    reason: str
    """FREEZE or AGE."""
    until: datetime | None
    """When the version may go (None: not known)."""
    freeze: Freeze | None
    """The freeze that holds it, if one does."""


class _PrefixIndex:
    """The rules of one (domain, source, format), bucketed by the literal prefix their package globs share.

    A lookup probes one dict per distinct prefix length (typically two: "" for ``*`` and the teams'
    ``team042-``), so a candidate meets only the rules that can match its name, not all of them.
    """

    __slots__ = ("buckets", "fmt", "lengths")

    def __init__(self, fmt: str, rules: Sequence[Rule]) -> None:
        self.fmt = fmt
        self.buckets: dict[str, list[Rule]] = {}
        for rule in rules:
            prefixes = [literal_prefix(fold(fmt, p)) for p in rule.packages.patterns]
            common = prefixes[0]
            for prefix in prefixes[1:]:
                while not prefix.startswith(common):
                    common = common[:-1]
            self.buckets.setdefault(common, []).append(rule)
        self.lengths = sorted({len(prefix) for prefix in self.buckets})

    def lookup(self, package: str) -> list[Rule]:
        name = fold(self.fmt, package)
        found: list[Rule] = []
        probes = 0
        for length in self.lengths:
            if length > len(name):
                break
            bucket = self.buckets.get(name[:length])
            if bucket:
                found.extend(bucket)
                probes += 1
        if probes > 1:
            found.sort(key=lambda rule: rule.position)
        return found


class RuleSet:
    """All rules, indexed for lookups that cost the same with 1 rule or 1,000, with the top-level
    ``exceptions``, ``denyVersions`` and ``freeze``.

    ``rules_for`` gives every rule of a candidate's (domain, sourceRepository); ``candidate_rules``
    narrows that by format and by the literal prefix of the package globs, so the planner evaluates
    only rules that can match. Both keep the file's order.
    """

    __slots__ = (
        "_by_format",
        "_owners",
        "by_source",
        "deny",
        "domains",
        "exceptions",
        "freeze",
        "needs_origin",
        "rules",
    )

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        exceptions: VersionEntries | None = None,
        deny: VersionEntries | None = None,
        freeze: Freeze | None = None,
    ) -> None:
        self.rules = tuple(rules)
        by_source: dict[tuple[str, str], list[Rule]] = {}
        for rule in self.rules:
            by_source.setdefault((rule.domain, rule.source_repository), []).append(rule)
        self.by_source = {key: tuple(source_rules) for key, source_rules in by_source.items()}
        self.domains = frozenset(rule.domain for rule in self.rules)
        self.exceptions = exceptions or VersionEntries()
        """Top-level ``exceptions``: versions that pass a cooldown and a freeze until they expire."""
        self.deny = deny or VersionEntries()
        """Top-level ``denyVersions``: versions never promoted (reason ``denied``)."""
        self.freeze = freeze
        """The top-level ``freeze``: it holds for every rule (beside a rule's own)."""
        self.needs_origin = any(rule.needs_origin for rule in self.rules)
        """Whether some rule decides by origin (``origins``, ``minimumReleaseAgeFor``)."""
        self._by_format: dict[tuple[str, str, str], _PrefixIndex] = {}
        self._owners: dict[tuple[str, str], tuple[frozenset[str], bool]] = {}
        for key, source_rules in self.by_source.items():
            named = frozenset(r.domain_owner for r in source_rules if r.domain_owner is not None)
            self._owners[key] = (named, any(r.domain_owner is None for r in source_rules))
            for fmt in FORMATS:
                matching = [r for r in source_rules if r.formats is None or fmt in r.formats]
                if matching:
                    self._by_format[(*key, fmt)] = _PrefixIndex(fmt, matching)

    def __repr__(self) -> str:
        return f"RuleSet({', '.join(r.name for r in self.rules)})"

    def rules_for(self, candidate: Candidate) -> tuple[Rule, ...]:
        return self.by_source.get((candidate.domain, candidate.source_repository), ())

    def candidate_rules(
        self, candidate: Candidate, own_account: str | None = None
    ) -> tuple[list[Rule], str | None]:
        """The rules that may accept ``candidate`` (in file order), or none and the reason why none can.

        A rule without ``domainOwner`` means the domain of ``own_account`` when it is known (the
        API reads an omitted owner the same way). The reason is the first filter that no rule of
        the source passes: ``domain`` (no rule for the domain or its owner account), ``source``
        (no rule for the repository), ``format`` or ``package``.
        """
        domain, source, fmt = candidate.domain, candidate.source_repository, candidate.format
        key = (domain, source)
        owners = self._owners.get(key)  # exactly the keys of by_source
        if owners is None:
            return [], ("source" if domain in self.domains else DOMAIN)
        named, any_unnamed = owners
        owner = candidate.domain_owner
        foreign = own_account is not None and owner != own_account
        if owner not in named and (not any_unnamed or foreign):
            return [], DOMAIN
        index = self._by_format.get((domain, source, fmt))
        if index is None:
            return [], FORMAT
        found = index.lookup(candidate.package)
        if foreign:
            named_here = [r for r in found if r.domain_owner is not None]
            if found and not named_here:
                return [], DOMAIN
            found = named_here
        return found, (None if found else PACKAGE)

    def explain(
        self,
        candidate: Candidate,
        *,
        now: datetime | None = None,
        published_time: datetime | None = None,
        origin_type: str | None = None,
    ) -> list[Explanation]:
        """Every rule, with the first filter that rejects ``candidate`` (None when it matches).

        With ``now``, a rule's ``minimumReleaseAge`` and freezes are checked too (the last filters,
        ``freeze`` and ``age``), against ``published_time`` or the candidate's own; an unknown publish time is
        too young and frozen, an unknown origin EXTERNAL. ``denyVersions`` rejects as ``denied``.
        """
        published = published_time or candidate.published_time
        if origin_type is not None and candidate.origin_type is None:
            candidate = candidate._replace(origin_type=origin_type)
        denied = self.deny.find(candidate) if self.deny else None
        exception = self.exceptions.find(candidate, now) if self.exceptions and now is not None else None
        explained = []
        for rule in self.rules:
            reason = rule.rejection(candidate)
            if reason is None and now is not None and candidate.origin_type is None:
                reason = rule.origin_rejection(None)  # looked up and still unknown: EXTERNAL
            if reason is None and denied is not None:
                reason = DENIED
            if reason is None and now is not None:
                held = self.held_back(rule, published, candidate.origin_type, now, exception)
                reason = held.reason if held is not None else None
            explained.append(Explanation(rule, reason))
        return explained

    def held_back(
        self,
        rule: Rule,
        published: datetime | None,
        origin_type: str | None,
        now: datetime,
        exception: VersionEntry | None = None,
    ) -> Hold | None:
        """Why ``rule``, which accepts a version, may not copy it now: a freeze, or its cooldown (until its
        eligible time); None when it may. An unexpired ``exception`` passes both (only these: every other
        filter still applies)."""
        if exception is not None and not exception.expired(now):
            return None
        age_eligible: datetime | None = None
        waits = False
        if rule.cooldown_applies(origin_type):
            age_eligible = rule.eligible_at(published)
            waits = age_eligible is None or age_eligible > now
        for freeze in (self.freeze, rule.freeze):
            if freeze is not None and freeze.may_hold(now) and freeze.covers(published):
                until = freeze.until
                if until is not None and waits:
                    until = max(until, age_eligible) if age_eligible is not None else None
                return Hold(FREEZE, until, freeze)
        if waits:
            return Hold(AGE, age_eligible, None)
        return None

    def needs_published_time(self, rule: Rule, origin_type: str | None, now: datetime) -> bool:
        """Whether ``held_back`` reads the publish time for ``rule`` (a cooldown or a freeze that holds)."""
        if rule.cooldown_applies(origin_type):
            return True
        return any(f is not None and f.may_hold(now) for f in (self.freeze, rule.freeze))

    def source_repositories(self) -> set[tuple[str, str]]:
        return set(self.by_source)

    def warnings(self, now: datetime | None = None) -> list[str]:
        """Every rule's ``rule_warnings``, in file order; then exceptions that have expired and freezes that
        have ended at ``now`` (default: the current time)."""
        found = [warning for rule in self.rules for warning in rule_warnings(rule)]
        at = now if now is not None else datetime.now(UTC)
        for entry in self.exceptions.entries:
            if entry.expired(at):
                assert entry.expires is not None
                found.append(
                    f"field 'exceptions[{entry.position}]': {entry.name} expired at "
                    f"{entry.expires.isoformat()}: it no longer lets anything through; remove it"
                )
        for freeze in (self.freeze, *(rule.freeze for rule in self.rules)):
            if freeze is not None and not freeze.active(at):
                assert freeze.until is not None
                found.append(
                    f"{freeze.where}: ended at {freeze.until.isoformat()} and holds nothing back; remove it"
                )
        return found


def listing_status(rules: Sequence[Rule]) -> str | None:
    """The ``status`` filter for listing a source's versions: ``Published`` when every rule reading the
    source only accepts that state (the default), so the server leaves out what no rule would take; None
    (no filter) as soon as one rule accepts another state, or when there is no rule."""
    if rules and all(rule.states == {"Published"} for rule in rules):
        return "Published"
    return None
