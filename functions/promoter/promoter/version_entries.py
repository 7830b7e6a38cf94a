"""The supply-chain controls beside the rules: ``freeze`` (top level or a rule's own), ``exceptions`` and
``denyVersions`` (entries naming versions of one package by a range in the format's own language)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from promoter.events import Candidate
from promoter.globs import fold
from promoter.rules_document import RulesError, quote
from promoter.rules_fields import parse_timestamp, version_range
from promoter.versions import FORMATS, VersionRange

EXCEPTION_KEYS: frozenset[str] = frozenset(
    {"format", "namespace", "package", "versions", "reason", "expires"}
)
DENY_KEYS: frozenset[str] = frozenset({"format", "namespace", "package", "versions", "reason"})
FREEZE_KEYS: frozenset[str] = frozenset({"publishedAfter", "until"})
CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the function's clock the service's publish times are allowed to be."""


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class Freeze(NamedTuple):
    """No version published after ``published_after`` is promoted while the freeze holds (until ``until``,
    or until it is removed from the rules)."""

    published_after: datetime
    until: datetime | None
    where: str
    """``freeze`` (top level) or ``rule 'NAME' freeze``: what the outcome line names."""

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until

    def may_hold(self, now: datetime) -> bool:
        """Whether the freeze can hold back a version published by ``now``: it has not ended and its instant
        is past, or near enough for the service's clock to be ahead of ours. A freeze set for a later date
        holds nothing yet, so no version's publish time has to be read for it."""
        return self.active(now) and self.published_after <= now + CLOCK_SKEW

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


@dataclass(frozen=True, slots=True)
class VersionEntries:
    """``exceptions`` or ``denyVersions``, indexed by package (one dict lookup per candidate)."""

    entries: tuple[VersionEntry, ...] = ()
    by_package: dict[tuple[str, str, str], list[VersionEntry]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def index(cls, entries: Sequence[VersionEntry]) -> VersionEntries:
        by_package: dict[tuple[str, str, str], list[VersionEntry]] = {}
        for entry in entries:
            by_package.setdefault(_package_key(entry.format, entry.namespace, entry.package), []).append(
                entry
            )
        return cls(tuple(entries), by_package)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, candidate: Candidate, now: datetime | None = None) -> VersionEntry | None:
        """The first entry naming ``candidate``'s version (that has not expired at ``now``, when given)."""
        if not self.by_package:
            return None
        key = _package_key(candidate.format, candidate.namespace, candidate.package)
        for entry in self.by_package.get(key, ()):
            if now is not None and entry.expired(now):
                continue
            if entry.versions.contains(candidate.version):
                return entry
        return None


def _package_key(fmt: str, namespace: str | None, package: str) -> tuple[str, str, str]:
    return (fmt, fold(fmt, namespace or ""), fold(fmt, package))


def parse_freeze(value: Any, where: str, *, rule: str | None = None) -> Freeze:
    """``{publishedAfter: TIMESTAMP, until: TIMESTAMP}`` (``until`` optional, after ``publishedAfter``)."""
    if not isinstance(value, Mapping):
        raise RulesError(
            "must be a mapping with publishedAfter (and optionally until)", rule=rule, field="freeze"
        )
    unknown = sorted(set(map(str, value)) - FREEZE_KEYS)
    if unknown:
        raise RulesError(
            f"unknown key {quote(unknown[0])} (allowed: publishedAfter, until)", rule=rule, field="freeze"
        )
    if value.get("publishedAfter") is None:
        raise RulesError("is required", rule=rule, field="freeze.publishedAfter")
    times: dict[str, datetime | None] = {"publishedAfter": None, "until": None}
    for key in times:
        if value.get(key) is not None:
            try:
                times[key] = parse_timestamp(value[key])
            except ValueError as exc:
                raise RulesError(str(exc), rule=rule, field=f"freeze.{key}") from None
    after, until = times["publishedAfter"], times["until"]
    assert after is not None
    if until is not None and until <= after:
        raise RulesError("must be later than publishedAfter", rule=rule, field="freeze.until")
    return Freeze(after, until, where)


def parse_version_entries(document: Mapping[str, Any], kind: str) -> VersionEntries:
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
        versions = version_range(fmt, versions_text, field=f"{where}.versions", what="version or range")
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
                kind=kind,
                position=index,
                format=fmt,
                namespace=names["namespace"],
                package=str(names["package"]),
                versions=versions,
                versions_text=versions_text,
                reason=reason.strip(),
                expires=expires,
            )
        )
    return VersionEntries.index(entries)
