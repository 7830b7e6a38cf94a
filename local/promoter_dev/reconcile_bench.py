"""The reconcile figure of the benchmark: list and copy calls and wall time against the minimum copy calls.

Workload: ``packages`` npm packages with ``versions`` versions each in ``staging``; ``release`` holds the
same revisions except ``missing_fraction`` of the versions. ``layout`` says which ones are missing:

- ``latest``: the newest versions of every package (events lost for recent releases): every package
  needs a copy, so the minimum is one CopyPackageVersions call per package;
- ``packages``: whole packages (a source that predates the promoter): one call per missing package.

The run is reconcile itself (``promoter.reconcile.reconcile``) on the local CodeArtifact (in-process moto
by default; ``endpoint_url`` for a server), copies unpaced so that the figure measures our work, with the
quota's floor (copy calls / 5 per second) reported beside it. A second run shows the steady state: list
calls only, no copies.

    python -m promoter_dev.reconcile_bench [--packages 1000] [--versions 10] [--missing 0.1] [--layout latest]

``figure(...)`` returns the same numbers as a dict for tests/performance.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

DOMAIN = "bench"
BENCH_RULE = {"name": "bench", "domain": DOMAIN, "sourceRepository": "staging"}
RULES: dict[str, Any] = {"rules": [{**BENCH_RULE, "destinationRepositories": ["release"]}]}
NPM_TO_RELEASE: dict[str, Any] = {
    "sourceRepository": "staging",
    "destinationRepository": "release",
    "format": "npm",
}
"""The arguments of the copies that build the destination before the figure."""
QUOTA_PER_SECOND = 5.0


class _NullLog:
    def info(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def warning(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def error(self, msg: object, *args: object, **kwargs: Any) -> None: ...


def _missing(packages: int, versions: int, fraction: float, layout: str) -> set[tuple[int, int]]:
    """(package index, version index) pairs that release lacks."""
    total = packages * versions
    count = round(total * fraction)
    if layout == "packages":
        whole = math.ceil(count / versions)
        return {(p, v) for p in range(whole) for v in range(versions)}
    if layout != "latest":
        raise ValueError(f"layout must be 'latest' or 'packages', not {layout!r}")
    per_package, extra = divmod(count, packages)
    return {
        (p, v)
        for p in range(packages)
        for v in range(versions - per_package - (1 if p < extra else 0), versions)
    }


def figure(
    packages: int = 1000,
    versions: int = 10,
    missing_fraction: float = 0.1,
    *,
    layout: str = "latest",
    concurrency: int = 4,
    endpoint_url: str | None = None,
) -> dict[str, Any]:
    """Seed the workload, run reconcile twice, and return the figure (JSON-able)."""
    import boto3  # noqa: PLC0415 - a dev tool: imports stay out of module import time
    from codeartifact_moto import install  # noqa: PLC0415
    from codeartifact_moto.control import Control  # noqa: PLC0415
    from codeartifact_moto.testing import create_domain_with_repositories  # noqa: PLC0415
    from promoter.pipeline import Dependencies  # noqa: PLC0415
    from promoter.reconcile import reconcile  # noqa: PLC0415
    from promoter.report import MemoryMetrics, Reporter  # noqa: PLC0415
    from promoter.rules import build_ruleset  # noqa: PLC0415

    install()
    context: AbstractContextManager[Any]
    if endpoint_url is None:
        from moto import mock_aws  # noqa: PLC0415

        context = mock_aws()
    else:
        context = nullcontext()
    with context:
        client = boto3.client("codeartifact", region_name="us-east-1", endpoint_url=endpoint_url)
        control = Control(endpoint_url=endpoint_url)
        create_domain_with_repositories(client, DOMAIN, ["staging", "release"])
        missing = _missing(packages, versions, missing_fraction, layout)
        started = time.monotonic()
        for p in range(packages):
            name = f"pkg-{p:05d}"
            for v in range(versions):
                control.seed_package_version(DOMAIN, "staging", "npm", name, f"1.{v}.0")
            present = [f"1.{v}.0" for v in range(versions) if (p, v) not in missing]
            if present:
                client.copy_package_versions(domain=DOMAIN, package=name, versions=present, **NPM_TO_RELEASE)
        seed_seconds = time.monotonic() - started
        rules = build_ruleset(RULES)

        def run() -> Any:
            deps = Dependencies(client=client, rules=rules, reporter=Reporter(_NullLog(), MemoryMetrics()))
            return reconcile(deps, concurrency=concurrency)

        first = run()
        second = run()
    min_copy_calls = len({p for p, _ in missing})
    return {
        "packages": packages,
        "versionsPerPackage": versions,
        "missingVersions": len(missing),
        "layout": layout,
        "concurrency": concurrency,
        "server": endpoint_url or "in-process",
        "minimumCopyCalls": min_copy_calls,
        "copyCalls": first.copy.copy_requests,
        "listCalls": first.listing.total(),
        "listCallsByOperation": dict(sorted(first.listing.calls.items())),
        "describeCalls": first.copy.describe_calls,
        "promoted": first.outcome_counts().get("promoted", 0),
        "failed": len(first.failed),
        "wallSeconds": round(first.seconds, 3),
        "quotaFloorSeconds": round(first.copy.copy_requests / QUOTA_PER_SECOND, 1),
        "steadyState": {
            "copyCalls": second.copy.copy_requests,
            "listCalls": second.listing.total(),
            "wallSeconds": round(second.seconds, 3),
        },
        "seedSeconds": round(seed_seconds, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m promoter_dev.reconcile_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--packages", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--missing", type=float, default=0.1, help="fraction of versions missing in release")
    parser.add_argument("--layout", choices=["latest", "packages"], default="latest")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--endpoint-url", help="a local server (python -m codeartifact_moto.server)")
    args = parser.parse_args(argv)
    result = figure(
        args.packages,
        args.versions,
        args.missing,
        layout=args.layout,
        concurrency=args.concurrency,
        endpoint_url=args.endpoint_url,
    )
    print(json.dumps(result, indent=2))
    return 0 if result["failed"] == 0 and result["promoted"] == result["missingVersions"] else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
