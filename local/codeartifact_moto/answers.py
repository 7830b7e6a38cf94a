"""Odd successful answers, injected in place of the real one, to test code that must trust nothing.

A proxy, a gateway or a future version of the API can answer HTTP 200 with a body that does not
say what the caller needs: empty, an HTML page, cut off, naming versions nobody asked for, or
using an error code the caller does not know. Real CodeArtifact is not known to send these; the
promoter must still lose nothing and report nothing done that is not done. Each *kind* below is
one such answer; :meth:`codeartifact_moto.control.Control.inject_answer` sends it for the next
``count`` matching calls, with or without carrying the call out first (``perform``).

The bytes are exactly these, over HTTP and in-process alike; the client (botocore) parses them as
it would parse them from AWS. For example botocore reads an empty body, an HTML page or a body
that does not parse as an answer with neither map, and a null ``errorCode`` as a missing one.

The map kinds use the ``successfulVersions``/``failedVersions`` maps that CopyPackageVersions,
UpdatePackageVersionsStatus, DeletePackageVersions and DisposePackageVersions answer; the other
kinds fit any operation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSON = "application/json"
HTML = "text/html; charset=utf-8"
# An errorCode the API model does not define (PackageVersionErrorCode), as a later API might add.
UNKNOWN_ERROR_CODE = "FUTURE_ERROR_CODE"
# Versions the unrequested-versions kind names; a requested version of that name is never used.
UNREQUESTED_SUCCESSFUL = "0.0.0-not-requested"
UNREQUESTED_FAILED = "0.0.1-not-requested"

ANSWER_KINDS: dict[str, str] = {
    "empty-body": "HTTP 200, application/json, an empty body",
    "empty-object": "HTTP 200, the JSON object {}",
    "null-maps": 'HTTP 200, {"successfulVersions": null, "failedVersions": null}',
    "unrequested-versions": "HTTP 200, successfulVersions and failedVersions naming only versions "
    f"that were not asked for ({UNREQUESTED_SUCCESSFUL} copied, {UNREQUESTED_FAILED} SKIPPED)",
    "html": "HTTP 200, text/html: a proxy's page",
    "unparseable": "HTTP 200, application/json, a JSON body cut off in the middle",
    "other-revision": "HTTP 200, successfulVersions naming every requested version (status "
    "Published) with a revision other than the one asked for or stored",
    "unknown-error-code": "HTTP 200, failedVersions naming every requested version with errorCode "
    f"{UNKNOWN_ERROR_CODE}, which the API does not define",
    "missing-error-code": "HTTP 200, failedVersions naming every requested version with an "
    "errorMessage and no errorCode",
    "null-error-code": 'HTTP 200, failedVersions naming every requested version with "errorCode": null',
    "raw": "the given body (text), status (default 200) and content type (default application/json)",
}
# Kinds that name the requested versions in the successfulVersions/failedVersions maps.
MAP_KINDS = frozenset(
    {"unrequested-versions", "other-revision", "unknown-error-code", "missing-error-code", "null-error-code"}
)
# The errorCode member each failedVersions kind sends.
ERROR_CODE_FIELDS: dict[str, dict[str, Any]] = {
    "unknown-error-code": {"errorCode": UNKNOWN_ERROR_CODE},
    "missing-error-code": {},
    "null-error-code": {"errorCode": None},
}
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Welcome</title></head>"
    "<body><h1>Welcome</h1><p>Please sign in to continue.</p></body></html>\n"
)


@dataclass(frozen=True)
class Rendered:
    """An answer as it goes on the wire."""

    status: int
    content_type: str
    body: bytes


def check_kind(kind: str, *, body: str | None, map_operation: bool) -> None:
    """Refuse a kind that does not exist, or one that cannot be given for this operation."""
    if kind not in ANSWER_KINDS:
        raise ValueError(f"unknown answer kind {kind!r}; expected one of {sorted(ANSWER_KINDS)}")
    if kind in MAP_KINDS and not map_operation:
        raise ValueError(
            f"answer kind {kind!r} needs an operation that answers successfulVersions and "
            "failedVersions (CopyPackageVersions, UpdatePackageVersionsStatus, "
            "DeletePackageVersions, DisposePackageVersions)"
        )
    if (kind == "raw") != (body is not None):
        raise ValueError("body is given with kind 'raw' and only with it")


def render(
    kind: str,
    requested: Mapping[str, str | None],
    *,
    body: str | None = None,
    status: int | None = None,
    content_type: str | None = None,
) -> Rendered:
    """The answer of ``kind`` to a call that asked for ``requested`` (version -> pinned revision)."""
    if kind == "raw":
        return Rendered(status or 200, content_type or JSON, (body or "").encode("utf-8"))
    if kind == "empty-body":
        return Rendered(status or 200, content_type or JSON, b"")
    if kind == "html":
        return Rendered(status or 200, content_type or HTML, HTML_PAGE.encode("utf-8"))
    if kind == "unparseable":
        return Rendered(status or 200, content_type or JSON, b'{"successfulVersions": {"')
    document: dict[str, Any]
    if kind == "empty-object":
        document = {}
    elif kind == "null-maps":
        document = {"successfulVersions": None, "failedVersions": None}
    elif kind == "unrequested-versions":
        document = {
            "successfulVersions": {
                _unrequested(UNREQUESTED_SUCCESSFUL, requested): {
                    "revision": _another_revision(None),
                    "status": "Published",
                }
            },
            "failedVersions": {
                _unrequested(UNREQUESTED_FAILED, requested): {
                    "errorCode": "SKIPPED",
                    "errorMessage": "Skipped because another version failed",
                }
            },
        }
    elif kind == "other-revision":
        document = {
            "successfulVersions": {
                version: {"revision": _another_revision(pinned), "status": "Published"}
                for version, pinned in requested.items()
            },
            "failedVersions": {},
        }
    else:
        code: dict[str, Any] = ERROR_CODE_FIELDS[kind]
        document = {
            "successfulVersions": {},
            "failedVersions": {
                version: {**code, "errorMessage": f"Version {version} could not be copied"}
                for version in requested
            },
        }
    return Rendered(status or 200, content_type or JSON, json.dumps(document).encode("utf-8"))


def _another_revision(pinned: str | None) -> str:
    """A revision in the service's shape (base64 of a digest) that is not ``pinned``."""
    revision = base64.b64encode(hashlib.sha256(uuid.uuid4().bytes).digest()).decode("ascii")
    return revision if revision != pinned else _another_revision(pinned)


def _unrequested(name: str, requested: Mapping[str, str | None]) -> str:
    while name in requested:
        name += "-x"
    return name
