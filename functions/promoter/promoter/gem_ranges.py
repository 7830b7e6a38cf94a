"""RubyGems requirements, for ruby: ``~> 1.2`` (>=1.2 <2.0), ``~> 1.2.3`` (>=1.2.3 <1.3), ``>= 1.0, < 2``.

Operators ``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=``, ``~>``; a bare version means ``=``. Versions are
ordered as ``Gem::Version``: segments split on dots and letter/number boundaries, a letter segment is a
prerelease and sorts before numbers (1.0.0.pre < 1.0.0), ``-`` reads as ``.pre.``. An expression that is
no gem requirement (``^1.2``, ``>=1 <2``, ``*``, ``||``), or whose version has an ``x`` segment (``1.x``:
a literal Gem::Version, but meant as a wildcard), is read as node-semver over lenient SemVer versions; one
that uses ``~>`` but is no gem requirement is refused rather than read as node-semver's ``~``. Our own
small grammar rather than ``univers.gem``, which is slower to import and to check (a differential test
holds the two together).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from promoter.semver_ranges import COMPARISONS, SemverRange, compile_semver_range
from promoter.version_syntax import InvalidRange, LazyRegex

# Gem::Version::VERSION_PATTERN and Gem::Requirement::PATTERN (rubygems/version.rb, requirement.rb).
_GEM_VERSION = LazyRegex(r"^\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*$")
_GEM_REQUIREMENT = LazyRegex(
    r"^\s*(=|!=|>=|<=|>|<|~>)?\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)\s*$"
)
_GEM_SEGMENT = LazyRegex(r"[0-9]+|[a-z]+", re.IGNORECASE)

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


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class GemVersion(NamedTuple):
    order: tuple[Any, ...]
    release: tuple[Any, ...]
    """The order of the version without its prerelease part (``Gem::Version#release``)."""
    bump: tuple[Any, ...]
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


class GemRange(NamedTuple):
    """A RubyGems requirement: comma-separated constraints, all of which must hold."""

    expression: str
    constraints: tuple[tuple[str, GemVersion], ...]

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
            elif not COMPARISONS[op](v.order, r.order):
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


def compile_ruby(expression: str) -> GemRange | SemverRange:
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
