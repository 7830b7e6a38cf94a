"""Format-aware version ranges and prerelease detection.

Each package format has its own version language, so a rule's ``versions`` is read
in the language of the format it applies to:

- pypi: PEP 440 specifiers (``packaging``, imported only when a pypi range is compiled);
- maven: Maven ranges (``[1.0,2.0)``, ``(,1.0],[1.2,)``, ``[1.2]``) ordered by Maven's
  ComparableVersion rules (``univers.maven``, imported only when a maven range is compiled);
  a bare version (``1.0``) means exactly that version, not Maven's "soft requirement",
  because a promotion filter that matches everything by accident is worse than a strict one.
  Every version in a Maven range starts with a digit (``v`` allowed) and holds only letters,
  digits, ``.``, ``-``, ``_`` and ``+``, with no wildcard segment: ``>=1.0``, ``^1.2``, ``1.x`` and
  ``*`` are other formats' syntax, which Maven would read as literal versions that no build
  ever has, so they are refused instead of rejecting every version;
- nuget: NuGet ranges (``[1.0,2.0)``, bare ``1.0`` means ``>= 1.0``) with NuGet's ordering
  (up to four numeric parts, case-insensitive prerelease labels);
- npm: node-semver ranges (``^1.2.3``, ``~1.2``, ``1.x``, ``>=1 <2``, ``1.0.0 - 2.0.0``, ``||``),
  compared as SemVer 2, exactly as node-semver with ``includePrerelease`` (a differential test
  holds us to it), plus one extension: a comma is AND between comparators (``>=1.0.0,<2`` is
  ``>=1.0.0 <2``, i.e. >=1.0.0 <2.0.0-0). A comma is never valid in node-semver, so no range
  changes meaning; the extension exists because the rules schema writes one range for several
  formats (``formats: [npm, pypi]``, ``versions: ">=1.0.0,<2"``) and PEP 440 needs the comma;
- cargo: Cargo's requirements: node-semver's grammar with commas, where a bare version is a caret
  requirement (``1.2.3`` = ``^1.2.3``, ``1.2`` = ``^1.2`` = >=1.2.0 <2.0.0, ``0.2.3`` = >=0.2.3 <0.3.0);
  ``~1.2``, ``=1.2.3``, ``*``, ``1.*``/``1.2.x`` and ``>=1.2, <1.5`` mean what Cargo says.
  ``||`` and hyphen ranges, which Cargo lacks, are still accepted with node-semver's meaning.
  Prereleases compare plainly (below), not by Cargo's same-major.minor.patch rule;
- ruby: RubyGems requirements (``~> 1.2`` = >=1.2 <2.0, ``~> 1.2.3`` = >=1.2.3 <1.3,
  ``>= 1.0, < 2``; operators ``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=``, ``~>``; a bare version
  means ``=``), over ``Gem::Version`` order (segments split on dots and letter/number boundaries;
  a letter segment is a prerelease and sorts before numbers, so 1.0.0.pre < 1.0.0; ``-`` reads as
  ``.pre.``). An expression that is not a gem requirement (``^1.2``, ``>=1 <2``, ``*``, ``||``),
  or whose version has an ``x`` segment (``1.x``: a literal Gem::Version, but meant as a wildcard),
  is read as node-semver over lenient SemVer versions, as before; one that uses ``~>`` but
  is not a gem requirement is refused rather than read as node-semver's ``~``. Our own small
  grammar, not ``univers.gem``: that is a faithful port (a differential test compares the two)
  but costs ~70 µs a check and 11 ms to import;
- generic, swift: node-semver ranges with commas, over lenient SemVer versions (``1.2`` is
  ``1.2.0``).

Prerelease handling is separate from ranges (a rule's ``includePrerelease``), so ranges
here compare prereleases plainly, like node-semver's ``includePrerelease: true``.
Everything is regex and tuple based so that matching costs microseconds per version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol

from promoter.record import Record

FORMATS: frozenset[str] = frozenset({"npm", "pypi", "maven", "nuget", "generic", "ruby", "swift", "cargo"})
"""Package formats in the current CodeArtifact API model."""

NAMESPACE_REQUIRED: frozenset[str] = frozenset({"maven", "swift", "generic"})


class InvalidRange(ValueError):
    """A version range that is not valid in its format's language."""


GRAMMARS: dict[str, str] = {
    "pypi": "PEP 440 specifiers such as '>=1.0,<2' or '~=1.4'",
    "maven": "Maven ranges such as '[1.0,2.0)', '(,1.0],[1.2,)', '[1.2,)' or an exact version '1.2.3'",
    "nuget": "NuGet ranges such as '[1.0,2.0)', '(,1.0]' or a minimum version '1.0'",
    "npm": "node-semver ranges such as '^1.2.3', '>=1.0.0 <2', '1.x' or '*'",
    "cargo": "Cargo requirements such as '^1.2', '~1.2.3', '>=1.2, <1.5' or '*'",
    "ruby": "RubyGems requirements such as '~> 1.2' or '>= 1.0, < 2' (or a node-semver range)",
    "generic": "node-semver ranges such as '^1.2.3', '>=1.0.0 <2', '1.x' or '*'",
    "swift": "node-semver ranges such as '^1.2.3', '>=1.0.0 <2', '1.x' or '*'",
}
"""What each format's ``versions`` must look like, for the error that refuses a range."""


class VersionRange(Protocol):
    """A compiled range: ``contains`` never raises, an unparseable version is simply outside."""

    @property
    def expression(self) -> str: ...

    def contains(self, version: str) -> bool: ...


class _LazyRegex:
    """A regex compiled on first use: most rule sets never need the SemVer/NuGet grammars, and
    compiling them all at import would cost cold start."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def _regex(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self._regex().match(text, pos)

    def findall(self, text: str) -> list[Any]:
        return self._regex().findall(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self._regex().search(text)

    def sub(self, replacement: str, text: str) -> str:
        return self._regex().sub(replacement, text)


# --------------------------------------------------------------------------- prereleases

_SEMVER_PRE = _LazyRegex(r"^[^+]*-")
# PEP 440, Appendix B (the canonical version regex); a version is a prerelease when it has a pre or dev part.
_PEP440 = _LazyRegex(
    r"""^\s*v?
    (?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*
    (?P<pre>[-_.]?(?:alpha|beta|preview|pre|rc|a|b|c)[-_.]?[0-9]*)?
    (?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?
    (?P<dev>[-_.]?dev[-_.]?[0-9]*)?
    (?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_PEP440_PRE = _LazyRegex(r"(?:^|[0-9._-])(?:a|b|c|rc|alpha|beta|pre|preview|dev)(?:[0-9._-]|$)")
_MAVEN_TOKEN = _LazyRegex(r"[0-9]+|[a-z]+")
_MAVEN_PRE_WORDS = frozenset(
    {"alpha", "beta", "milestone", "rc", "cr", "snapshot", "preview", "pre", "dev", "ea", "incubating"}
)
_MAVEN_PRE_LETTERS = frozenset({"a", "b", "m"})


_MEMO_SIZE_PRE = 4096
"""is_prerelease is pure and asked once per rule for the same versions (see MemoRange)."""


@lru_cache(maxsize=_MEMO_SIZE_PRE)
def is_prerelease(fmt: str, version: str) -> bool:
    """Whether ``version`` is a prerelease in ``fmt``'s own sense.

    pypi: a pre-release or development release (PEP 440 ``is_prerelease``);
    maven: a qualifier that sorts before the release (alpha, beta, milestone, rc/cr,
    SNAPSHOT, plus the common preview/dev/ea spellings; ``a1``/``b2``/``m3`` shorthands);
    ruby: any letter or ``-`` (``Gem::Version#prerelease?``, which reads ``-`` as ``.pre.``);
    npm, nuget and the rest: a SemVer ``-`` label.
    """
    if fmt == "pypi":
        m = _PEP440.match(version)
        if m is not None:
            return m.group("pre") is not None or m.group("dev") is not None
        public = version.split("+", 1)[0].lower()  # not PEP 440: the closest reading
        return _PEP440_PRE.search(public) is not None
    if fmt == "maven":
        tokens = _MAVEN_TOKEN.findall(version.lower())
        for i, tok in enumerate(tokens):
            if tok in _MAVEN_PRE_WORDS:
                return True
            if tok in _MAVEN_PRE_LETTERS and i + 1 < len(tokens) and tokens[i + 1].isdigit():
                return True
        return False
    if fmt == "ruby":
        return any(ch.isalpha() or ch == "-" for ch in version)  # Gem::Version reads "-" as ".pre."
    return _SEMVER_PRE.match(version) is not None


# --------------------------------------------------------------------------- SemVer (npm & co)

_SEMVER = _LazyRegex(
    r"^\s*[vV=]?\s*(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?\s*$"
)
# Lenient form for formats whose versions are "semver-ish" (generic, swift, cargo, ruby):
# missing minor/patch count as 0, leading zeros tolerated.
_SEMVER_LOOSE = _LazyRegex(
    r"^\s*[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?\s*$"
)

SemverKey = tuple[int, int, int, tuple[Any, ...]]
_RELEASE: tuple[Any, ...] = (1,)


def _pre_key(pre: str | None, *, fold_case: bool = False) -> tuple[Any, ...]:
    """Prerelease order: a release sorts after its prereleases; numeric ids before alphanumeric ones."""
    if not pre:
        return _RELEASE
    ids: list[tuple[int, Any]] = []
    for part in pre.split("."):
        if part.isdigit():
            ids.append((0, int(part)))
        else:
            ids.append((1, part.lower() if fold_case else part))
    return (0, *ids)


@lru_cache(maxsize=4096)
def semver_key(version: str, loose: bool = False) -> SemverKey | None:
    """Sort key of a SemVer 2 version, or None when it is not one."""
    m = (_SEMVER_LOOSE if loose else _SEMVER).match(version)
    if m is None:
        return None
    major, minor, patch, pre = m.groups()
    return (int(major), int(minor or 0), int(patch or 0), _pre_key(pre))


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
}

_XR = r"(?:[xX*]|0|[1-9]\d*)"
_PARTIAL = _LazyRegex(
    rf"^(?P<op><=|>=|<|>|=|~>|~|\^)?[vV=]?(?P<M>{_XR})(?:\.(?P<m>{_XR})(?:\.(?P<p>{_XR})"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?$"
)
_HYPHEN = _LazyRegex(r"^\s*(\S+)\s+-\s+(\S+)\s*$")
_OP_SPACE = _LazyRegex(r"(<=|>=|<|>|=|~>|~|\^)\s+")

Comparator = tuple[str, SemverKey]


def _is_x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _zero_pre() -> tuple[Any, ...]:
    """The ``-0`` prerelease: the lowest possible version of a major.minor.patch."""
    return (0, (0, 0))


def _floor(key: SemverKey) -> SemverKey:
    """A desugared lower bound includes the prereleases of its release (node-semver with
    ``includePrerelease``, which is what a rule's ``includePrerelease: true`` asks for; without it
    prereleases never reach the range)."""
    return (key[0], key[1], key[2], _zero_pre()) if key[3] == _RELEASE else key


def _desugar(token: str, *, bare_caret: bool = False) -> list[Comparator]:
    m = _PARTIAL.match(token)
    if m is None:
        raise InvalidRange(f"{token!r} is not a version or comparator")
    op = m.group("op") or ""
    raw_major, raw_minor, raw_patch, pre = m.group("M"), m.group("m"), m.group("p"), m.group("pre")
    if bare_caret and not op and not any(p in ("x", "X", "*") for p in (raw_major, raw_minor, raw_patch)):
        op = "^"  # Cargo: a bare version (no operator, no wildcard) is a caret requirement
    if _is_x(raw_major):
        if op in ("<", ">"):
            return [("<", (0, 0, 0, _zero_pre()))]  # "<*" and ">*" match nothing
        return []
    major = int(raw_major)
    if _is_x(raw_minor):
        lo: SemverKey = (major, 0, 0, _RELEASE)
        hi: SemverKey = (major + 1, 0, 0, _zero_pre())
        return _x_range(op, lo, hi)
    minor = int(raw_minor or 0)
    if _is_x(raw_patch):
        lo = (major, minor, 0, _RELEASE)
        if op == "^" and major == 0:
            hi = (0, minor + 1, 0, _zero_pre())
        elif op == "^":
            hi = (major + 1, 0, 0, _zero_pre())
        else:
            hi = (major, minor + 1, 0, _zero_pre())
        return _x_range(op, lo, hi)
    patch = int(raw_patch or 0)
    exact: SemverKey = (major, minor, patch, _pre_key(pre))
    if op in ("~", "~>"):
        return [(">=", exact), ("<", (major, minor + 1, 0, _zero_pre()))]
    if op == "^":
        if major:
            hi = (major + 1, 0, 0, _zero_pre())
        elif minor:
            hi = (0, minor + 1, 0, _zero_pre())
        else:
            hi = (0, 0, patch + 1, _zero_pre())
        return [(">=", exact), ("<", hi)]
    return [(op or "=", exact)]


def _x_range(op: str, lo: SemverKey, hi: SemverKey) -> list[Comparator]:
    """Comparators for a partial version (``1``, ``1.2``, ``1.x``) under an operator, as node-semver does."""
    if op in ("", "=", "~", "~>", "^"):
        return [(">=", _floor(lo)), ("<", hi)]
    if op == ">":
        return [(">=", hi)]
    if op == ">=":
        return [(">=", _floor(lo))]
    if op == "<":
        return [("<", (lo[0], lo[1], lo[2], _zero_pre()))]
    # "<="
    return [("<", hi)]


def _parse_npm(expression: str, *, bare_caret: bool = False) -> list[list[Comparator]]:
    if len(expression) > 1024:
        raise InvalidRange("range is longer than 1024 characters")
    alternatives: list[list[Comparator]] = []
    for part in expression.split("||"):
        # A comma is AND between comparator sets: never valid in node-semver, so no range changes meaning.
        pieces = part.split(",")
        if len(pieces) > 1 and any(not piece.strip() for piece in pieces):
            raise InvalidRange(f"{part.strip()!r}: a comma must stand between two comparators")
        comparators: list[Comparator] = []
        for piece in pieces:
            comparators.extend(_parse_and(piece, bare_caret=bare_caret))
        alternatives.append(comparators)
    return alternatives


def _parse_and(part: str, *, bare_caret: bool) -> list[Comparator]:
    """One AND set: a hyphen range or space-separated comparators (node-semver's grammar)."""
    hyphen = _HYPHEN.match(part)
    if hyphen is not None:
        low_token, high_token = hyphen.group(1), hyphen.group(2)
        if low_token[0] in "<>=~^" or high_token[0] in "<>=~^":
            raise InvalidRange(f"{part.strip()!r}: a hyphen range needs plain versions on both sides")
        low = _desugar(low_token)
        lower = [(">=", _floor(low[0][1]))] if low else []
        return lower + _desugar("<=" + high_token)
    comparators: list[Comparator] = []
    for token in _OP_SPACE.sub(r"\1", part.strip()).split():
        comparators.extend(_desugar(token, bare_caret=bare_caret))
    return comparators


class SemverRange(Record):
    """A node-semver range compiled to OR-of-AND comparator lists over SemVer sort keys."""

    __slots__ = ("alternatives", "expression", "loose")
    _fields = ("expression", "alternatives", "loose")

    def __init__(
        self, expression: str, alternatives: tuple[tuple[Comparator, ...], ...], loose: bool = False
    ) -> None:
        self.expression = expression
        self.alternatives = alternatives
        self.loose = loose

    def contains(self, version: str) -> bool:
        key = semver_key(version, self.loose)
        if key is None:
            return False
        for comparators in self.alternatives:
            if all(_OPS[op](key, bound) for op, bound in comparators):
                return True
        return False


def compile_semver_range(expression: str, *, loose: bool = False, bare_caret: bool = False) -> SemverRange:
    """node-semver's range grammar plus ``,`` as AND; ``bare_caret`` reads ``1.2.3`` as ``^1.2.3`` (Cargo)."""
    alternatives = _parse_npm(expression, bare_caret=bare_caret)
    return SemverRange(expression, tuple(tuple(a) for a in alternatives), loose)


# --------------------------------------------------------------------------- NuGet

_NUGET = _LazyRegex(
    r"^\s*[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$"
)


@lru_cache(maxsize=4096)
def nuget_key(version: str) -> tuple[Any, ...] | None:
    """NuGet ordering: four numeric parts (missing ones are 0), then SemVer 2 labels, case-insensitive."""
    m = _NUGET.match(version)
    if m is None:
        return None
    a, b, c, d, pre = m.groups()
    return (int(a), int(b or 0), int(c or 0), int(d or 0), _pre_key(pre, fold_case=True))


# --------------------------------------------------------------------------- bracket ranges (Maven, NuGet)

_INTERVAL = _LazyRegex(r"\s*([\[(])([^\[\]()]*)([\])])\s*(,|$)")


class Interval(Record):
    __slots__ = ("lower", "lower_inclusive", "upper", "upper_inclusive")
    _fields = ("lower", "lower_inclusive", "upper", "upper_inclusive")

    def __init__(
        self, lower: Any | None, lower_inclusive: bool, upper: Any | None, upper_inclusive: bool
    ) -> None:
        self.lower = lower
        self.lower_inclusive = lower_inclusive
        self.upper = upper
        self.upper_inclusive = upper_inclusive

    def contains(self, key: Any) -> bool:
        if self.lower is not None and (key < self.lower or (key == self.lower and not self.lower_inclusive)):
            return False
        return not (
            self.upper is not None and (key > self.upper or (key == self.upper and not self.upper_inclusive))
        )


class BracketRange(Record):
    """A union of intervals in Maven/NuGet bracket notation over a format's version key."""

    __slots__ = ("expression", "intervals", "key")
    _fields = ("expression", "intervals", "key")

    def __init__(self, expression: str, intervals: tuple[Interval, ...], key: Callable[[str], Any]) -> None:
        self.expression = expression
        self.intervals = intervals
        self.key = key

    def contains(self, version: str) -> bool:
        try:
            k = self.key(version)
        except Exception:  # a version the format's parser refuses is simply outside the range
            return False
        if k is None:
            return False
        return any(interval.contains(k) for interval in self.intervals)


def _parse_bracket(
    expression: str, key: Callable[[str], Any], *, bare_is_minimum: bool, allow_union: bool
) -> BracketRange:
    text = expression.strip()
    if not text:
        raise InvalidRange("empty range")

    def parse_version(raw: str) -> Any:
        k = key(raw.strip())
        if k is None:
            raise InvalidRange(f"{raw.strip()!r} is not a valid version")
        return k

    if text[0] not in "[(":
        bound = parse_version(text)
        if bare_is_minimum:
            return BracketRange(expression, (Interval(bound, True, None, False),), key)
        return BracketRange(expression, (Interval(bound, True, bound, True),), key)
    intervals: list[Interval] = []
    pos = 0
    while pos < len(text):
        m = _INTERVAL.match(text, pos)
        if m is None:
            raise InvalidRange(f"cannot read an interval at {text[pos:]!r}")
        opening, inner, closing, sep = m.groups()
        parts = inner.split(",")
        if len(parts) == 1:
            if opening != "[" or closing != "]" or not parts[0].strip():
                raise InvalidRange(f"a single version must be written [version], not {m.group(0).strip()!r}")
            k = parse_version(parts[0])
            intervals.append(Interval(k, True, k, True))
        elif len(parts) == 2:
            lo = parse_version(parts[0]) if parts[0].strip() else None
            hi = parse_version(parts[1]) if parts[1].strip() else None
            if lo is None and opening == "[":
                raise InvalidRange("an unbounded lower end must be open: '(,'")
            if hi is None and closing == "]":
                raise InvalidRange("an unbounded upper end must be open: ',)'")
            if (
                lo is not None
                and hi is not None
                and (lo > hi or (lo == hi and (opening, closing) != ("[", "]")))
            ):
                raise InvalidRange(
                    f"{m.group(0).strip(' ,')!r} is empty: its lower end is above its upper end"
                )
            intervals.append(Interval(lo, opening == "[", hi, closing == "]"))
        else:
            raise InvalidRange(f"{m.group(0).strip(' ,')!r} has more than two ends")
        pos = m.end()
        if sep == "," and pos >= len(text):
            raise InvalidRange("trailing comma after the last interval")
    if len(intervals) > 1 and not allow_union:
        raise InvalidRange("only one interval is allowed")
    return BracketRange(expression, tuple(intervals), key)


_MAVEN_RANGE_VERSION = _LazyRegex(r"^[vV]?[0-9][0-9A-Za-z._+-]*$")
_WILDCARD_SEGMENT = _LazyRegex(r"(?:^|[.-])[xX](?:$|[.-])")


def _maven_key(version: str) -> Any:
    from univers.maven import Version  # noqa: PLC0415 - lazy: only rules with maven ranges pay for it

    if not version or any(ch.isspace() for ch in version):
        return None
    return Version(version)  # type: ignore[no-untyped-call]


def _maven_range_key(version: str) -> Any:
    """A version written in a Maven range: refused (None) when it is another format's syntax (an
    operator, ``*`` or an ``x`` wildcard), which univers would read as a literal that never matches."""
    if _MAVEN_RANGE_VERSION.match(version) is None or _WILDCARD_SEGMENT.search(version) is not None:
        return None
    return _maven_key(version)


# --------------------------------------------------------------------------- PEP 440


class Pep440Range(Record):
    __slots__ = ("expression", "specifiers")
    _fields = ("expression", "specifiers")

    def __init__(self, expression: str, specifiers: Any) -> None:
        self.expression = expression
        self.specifiers = specifiers  # packaging.specifiers.SpecifierSet

    def contains(self, version: str) -> bool:
        from packaging.version import InvalidVersion, Version  # noqa: PLC0415 - imported with the range

        try:
            parsed = Version(version)
        except InvalidVersion:
            return False
        return bool(self.specifiers.contains(parsed, prereleases=True))


def _compile_pep440(expression: str) -> Pep440Range:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # noqa: PLC0415 - only pypi ranges pay

    try:
        spec = SpecifierSet(expression)
    except InvalidSpecifier as exc:
        raise InvalidRange(f"not a PEP 440 specifier set: {exc}") from None
    if not str(spec) and expression.strip():
        raise InvalidRange("not a PEP 440 specifier set")
    return Pep440Range(expression, spec)


# --------------------------------------------------------------------------- RubyGems (ruby)

# Gem::Version::VERSION_PATTERN and Gem::Requirement::PATTERN (rubygems/version.rb, requirement.rb).
_GEM_VERSION = _LazyRegex(r"^\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*$")
_GEM_REQUIREMENT = _LazyRegex(
    r"^\s*(=|!=|>=|<=|>|<|~>)?\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)\s*$"
)
_GEM_SEGMENT = _LazyRegex(r"[0-9]+|[a-z]+", re.IGNORECASE)

GemSegments = tuple[int | str, ...]


def _gem_order(segments: GemSegments) -> tuple[Any, ...]:
    """A tuple key that sorts like ``Gem::Version#<=>``.

    RubyGems compares canonical segments (trailing zeros of the numeric and of the letter part
    dropped), pads the shorter side with 0, and puts a letter segment before any number. A plain
    tuple compare has no padding, so each segment carries the count of zeros before it: a letter
    after fewer zeros is smaller, a number after fewer zeros is larger, and the end (zeros for ever)
    sits between the two.
    """
    numeric: list[int | str] = []
    letters: list[int | str] = []
    for seg in segments:
        (letters if letters or isinstance(seg, str) else numeric).append(seg)
    while numeric and numeric[-1] == 0:
        numeric.pop()
    while letters and letters[-1] == 0:
        letters.pop()
    key: list[tuple[Any, ...]] = []
    zeros = 0
    for seg in (*numeric, *letters):
        if isinstance(seg, str):
            key.append((0, zeros, seg))
        elif seg == 0:
            zeros += 1
            continue
        else:
            key.append((2, -zeros, seg))
        zeros = 0
    key.append((1,))
    return tuple(key)


class GemVersion(Record):
    __slots__ = ("bump", "order", "release")
    _fields = ("order", "release", "bump")

    def __init__(self, order: tuple[Any, ...], release: tuple[Any, ...], bump: tuple[Any, ...]) -> None:
        self.order = order
        self.release = release
        """The order of the version without its prerelease part (``Gem::Version#release``)."""
        self.bump = bump
        """The order of ``Gem::Version#bump``: the upper end of ``~>``."""


@lru_cache(maxsize=4096)
def gem_version(version: str) -> GemVersion | None:
    """``version`` read as ``Gem::Version`` (``-`` means ``.pre.``), or None when RubyGems refuses it."""
    m = _GEM_VERSION.match(version)
    if m is None:
        return None
    text = (m.group(1) or "0").replace("-", ".pre.")
    segments = tuple(int(s) if s.isdigit() else s for s in _GEM_SEGMENT.findall(text))
    release: list[int] = []
    for seg in segments:
        if isinstance(seg, str):
            break
        release.append(seg)
    bump = release[:-1] if len(release) > 1 else list(release)
    bump[-1] += 1
    return GemVersion(_gem_order(segments), _gem_order(tuple(release)), _gem_order(tuple(bump)))


class GemRange(Record):
    """A RubyGems requirement: comma-separated constraints, all of which must hold."""

    __slots__ = ("constraints", "expression")
    _fields = ("expression", "constraints")

    def __init__(self, expression: str, constraints: tuple[tuple[str, GemVersion], ...]) -> None:
        self.expression = expression
        self.constraints = constraints

    def contains(self, version: str) -> bool:
        v = gem_version(version)
        if v is None:
            return False
        for op, r in self.constraints:
            if op == "~>":
                if not (v.order >= r.order and v.release < r.bump):
                    return False
            elif op == "!=":
                if v.order == r.order:
                    return False
            elif not _OPS[op](v.order, r.order):
                return False
        return True


def _parse_gem(expression: str) -> GemRange | None:
    """The expression as a RubyGems requirement, or None when it is not one."""
    constraints: list[tuple[str, GemVersion]] = []
    for part in expression.split(","):
        m = _GEM_REQUIREMENT.match(part)
        if m is None or any(seg in ("x", "X") for seg in m.group(2).split(".")):
            return None  # "1.x" is a wildcard to everyone, though Gem::Version would take it literally
        version = gem_version(m.group(2))
        if version is None:  # pragma: no cover - the requirement pattern only admits versions
            return None
        constraints.append((m.group(1) or "=", version))
    return GemRange(expression, tuple(constraints))


def _compile_ruby(expression: str) -> VersionRange:
    gem = _parse_gem(expression)
    if gem is not None:
        return gem
    if "~>" in expression:
        raise InvalidRange(
            f"{expression.strip()!r} is not a RubyGems requirement ('~> 1.2', '>= 1.0, < 2'); "
            "'~>' means RubyGems' pessimistic operator here, so it is not read as node-semver"
        )
    try:
        return compile_semver_range(expression, loose=True)
    except InvalidRange as exc:
        raise InvalidRange(f"neither a RubyGems requirement nor a node-semver range: {exc}") from None


# --------------------------------------------------------------------------- entry point


_MEMO_SIZE = 4096


class MemoRange:
    """A compiled range that remembers its answers, per version string.

    Why: one batch checks the same version strings against the same rule over and over: the modules of a
    Maven multi-module build or the packages of a monorepo release all share one version, and duplicates and
    multi-event versions repeat it again. The Maven check parses the version with univers and the PEP 440
    check with packaging every time (tens of microseconds). The memo is bounded (cleared when full), so a
    flood of distinct versions costs no more memory than 4,096 answers.
    """

    __slots__ = ("_memo", "expression", "inner")

    def __init__(self, inner: VersionRange) -> None:
        self.inner = inner
        self.expression = inner.expression
        self._memo: dict[str, bool] = {}

    def contains(self, version: str) -> bool:
        answer = self._memo.get(version)
        if answer is None:
            answer = self.inner.contains(version)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[version] = answer
        return answer

    def __getattr__(self, name: str) -> Any:
        """The compiled range's own attributes (``intervals``, ``specifiers``...), for tests and messages."""
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"MemoRange({self.inner!r})"


def compile_range(fmt: str, expression: str) -> VersionRange:
    """Compile ``expression`` in ``fmt``'s range language (answers memoized, see ``MemoRange``); raises
    InvalidRange with a readable reason."""
    return MemoRange(_compile_range(fmt, expression))


def _compile_range(fmt: str, expression: str) -> VersionRange:
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidRange("empty range")
    if fmt == "pypi":
        return _compile_pep440(expression)
    if fmt == "maven":
        bracket = _parse_bracket(expression, _maven_range_key, bare_is_minimum=False, allow_union=True)
        return BracketRange(expression, bracket.intervals, _maven_key)
    if fmt == "nuget":
        return _parse_bracket(expression, nuget_key, bare_is_minimum=True, allow_union=False)
    if fmt == "npm":
        return compile_semver_range(expression)
    if fmt == "ruby":
        return _compile_ruby(expression)
    if fmt == "cargo":
        return compile_semver_range(expression, loose=True, bare_caret=True)
    if fmt in FORMATS:
        return compile_semver_range(expression, loose=True)
    raise InvalidRange(f"unknown format {fmt!r}")
