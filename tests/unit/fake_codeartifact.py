"""A small in-memory CodeArtifact for unit tests: the semantics of CopyPackageVersions and
DescribePackageVersion that the promoter relies on, nothing else.

CopyPackageVersions here, as in the service: all or nothing per call (one failure -> the
others SKIPPED), revision pinning (MISMATCHED_REVISION), and a version that already exists in
the destination is ALREADY_EXISTS unless allowOverwrite, identical or not (the API reference:
"If allowOverwrite is false and the package version already exists in the destination
repository, the package version is returned in the failedVersions field of the response with an
ALREADY_EXISTS error code"). ``variant = IDENTICAL_OMITTED`` answers an identical version in
neither map instead, as the local CodeArtifact's variant of the same name does.

Why the benchmark has a fake of its own (tests/performance/perfbench/fake_codeartifact.py): it stands in
for the client the function creates itself inside a child process, so it is installed under botocore
with the attributes botocore's clients have, and it must cost next to nothing beside the code it times
(every copy succeeds, pages are built once), whereas this one is handed in as a dependency and models
the failures the unit tests provoke, scanning every stored version on each listing.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import botocore.session
from botocore.exceptions import ClientError
from botocore.model import ServiceModel
from botocore.paginate import Paginator, PaginatorModel

COPYABLE = {"Published", "Unlisted", "Archived"}
DOCUMENTED = "documented"
IDENTICAL_OMITTED = "identical-omitted"
VARIANTS = (DOCUMENTED, IDENTICAL_OMITTED)
_revisions = itertools.count(1)


def client_error(
    code: str, status: int = 400, message: str = "injected", operation: str = "CopyPackageVersions"
) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


@functools.cache
def _paging_models() -> tuple[ServiceModel, PaginatorModel]:
    session = botocore.session.get_session()
    return session.get_service_model("codeartifact"), session.get_paginator_model("codeartifact")


def paginator(client: Any, operation: str) -> Paginator[Any]:
    """botocore's own paginator over a fake's method, as a real client's ``get_paginator`` builds it."""
    service, paging = _paging_models()
    name = next(op for op in service.operation_names if botocore.xform_name(op) == operation)
    return Paginator(getattr(client, operation), paging.get_paginator(name), service.operation_model(name))


@dataclass
class StoredVersion:
    revision: str
    status: str = "Published"
    published_time: datetime | None = None
    origin_type: str | None = None


class Key(NamedTuple):
    domain: str
    repository: str
    format: str
    namespace: str
    package: str
    version: str


@dataclass
class FakeCodeArtifact:
    versions: dict[Key, StoredVersion] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    describe_calls: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Exception] = field(default_factory=list)
    """Raised, first in first out, by the next CopyPackageVersions calls."""
    describe_faults: list[Exception] = field(default_factory=list)
    list_calls: list[dict[str, Any]] = field(default_factory=list)
    list_faults: list[Exception] = field(default_factory=list)
    """Raised, first in first out, by the next ListPackageVersions calls."""
    variant: str = DOCUMENTED

    def publish(
        self,
        domain: str,
        repository: str,
        fmt: str,
        package: str,
        version: str,
        *,
        namespace: str | None = None,
        status: str = "Published",
        revision: str | None = None,
        published_time: datetime | None = None,
        origin_type: str | None = None,
    ) -> str:
        rev = revision or f"rev-{next(_revisions)}"
        self.versions[Key(domain, repository, fmt, namespace or "", package, version)] = StoredVersion(
            rev, status, published_time or datetime(2026, 1, 1, tzinfo=UTC), origin_type
        )
        return rev

    def get(
        self, domain: str, repository: str, fmt: str, package: str, version: str, namespace: str | None = None
    ) -> StoredVersion | None:
        return self.versions.get(Key(domain, repository, fmt, namespace or "", package, version))

    # ------------------------------------------------------------------ API

    def copy_package_versions(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.faults:
            raise self.faults.pop(0)
        assert ("versions" in kwargs) != ("versionRevisions" in kwargs), "versions XOR versionRevisions"
        requested: dict[str, str | None] = (
            dict(kwargs["versionRevisions"])
            if "versionRevisions" in kwargs
            else dict.fromkeys(kwargs["versions"])
        )
        assert 0 < len(requested) <= 100
        domain, fmt, ns, package = (
            kwargs["domain"],
            kwargs["format"],
            kwargs.get("namespace", ""),
            kwargs["package"],
        )
        source, destination = kwargs["sourceRepository"], kwargs["destinationRepository"]
        failed: dict[str, dict[str, str]] = {}
        to_copy: dict[str, StoredVersion] = {}
        identical: set[str] = set()
        for version, revision in requested.items():
            stored = self.versions.get(Key(domain, source, fmt, ns, package, version))
            if stored is None:
                failed[version] = {"errorCode": "NOT_FOUND", "errorMessage": "not found"}
            elif revision is not None and stored.revision != revision:
                failed[version] = {"errorCode": "MISMATCHED_REVISION", "errorMessage": "revision changed"}
            elif stored.status not in COPYABLE:
                failed[version] = {"errorCode": "MISMATCHED_STATUS", "errorMessage": stored.status}
            else:
                existing = self.versions.get(Key(domain, destination, fmt, ns, package, version))
                if (
                    existing is not None
                    and existing.revision == stored.revision
                    and self.variant == IDENTICAL_OMITTED
                ):
                    identical.add(version)
                elif existing is not None and not kwargs.get("allowOverwrite"):
                    failed[version] = {"errorCode": "ALREADY_EXISTS", "errorMessage": "exists"}
                else:
                    to_copy[version] = stored
        if failed:
            for version in requested:
                if version not in failed and version not in identical:
                    failed[version] = {"errorCode": "SKIPPED", "errorMessage": "skipped"}
            return {"successfulVersions": {}, "failedVersions": failed}
        for version, stored in to_copy.items():
            self.versions[Key(domain, destination, fmt, ns, package, version)] = StoredVersion(
                stored.revision, stored.status, stored.published_time
            )
        return {
            "successfulVersions": {
                v: {"revision": s.revision, "status": s.status} for v, s in to_copy.items()
            },
            "failedVersions": {},
        }

    def describe_package_version(self, **kwargs: Any) -> dict[str, Any]:
        self.describe_calls.append(kwargs)
        if self.describe_faults:
            raise self.describe_faults.pop(0)
        stored = self.versions.get(self._key(kwargs, kwargs["packageVersion"]))
        if stored is None:
            raise client_error("ResourceNotFoundException", 404, operation="DescribePackageVersion")
        info: dict[str, Any] = {
            "version": kwargs["packageVersion"],
            "revision": stored.revision,
            "status": stored.status,
        }
        if stored.published_time is not None:
            info["publishedTime"] = stored.published_time
        if stored.origin_type is not None:
            info["origin"] = {"originType": stored.origin_type}
        return {"packageVersion": info}

    def update_package_versions_status(self, **kwargs: Any) -> dict[str, Any]:
        """UpdatePackageVersionsStatus: versionRevisions pin the revision, expectedStatus the status."""
        self.calls.append({"operation": "UpdatePackageVersionsStatus", **kwargs})
        successful: dict[str, Any] = {}
        failed: dict[str, Any] = {}
        revisions = kwargs.get("versionRevisions") or {}
        for version in kwargs.get("versions") or list(revisions):
            stored = self.versions.get(self._key(kwargs, version))
            if stored is None:
                failed[version] = {"errorCode": "NOT_FOUND", "errorMessage": "not found"}
            elif version in revisions and revisions[version] != stored.revision:
                failed[version] = {"errorCode": "MISMATCHED_REVISION", "errorMessage": "other revision"}
            elif kwargs.get("expectedStatus") not in (None, stored.status):
                failed[version] = {"errorCode": "MISMATCHED_STATUS", "errorMessage": stored.status}
            else:
                stored.status = kwargs["targetStatus"]
                successful[version] = {"revision": stored.revision, "status": stored.status}
        return {"successfulVersions": successful, "failedVersions": failed}

    def get_paginator(self, operation: str) -> Paginator[Any]:
        return paginator(self, operation)

    def list_package_versions(self, **kwargs: Any) -> dict[str, Any]:
        """One page holds everything (the promoter follows nextToken; paging is tested against moto)."""
        self.list_calls.append(kwargs)
        if self.list_faults:
            raise self.list_faults.pop(0)
        package = self._key(kwargs, "")
        found = [
            {"version": key.version, "revision": stored.revision, "status": stored.status}
            | ({"origin": {"originType": stored.origin_type}} if stored.origin_type else {})
            for key, stored in self.versions.items()
            if key._replace(version="") == package and kwargs.get("status") in (None, stored.status)
        ]
        if not found:
            raise client_error("ResourceNotFoundException", 404, operation="ListPackageVersions")
        return {"versions": found}

    @staticmethod
    def _key(kwargs: dict[str, Any], version: str) -> Key:
        """The stored version a package-level request names."""
        return Key(
            kwargs["domain"],
            kwargs["repository"],
            kwargs["format"],
            kwargs.get("namespace", ""),
            kwargs["package"],
            version,
        )
