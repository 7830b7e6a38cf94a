"""Promotion rules: schema, strict loading, validation, and fast matching with explanations.

Rules are compiled once (globs through ``fnmatch.translate``, ranges through
``promoter.versions``) and indexed by ``(domain, sourceRepository)``, so matching an
event costs a dict lookup plus the few rules of that source, however many rules exist.

``explain`` returns, for a candidate and every rule, the first filter that rejects it, in
the order users reason about them: domain/source, format, namespace, package, exclude,
range, prerelease, state, age. The event handler, reconcile and the CLI all use it.
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from fnmatch import translate
from functools import lru_cache
from typing import Any, NamedTuple

from promoter.events import STATES, Candidate
from promoter.outcomes import UNKNOWN_ORIGIN_NOTE
from promoter.record import Record
from promoter.version_syntax import InvalidRange
from promoter.versions import FORMATS, GRAMMARS, VersionRange, compile_range, is_prerelease

RULE_KEYS: frozenset[str] = frozenset(
    {
        "name",
        "domain",
        "domainOwner",
        "sourceRepository",
        "destinationRepositories",
        "formats",
        "namespaces",
        "packages",
        "excludePackages",
        "versions",
        "includePrerelease",
        "states",
        "allowOverwrite",
        "includeFromUpstream",
        "minimumReleaseAge",
        "minimumReleaseAgeFor",
        "origins",
        "freeze",
    }
)
REQUIRED_KEYS = ("name", "sourceRepository", "destinationRepositories")
"""``domain`` is required too unless the stack's domain is known (DOMAIN_NAME, ``--domain``): a rule without
``domain``/``domainOwner`` means the stack's."""

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
TOP_LEVEL_KEYS: frozenset[str] = frozenset({"rules", "exceptions", "freeze", "denyVersions"})
EXCEPTION_KEYS: frozenset[str] = frozenset(
    {"format", "namespace", "package", "versions", "reason", "expires"}
)
DENY_KEYS: frozenset[str] = frozenset({"format", "namespace", "package", "versions", "reason"})
FREEZE_KEYS: frozenset[str] = frozenset({"publishedAfter", "until"})

# Patterns, not compiled regexes: re compiles (and caches) each when rules first use it, not at every import
# (~0.4M instructions each), and the account and duration ones only for rules with those keys.
# Always applied with re.fullmatch: "$" alone also matches before a trailing newline (what a YAML "|" block
# gives), and a name accepted with it would never equal an event's field.
DOMAIN_PATTERN = r"[a-z][a-z0-9\-]{0,48}[a-z0-9]"
"""A CodeArtifact domain name (also what settings and the CLI check DOMAIN_NAME and --domain against)."""
_REPOSITORY_RE = r"[A-Za-z0-9][A-Za-z0-9._\-]{1,99}"
ACCOUNT_PATTERN = r"[0-9]{12}"
_DURATION_RE = r"(\d+)\s*([smhdw])"
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_RELEASE_AGE = timedelta(days=365)


MAX_ERROR = 1000
"""Longest error message, in characters: a hostile or careless document (a huge value, an alias bomb) still
gets a short one-line error; values in messages are quoted shortened (``quote``)."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings a rules document may have (a rule needs four levels)."""
MAX_ALIAS_EXPANSION = 100_000
"""Nodes YAML aliases may add to a document once expanded: a merge key or a shared list is fine, an
alias-expansion bomb ("billion laughs", 10**9 nodes from a few hundred bytes) is refused before it is
read."""


class StackScope(NamedTuple):
    """What the stack fixes for every rule: its domain (DOMAIN_NAME) and the domain's owner (DOMAIN_OWNER).
    A rule without ``domain`` or ``domainOwner`` means the stack's; a rule naming another is refused."""

    domain: str | None = None
    owner: str | None = None
    """The domain owner's account; None: the function's own account (the stack's DomainOwner is empty)."""
    own_account: str | None = None
    """The function's own account when known (from its ARN): the owner a rule may name when ``owner`` is
    None."""
    require_domain: bool = True
    """False for ``promoter rules check`` without a domain: a rule without ``domain`` is checked as it is."""
    unset_hint: str = "DOMAIN_NAME (the stack's DomainName) is not set"
    """Says, in the error for a rule without ``domain``, where the stack's domain comes from."""


_QUOTE = reprlib.Repr()
_QUOTE.maxlevel, _QUOTE.maxstring, _QUOTE.maxother = 3, 60, 60
_QUOTE.maxlist = _QUOTE.maxtuple = _QUOTE.maxdict = _QUOTE.maxset = 5


def quote(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for an error message, shortened (nested and long values elided, at most ``limit``
    characters): never the whole of a value that may be megabytes, or a structure aliases make huge."""
    text = repr(value) if isinstance(value, str) and len(value) <= limit else _QUOTE.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RulesError(ValueError):
    """An invalid rules document. The message names the rule and the field, in at most ``MAX_ERROR``
    characters."""

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None) -> None:
        where = []
        if rule is not None:
            where.append(f"rule {quote(rule, 140)}")
        if field is not None:
            where.append(f"field {quote(field)}")
        text = f"{', '.join(where)}: {message}" if where else message
        super().__init__(text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…")
        self.rule = rule
        self.field = field
        self.reason = message


class UnsafeDocument(RulesError):
    """A document refused before it is read: nested too deeply, or YAML aliases that expand it too far."""


def parse_duration(text: Any) -> timedelta:
    """``90m``, ``24h``, ``3d``, ``1w``, ``1d12h``: positive, at most a year."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("must be a duration such as 90m, 24h or 3d")
    compact = text.strip()
    pos = 0
    seconds = 0
    for m in re.finditer(_DURATION_RE, compact):
        if m.start() != pos and compact[pos : m.start()].strip():
            break
        seconds += int(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(compact) or pos == 0:
        raise ValueError(f"{quote(text)} is not a duration such as 90m, 24h or 3d")
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    if seconds > MAX_RELEASE_AGE.total_seconds():  # before timedelta(), which overflows on huge values
        raise ValueError("must be at most 365d")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp with a time zone (``2026-12-31T00:00:00Z``); YAML's own timestamps too (PyYAML
    reads an unquoted one as a datetime). A date alone or a time without zone is refused: which midnight,
    in which zone, would be a guess."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        raise ValueError(
            f"{value.isoformat()} is a date with no time and no time zone: write a timestamp such as "
            f"{value.isoformat()}T00:00:00Z"
        )
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{quote(value)} is not an ISO 8601 timestamp such as 2026-12-31T00:00:00Z"
            ) from None
    else:
        raise ValueError(f"{quote(value)} is not an ISO 8601 timestamp such as 2026-12-31T00:00:00Z")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(
            f"{quote(str(value))} has no time zone: write it with one, such as 2026-12-31T00:00:00Z"
        )
    return parsed


def effective_origin(origin_type: str | None) -> str:
    """The origin the rules see: INTERNAL only when CodeArtifact says so; anything else is EXTERNAL."""
    return INTERNAL if origin_type == INTERNAL else EXTERNAL


class Freeze(NamedTuple):
    """No version published after ``published_after`` is promoted while the freeze holds (until ``until``,
    or until it is removed from the rules)."""

    published_after: datetime
    until: datetime | None
    where: str
    """``freeze`` (top level) or ``rule 'NAME' freeze``: what the outcome line names."""

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until

    def covers(self, published: datetime | None) -> bool:
        """Whether a version published at ``published`` is frozen (unknown: it is, fail closed)."""
        return published is None or published > self.published_after

    def describe(self) -> str:
        until = f" until {self.until.isoformat()}" if self.until is not None else ""
        return f"{self.where}: publishedAfter {self.published_after.isoformat()}{until}"


class VersionEntry(NamedTuple):
    """One entry of ``exceptions`` (with ``expires``) or ``denyVersions`` (without): versions of one package,
    by a range in the format's own language."""

    kind: str
    position: int
    """The entry's index in its list (``exceptions[2]``)."""
    format: str
    namespace: str | None
    package: str
    versions: VersionRange
    versions_text: str
    reason: str
    expires: datetime | None

    @property
    def name(self) -> str:
        """``npm/acme/widgets@1.2.3``: what outcome lines and the ExceptionUsed metric name the entry by."""
        namespace = f"{self.namespace}/" if self.namespace else ""
        return f"{self.format}/{namespace}{self.package}@{self.versions_text}"

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


class VersionEntries:
    """``exceptions`` or ``denyVersions``, indexed by package (one dict lookup per candidate)."""

    __slots__ = ("by_package", "entries")

    def __init__(self, entries: Sequence[VersionEntry] = ()) -> None:
        self.entries = tuple(entries)
        self.by_package: dict[tuple[str, str, str], list[VersionEntry]] = {}
        for entry in self.entries:
            key = (
                entry.format,
                _fold(entry.format, entry.namespace or ""),
                _fold(entry.format, entry.package),
            )
            self.by_package.setdefault(key, []).append(entry)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, candidate: Candidate, now: datetime | None = None) -> VersionEntry | None:
        """The first entry naming ``candidate``'s version (that has not expired at ``now``, when given)."""
        if not self.by_package:
            return None
        fmt = candidate.format
        key = (fmt, _fold(fmt, candidate.namespace or ""), _fold(fmt, candidate.package))
        for entry in self.by_package.get(key, ()):
            if now is not None and entry.expired(now):
                continue
            if entry.versions.contains(candidate.version):
                return entry
        return None


# --------------------------------------------------------------------------- name matching


_LOWER_CASE_FORMATS = frozenset({"nuget", "swift"})


_MEMO_SIZE_FOLD = 4096
"""Folds are pure and asked for the same names by the index and by each rule's globs, per candidate: a
cache hit costs no Python frame (and no trip through ``re.sub``'s pattern cache)."""


@lru_cache(maxsize=_MEMO_SIZE_FOLD)
def _pypi_fold(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=_MEMO_SIZE_FOLD)
def _fold(fmt: str, name: str) -> str:
    """Names compare the way the format's registry stores them (PEP 503 for pypi; lower case for nuget and
    swift, whose names and namespaces CodeArtifact keeps lower-cased)."""
    if fmt == "pypi":
        return _pypi_fold(name)
    if fmt in _LOWER_CASE_FORMATS:
        return name.lower()
    return name


def _glob_regex(patterns: Iterable[str], fold: Callable[[str], str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{translate(fold(p))})" for p in patterns) or "(?!)")


class GlobSet(Record):
    """A list of globs matched through one regex per name-folding mode (case-sensitive, pypi, lower-case).

    The case-sensitive regex is compiled with the set (it also checks the globs, see ``_globs``); the pypi
    and lower-case ones when a name of such a format is first matched: a rule's formats mostly fold one
    way, and each regex compiled costs cold start. Equal when the patterns are.
    """

    __slots__ = ("exact", "lower", "patterns", "pypi")
    _fields = ("patterns",)

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = patterns
        self.exact = _glob_regex(patterns, str)
        self.pypi: re.Pattern[str] | None = None
        self.lower: re.Pattern[str] | None = None

    @classmethod
    def compile(cls, patterns: Sequence[str]) -> GlobSet:
        return cls(tuple(patterns))

    def matches(self, fmt: str, name: str) -> bool:
        if fmt == "pypi":
            return (self.pypi or self._fold_regex("pypi")).match(_pypi_fold(name)) is not None
        if fmt in _LOWER_CASE_FORMATS:
            return (self.lower or self._fold_regex("lower")).match(name.lower()) is not None
        return self.exact.match(name) is not None

    def _fold_regex(self, mode: str) -> re.Pattern[str]:
        if mode == "pypi":
            self.pypi = _glob_regex(self.patterns, _pypi_fold)
            return self.pypi
        self.lower = _glob_regex(self.patterns, str.lower)
        return self.lower


# --------------------------------------------------------------------------- the rule


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
        # Runs for every candidate and rule: fields by unpacking (a NamedTuple's attributes are generic
        # descriptor lookups, an unpacked slice is not).
        domain, owner, source, fmt, namespace, package, version, _, state = candidate[:9]
        (
            _,
            _,
            rule_domain,
            rule_owner,
            rule_source,
            _,
            formats,
            namespaces,
            packages,
            exclude_packages,
            versions,
            _,
            include_prerelease,
            states,
        ) = self[:14]
        if domain != rule_domain or source != rule_source or (rule_owner is not None and owner != rule_owner):
            return DOMAIN
        if formats is not None and fmt not in formats:
            return FORMAT
        if namespaces is not None:
            ns = namespace or ""
            if ns == "":
                if "" not in namespaces.patterns:
                    return NAMESPACE
            elif not namespaces.matches(fmt, ns):
                return NAMESPACE
        if not packages.matches(fmt, package):
            return PACKAGE
        if exclude_packages is not None and exclude_packages.matches(fmt, package):
            return EXCLUDE
        version_range = versions.get(fmt)
        if version_range is not None and not version_range.contains(version):
            return RANGE
        if not include_prerelease and is_prerelease(fmt, version):
            return PRERELEASE
        if state not in states:
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
        """One line, for ``promoter rules check`` and logs."""
        parts = [
            f"{self.name}: {self.domain or '<stack domain>'}/{self.source_repository} -> "
            + ",".join(self.destination_repositories),
            f"formats={','.join(sorted(self.formats)) if self.formats else '*'}",
            f"packages={','.join(self.packages.patterns)}",
        ]
        if self.namespaces is not None:
            parts.append(f"namespaces={','.join(repr(p) for p in self.namespaces.patterns)}")
        if self.exclude_packages is not None:
            parts.append(f"exclude={','.join(self.exclude_packages.patterns)}")
        if self.versions_text is not None:
            parts.append(f"versions={json.dumps(self.versions_text)}")
        parts.append(f"states={','.join(sorted(self.states))}")
        if self.include_prerelease:
            parts.append("prerelease")
        if self.minimum_release_age is not None:
            parts.append(f"minimumReleaseAge={format_duration(self.minimum_release_age)}")
        if self.minimum_release_age_for is not None:
            parts.append(f"minimumReleaseAgeFor={','.join(sorted(self.minimum_release_age_for))}")
        if self.origins is not None:
            parts.append(f"origins={','.join(sorted(self.origins))}")
        if self.freeze is not None:
            until = f"..{self.freeze.until.isoformat()}" if self.freeze.until is not None else ""
            parts.append(f"freeze={self.freeze.published_after.isoformat()}{until}")
        if self.allow_overwrite:
            parts.append("allowOverwrite")
        if self.include_from_upstream:
            parts.append("includeFromUpstream")
        return " ".join(parts)


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


class Explanation(Record):
    __slots__ = ("rejected_by", "rule")
    _fields = ("rule", "rejected_by")

    def __init__(self, rule: Rule, rejected_by: str | None) -> None:
        self.rule = rule
        self.rejected_by = rejected_by  # None: the rule accepts the candidate (age aside)


def _literal_prefix(pattern: str) -> str:
    """The characters a glob fixes before its first wildcard."""
    for i, ch in enumerate(pattern):
        if ch in "*?[":
            return pattern[:i]
    return pattern


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
            prefixes = [_literal_prefix(_fold(fmt, p)) for p in rule.packages.patterns]
            common = prefixes[0]
            for prefix in prefixes[1:]:
                while not prefix.startswith(common):
                    common = common[:-1]
            self.buckets.setdefault(common, []).append(rule)
        self.lengths = sorted({len(prefix) for prefix in self.buckets})

    def lookup(self, package: str) -> list[Rule]:
        name = _fold(self.fmt, package)  # memoized: a C call when the name was seen
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
    """All rules, indexed for lookups that cost the same with 1 rule or 1,000.

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
        rules: tuple[Rule, ...],
        by_source: Mapping[tuple[str, str], tuple[Rule, ...]],
        domains: frozenset[str],
    ) -> None:
        self.rules = rules
        self.by_source = by_source
        self.domains = domains
        self.exceptions = VersionEntries()
        """Top-level ``exceptions``: versions that pass a cooldown and a freeze until they expire."""
        self.deny = VersionEntries()
        """Top-level ``denyVersions``: versions never promoted (reason ``denied``)."""
        self.freeze: Freeze | None = None
        """The top-level ``freeze``: it holds for every rule (beside a rule's own)."""
        self.needs_origin = any(rule.needs_origin for rule in rules)
        """Whether some rule decides by origin (``origins``, ``minimumReleaseAgeFor``)."""
        self._by_format: dict[tuple[str, str, str], _PrefixIndex] = {}
        self._owners: dict[tuple[str, str], tuple[frozenset[str], bool]] = {}
        for key, source_rules in by_source.items():
            named = frozenset(r.domain_owner for r in source_rules if r.domain_owner is not None)
            self._owners[key] = (named, any(r.domain_owner is None for r in source_rules))
            for fmt in FORMATS:
                matching = [r for r in source_rules if r.formats is None or fmt in r.formats]
                if matching:
                    self._by_format[(*key, fmt)] = _PrefixIndex(fmt, matching)

    def __repr__(self) -> str:
        return f"RuleSet({', '.join(r.name for r in self.rules)})"

    @classmethod
    def of(cls, rules: Iterable[Rule]) -> RuleSet:
        ordered = tuple(rules)
        index: dict[tuple[str, str], list[Rule]] = {}
        for rule in ordered:
            index.setdefault((rule.domain, rule.source_repository), []).append(rule)
        return cls(ordered, {k: tuple(v) for k, v in index.items()}, frozenset(r.domain for r in ordered))

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
        domain, owner, source, fmt, _, package = candidate[:6]
        key = (domain, source)
        owners = self._owners.get(key)  # exactly the keys of by_source
        if owners is None:
            return [], ("source" if domain in self.domains else DOMAIN)
        named, any_unnamed = owners
        foreign = own_account is not None and owner != own_account
        if owner not in named and (not any_unnamed or foreign):
            return [], DOMAIN
        index = self._by_format.get((domain, source, fmt))
        if index is None:
            return [], FORMAT
        found = index.lookup(package)
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
                reason = held[0] if held is not None else None
            explained.append(Explanation(rule, reason))
        return explained

    def held_back(
        self,
        rule: Rule,
        published: datetime | None,
        origin_type: str | None,
        now: datetime,
        exception: VersionEntry | None = None,
    ) -> tuple[str, datetime | None, Freeze | None] | None:
        """Why ``rule`` may not copy a version now, a rule it accepts: ``(FREEZE, until, freeze)`` or
        ``(AGE, eligible_at, None)`` (eligible_at None: not known); None when it may. An unexpired
        ``exception`` passes both (only these: every other filter still applies)."""
        if exception is not None and not exception.expired(now):
            return None
        age_eligible: datetime | None = None
        waits = False
        if rule.cooldown_applies(origin_type):
            age_eligible = rule.eligible_at(published)
            waits = age_eligible is None or age_eligible > now
        for freeze in (self.freeze, rule.freeze):
            if freeze is not None and freeze.active(now) and freeze.covers(published):
                until = freeze.until
                if until is not None and waits:
                    until = max(until, age_eligible) if age_eligible is not None else None
                return FREEZE, until, freeze
        if waits:
            return AGE, age_eligible, None
        return None

    def needs_published_time(self, rule: Rule, origin_type: str | None, now: datetime) -> bool:
        """Whether ``held_back`` reads the publish time for ``rule`` (a cooldown or a freeze that holds)."""
        if rule.cooldown_applies(origin_type):
            return True
        return any(f is not None and f.active(now) for f in (self.freeze, rule.freeze))

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


# --------------------------------------------------------------------------- loading & validation


def _string_list(rule: str, key: str, value: Any, *, allow_empty_item: bool = False) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise RulesError("must be a non-empty list of strings", rule=rule, field=key)
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise RulesError(f"{quote(item)} is not a string", rule=rule, field=key)
        if not item and not allow_empty_item:
            raise RulesError("empty string is not allowed", rule=rule, field=key)
        if item in out:
            raise RulesError(f"{quote(item)} is listed twice", rule=rule, field=key)
        out.append(item)
    return out


def _globs(rule: str, key: str, value: Any, *, allow_empty_item: bool = False) -> GlobSet:
    """The checked globs, compiled; the first pattern at fault (in list order) is refused.

    A pattern is checked as a regex through the set's own regex, which joins them all: one compile instead
    of one more per pattern, and only a set that fails to compile is searched pattern by pattern.
    """
    patterns = _string_list(rule, key, value, allow_empty_item=allow_empty_item)
    for index, pattern in enumerate(patterns):
        problem = _glob_problem(pattern)
        if problem is not None:
            _refuse_bad_regex(rule, key, patterns[:index])  # an earlier pattern's fault comes first
            raise RulesError(f"{quote(pattern)} {problem}", rule=rule, field=key)
    try:
        return GlobSet.compile(patterns)
    except re.error:
        _refuse_bad_regex(rule, key, patterns)
        raise


def _glob_problem(pattern: str) -> str | None:
    """What makes ``pattern`` no glob, regex aside (see ``_refuse_bad_regex``), or None."""
    if len(pattern) > 255 or not pattern.isprintable():
        return "is not a valid glob (printable, at most 255 characters)"
    depth = 0
    for ch in pattern:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
    if depth:
        return "is not a valid glob: unclosed '['"
    return None


def _refuse_bad_regex(rule: str, key: str, patterns: Sequence[str]) -> None:
    """Refuse the first of ``patterns`` whose regex does not compile."""
    for pattern in patterns:
        try:
            re.compile(translate(pattern))
        except re.error as exc:
            raise RulesError(f"{quote(pattern)} is not a valid glob: {exc}", rule=rule, field=key) from None


def _bool(rule: str, key: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RulesError(f"must be true or false, not {quote(value)}", rule=rule, field=key)
    return value


def _repository(rule: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(_REPOSITORY_RE, value):
        raise RulesError(f"{quote(value)} is not a valid repository name", rule=rule, field=key)
    return value


def _compile_versions(
    rule: str, value: Any, formats: frozenset[str] | None
) -> tuple[dict[str, VersionRange], str | dict[str, str] | None]:
    if value is None:
        return {}, None
    compiled: dict[str, VersionRange] = {}
    if isinstance(value, str):
        if formats is None:
            raise RulesError(
                "a range is written in one format's language: "
                "list 'formats', or give a mapping format -> range",
                rule=rule,
                field="versions",
            )
        for fmt in sorted(formats):
            try:
                compiled[fmt] = compile_range(fmt, value)
            except InvalidRange as exc:
                raise RulesError(
                    f"{quote(value)} is not a valid {fmt} range: {exc} (expected {GRAMMARS[fmt]})",
                    rule=rule,
                    field="versions",
                ) from None
        return compiled, value
    if isinstance(value, Mapping) and value:
        text: dict[str, str] = {}
        for fmt, expression in value.items():
            if fmt not in FORMATS:
                raise RulesError(f"{quote(fmt)} is not a known format", rule=rule, field="versions")
            if formats is not None and fmt not in formats:
                raise RulesError(
                    f"format {quote(fmt)} is not in the rule's formats", rule=rule, field="versions"
                )
            if not isinstance(expression, str):
                raise RulesError(f"the {fmt} range must be a string", rule=rule, field="versions")
            try:
                compiled[fmt] = compile_range(fmt, expression)
            except InvalidRange as exc:
                raise RulesError(
                    f"{quote(expression)} is not a valid {fmt} range: {exc} (expected {GRAMMARS[fmt]})",
                    rule=rule,
                    field="versions",
                ) from None
            text[fmt] = expression
        return compiled, text
    raise RulesError("must be a range string or a mapping format -> range", rule=rule, field="versions")


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


def _domain_and_owner(label: str, raw: Mapping[str, Any], scope: StackScope) -> tuple[str, str | None]:
    """The rule's domain and owner: its own, which must be the stack's, or the stack's when it names none."""
    domain = raw.get("domain")
    if domain is None:
        if scope.domain is not None:
            domain = scope.domain
        elif scope.require_domain:
            raise RulesError(f"is required: {scope.unset_hint}", rule=label, field="domain")
        else:
            domain = ""  # `promoter rules check` without a stack domain: whichever domain the stack names
    elif not isinstance(domain, str) or not re.fullmatch(DOMAIN_PATTERN, domain):
        raise RulesError(
            f"{quote(domain)} is not a valid CodeArtifact domain name", rule=label, field="domain"
        )
    elif scope.domain is not None and domain != scope.domain:
        raise RulesError(
            f"{quote(domain)} is not the stack's domain {quote(scope.domain)} (DOMAIN_NAME): omit 'domain' "
            "to mean the stack's, or deploy a stack for that domain",
            rule=label,
            field="domain",
        )
    owner = raw.get("domainOwner")
    if owner is None:
        return domain, scope.owner
    if not isinstance(owner, str) or not re.fullmatch(ACCOUNT_PATTERN, owner):
        raise RulesError(
            f"{quote(owner)} is not a 12-digit account id (quote it in YAML)", rule=label, field="domainOwner"
        )
    if scope.owner is not None and owner != scope.owner:
        raise RulesError(
            f"{quote(owner)} is not the stack's domain owner {quote(scope.owner)} (DOMAIN_OWNER): omit "
            "'domainOwner' to mean the stack's",
            rule=label,
            field="domainOwner",
        )
    if scope.owner is None and scope.own_account is not None and owner != scope.own_account:
        raise RulesError(
            f"{quote(owner)} is not the function's own account {quote(scope.own_account)}, whose domain "
            "the stack serves (its DomainOwner is empty): omit 'domainOwner', or deploy a stack with that "
            "DomainOwner",
            rule=label,
            field="domainOwner",
        )
    return domain, owner


def compile_rule(raw: Any, index: int, scope: StackScope | None = None) -> Rule:
    """Validate and compile one rule document; errors name the rule (or its position) and the field.
    ``scope`` is the stack's domain and owner (what a rule without ``domain``/``domainOwner`` means)."""
    scope = scope if scope is not None else StackScope()
    label = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        raise RulesError("must be a mapping", rule=label)
    name = raw.get("name")
    if isinstance(name, str) and name.strip() and len(name) <= 128 and name.isprintable():
        label = name
    else:
        raise RulesError(
            "must be a non-empty printable string of at most 128 characters", rule=label, field="name"
        )
    unknown = sorted(set(map(str, raw)) - RULE_KEYS)
    if unknown:
        raise RulesError(
            f"unknown key (allowed: {', '.join(sorted(RULE_KEYS))})", rule=label, field=unknown[0]
        )
    domain, owner = _domain_and_owner(label, raw, scope)  # first, as in the documented key order
    for key in REQUIRED_KEYS:
        if raw.get(key) is None:
            raise RulesError("is required", rule=label, field=key)
    source = _repository(label, "sourceRepository", raw["sourceRepository"])
    destinations = _string_list(label, "destinationRepositories", raw["destinationRepositories"])
    for destination in destinations:
        _repository(label, "destinationRepositories", destination)
        if destination == source:
            raise RulesError(
                f"{quote(destination)} is the source repository: a rule cannot copy into its own source",
                rule=label,
                field="destinationRepositories",
            )
    formats: frozenset[str] | None = None
    if raw.get("formats") is not None:
        listed = _string_list(label, "formats", raw["formats"])
        for fmt in listed:
            if fmt not in FORMATS:
                raise RulesError(
                    f"{quote(fmt)} is not a known format ({', '.join(sorted(FORMATS))})",
                    rule=label,
                    field="formats",
                )
        formats = frozenset(listed)
    namespaces = (
        _globs(label, "namespaces", raw["namespaces"], allow_empty_item=True)
        if raw.get("namespaces") is not None
        else None
    )
    packages = _globs(label, "packages", raw.get("packages", ["*"]))
    exclude = _globs(label, "excludePackages", raw["excludePackages"]) if raw.get("excludePackages") else None
    for key, globs in (("packages", packages), ("excludePackages", exclude)):
        for pattern in globs.patterns if globs is not None else ():
            if "/" in pattern:
                raise RulesError(
                    f"{quote(pattern)} can never match: CodeArtifact package names contain no '/'; the npm "
                    "scope or Maven group is the namespace (namespaces: [acme], packages: [widgets])",
                    rule=label,
                    field=key,
                )
    versions, versions_text = _compile_versions(label, raw.get("versions"), formats)
    states: frozenset[str] = frozenset({"Published"})
    if raw.get("states") is not None:
        listed = _string_list(label, "states", raw["states"])
        for state in listed:
            if state not in STATES:
                raise RulesError(
                    f"{quote(state)} is not a state ({', '.join(sorted(STATES))})", rule=label, field="states"
                )
        states = frozenset(listed)
    age: timedelta | None = None
    if raw.get("minimumReleaseAge") is not None:
        try:
            age = parse_duration(raw["minimumReleaseAge"])
        except ValueError as exc:
            raise RulesError(str(exc), rule=label, field="minimumReleaseAge") from None
    age_for = _origins(label, "minimumReleaseAgeFor", raw.get("minimumReleaseAgeFor"))
    if age_for is not None and age is None:
        raise RulesError(
            "has no effect without minimumReleaseAge: give the rule a minimumReleaseAge, or drop this key",
            rule=label,
            field="minimumReleaseAgeFor",
        )
    freeze = (
        _freeze(raw["freeze"], f"rule {quote(label, 140)}, field 'freeze'", rule=label)
        if raw.get("freeze") is not None
        else None
    )
    return Rule(
        name=label,
        position=index,
        domain=domain,
        domain_owner=owner,
        source_repository=source,
        destination_repositories=tuple(destinations),
        formats=formats,
        namespaces=namespaces,
        packages=packages,
        exclude_packages=exclude,
        versions=versions,
        versions_text=versions_text,
        include_prerelease=_bool(label, "includePrerelease", raw.get("includePrerelease"), False),
        states=states,
        allow_overwrite=_bool(label, "allowOverwrite", raw.get("allowOverwrite"), False),
        include_from_upstream=_bool(label, "includeFromUpstream", raw.get("includeFromUpstream"), False),
        minimum_release_age=age,
        minimum_release_age_for=age_for,
        origins=_origins(label, "origins", raw.get("origins")),
        freeze=freeze,
    )


def _origins(rule: str, key: str, value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    listed = _string_list(rule, key, value)
    for origin in listed:
        if origin not in ORIGIN_TYPES:
            hint = " (an unknown origin already counts as EXTERNAL)" if origin.upper() == "UNKNOWN" else ""
            raise RulesError(f"{quote(origin)} is not INTERNAL or EXTERNAL{hint}", rule=rule, field=key)
    return frozenset(listed)


def _freeze(value: Any, where: str, *, rule: str | None = None, field: str = "freeze") -> Freeze:
    """``{publishedAfter: TIMESTAMP, until: TIMESTAMP}`` (``until`` optional, after ``publishedAfter``)."""
    if not isinstance(value, Mapping):
        raise RulesError(
            "must be a mapping with publishedAfter (and optionally until)", rule=rule, field=field
        )
    unknown = sorted(set(map(str, value)) - FREEZE_KEYS)
    if unknown:
        raise RulesError(
            f"unknown key {quote(unknown[0])} (allowed: publishedAfter, until)", rule=rule, field=field
        )
    if value.get("publishedAfter") is None:
        raise RulesError("is required", rule=rule, field=f"{field}.publishedAfter")
    times: dict[str, datetime | None] = {"publishedAfter": None, "until": None}
    for key in times:
        if value.get(key) is not None:
            try:
                times[key] = parse_timestamp(value[key])
            except ValueError as exc:
                raise RulesError(str(exc), rule=rule, field=f"{field}.{key}") from None
    after, until = times["publishedAfter"], times["until"]
    assert after is not None
    if until is not None and until <= after:
        raise RulesError("must be later than publishedAfter", rule=rule, field=f"{field}.until")
    return Freeze(after, until, where)


def _version_entries(document: Mapping[str, Any], kind: str) -> VersionEntries:
    """``exceptions`` (every key but ``namespace`` required, ``expires`` included) or ``denyVersions`` (the
    same without ``expires``); errors name the entry (``exceptions[2]``) and its field."""
    raw = document.get(kind)
    if raw is None:
        return VersionEntries()
    if not isinstance(raw, list):
        raise RulesError("must be a list of entries", field=kind)
    allowed = EXCEPTION_KEYS if kind == "exceptions" else DENY_KEYS
    required = sorted(allowed - {"namespace"})
    entries: list[VersionEntry] = []
    for index, item in enumerate(raw):
        where = f"{kind}[{index}]"
        if not isinstance(item, Mapping):
            raise RulesError(f"must be a mapping with {', '.join(required)}", field=where)
        unknown = sorted(set(map(str, item)) - allowed)
        if unknown:
            raise RulesError(
                f"unknown key (allowed: {', '.join(sorted(allowed))})", field=f"{where}.{unknown[0]}"
            )
        for key in required:
            if item.get(key) is None or item.get(key) == "":
                why = {
                    "expires": "is required: an exception without an end date is a hole nobody closes",
                    "reason": "is required: say why (it is logged with every version the entry decides)",
                }.get(key, "is required")
                raise RulesError(why, field=f"{where}.{key}")
        fmt = item["format"]
        if fmt not in FORMATS:
            raise RulesError(
                f"{quote(fmt)} is not a known format ({', '.join(sorted(FORMATS))})", field=f"{where}.format"
            )
        names: dict[str, str | None] = {}
        for key in ("namespace", "package"):
            value = item.get(key)
            if value is None:
                names[key] = None
                continue
            if not isinstance(value, str) or not value or len(value) > 255 or re.search(r"[#/\s]", value):
                raise RulesError(
                    f"{quote(value)} is not a {key} name (no '/', '#' or whitespace; no globs)",
                    field=f"{where}.{key}",
                )
            names[key] = value[1:] if key == "namespace" and fmt == "npm" and value.startswith("@") else value
        versions_text = item["versions"]
        if not isinstance(versions_text, str):
            raise RulesError(f"must be a {fmt} version or range as a string", field=f"{where}.versions")
        try:
            version_range = compile_range(fmt, versions_text)
        except InvalidRange as exc:
            raise RulesError(
                f"{quote(versions_text)} is not a valid {fmt} version or range: {exc} "
                f"(expected {GRAMMARS[fmt]})",
                field=f"{where}.versions",
            ) from None
        reason = item["reason"]
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 1000:
            raise RulesError("must be a non-empty string of at most 1000 characters", field=f"{where}.reason")
        expires: datetime | None = None
        if kind == "exceptions":
            try:
                expires = parse_timestamp(item["expires"])
            except ValueError as exc:
                raise RulesError(str(exc), field=f"{where}.expires") from None
        entries.append(
            VersionEntry(
                kind,
                index,
                fmt,
                names["namespace"],
                str(names["package"]),
                version_range,
                versions_text,
                reason.strip(),
                expires,
            )
        )
    return VersionEntries(entries)


def _check_cycles(rules: Sequence[Rule]) -> None:
    """Reject any cycle of copies (a -> b -> a) within a domain: it would promote forever."""
    edges: dict[tuple[str, str], list[tuple[str, Rule]]] = {}
    for rule in rules:
        for destination in rule.destination_repositories:
            edges.setdefault((rule.domain, rule.source_repository), []).append((destination, rule))
    white, grey, black = 0, 1, 2
    colour: dict[tuple[str, str], int] = {}

    def visit(node: tuple[str, str], path: list[tuple[tuple[str, str], Rule | None]]) -> None:
        colour[node] = grey
        for destination, rule in edges.get(node, []):
            nxt = (node[0], destination)
            state = colour.get(nxt, white)
            if state == grey:
                cycle_start = next(i for i, (n, _) in enumerate(path) if n == nxt)
                repos = [n[1] for n, _ in path[cycle_start:]] + [nxt[1]]
                names = [r.name for _, r in path[cycle_start + 1 :] if r is not None] + [rule.name]
                raise RulesError(
                    "rules form a cycle "
                    + " -> ".join(repos)
                    + f" in domain {quote(node[0])} (rules: {', '.join(dict.fromkeys(names))})",
                    rule=rule.name,
                    field="destinationRepositories",
                )
            if state == white:
                visit(nxt, [*path, (nxt, rule)])
        colour[node] = black

    for node in sorted(edges):
        if colour.get(node, white) == white:
            visit(node, [(node, None)])


def _check_allowed(rules: Sequence[Rule], sources: Sequence[str], destinations: Sequence[str]) -> None:
    """Defence in depth beside IAM: refuse rules that reach outside the stack's configured repositories."""

    def allowed(domain: str, repository: str, entries: Sequence[str]) -> bool:
        if not domain:  # `rules check` without the stack's domain: any domain's entry for the repository
            return not entries or any(entry.rpartition("/")[2] == repository for entry in entries)
        return not entries or repository in entries or f"{domain}/{repository}" in entries

    for rule in rules:
        if not allowed(rule.domain, rule.source_repository, sources):
            raise RulesError(
                f"{quote(rule.source_repository)} is not in ALLOWED_SOURCE_REPOSITORIES "
                f"({', '.join(sources)})",
                rule=rule.name,
                field="sourceRepository",
            )
        for destination in rule.destination_repositories:
            if not allowed(rule.domain, destination, destinations):
                raise RulesError(
                    f"{quote(destination)} is not in ALLOWED_DESTINATION_REPOSITORIES "
                    f"({', '.join(destinations)})",
                    rule=rule.name,
                    field="destinationRepositories",
                )


def build_ruleset(
    document: Any,
    *,
    allowed_sources: Sequence[str] = (),
    allowed_destinations: Sequence[str] = (),
    scope: StackScope | None = None,
) -> RuleSet:
    """Validate a parsed rules document (``{"rules": [...]}``) and compile it, within the stack's ``scope``
    (its domain and owner) and repositories (``allowed_*``)."""
    raw_rules = _rules_list(document)
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule = compile_rule(raw, index, scope)
        if rule.name in seen:
            raise RulesError("duplicate rule name", rule=rule.name, field="name")
        seen.add(rule.name)
        rules.append(rule)
    _check_cycles(rules)
    _check_allowed(rules, allowed_sources, allowed_destinations)
    ruleset = RuleSet.of(rules)
    ruleset.exceptions = _version_entries(document, "exceptions")
    ruleset.deny = _version_entries(document, "denyVersions")
    if document.get("freeze") is not None:
        ruleset.freeze = _freeze(document["freeze"], "field 'freeze'")
    return ruleset


def _rules_list(document: Any) -> list[Any]:
    """The document's shape: a mapping whose one key, ``rules``, is a non-empty list."""
    if not isinstance(document, Mapping):
        raise RulesError("the rules document must be a mapping with a 'rules' list")
    unknown = sorted(set(map(str, document)) - TOP_LEVEL_KEYS)
    if unknown:
        raise RulesError(
            f"unknown top-level key {quote(unknown[0])} (allowed: {', '.join(sorted(TOP_LEVEL_KEYS))})"
        )
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RulesError("'rules' must be a non-empty list")
    return raw_rules


def parse_rules_text(text: str, *, source: str = "rules") -> Any:
    """Parse a JSON or YAML rules document.

    JSON is tried first, also for YAML files written in JSON's syntax with ``#`` comment lines
    (JSON is YAML, and no JSON string spans lines, so dropping whole comment lines is safe):
    such a file is read without importing a YAML parser, which costs more cold start than
    everything else the function loads for its rules. Anything else goes to PyYAML's safe loader.
    """
    is_json_file = source.endswith(".json")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    if body.lstrip().startswith("{") or is_json_file:
        too_deep = _json_too_deep(body if not is_json_file else text)
        try:
            if too_deep:
                raise UnsafeDocument(f"{source}: {_TOO_DEEP}")
            return json.loads(body if not is_json_file else text, object_pairs_hook=_unique_keys)
        except RecursionError:  # never expected after the depth check; still a RulesError, not a crash
            raise UnsafeDocument(f"{source}: {_TOO_DEEP}") from None
        except ValueError as exc:
            if isinstance(exc, RulesError):
                raise
            if is_json_file:
                raise RulesError(f"{source}: not valid JSON: {exc}") from None
    import yaml  # noqa: PLC0415 - lazy: only YAML documents pay for the import

    class UniqueKeyLoader(yaml.SafeLoader):
        """SafeLoader that refuses a key written twice in one mapping (PyYAML keeps the last silently).
        Keys brought in by a merge (``<<: *base``) may still be overridden, as YAML intends.

        It also refuses, before anything is constructed, nesting deeper than ``MAX_DEPTH`` (PyYAML's
        composer recurses once per level: 100,000 levels would end in RecursionError) and aliases that
        expand the document by more than ``MAX_ALIAS_EXPANSION`` nodes (an alias-expansion bomb)."""

        depth = 0

        def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise UnsafeDocument(f"{source}: {_TOO_DEEP}")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_document(self, node: yaml.Node) -> Any:
            _refuse_alias_bomb(node, source)
            return super().construct_document(node)

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            pairs = [
                (self.construct_object(k, deep=True), v)
                for k, v in node.value
                if k.tag != "tag:yaml.org,2002:merge"
            ]
            _check_unique_keys(
                [k for k, _ in pairs],
                lambda: next(
                    (
                        self.construct_object(v)
                        for k, v in pairs
                        if k == "name" and isinstance(v, yaml.ScalarNode)
                    ),
                    None,
                ),
            )
            return super().construct_mapping(node, deep=deep)

    # Mappings through construct_mapping above even when a library in the process has replaced SafeLoader's
    # own map constructor (SAM CLI's yaml_parse does, with one that never calls construct_mapping).
    def construct_map(loader: UniqueKeyLoader, node: yaml.MappingNode) -> Any:
        return loader.construct_yaml_map(node)  # a generator, as PyYAML's own map constructor is

    UniqueKeyLoader.add_constructor("tag:yaml.org,2002:map", construct_map)
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {_short(str(exc))}") from None
    except RecursionError:  # never expected after the depth check; still a RulesError, not a crash
        raise UnsafeDocument(f"{source}: {_TOO_DEEP}") from None


def _short(text: str, limit: int = 600) -> str:
    """A parser's message, at most ``limit`` characters (it quotes the offending line, which may be huge)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TOO_DEEP = f"lists and mappings are nested more than {MAX_DEPTH} levels deep (a rules document needs four)"


def _json_too_deep(text: str) -> bool:
    """Whether JSON text nests more than ``MAX_DEPTH`` levels: counted over the brackets outside strings
    before parsing (json's parser recurses once per level, up to RecursionError)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    # Strings (with their escapes) are skipped whole: brackets inside them do not nest anything.
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        ch = token.group()
        if ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _refuse_alias_bomb(root: Any, source: str) -> None:
    """Refuse a composed YAML document whose aliases expand it by more than ``MAX_ALIAS_EXPANSION`` nodes,
    or refer to themselves. Sizes are counted once per distinct node (aliases share the node they name), so
    this costs the written document's size however large its expansion would be."""
    import yaml  # noqa: PLC0415 - only YAML documents get here

    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    distinct = 0

    def size(node: Any) -> int:
        nonlocal distinct
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise UnsafeDocument(f"{source}: an alias refers to a list or mapping that contains it")
        distinct += 1
        total = 1
        if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            in_progress.add(key)
            children = (
                node.value
                if isinstance(node, yaml.SequenceNode)
                else [child for pair in node.value for child in pair]
            )
            for child in children:
                total += size(child)
                if total > MAX_ALIAS_EXPANSION + distinct:
                    break
            in_progress.discard(key)
        sizes[key] = total
        return total

    expanded = size(root)
    if expanded > MAX_ALIAS_EXPANSION + distinct:
        raise UnsafeDocument(
            f"{source}: YAML aliases expand the document to more than {MAX_ALIAS_EXPANSION:,} more nodes "
            "than it is written with (an alias-expansion bomb?); write the rules out"
        )


def _check_unique_keys(keys: list[Any], rule_name: Callable[[], Any]) -> None:
    """Refuse a repeated key: a rule with two ``versions:`` lines must not keep whichever came last
    without a word (what json and PyYAML do)."""
    seen: set[Any] = set()
    for key in keys:
        try:
            repeated = key in seen
        except TypeError:  # an unhashable key: the loader reports it
            continue
        if repeated:
            name = rule_name()
            raise RulesError(
                "is given twice in one mapping", rule=name if isinstance(name, str) else None, field=str(key)
            )
        seen.add(key)


def _unique_keys(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """json's object_pairs_hook: a dict, after refusing repeated keys."""
    _check_unique_keys([k for k, _ in pairs], lambda: next((v for k, v in pairs if k == "name"), None))
    return dict(pairs)


def load_rules_text(
    text: str,
    *,
    source: str = "rules",
    allowed_sources: Sequence[str] = (),
    allowed_destinations: Sequence[str] = (),
    scope: StackScope | None = None,
) -> RuleSet:
    return build_ruleset(
        parse_rules_text(text, source=source),
        allowed_sources=allowed_sources,
        allowed_destinations=allowed_destinations,
        scope=scope,
    )


def load_rules_parameter(
    text: str,
    *,
    name: str,
    allowed_sources: Sequence[str] = (),
    allowed_destinations: Sequence[str] = (),
    scope: StackScope | None = None,
) -> RuleSet:
    """Rules from the value of the SSM parameter ``name``.

    A value that is no rules document at all is nearly always the wrong parameter type: a SecureString
    arrives encrypted (moto: ``kms:alias/aws/ssm:<text>``, AWS: base64), which reads as an unknown
    top-level key or a bare string. The error says so, naming the parameter; errors inside a rule
    (those name the rule or field) are the rules' own and pass unchanged.
    """
    try:
        document = parse_rules_text(text, source=name)
        _rules_list(document)
    except RulesError as exc:
        if exc.rule is not None or exc.field is not None or isinstance(exc, UnsafeDocument):
            raise
        raise RulesError(
            f"SSM parameter {quote(name, 300)} does not hold a rules document ({exc}): it must be a String "
            "parameter (not SecureString, whose value arrives encrypted, nor StringList) whose value "
            "is the rules as YAML or JSON text"
        ) from None
    return build_ruleset(
        document, allowed_sources=allowed_sources, allowed_destinations=allowed_destinations, scope=scope
    )


def load_rules_file(
    path: str,
    *,
    allowed_sources: Sequence[str] = (),
    allowed_destinations: Sequence[str] = (),
    scope: StackScope | None = None,
) -> RuleSet:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise RulesError(f"cannot read rules file {quote(path, 300)}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RulesError(f"rules file {quote(path, 300)} is not UTF-8 text") from None
    return load_rules_text(
        text,
        source=path,
        allowed_sources=allowed_sources,
        allowed_destinations=allowed_destinations,
        scope=scope,
    )
