"""Test-side control of the emulation: seed versions, emulate quotas, inject faults, read stats.

The same :class:`Control` API works in-process (``endpoint_url=None``: it talks to the backend
objects of the current ``mock_aws()``) and over HTTP against a server started by
:mod:`codeartifact_moto.server` (it calls that server's control endpoints under
``/_codeartifact_moto/``). Errors keep their CodeArtifact names in both modes: seeding into a
missing repository raises :class:`~codeartifact_moto.exceptions.ResourceNotFoundException`.

Control endpoints (JSON in, JSON out; ``account_id`` and ``region`` in every body):
``POST seed``, ``POST rate-limit``, ``POST faults``, ``POST faults/clear``, ``POST reset``,
``POST stats``, ``GET health``.
"""

from __future__ import annotations

import base64
import functools
import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from .exceptions import CodeArtifactError, error_for_code
from .models import codeartifact_backends

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
    ) -> dict[str, Any]:
        """Put a version of any format into a repository as its package manager would.

        ``origin_type="EXTERNAL"`` (an additive extra) records the version as ingested through
        the repository's external connection instead of published to it (INTERNAL).

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
    ) -> None:
        """Fail ``operation`` with ``error_code`` for the next ``count`` calls and/or at ``rate``.

        ``status`` overrides the HTTP status the model gives the error; ``delay_seconds`` makes
        the faulty answer slow. An empty ``error_code`` with ``delay_seconds`` makes the call
        succeed slowly. Botocore's own retries count as calls.
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
            },
        )

    def clear_faults(self) -> None:
        self._call("faults/clear", {})

    def reset(self) -> None:
        """Forget all CodeArtifact state (every account and region), limits, faults and stats.

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
    return name


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
        )
    if action == "rate-limit":
        backend.quotas.set_rate_limit(_operation(payload["operation"]), payload.get("per_second"))
        return None
    if action == "faults":
        if payload["error_code"]:
            error_for_code(payload["error_code"])  # a name the model does not know is a ValueError
        backend.quotas.inject_fault(
            _operation(payload["operation"]),
            payload["error_code"],
            rate=payload.get("rate"),
            count=payload.get("count"),
            status=payload.get("status"),
            delay_seconds=payload.get("delay_seconds"),
        )
        return None
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
