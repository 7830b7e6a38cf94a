"""Validators for the values of a rule's fields: each returns the checked value or raises a RulesError that
names the rule, the field and what to fix."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from promoter.globs import GlobSet, glob_regex
from promoter.rules_document import RulesError, quote
from promoter.version_syntax import InvalidRange
from promoter.versions import FORMATS, GRAMMARS, VersionRange, compile_range

# Patterns, not compiled regexes: re compiles (and caches) each when rules first use it, not at every import.
# Always applied with re.fullmatch: "$" alone also matches before a trailing newline (what a YAML "|" block
# gives), and a name accepted with it would never equal an event's field.
DOMAIN_PATTERN = r"[a-z][a-z0-9\-]{0,48}[a-z0-9]"
"""A CodeArtifact domain name (also what settings and the CLI check DOMAIN_NAME and --domain against)."""
_REPOSITORY_RE = r"[A-Za-z0-9][A-Za-z0-9._\-]{1,99}"
ACCOUNT_PATTERN = r"[0-9]{12}"
_DURATION_RE = r"(\d+)\s*([smhdw])"
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_RELEASE_AGE = timedelta(days=365)


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


def string_list(rule: str, key: str, value: Any, *, allow_empty_item: bool = False) -> list[str]:
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


def glob_set(rule: str, key: str, value: Any, *, allow_empty_item: bool = False) -> GlobSet:
    """The checked globs, compiled; the first pattern at fault (in list order) is refused.

    A pattern is checked as a regex through the set's own regex, which joins them all: one compile instead
    of one more per pattern, and only a set that fails to compile is searched pattern by pattern.
    """
    patterns = string_list(rule, key, value, allow_empty_item=allow_empty_item)
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
            glob_regex(pattern)
        except re.error as exc:
            raise RulesError(f"{quote(pattern)} is not a valid glob: {exc}", rule=rule, field=key) from None


def package_globs(rule: str, key: str, value: Any) -> GlobSet:
    """``packages`` or ``excludePackages``: globs of package names, which never contain '/'."""
    globs = glob_set(rule, key, value)
    for pattern in globs.patterns:
        if "/" in pattern:
            raise RulesError(
                f"{quote(pattern)} can never match: CodeArtifact package names contain no '/'; the npm "
                "scope or Maven group is the namespace (namespaces: [acme], packages: [widgets])",
                rule=rule,
                field=key,
            )
    return globs


def choices(rule: str, key: str, value: Any, allowed: frozenset[str], what: str) -> frozenset[str] | None:
    """A list of names, each one of ``allowed`` (None when the key is absent)."""
    if value is None:
        return None
    listed = string_list(rule, key, value)
    for item in listed:
        if item not in allowed:
            raise RulesError(
                f"{quote(item)} is not {what} ({', '.join(sorted(allowed))})", rule=rule, field=key
            )
    return frozenset(listed)


def duration(rule: str, key: str, value: Any) -> timedelta | None:
    """A duration such as ``3d`` (None when the key is absent)."""
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise RulesError(str(exc), rule=rule, field=key) from None


def boolean(rule: str, key: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RulesError(f"must be true or false, not {quote(value)}", rule=rule, field=key)
    return value


def repository_name(rule: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(_REPOSITORY_RE, value):
        raise RulesError(f"{quote(value)} is not a valid repository name", rule=rule, field=key)
    return value


def version_ranges(
    rule: str, value: Any, formats: frozenset[str] | None
) -> tuple[dict[str, VersionRange], str | dict[str, str] | None]:
    """A rule's ``versions``: one range for each of its ``formats``, or a mapping format -> range; with the
    text as written, for messages."""
    if value is None:
        return {}, None
    if isinstance(value, str):
        if formats is None:
            raise RulesError(
                "a range is written in one format's language: "
                "list 'formats', or give a mapping format -> range",
                rule=rule,
                field="versions",
            )
        return {fmt: version_range(fmt, value, rule=rule, field="versions") for fmt in sorted(formats)}, value
    if isinstance(value, Mapping) and value:
        compiled: dict[str, VersionRange] = {}
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
            compiled[fmt] = version_range(fmt, expression, rule=rule, field="versions")
            text[fmt] = expression
        return compiled, text
    raise RulesError("must be a range string or a mapping format -> range", rule=rule, field="versions")


def version_range(
    fmt: str, expression: str, *, field: str, rule: str | None = None, what: str = "range"
) -> VersionRange:
    """``expression`` compiled in ``fmt``'s language, or an error that shows what that language looks like."""
    try:
        return compile_range(fmt, expression)
    except InvalidRange as exc:
        raise RulesError(
            f"{quote(expression)} is not a valid {fmt} {what}: {exc} (expected {GRAMMARS[fmt]})",
            rule=rule,
            field=field,
        ) from None
