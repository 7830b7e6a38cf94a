"""The CodeArtifact event as the promoter reads it, and the Candidate every source produces.

A ``Candidate`` is one package version in one source repository that might be promoted.
Events (here) and repository listings (reconcile) both produce candidates, so rules, the
planner and the copier never care where a version came from.

Parsing is hand-written because arbitrary JSON must end in ``MalformedEvent`` or
``NotCodeArtifactEvent`` naming the field to fix, never in another exception.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
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
    """One package version in one source repository that rules may promote, read by field name only.

    A NamedTuple rather than a frozen dataclass because one is made per event, and a frozen dataclass's
    ``__init__`` costs several times as much. ``revision`` pins the copy to the exact build that was seen;
    ``published_time`` is known from listings and DescribePackageVersion, not from events.
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
        """The package version's identity across events and revisions. Every producer folds an empty
        namespace to None, so the key needs no folding of its own."""
        return (
            self.domain,
            self.domain_owner,
            self.source_repository,
            self.format,
            self.namespace,
            self.package,
            self.version,
        )


def parse_event(event: Any, *, origin: Any = None, region: str | None = None) -> Candidate:
    """Read one EventBridge event into a Candidate.

    Raises NotCodeArtifactEvent for other sources/detail-types and MalformedEvent for
    anything else that does not have the documented shape. Unknown formats are malformed
    too: the copy API could not be called for them. With ``region`` (the function's), an event
    whose ``region`` is another raises OtherRegionEvent carrying its candidate.
    """
    if not isinstance(event, dict):  # what a JSON object decodes to, from SQS and the Lambda runtime alike
        raise MalformedEvent(f"event must be a JSON object, not {type(event).__name__}")
    source = event.get("source")
    detail_type = event.get("detail-type")
    if source != EVENT_SOURCE or detail_type != EVENT_DETAIL_TYPE:
        if isinstance(source, str) and isinstance(detail_type, str):
            raise NotCodeArtifactEvent(f"source {source[:64]!r}, detail-type {detail_type[:64]!r}")
        raise MalformedEvent("event has no string source and detail-type", "source")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise MalformedEvent("detail must be a JSON object", "detail")
    domain = _text(detail, "domainName")
    owner = _text(detail, "domainOwner")
    repository = _text(detail, "repositoryName")
    fmt = _text(detail, "packageFormat")
    if fmt not in FORMATS:
        raise MalformedEvent(f"detail.packageFormat {fmt!r} is not a known format", "packageFormat")
    namespace = _optional_text(detail, "packageNamespace")
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
    # A deleted version has no revision left to pin.
    revision = (
        _optional_text(detail, "packageVersionRevision")
        if operation == "Deleted"
        else _text(detail, "packageVersionRevision")
    )
    sequence = detail.get("sequenceNumber", 0)
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        raise MalformedEvent("detail.sequenceNumber must be a non-negative integer", "sequenceNumber")
    event_id = event.get("id")
    candidate = Candidate(
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
        event_id[:128] if isinstance(event_id, str) else None,
        sequence,
        operation,
        origin,
    )
    if region is not None:
        _check_region(event, candidate, region)
    return candidate


def parse_sqs_body(body: Any, *, origin: Any = None, region: str | None = None) -> Candidate:
    """Read an SQS message body that carries one EventBridge event as JSON text."""
    if not isinstance(body, str):
        raise MalformedEvent(f"SQS body must be a string, not {type(body).__name__}", "body")
    if len(body) > _MAX_BODY:
        raise MalformedEvent("SQS body is larger than 256 KiB", "body")
    try:
        event = orjson.loads(body)  # decoding is a large part of an event's CPU, and orjson is the fastest
    except (ValueError, RecursionError) as exc:
        raise MalformedEvent(f"SQS body is not JSON: {str(exc)[:120]}", "body") from None
    return parse_event(event, origin=origin, region=region)


def _text(detail: Mapping[str, Any], key: str) -> str:
    value = detail.get(key)
    if not (isinstance(value, str) and 0 < len(value) <= _MAX_NAME and value.isprintable()):
        raise _text_fault(key, value)
    # Of the whitespace \s matches, printable text can only hold the space.
    if key in _NAME_FIELDS and ("#" in value or "/" in value or " " in value):
        raise MalformedEvent(
            f"detail.{key} contains '#', '/' or whitespace, which CodeArtifact does not allow", key
        )
    return value


def _optional_text(detail: Mapping[str, Any], key: str) -> str | None:
    """None for a field that is absent, null or empty (the docs' events carry a null namespace)."""
    value = detail.get(key)
    if value is None or value == "":
        return None
    return _text(detail, key)


def _text_fault(key: str, value: object) -> MalformedEvent:
    """Why ``value`` is not acceptable text, the first of its faults in a fixed order."""
    if value is None:
        return MalformedEvent(f"detail.{key} is missing", key)
    if not isinstance(value, str):
        return MalformedEvent(f"detail.{key} must be a string, not {type(value).__name__}", key)
    if not value:
        return MalformedEvent(f"detail.{key} is empty", key)
    if len(value) > _MAX_NAME:
        return MalformedEvent(f"detail.{key} is longer than {_MAX_NAME} characters", key)
    return MalformedEvent(f"detail.{key} contains control characters", key)


def _check_region(event: Mapping[str, Any], candidate: Candidate, region: str) -> None:
    """EventBridge sets every event's ``region``; an event without one (a hand-written test event) is
    taken as this region's."""
    value = event.get("region")
    if value is not None and value != region:
        shown = value[:64] if isinstance(value, str) else excerpt(value, 64)
        raise OtherRegionEvent(candidate, shown)


def excerpt(value: Any, limit: int = 300) -> str:
    """A short, log-safe rendering of bad input (never the whole of a huge body)."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, default=str)[: limit + 1]
    except (ValueError, TypeError, RecursionError):
        text = repr(type(value))
    return text[:limit] + ("…" if len(text) > limit else "")
