"""Package and namespace names as each format compares them, and the globs rules match them with."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import translate
from functools import lru_cache

_LOWER_CASE_FORMATS = frozenset({"nuget", "swift"})

_MEMO_SIZE_FOLD = 4096
"""Folds are pure and asked for the same names by the index and by each rule's globs, per candidate."""


@lru_cache(maxsize=_MEMO_SIZE_FOLD)
def _pypi_fold(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=_MEMO_SIZE_FOLD)
def fold(fmt: str, name: str) -> str:
    """Names compare the way the format's registry stores them (PEP 503 for pypi; lower case for nuget and
    swift, whose names and namespaces CodeArtifact keeps lower-cased)."""
    if fmt == "pypi":
        return _pypi_fold(name)
    if fmt in _LOWER_CASE_FORMATS:
        return name.lower()
    return name


GLOB_CHARS = frozenset("*?[")


def literal_prefix(pattern: str) -> str:
    """The characters a glob fixes before its first wildcard (what ListPackages' packagePrefix takes)."""
    for i, ch in enumerate(pattern):
        if ch in GLOB_CHARS:
            return pattern[:i]
    return pattern


def _glob_regex(patterns: Iterable[str], fold_name: Callable[[str], str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{translate(fold_name(p))})" for p in patterns) or "(?!)")


@dataclass(frozen=True, slots=True)
class GlobSet:
    """A list of globs matched through one regex per name-folding mode (case-sensitive, pypi, lower-case).

    The case-sensitive regex is compiled with the set (compiling it also checks the globs); the pypi and
    lower-case ones when a name of such a format is first matched, since a rule's formats mostly fold one
    way. Equal when the patterns are.
    """

    patterns: tuple[str, ...]
    exact: re.Pattern[str] = field(repr=False, compare=False)
    folded: dict[str, re.Pattern[str]] = field(default_factory=dict, repr=False, compare=False)
    """The pypi and lower-case regexes compiled so far."""

    @classmethod
    def compile(cls, patterns: Sequence[str]) -> GlobSet:
        return cls(tuple(patterns), _glob_regex(patterns, str))

    def matches(self, fmt: str, name: str) -> bool:
        if fmt == "pypi":
            return (self.folded.get("pypi") or self._fold_regex("pypi")).match(_pypi_fold(name)) is not None
        if fmt in _LOWER_CASE_FORMATS:
            return (self.folded.get("lower") or self._fold_regex("lower")).match(name.lower()) is not None
        return self.exact.match(name) is not None

    def _fold_regex(self, mode: str) -> re.Pattern[str]:
        regex = _glob_regex(self.patterns, _pypi_fold if mode == "pypi" else str.lower)
        self.folded[mode] = regex
        return regex


def glob_regex(pattern: str) -> re.Pattern[str]:
    """One glob's own regex: what tells which glob of a set that fails to compile is at fault."""
    return re.compile(translate(pattern))
