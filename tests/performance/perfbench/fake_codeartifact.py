"""An in-memory CodeArtifact client, so that the CPU and call-count figures time only our code.

It is installed under botocore (``Session.create_client``), so it replaces the client however the
function creates it (``boto3.client``, a ``Session``, a cached factory) without knowing the
function's internals. Every call is recorded; CopyPackageVersions answers as the service does for
versions that are new in the destination (all ``successfulVersions``) and validates the request
the way the service would reject it.

It is not the unit tests' fake (tests/unit/fake_codeartifact.py), which is handed to the code as a
dependency and models the service's failures at the cost of scanning every stored version per call; this
one must pass for a botocore client inside a child process and cost next to nothing beside the code timed.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.hooks import HierarchicalEmitter
from botocore.paginate import Paginator

NEEDS_NAMESPACE = {"maven", "swift", "generic"}
PUBLISHED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class CopyCall:
    domain: str
    source: str
    destination: str
    format: str
    namespace: str
    package: str
    versions: dict[str, str | None]


@dataclass
class Recorder:
    calls: list[CopyCall] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)
    denied_packages: set[str] = field(default_factory=set)
    """Copies of these packages fail with AccessDeniedException (a call-level, non-transient error)."""
    sources: dict[tuple[str, str, str, str], dict[str, str]] = field(default_factory=dict)
    """(repository, format, namespace, package) -> {version: revision}: what ListPackageVersions finds
    in a source repository (see ``catalogue``); destinations hold what was copied."""

    copies: dict[tuple[str, str, str, str], dict[str, str]] = field(default_factory=dict)
    """The same for destinations: what was copied into them since the last ``reset``."""

    def catalogue(self, events: Iterable[dict[str, Any]], source: str) -> None:
        """The source repository as a burst of events left it: every version at its newest revision (the
        burst's other events, echoes of copies into destinations, are not the destinations' contents)."""
        newest: dict[tuple[str, str, str, str, str], tuple[int, str]] = {}
        for event in events:
            d = event.get("detail") or {}
            if d.get("repositoryName") != source or d.get("operationType") == "Deleted":
                continue
            if not d.get("packageVersionRevision"):
                continue
            key = (
                d["repositoryName"],
                d["packageFormat"],
                d.get("packageNamespace") or "",
                d["packageName"],
                d["packageVersion"],
            )
            seq = int(d.get("sequenceNumber") or 0)
            if key not in newest or seq >= newest[key][0]:
                newest[key] = (seq, d["packageVersionRevision"])
        self.sources.clear()
        for (repo, fmt, ns, name, version), (_, revision) in newest.items():
            self.sources.setdefault((repo, fmt, ns, name), {})[version] = revision

    def copied(self) -> set[tuple[str, str, str, str, str]]:
        return {(c.format, c.namespace, c.package, v, c.destination) for c in self.calls for v in c.versions}

    def groups(self) -> set[tuple[str, str, str, str]]:
        return {(c.format, c.namespace, c.package, c.destination) for c in self.calls}

    def reset(self) -> None:
        self.calls.clear()
        self.copies.clear()
        self.operations.clear()


class _Exceptions:
    """``client.exceptions.X``: ClientError subclasses, as botocore's modeled exceptions are."""

    def __init__(self) -> None:
        self._made: dict[str, type[ClientError]] = {}

    def __getattr__(self, name: str) -> type[ClientError]:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._made:
            self._made[name] = type(name, (ClientError,), {})
        return self._made[name]


@dataclass
class _Meta:
    region_name: str = "us-east-1"
    endpoint_url: str = "https://codeartifact.us-east-1.amazonaws.com"
    service_model: Any = None
    config: Config = field(default_factory=Config)
    events: HierarchicalEmitter = field(default_factory=HierarchicalEmitter)
    partition: str = "aws"


@functools.cache
def _list_versions_paging() -> tuple[Any, Any]:
    session = botocore.session.get_session()
    name = "ListPackageVersions"
    config = session.get_paginator_model("codeartifact").get_paginator(name)
    return config, session.get_service_model("codeartifact").operation_model(name)


class FakeCodeArtifactClient:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._pages: dict[tuple[str, str, str, str], tuple[int, dict[str, Any]]] = {}
        self.exceptions = _Exceptions()
        self.meta = _Meta()

    def _error(self, code: str, message: str, operation: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}}, operation)

    def copy_package_versions(self, **kw: Any) -> dict[str, Any]:
        op = "CopyPackageVersions"
        self.recorder.operations[op] += 1
        versions: list[str] | None = kw.get("versions")
        revisions: dict[str, str] | None = kw.get("versionRevisions")
        if (versions is None) == (revisions is None):
            raise self._error("ValidationException", "exactly one of versions, versionRevisions", op)
        fmt = kw["format"]
        namespace = kw.get("namespace")
        if fmt in NEEDS_NAMESPACE and not namespace:
            raise self._error("ValidationException", f"{fmt} needs a namespace", op)
        wanted: dict[str, str | None] = (
            dict(revisions) if revisions is not None else dict.fromkeys(versions or [])
        )
        if not wanted or len(wanted) > 100:
            raise self._error("ValidationException", "1 to 100 versions per call", op)
        if kw["package"] in self.recorder.denied_packages:
            raise self._error("AccessDeniedException", "not authorized to copy this package", op)
        self.recorder.calls.append(
            CopyCall(
                domain=kw["domain"],
                source=kw["sourceRepository"],
                destination=kw["destinationRepository"],
                format=fmt,
                namespace=namespace or "",
                package=kw["package"],
                versions=wanted,
            )
        )
        copied = self.recorder.copies.setdefault(
            (kw["destinationRepository"], fmt, namespace or "", kw["package"]), {}
        )
        copied.update({v: rev or "AAAA" for v, rev in wanted.items()})
        return {
            "successfulVersions": {
                v: {"revision": rev or "AAAA", "status": "Published"} for v, rev in wanted.items()
            },
            "failedVersions": {},
            "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0},
        }

    def get_paginator(self, operation: str) -> Paginator[Any]:
        """botocore's own paginator over this fake's method, as a real client builds it."""
        assert operation == "list_package_versions", f"the benchmark's fake does not page {operation}"
        return Paginator(getattr(self, operation), *_list_versions_paging())

    def list_package_versions(self, **kw: Any) -> dict[str, Any]:
        """One page: a source's catalogued versions, or what was copied into a destination so far."""
        op = "ListPackageVersions"
        self.recorder.operations[op] += 1
        repo, fmt, ns, name = kw["repository"], kw["format"], kw.get("namespace") or "", kw["package"]
        key = (repo, fmt, ns, name)
        found = self.recorder.sources.get(key) or self.recorder.copies.get(key) or {}
        if not found:
            raise self._error("ResourceNotFoundException", f"package {name} not found in {repo}", op)
        # The page is built once per content (a destination's grows with copies): the figure times the
        # promoter, so the fake spends as little as it can.
        cached = self._pages.get(key)
        if cached is None or cached[0] != len(found):
            # As the service does, a listing names each version's origin (the same one a describe gives).
            origin = {"originType": _origin_type(name)}
            page = {
                "versions": [
                    {"version": v, "revision": r, "status": "Published", "origin": origin}
                    for v, r in found.items()
                ],
                "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0},
            }
            cached = self._pages[key] = (len(found), page)
        return cached[1]

    def describe_package_version(self, **kw: Any) -> dict[str, Any]:
        """What supply-chain rules read for a version (``BENCH_SUPPLY_CHAIN``): an old publish time, and an
        origin that alternates between INTERNAL and EXTERNAL by package name."""
        op = "DescribePackageVersion"
        self.recorder.operations[op] += 1
        repo, fmt, ns, name = kw["repository"], kw["format"], kw.get("namespace") or "", kw["package"]
        revision = (self.recorder.sources.get((repo, fmt, ns, name)) or {}).get(kw["packageVersion"])
        return {
            "format": fmt,
            "package": name,
            "packageVersion": {
                "version": kw["packageVersion"],
                "revision": revision or "AAAA",
                "status": "Published",
                "publishedTime": PUBLISHED,
                "origin": {"originType": _origin_type(name)},
            },
            "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0},
        }

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the benchmark's fake CodeArtifact client has no {name!r}")


def _origin_type(package: str) -> str:
    """INTERNAL and EXTERNAL alternate by package name."""
    return "INTERNAL" if len(package) % 2 else "EXTERNAL"


def install(recorder: Recorder) -> None:
    """Route every CodeArtifact client created from now on in this process to the fake."""
    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        if service_name == "codeartifact":
            return FakeCodeArtifactClient(recorder)
        return original(self, service_name, *args, **kwargs)

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
