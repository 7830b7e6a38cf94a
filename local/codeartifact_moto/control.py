"""Test-side control of the emulation: seed versions, emulate quotas, inject faults, read stats.

The same :class:`Control` API works in-process (``endpoint_url=None``: it talks to the backend
objects of the current ``mock_aws()``) and over HTTP against a server started by
:mod:`codeartifact_moto.server` (it calls that server's control endpoints under
``/_codeartifact_moto/``). Errors keep their CodeArtifact names in both modes: seeding into a
missing repository raises :class:`~codeartifact_moto.exceptions.ResourceNotFoundException`.

Control endpoints (JSON in, JSON out; ``account_id`` and ``region`` in every body):
``POST seed``, ``POST rate-limit``, ``POST faults``, ``POST answers``, ``POST faults/clear``,
``POST service-variant``, ``POST reset``, ``POST stats``, ``GET health``.

Service variants (:data:`codeartifact_moto.models.SERVICE_VARIANTS`) choose between answers the
service could give where tests must cover both: ``documented`` (the default, as the API reference
says) and ``identical-copy-omitted``; see :mod:`codeartifact_moto.models`.
"""

from __future__ import annotations

import base64
import functools
import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from .answers import ANSWER_KINDS, check_kind
from .exceptions import CodeArtifactError, error_for_code
from .models import codeartifact_backends
from .quotas import Answer
from .responses import CodeArtifactResponse

CONTROL_PREFIX = "/_codeartifact_moto"
# The code a control endpoint answers for bad arguments; Control raises ValueError for it.
INVALID_REQUEST = "InvalidControlRequest"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"


class Control:
    """Handle on one account and region of the emulated CodeArtifact."""

    def __init__(
        self,
        endpoint_url: str | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        region: str = DEFAULT_REGION,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self.account_id = account_id
        self.region = region

    # -- public API (fixed: others code against it) ----------------------------------------------

    def seed_package_version(  # noqa: PLR0917 - the fixed interface allows positional use
        self,
        domain: str,
        repository: str,
        format: str,
        package: str,
        version: str,
        namespace: str | None = None,
        assets: dict[str, bytes] | None = None,
        status: str = "Published",
        published_time: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        origin_type: str | None = None,
        dependencies: list[dict[str, str]] | None = None,
        readme: str | None = None,
    ) -> dict[str, Any]:
        """Put a version of any format into a repository as its package manager would.

        ``origin_type="EXTERNAL"`` (an additive extra) records the version as ingested through
        the repository's external connection instead of published to it (INTERNAL).
        ``dependencies`` (dicts with ``package`` and optional ``namespace``, ``dependencyType``,
        ``versionRequirement``) and ``readme`` (extras) stand for the manifest a package manager's
        publish carries; ListPackageVersionDependencies and GetPackageVersionReadme answer them.

        Emits the same events a real publish does. Calling it again for an existing version
        adds or replaces assets, changes status or metadata and gives a new revision; see
        :meth:`codeartifact_moto.models.CodeArtifactBackend.seed_package_version`.
        Names and versions are normalized as the service stores them (pypi PEP 503, nuget and
        swift lowercase, nuget versions), and a package it creates gets the default origin
        controls of ``origin_type``. Returns format, namespace, package, version (the stored
        ones), revision, status and publishedTime.
        """
        request = {
            "domain": domain,
            "repository": repository,
            "format": format,
            "package": package,
            "version": version,
            "namespace": namespace,
            "assets": None
            if assets is None
            else {k: base64.b64encode(v).decode("ascii") for k, v in assets.items()},
            "status": status,
            "published_time": published_time.isoformat() if published_time else None,
            "metadata": metadata,
            "origin_type": origin_type,
            "dependencies": dependencies,
            "readme": readme,
        }
        result: dict[str, Any] = self._call("seed", request)
        return result

    def set_rate_limit(self, operation: str, per_second: float | None) -> None:
        """Limit ``operation`` (e.g. "CopyPackageVersions") to ``per_second``; None switches off."""
        self._call("rate-limit", {"operation": operation, "per_second": per_second})

    def inject_fault(
        self,
        operation: str,
        error_code: str,
        *,
        rate: float | None = None,
        count: int | None = None,
        status: int | None = None,
        delay_seconds: float | None = None,
        package: str | None = None,
    ) -> None:
        """Fail ``operation`` with ``error_code`` for the next ``count`` calls and/or at ``rate``.

        ``status`` overrides the HTTP status the model gives the error; ``delay_seconds`` makes
        the faulty answer slow. An empty ``error_code`` with ``delay_seconds`` makes the call
        succeed slowly (or hang past a client's read timeout). ``package`` scopes the fault to
        calls whose ``package`` parameter names that package: only they fail and only they
        count; other packages' calls pass (the operation must take a package). Botocore's own
        retries count as calls.
        """
        if error_code:
            error_for_code(error_code)  # fail fast on a name the model does not know
        self._call(
            "faults",
            {
                "operation": operation,
                "error_code": error_code,
                "rate": rate,
                "count": count,
                "status": status,
                "delay_seconds": delay_seconds,
                "package": package,
            },
        )

    def inject_answer(
        self,
        operation: str,
        kind: str,
        *,
        package: str | None = None,
        count: int | None = 1,
        rate: float | None = None,
        perform: bool = False,
        body: str | None = None,
        status: int | None = None,
        content_type: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``operation`` (and/or a ``rate`` share) with ``kind``.

        ``kind`` is one of :data:`codeartifact_moto.answers.ANSWER_KINDS`: ``empty-body``,
        ``empty-object``, ``null-maps``, ``unrequested-versions``, ``html``, ``unparseable``,
        ``other-revision``, ``unknown-error-code``, ``missing-error-code``, ``null-error-code``
        or ``raw`` (with ``body``). ``perform=False`` answers without doing anything;
        ``perform=True`` carries the call out first (the copy happens) and replaces its answer,
        unless the call failed: its error is then answered as it is. ``status`` and
        ``content_type`` override the kind's (HTTP 200, its content type). ``package`` scopes
        it as for :meth:`inject_fault`. Calls that are throttled, faulted or invalid are answered
        as usual and do not use it; each injected answer counts as a fault in :meth:`stats`.
        """
        check_kind(kind, body=body, map_operation=True)  # the operation is checked by the backend
        self._call(
            "answers",
            {
                "operation": operation,
                "kind": kind,
                "package": package,
                "count": count,
                "rate": rate,
                "perform": perform,
                "body": body,
                "status": status,
                "content_type": content_type,
            },
        )

    def clear_faults(self) -> None:
        """Drop every injected fault and answer (rate limits stay)."""
        self._call("faults/clear", {})

    def set_service_variant(self, variant: str) -> None:
        """Answer as service variant ``variant`` in this account and region until :meth:`reset`.

        ``"documented"`` (the default) or ``"identical-copy-omitted"``; see
        :data:`codeartifact_moto.models.SERVICE_VARIANTS`.
        """
        self._call("service-variant", {"variant": variant})

    def service_variant(self) -> str:
        """The service variant this account and region answers as."""
        result: dict[str, str] = self._call("service-variant", {})
        return result["variant"]

    def reset(self) -> None:
        """Forget all CodeArtifact state (every account and region), limits, faults, answers and
        stats, and go back to the default service variant (``documented``).

        Other moto services keep their state; moto's own ``/moto-api/reset`` (or a new
        ``mock_aws()``) resets everything.
        """
        self._call("reset", {})

    def stats(self) -> dict[str, Any]:
        """Per operation: ``{"calls": n, "throttled": n, "faults": n}`` since the last reset."""
        result: dict[str, Any] = self._call("stats", {})
        return result

    # -- extras ---------------------------------------------------------------------------------

    def seed_faults_rng(self, seed: int) -> None:
        """Reseed the RNG behind rate-based faults, for reproducible runs."""
        self._call("faults/seed", {"seed": seed})

    # -- transport ------------------------------------------------------------------------------

    def _call(self, action: str, body: dict[str, Any]) -> Any:
        payload = {"account_id": self.account_id, "region": self.region, **body}
        if self.endpoint_url is None:
            return handle_control(action, payload)
        request = urllib.request.Request(  # noqa: S310 - a loopback URL the caller chose
            f"{self.endpoint_url}{CONTROL_PREFIX}/{action}",
            data=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}")
            code = detail.get("code", "InternalServerException")
            message = detail.get("message", str(error))
        if code == INVALID_REQUEST:
            raise ValueError(message)
        try:
            failure = error_for_code(code, message)
        except ValueError:
            raise RuntimeError(f"control call {action} failed: {code}: {message}") from None
        raise failure


@functools.cache
def _operation_names() -> frozenset[str]:
    from moto.core.utils import get_service_model  # noqa: PLC0415 - botocore's model, loaded once

    return frozenset(get_service_model("codeartifact").operation_names)


def _operation(name: Any) -> str:
    """An operation as the API names it: a misspelt one would never fire, and nothing would say so."""
    if not isinstance(name, str) or name not in _operation_names():
        raise ValueError(
            f"unknown CodeArtifact operation {name!r}; use an API name such as CopyPackageVersions"
        )
    if not CodeArtifactResponse.implements(name):
        raise ValueError(f"the local CodeArtifact does not implement {name}, so this would never apply")
    return name


def _package_scope(operation: str, package: Any) -> str | None:
    """A package filter, for an operation that takes one: on any other it would never fire."""
    if package is None:
        return None
    if not isinstance(package, str) or not package:
        raise ValueError(f"package must be a non-empty string, not {package!r}")
    from moto.core.utils import get_service_model  # noqa: PLC0415 - botocore's model, loaded once

    members = get_service_model("codeartifact").operation_model(operation).input_shape.members
    if "package" not in members:
        raise ValueError(
            f"{operation} takes no package, so a fault or answer for package {package!r} would never fire"
        )
    return package


def _map_operation(operation: str) -> bool:
    from moto.core.utils import get_service_model  # noqa: PLC0415 - botocore's model, loaded once

    output = get_service_model("codeartifact").operation_model(operation).output_shape
    return output is not None and {"successfulVersions", "failedVersions"} <= set(output.members)


def handle_control(action: str, payload: dict[str, Any]) -> Any:
    """Apply one control action to this process's backends (used by both transports).

    Arguments are checked here, not only in :class:`Control`, so raw HTTP posts get the same refusals.
    """
    backend = codeartifact_backends[payload["account_id"]][payload["region"]]
    if action == "seed":
        assets = payload.get("assets")
        published = payload.get("published_time")
        return backend.seed_package_version(
            domain=payload["domain"],
            repository=payload["repository"],
            fmt=payload["format"],
            package=payload["package"],
            version=payload["version"],
            namespace=payload.get("namespace"),
            assets=None if assets is None else {k: base64.b64decode(v) for k, v in assets.items()},
            status=payload.get("status") or "Published",
            published_time=datetime.fromisoformat(published) if published else None,
            metadata=payload.get("metadata"),
            origin_type=payload.get("origin_type"),
            dependencies=payload.get("dependencies"),
            readme=payload.get("readme"),
        )
    if action == "rate-limit":
        backend.quotas.set_rate_limit(_operation(payload["operation"]), payload.get("per_second"))
        return None
    if action == "faults":
        if payload["error_code"]:
            error_for_code(payload["error_code"])  # a name the model does not know is a ValueError
        operation = _operation(payload["operation"])
        backend.quotas.inject_fault(
            operation,
            payload["error_code"],
            rate=payload.get("rate"),
            count=payload.get("count"),
            status=payload.get("status"),
            delay_seconds=payload.get("delay_seconds"),
            package=_package_scope(operation, payload.get("package")),
        )
        return None
    if action == "answers":
        operation = _operation(payload["operation"])
        kind, body = payload.get("kind"), payload.get("body")
        if not isinstance(kind, str):
            raise ValueError(f"kind must be one of {sorted(ANSWER_KINDS)}")
        if body is not None and not isinstance(body, str):
            raise ValueError("body must be text")
        check_kind(kind, body=body, map_operation=_map_operation(operation))
        backend.quotas.inject_answer(
            operation,
            Answer(
                rate=payload.get("rate"),
                count=payload.get("count"),
                package=_package_scope(operation, payload.get("package")),
                kind=kind,
                perform=bool(payload.get("perform", False)),
                body=body,
                status=payload.get("status"),
                content_type=payload.get("content_type"),
            ),
        )
        return None
    if action == "service-variant":
        if payload.get("variant") is not None:
            backend.set_service_variant(payload["variant"])
        return {"variant": backend.service_variant}
    if action == "faults/clear":
        backend.quotas.clear_faults()
        return None
    if action == "faults/seed":
        backend.quotas.seed(int(payload["seed"]))
        return None
    if action == "stats":
        return backend.quotas.stats()
    if action == "reset":
        for account in list(codeartifact_backends.values()):
            for region_backend in list(account.values()):
                region_backend.reset_state()
        return None
    raise ValueError(f"unknown control action {action!r}")


__all__ = ["CONTROL_PREFIX", "INVALID_REQUEST", "CodeArtifactError", "Control", "handle_control"]
