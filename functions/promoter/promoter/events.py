"""The CodeArtifact event as the promoter reads it, and the Candidate every source produces.

A ``Candidate`` is one package version in one source repository that might be promoted.
Events (here) and repository listings (reconcile) both produce candidates, so rules, the
planner and the copier never care where a version came from.

Parsing is hand-written on purpose: it must accept arbitrary JSON without raising anything
but ``MalformedEvent``/``NotCodeArtifactEvent`` and must stay cheap (no model library at cold
start, a few microseconds per event).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

import orjson

from promoter.versions import FORMATS, NAMESPACE_REQUIRED

EVENT_SOURCE = "aws.codeartifact"
EVENT_DETAIL_TYPE = "CodeArtifact Package Version State Change"
STATES: frozenset[str] = frozenset({"Unfinished", "Published", "Unlisted", "Archived", "Disposed"})
OPERATIONS: frozenset[str] = frozenset({"Created", "Updated", "Deleted"})

_MAX_NAME = 255
# CopyPackageVersions' model: namespaces, package names and versions match [^#/\s]+. A name the API
# cannot take is bad input: retrying its copy could only end in the dead-letter queue.
_NOT_IN_NAMES = re.compile(r"[#/\s]", re.ASCII)
_NAME_FIELDS = frozenset({"packageNamespace", "packageName", "packageVersion"})
_MAX_BODY = 256 * 1024


class MalformedEvent(ValueError):
    """Input that cannot be read as a CodeArtifact event; ``field`` names what was wrong."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotCodeArtifactEvent(ValueError):
    """A well-formed event of another source or detail-type: not ours, ignored."""


class OtherRegionEvent(ValueError):
    """A CodeArtifact event of another region than the function's: its domain is that region's (a domain
    name is unique per account and region only), so it is ignored, never copied in this region."""

    def __init__(self, candidate: Candidate, region: str) -> None:
        super().__init__(f"event of region {region}")
        self.candidate = candidate
        self.region = region


VersionKey = tuple[str, str, str, str, str | None, str, str]
"""``Candidate.version_key``: domain, owner, source repository, format, namespace, package, version."""


class Candidate(NamedTuple):
    """One package version in one source repository that rules may promote.

    A NamedTuple rather than a dataclass: immutable and hashable alike, and about five times
    cheaper to define at cold start (every class here is defined on the function's first start).
    ``revision`` pins the copy to the exact build that was seen; ``published_time`` is
    known from listings and DescribePackageVersion, not from events.
    """

    domain: str
    domain_owner: str
    source_repository: str
    format: str
    namespace: str | None
    package: str
    version: str
    revision: str | None
    state: str
    published_time: datetime | None = None
    event_id: str | None = None
    sequence_number: int | None = None
    operation: str | None = None
    origin: Any = None
    """Opaque tag of where the candidate came from (the handler puts the SQS message id here)."""
    origin_type: str | None = None
    """CodeArtifact's ``origin.originType`` in the source (INTERNAL, EXTERNAL, UNKNOWN): known from listings
    and DescribePackageVersion, not from events (None: not read yet)."""

    @property
    def version_key(self) -> VersionKey:
        """Identity of the package version, across events and revisions: the first seven fields, which
        loops over a batch read as ``candidate[:7]`` (no Python call). A namespace is None or not empty
        from every producer (events and listings fold an empty one to None), so the key folds nothing."""
        return self[:7]

    @property
    def package_key(self) -> tuple[str, str | None, str]:
        return (self.format, self.namespace, self.package)


def _text(detail: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
    value = detail.get(key)
    if value is None:
        if optional:
            return None
        raise MalformedEvent(f"detail.{key} is missing", key)
    if not isinstance(value, str):
        raise MalformedEvent(f"detail.{key} must be a string, not {type(value).__name__}", key)
    if not value:
        if optional:
            return None
        raise MalformedEvent(f"detail.{key} is empty", key)
    if len(value) > _MAX_NAME:
        raise MalformedEvent(f"detail.{key} is longer than {_MAX_NAME} characters", key)
    if not value.isprintable():
        raise MalformedEvent(f"detail.{key} contains control characters", key)
    if key in _NAME_FIELDS and _NOT_IN_NAMES.search(value):
        raise MalformedEvent(
            f"detail.{key} contains '#', '/' or whitespace, which CodeArtifact does not allow", key
        )
    return value


_TEXT_VALUES = itemgetter(
    "domainName",
    "domainOwner",
    "repositoryName",
    "packageFormat",
    "packageName",
    "packageVersion",
    "packageVersionState",
    "operationType",
    "packageVersionRevision",
)
_STR_ONLY = {str}
_new_candidate = tuple.__new__
"""``Candidate``'s own ``__new__`` is Python code (defaults filled in); the fast path passes every field."""


def _parse_well_formed(event: Any, origin: Any) -> Candidate | None:
    """The common case in one pass; None for anything unusual, which the field-by-field path then
    reports precisely. (Parsing is most of the CPU an event costs, so the good path stays short: one
    frame, every check over all nine text fields at once in C rather than one by one.)

    Only a plain dict's keys are read here (``dict.get`` and ``d[key]`` agree only for plain dicts),
    and only exact ``str`` values pass, so each check below is exactly the per-field one: the
    concatenation of printable strings is printable, and ``_NOT_IN_NAMES`` matches single characters, of
    which only '#', '/' and ' ' are printable (its other whitespace, ASCII only, is not)."""
    if (
        type(event) is not dict
        or event.get("source") != EVENT_SOURCE
        or event.get("detail-type") != EVENT_DETAIL_TYPE
    ):
        return None
    detail = event.get("detail")
    if type(detail) is not dict:
        return None
    try:
        values = _TEXT_VALUES(detail)
    except KeyError:
        return None
    if set(map(type, values)) != _STR_ONLY or not all(values):
        return None
    text = "".join(values)
    if (len(text) > _MAX_NAME and max(map(len, values)) > _MAX_NAME) or not text.isprintable():
        return None
    domain, owner, repository, fmt, package, version, state, operation, revision = values
    namespace = detail.get("packageNamespace")
    if namespace is None:
        if fmt in NAMESPACE_REQUIRED:
            return None
        names = package + version
    elif type(namespace) is not str or not 0 < len(namespace) <= _MAX_NAME or not namespace.isprintable():
        return None
    else:
        names = package + version + namespace
    sequence = detail.get("sequenceNumber", 0)
    if (
        fmt not in FORMATS
        or state not in STATES
        or operation not in OPERATIONS
        or type(sequence) is not int
        or sequence < 0
        or "#" in names  # _NOT_IN_NAMES: of [#/\s], only these three can be in printable text
        or "/" in names
        or " " in names
    ):
        return None
    event_id = event.get("id")
    return _new_candidate(
        Candidate,
        (
            domain,
            owner,
            repository,
            fmt,
            namespace,
            package,
            version,
            revision,
            state,
            None,
            event_id[:128] if type(event_id) is str else None,
            sequence,
            operation,
            origin,
            None,
        ),
    )


def parse_event(event: Any, *, origin: Any = None, region: str | None = None) -> Candidate:
    """Read one EventBridge event into a Candidate.

    Raises NotCodeArtifactEvent for other sources/detail-types and MalformedEvent for
    anything else that does not have the documented shape. Unknown formats are malformed
    too: the copy API could not be called for them. With ``region`` (the function's), an event
    whose ``region`` is another raises OtherRegionEvent carrying its candidate.
    """
    fast = _parse_well_formed(event, origin)
    candidate = fast if fast is not None else _parse_checked(event, origin)
    if region is not None:
        _check_region(event, candidate, region)
    return candidate


def _check_region(event: Any, candidate: Candidate, region: str) -> None:
    """EventBridge sets every event's ``region``; an event without one (a hand-written test event) is
    taken as this region's."""
    value = event.get("region")
    if value is not None and value != region:
        shown = value[:64] if isinstance(value, str) else excerpt(value, 64)
        raise OtherRegionEvent(candidate, shown)


def _parse_checked(event: Any, origin: Any) -> Candidate:
    """Field by field, for the input the fast path declined: the precise error, or the same Candidate."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"event must be a JSON object, not {type(event).__name__}")
    source = event.get("source")
    detail_type = event.get("detail-type")
    if source != EVENT_SOURCE or detail_type != EVENT_DETAIL_TYPE:
        if isinstance(source, str) and isinstance(detail_type, str):
            raise NotCodeArtifactEvent(f"source {source[:64]!r}, detail-type {detail_type[:64]!r}")
        raise MalformedEvent("event has no string source and detail-type", "source")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedEvent("detail must be a JSON object", "detail")
    event_id = event.get("id")
    domain = _text(detail, "domainName")
    owner = _text(detail, "domainOwner")
    repository = _text(detail, "repositoryName")
    fmt = _text(detail, "packageFormat")
    if fmt not in FORMATS:
        raise MalformedEvent(f"detail.packageFormat {fmt!r} is not a known format", "packageFormat")
    namespace = _text(detail, "packageNamespace", optional=True)
    if namespace is None and fmt in NAMESPACE_REQUIRED:
        raise MalformedEvent(f"detail.packageNamespace is required for {fmt} packages", "packageNamespace")
    package = _text(detail, "packageName")
    version = _text(detail, "packageVersion")
    state = _text(detail, "packageVersionState")
    if state not in STATES:
        raise MalformedEvent(
            f"detail.packageVersionState {state!r} is not a known state", "packageVersionState"
        )
    operation = _text(detail, "operationType")
    if operation not in OPERATIONS:
        raise MalformedEvent(f"detail.operationType {operation!r} is not a known operation", "operationType")
    revision = _text(detail, "packageVersionRevision", optional=operation == "Deleted")
    sequence = detail.get("sequenceNumber", 0)
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        raise MalformedEvent("detail.sequenceNumber must be a non-negative integer", "sequenceNumber")
    return Candidate(
        domain=domain,  # type: ignore[arg-type]
        domain_owner=owner,  # type: ignore[arg-type]
        source_repository=repository,  # type: ignore[arg-type]
        format=fmt,
        namespace=namespace,
        package=package,  # type: ignore[arg-type]
        version=version,  # type: ignore[arg-type]
        revision=revision,
        state=state,
        event_id=event_id[:128] if isinstance(event_id, str) else None,
        sequence_number=sequence,
        operation=operation,
        origin=origin,
    )


def parse_sqs_body(body: Any, *, origin: Any = None, region: str | None = None) -> Candidate:
    """Read an SQS message body that carries one EventBridge event as JSON text."""
    if not isinstance(body, str):
        raise MalformedEvent(f"SQS body must be a string, not {type(body).__name__}", "body")
    if len(body) > _MAX_BODY:
        raise MalformedEvent("SQS body is larger than 256 KiB", "body")
    try:
        event = orjson.loads(body)  # three times json's speed: decoding is a large part of CPU per event
    except (ValueError, RecursionError) as exc:
        raise MalformedEvent(f"SQS body is not JSON: {str(exc)[:120]}", "body") from None
    fast = _parse_well_formed(event, origin)
    candidate = fast if fast is not None else _parse_checked(event, origin)
    if region is not None:
        _check_region(event, candidate, region)
    return candidate


def excerpt(value: Any, limit: int = 300) -> str:
    """A short, log-safe rendering of bad input (never the whole of a huge body)."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, default=str)[: limit + 1]
    except (ValueError, TypeError, RecursionError):
        text = repr(type(value))
    return text[:limit] + ("…" if len(text) > limit else "")
