"""node-semver ranges, for npm, cargo, generic and swift (and ruby expressions that are no gem requirement).

npm: node-semver ranges (``^1.2.3``, ``~1.2``, ``1.x``, ``>=1 <2``, ``1.0.0 - 2.0.0``, ``||``), compared as
SemVer 2, exactly as node-semver with ``includePrerelease`` (a differential test holds us to it), plus one
extension: a comma is AND between comparators (``>=1.0.0,<2`` is ``>=1.0.0 <2``). A comma is never valid in
node-semver, so no range changes meaning; the rules schema writes one range for several formats
(``formats: [npm, pypi]``, ``versions: ">=1.0.0,<2"``) and PEP 440 needs the comma.

cargo: Cargo's requirements, node-semver's grammar with commas where a bare version is a caret requirement
(``1.2.3`` = ``^1.2.3``, ``1.2`` = >=1.2.0 <2.0.0, ``0.2.3`` = >=0.2.3 <0.3.0). ``||`` and hyphen ranges,
which Cargo lacks, keep node-semver's meaning; prereleases compare plainly, not by Cargo's
same-major.minor.patch rule.

generic, swift: node-semver ranges with commas, over lenient SemVer versions (``1.2`` is ``1.2.0``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from promoter.version_syntax import InvalidRange, LazyRegex

_SEMVER = LazyRegex(
    r"^\s*[vV=]?\s*(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?\s*$"
)
# Lenient form for formats whose versions are "semver-ish" (generic, swift, cargo, ruby):
# missing minor/patch count as 0, leading zeros tolerated.
_SEMVER_LOOSE = LazyRegex(
    r"^\s*[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?\s*$"
)

SemverKey = tuple[int, int, int, tuple[Any, ...]]
_RELEASE: tuple[Any, ...] = (1,)


def pre_key(pre: str | None, *, fold_case: bool = False) -> tuple[Any, ...]:
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
    return (int(major), int(minor or 0), int(patch or 0), pre_key(pre))


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
}

_XR = r"(?:[xX*]|0|[1-9]\d*)"
_PARTIAL = LazyRegex(
    rf"^(?P<op><=|>=|<|>|=|~>|~|\^)?[vV=]?(?P<M>{_XR})(?:\.(?P<m>{_XR})(?:\.(?P<p>{_XR})"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?$"
)
_HYPHEN = LazyRegex(r"^\s*(\S+)\s+-\s+(\S+)\s*$")
_OP_SPACE = LazyRegex(r"(<=|>=|<|>|=|~>|~|\^)\s+")

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
    exact: SemverKey = (major, minor, patch, pre_key(pre))
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


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class SemverRange(NamedTuple):
    """A node-semver range compiled to OR-of-AND comparator lists over SemVer sort keys."""

    expression: str
    alternatives: tuple[tuple[Comparator, ...], ...]
    loose: bool = False

    def contains(self, version: str) -> bool:
        key = semver_key(version, self.loose)
        if key is None:
            return False
        for comparators in self.alternatives:
            if all(COMPARISONS[op](key, bound) for op, bound in comparators):
                return True
        return False


def compile_semver_range(expression: str, *, loose: bool = False, bare_caret: bool = False) -> SemverRange:
    """node-semver's range grammar plus ``,`` as AND; ``bare_caret`` reads ``1.2.3`` as ``^1.2.3`` (Cargo)."""
    alternatives = _parse_npm(expression, bare_caret=bare_caret)
    return SemverRange(expression, tuple(tuple(a) for a in alternatives), loose)
