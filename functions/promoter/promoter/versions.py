"""Format-aware version ranges and prerelease detection.

Each package format has its own version language, so a rule's ``versions`` is read in the language of the
format it applies to: PEP 440 specifiers for pypi (``packaging``, imported only when a pypi range is
compiled), bracket ranges for maven and nuget (``promoter.bracket_ranges``), RubyGems requirements for ruby
(``promoter.gem_ranges``), node-semver ranges for npm, cargo, generic and swift
(``promoter.semver_ranges``).

Prerelease handling is separate from ranges (a rule's ``includePrerelease``), so ranges compare
prereleases plainly, like node-semver's ``includePrerelease: true``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from promoter.version_syntax import InvalidRange, LazyRegex

FORMATS: frozenset[str] = frozenset({"npm", "pypi", "maven", "nuget", "generic", "ruby", "swift", "cargo"})
"""Package formats in the current CodeArtifact API model."""

NAMESPACE_REQUIRED: frozenset[str] = frozenset({"maven", "swift", "generic"})

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


# --------------------------------------------------------------------------- prereleases

_SEMVER_PRE = LazyRegex(r"^[^+]*-")
# PEP 440, Appendix B (the canonical version regex); a version is a prerelease when it has a pre or dev part.
_PEP440 = LazyRegex(
    r"""^\s*v?
    (?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*
    (?P<pre>[-_.]?(?:alpha|beta|preview|pre|rc|a|b|c)[-_.]?[0-9]*)?
    (?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?
    (?P<dev>[-_.]?dev[-_.]?[0-9]*)?
    (?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_PEP440_PRE = LazyRegex(r"(?:^|[0-9._-])(?:a|b|c|rc|alpha|beta|pre|preview|dev)(?:[0-9._-]|$)")
_MAVEN_TOKEN = LazyRegex(r"[0-9]+|[a-z]+")
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


# --------------------------------------------------------------------------- PEP 440


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class Pep440Range(NamedTuple):
    expression: str
    specifiers: Any
    """A ``packaging.specifiers.SpecifierSet``."""

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


# --------------------------------------------------------------------------- entry point


_MEMO_SIZE = 4096


class MemoRange:
    """A compiled range that remembers its answers, per version string (bounded: cleared when full).

    One batch checks the same version strings against the same rule over and over (the modules of a Maven
    build or the packages of a monorepo release share one version), and the Maven and PEP 440 checks parse
    the version every time. Not a value: the memo changes as it answers.
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

    def __repr__(self) -> str:
        return f"MemoRange({self.inner!r})"


def compile_range(fmt: str, expression: str) -> VersionRange:
    """Compile ``expression`` in ``fmt``'s range language (answers memoized, see ``MemoRange``); raises
    InvalidRange with a readable reason."""
    return MemoRange(_compile_range(fmt, expression))


def _compile_range(fmt: str, expression: str) -> VersionRange:
    # A range language is imported with its first range, as PEP 440's is: most rule files use one or two.
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidRange("empty range")
    if fmt == "pypi":
        return _compile_pep440(expression)
    if fmt in ("maven", "nuget"):
        from promoter import bracket_ranges  # noqa: PLC0415

        compile_brackets = bracket_ranges.compile_maven if fmt == "maven" else bracket_ranges.compile_nuget
        return compile_brackets(expression)
    if fmt == "ruby":
        from promoter.gem_ranges import compile_ruby  # noqa: PLC0415

        return compile_ruby(expression)
    if fmt not in FORMATS:
        raise InvalidRange(f"unknown format {fmt!r}")
    from promoter.semver_ranges import compile_semver_range  # noqa: PLC0415

    if fmt == "npm":
        return compile_semver_range(expression)
    if fmt == "cargo":
        return compile_semver_range(expression, loose=True, bare_caret=True)
    return compile_semver_range(expression, loose=True)
