"""Reconcile at scale (issue 21): a domain of many packages reconciled across scheduled runs, each
holding the function's timeout, continuing from the cursor the previous run left.

Workload: ``packages`` npm packages with ``versions`` versions each in ``staging``; ``release`` lacks the
newest version of every package (events lost for a release of everything), so the minimum is one
CopyPackageVersions call per package. The runs are ``promoter.reconcile.reconcile`` on the local
CodeArtifact in-process (moto), with the function's pacing (``promoter.pacing.AdaptiveRateLimiter`` at
PROMOTER_COPY_RATE) and the function's remaining-time budget, on a virtual clock: real time spent plus the
pacing's sleeps, which are skipped rather than slept. So a run ends when the quota (not the emulator)
would have used up its timeout, as a deployed run would, and the figure takes seconds, not the hours the
quota needs. Not modelled: throttling by the service (the pacing keeps under it alone), the latency of
real calls (the emulator's own time counts against the deadline instead), and the SSM parameter that
holds the cursor between runs (passed from one run to the next here).
"""

from __future__ import annotations

import time
from typing import Any

DOMAIN = "bench"


class VirtualClock:
    """Real elapsed time plus the sleeps skipped so far."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.skipped += max(0.0, seconds)


class _NullLog:
    def info(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def warning(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def error(self, msg: object, *args: object, **kwargs: Any) -> None: ...


def figure(
    packages: int, versions: int, timeout_seconds: float, copy_rate: float, max_runs: int = 200
) -> Any:
    import boto3  # noqa: PLC0415
    from codeartifact_moto import install  # noqa: PLC0415
    from codeartifact_moto.control import Control  # noqa: PLC0415
    from codeartifact_moto.testing import create_domain_with_repositories  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415
    from promoter.copier import RetryPolicy  # noqa: PLC0415
    from promoter.pacing import AdaptiveRateLimiter  # noqa: PLC0415
    from promoter.pipeline import Dependencies  # noqa: PLC0415
    from promoter.reconcile import DEFAULT_RESERVE_SECONDS, reconcile  # noqa: PLC0415
    from promoter.report import MemoryMetrics, Reporter  # noqa: PLC0415
    from promoter.rules import build_ruleset  # noqa: PLC0415
    from promoter.settings import Settings  # noqa: PLC0415

    install()
    settings = Settings.from_env({})
    with mock_aws():
        client = boto3.client("codeartifact", region_name="us-east-1")
        control = Control()
        create_domain_with_repositories(client, DOMAIN, ["staging", "release"])
        seeded = time.monotonic()
        for p in range(packages):
            name = f"pkg-{p:05d}"
            for v in range(versions):
                control.seed_package_version(DOMAIN, "staging", "npm", name, f"1.{v}.0")
            client.copy_package_versions(
                domain=DOMAIN,
                sourceRepository="staging",
                destinationRepository="release",
                format="npm",
                package=name,
                versions=[f"1.{v}.0" for v in range(versions - 1)],
            )
        seed_seconds = time.monotonic() - seeded
        rules = build_ruleset(
            {
                "rules": [
                    {
                        "name": "bench",
                        "domain": DOMAIN,
                        "sourceRepository": "staging",
                        "destinationRepositories": ["release"],
                    }
                ]
            }
        )
        clock = VirtualClock()
        limiter = AdaptiveRateLimiter(copy_rate, clock=clock)
        cursor = None
        runs: list[dict[str, Any]] = []
        promoted = failed = copy_calls = 0
        wall = time.monotonic()
        while len(runs) < max_runs:
            started = clock()

            def remaining(started: float = started) -> float:
                return timeout_seconds - (clock() - started)

            deps = Dependencies(
                client=client,
                rules=rules,
                reporter=Reporter(_NullLog(), MemoryMetrics()),
                remaining=remaining,
                limiter=limiter,
                policy=RetryPolicy(call_reserve=settings.call_reserve, max_attempts=settings.max_attempts),
                sleep=clock.sleep,
            )
            result = reconcile(deps, start=cursor)
            used = clock() - started
            counts = result.outcome_counts()
            promoted += counts.get("promoted", 0)
            failed += len(result.failed)
            copy_calls += result.copy.copy_requests
            runs.append(
                {
                    "seconds": round(used, 2),
                    "within_timeout": used <= timeout_seconds,
                    "copy_calls": result.copy.copy_requests,
                    "promoted": counts.get("promoted", 0),
                    "packages_done": result.packages_done,
                    "complete": result.complete,
                    "out_of_time": result.out_of_time,
                }
            )
            cursor = result.cursor
            clock.sleep(3600.0)  # the next scheduled run, an hour later (the template's default schedule)
            if cursor is None and result.complete:
                break
    usable = timeout_seconds - settings.call_reserve - DEFAULT_RESERVE_SECONDS
    return {
        "packages": packages,
        "versionsPerPackage": versions,
        "missingVersions": packages,
        "minimumCopyCalls": packages,
        "timeoutSeconds": timeout_seconds,
        "copyRate": copy_rate,
        "runs": len(runs),
        "copyCalls": copy_calls,
        "promoted": promoted,
        "failed": failed,
        "everyRunWithinTimeout": all(r["within_timeout"] for r in runs),
        "longestRunSeconds": max(r["seconds"] for r in runs),
        # Each run may start copies only while the copier's and reconcile's reserves are left.
        "usableSecondsPerRun": usable,
        "quotaFloorRuns": packages / (copy_rate * usable) if usable > 0 else None,
        "wallSeconds": round(time.monotonic() - wall, 1),
        "seedSeconds": round(seed_seconds, 1),
        "perRun": runs,
    }
