"""Bracket ranges, for maven and nuget: ``[1.0,2.0)``, ``(,1.0],[1.2,)``, ``[1.2]``.

maven: ordered by Maven's ComparableVersion rules (``univers.maven``, imported only when a maven range is
compiled). A bare version (``1.0``) means exactly that version, not Maven's "soft requirement": a promotion
filter that matches everything by accident is worse than a strict one. A version in a Maven range starts
with a digit (``v`` allowed) and holds only letters, digits, ``.``, ``-``, ``_`` and ``+``, with no wildcard
segment: ``>=1.0``, ``^1.2``, ``1.x`` and ``*`` are other formats' syntax, which Maven would read as
literal versions no build ever has, so they are refused instead of rejecting every version.

nuget: a bare ``1.0`` means ``>= 1.0``; NuGet's ordering (up to four numeric parts, case-insensitive
prerelease labels); one interval only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from promoter.semver_ranges import pre_key
from promoter.version_syntax import InvalidRange, LazyRegex

_NUGET = LazyRegex(
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
    return (int(a), int(b or 0), int(c or 0), int(d or 0), pre_key(pre, fold_case=True))


_INTERVAL = LazyRegex(r"\s*([\[(])([^\[\]()]*)([\])])\s*(,|$)")


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class Interval(NamedTuple):
    """Versions between two ends (None: unbounded), each included or not."""

    lower: Any | None
    lower_inclusive: bool
    upper: Any | None
    upper_inclusive: bool

    def contains(self, key: Any) -> bool:
        if self.lower is not None and (key < self.lower or (key == self.lower and not self.lower_inclusive)):
            return False
        return not (
            self.upper is not None and (key > self.upper or (key == self.upper and not self.upper_inclusive))
        )


class BracketRange(NamedTuple):
    """A union of intervals in Maven/NuGet bracket notation over a format's version key."""

    expression: str
    intervals: tuple[Interval, ...]
    key: Callable[[str], Any]

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


_MAVEN_RANGE_VERSION = LazyRegex(r"^[vV]?[0-9][0-9A-Za-z._+-]*$")
_WILDCARD_SEGMENT = LazyRegex(r"(?:^|[.-])[xX](?:$|[.-])")


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


def compile_maven(expression: str) -> BracketRange:
    """A Maven range: its versions are checked as written in a range, then compared as any Maven version."""
    bracket = _parse_bracket(expression, _maven_range_key, bare_is_minimum=False, allow_union=True)
    return BracketRange(expression, bracket.intervals, _maven_key)


def compile_nuget(expression: str) -> BracketRange:
    return _parse_bracket(expression, nuget_key, bare_is_minimum=True, allow_union=False)
