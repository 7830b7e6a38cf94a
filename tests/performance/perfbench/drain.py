"""Figure 4: draining a burst under the CopyPackageVersions quota, through SQS, over HTTP.

A local CodeArtifact (moto server with the project's backend) holds the source versions, with
CopyPackageVersions limited to the default quota of 5 requests/second. The burst's events are put
on an SQS queue of that server, and ``concurrency`` emulated event source mappings (``esm``, one
process each, as Lambda execution environments are) feed them to the handler in the template's
batch size and window. The clock runs from the moment the pollers are released until the queue is
empty, nothing is in flight and every expected version is in its destination.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from perfbench import template, workload
from perfbench.runner import child_env
from perfbench.scale import Scale
from perfbench.template import FUNCTION_DIR

Json = dict[str, Any]
QUOTA_PER_SECOND = 5.0


@dataclass
class Local:
    url: str
    control: Any
    server: Any


def _fast_sqs_clock() -> None:
    """moto's SQS reads the clock through datetime arithmetic (about 35 us a call) several times per
    message per ReceiveMessage, so one receive from a queue of a few hundred messages takes a second:
    an emulator cost that real SQS does not have and that would swamp the figure. In this process only
    (the server runs in it), its two clock helpers become ``time.time()``, which they compute anyway.
    """
    import moto.sqs.models as sqs_models  # noqa: PLC0415 - moto is imported only for this figure

    slow: Any = getattr(sqs_models, "unix_time")  # noqa: B009 - moto does not re-export it to mypy

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else float(slow(dt))

    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0

    setattr(sqs_models, "unix_time", unix_time)  # noqa: B010
    setattr(sqs_models, "unix_time_millis", unix_time_millis)  # noqa: B010


def start_local() -> Local:
    """A moto server with the CodeArtifact backend on a free loopback port."""
    # Imported here: the other figures run without the backend (and before it exists).
    import codeartifact_moto  # noqa: PLC0415
    from codeartifact_moto.control import Control  # noqa: PLC0415
    from codeartifact_moto.server import start_server  # noqa: PLC0415

    codeartifact_moto.install()
    _fast_sqs_clock()
    server, url = start_server(0)
    return Local(url=url, control=Control(endpoint_url=url), server=server)


def _clients(url: str) -> tuple[Any, Any]:
    kw: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    return boto3.client("codeartifact", **kw), boto3.client("sqs", **kw)


def _prepare(
    local: Local, plan: workload.Plan, domain: str = workload.DOMAIN, *, reset: bool = True
) -> dict[workload.Version, str]:
    """A fresh domain with the source versions published; returns each version's revision."""
    if reset:
        local.control.reset()
    ca, _ = _clients(local.url)
    ca.create_domain(domain=domain)
    for repo in (workload.SOURCE, workload.RELEASE, workload.MIRROR):
        ca.create_repository(domain=domain, repository=repo)
    revisions: dict[workload.Version, str] = {}
    for v in plan.versions:
        seeded = local.control.seed_package_version(
            domain,
            workload.SOURCE,
            v.package.format,
            v.package.name,
            v.version,
            namespace=v.package.namespace,
            assets={f"{v.package.name}-{v.version}.bin": f"{v.package.name}=={v.version}".encode()},
        )
        revisions[v] = str(seeded["revision"])
    return revisions


def _present(
    local: Local,
    plan: workload.Plan,
    revisions: dict[workload.Version, str],
    domain: str = workload.DOMAIN,
) -> tuple[int, int]:
    """(versions present with the published revision, versions present with another revision)."""
    ca, _ = _clients(local.url)
    by_group: dict[tuple[str, str, str, str], dict[str, str]] = {}
    for v, dests in plan.destinations.items():
        for d in dests:
            by_group.setdefault((*v.package.key, d), {})[v.version] = revisions[v]
    same = other = 0
    for (fmt, ns, name, dest), wanted in by_group.items():
        kw: dict[str, Any] = {"domain": domain, "repository": dest, "format": fmt, "package": name}
        kw |= {"namespace": ns} if ns else {}
        found: dict[str, str] = {}
        try:
            for page in ca.get_paginator("list_package_versions").paginate(**kw):
                for pv in page.get("versions", []):
                    found[pv["version"]] = pv.get("revision", "")
        except ca.exceptions.ResourceNotFoundException:
            continue
        for version, revision in wanted.items():
            if version in found:
                if found[version] == revision:
                    same += 1
                else:
                    other += 1
    return same, other


def _queue(local: Local, settings: template.Settings, burst: workload.Burst) -> str:
    _, sqs = _clients(local.url)
    url: str = sqs.create_queue(
        QueueName=f"promoter-bench-{time.monotonic_ns()}",
        Attributes={"VisibilityTimeout": str(settings.visibility_timeout_seconds)},
    )["QueueUrl"]
    for i in range(0, len(burst.events), 10):
        chunk = burst.events[i : i + 10]
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": json.dumps(e)} for j, e in enumerate(chunk)]
        )
    return url


def _queue_empty(sqs: Any, url: str) -> bool:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 0
    )


def worker_spec(
    settings: template.Settings, handler: str, queue_url: str, tmp: Path, ready: Path
) -> dict[str, Any]:
    """The spec of one emulated execution environment (perfbench.child's "worker"): it polls ``queue_url``
    with the template's batching, writes ``ready`` once its handler is imported, starts when ``tmp/go``
    appears and stops when ``tmp/stop`` does."""
    return {
        "kind": "worker",
        "handler": handler,
        "queue_url": queue_url,
        "batch_size": settings.batch_size,
        "batching_window_seconds": settings.batching_window_seconds,
        "timeout_seconds": settings.timeout_seconds,
        "go_file": str(tmp / "go"),
        "stop_file": str(tmp / "stop"),
        "ready_file": str(ready),
    }


def run_one(
    local: Local, settings: template.Settings, plan: workload.Plan, handler: str, deadline_s: float
) -> Json:
    revisions = _prepare(local, plan)
    burst = workload.build_burst(plan, events=0, revisions=revisions)
    burst = workload.build_burst(
        plan, events=len(burst.events) + len(burst.events) // 10, revisions=revisions
    )
    queue_url = _queue(local, settings, burst)
    local.control.set_rate_limit("CopyPackageVersions", QUOTA_PER_SECOND)
    stats_before = local.control.stats()
    before = stats_before.get("CopyPackageVersions", {})
    _, sqs = _clients(local.url)
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        rules_file = Path(tmp, "rules.json")
        rules_file.write_text(workload.rules_document(plan.rules))
        go, stop = Path(tmp, "go"), Path(tmp, "stop")
        env = child_env(settings, rules_file=rules_file, endpoint=local.url)
        procs: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
        for n in range(settings.max_concurrency):
            ready, result = Path(tmp, f"ready{n}"), Path(tmp, f"result{n}.json")
            spec = worker_spec(settings, handler, queue_url, Path(tmp), ready)
            spec_file = Path(tmp, f"spec{n}.json")
            spec_file.write_text(json.dumps(spec))
            with Path(tmp, f"stderr{n}").open("wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "perfbench.child", str(spec_file), str(result)],
                    cwd=FUNCTION_DIR,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                )
            procs.append((proc, ready, result))
        try:
            wait_until = time.monotonic() + 60
            while not all(r.exists() for _, r, _ in procs):
                if any(p.poll() is not None for p, _, _ in procs) or time.monotonic() > wait_until:
                    raise RuntimeError("a drain worker did not start: " + _stderr_tail(Path(tmp)))
                time.sleep(0.02)
            start = time.time()
            go.touch()
            drained = False
            while time.time() - start < deadline_s:
                time.sleep(0.25)
                if _queue_empty(sqs, queue_url):
                    drained = True
                    break
        finally:
            stop.touch()
            for p, _, _ in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        stopped = time.time()
        invocations: list[Json] = []
        for _, _, result in procs:
            if result.exists():
                invocations.extend(json.loads(result.read_text())["invocations"])
        if not invocations and not drained:
            raise RuntimeError("the drain workers made no invocation: " + _stderr_tail(Path(tmp)))
    local.control.set_rate_limit("CopyPackageVersions", None)
    stats_after = local.control.stats()
    after = stats_after.get("CopyPackageVersions", {})
    same, other = _present(local, plan, revisions)
    expected = len(plan.expected)
    last_end = max((i["end"] for i in invocations), default=stopped)
    seconds = (last_end if drained else stopped) - start
    ideal = plan.minimum_calls / QUOTA_PER_SECOND
    return {
        "drained": drained,
        "seconds": seconds,
        "ideal_seconds": ideal,
        "ratio": seconds / ideal,
        "events": len(burst.events),
        "expected_versions": expected,
        "present_same_revision": same,
        "present_other_revision": other,
        "lost": expected - same - other if drained else None,
        "missing_at_stop": expected - same - other,
        "copy_requests": int(after.get("calls", 0)) - int(before.get("calls", 0)),
        "throttled": int(after.get("throttled", 0)) - int(before.get("throttled", 0)),
        "list_calls": int(stats_after.get("ListPackageVersions", {}).get("calls", 0))
        - int(stats_before.get("ListPackageVersions", {}).get("calls", 0)),
        "invocations": len(invocations),
        "invocation_errors": sum(1 for i in invocations if i["error"]),
        "records_failed": sum(i["failed"] for i in invocations),
        "timeline": [
            [round(i["start"] - start, 2), round(i["end"] - start, 2), i["records"], i["failed"]]
            for i in sorted(invocations, key=lambda i: float(i["start"]))
        ],
    }


def _stderr_tail(tmp: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted(tmp.glob("stderr*")))


def drain(scale: Scale, settings: template.Settings, *, with_ours: bool) -> Json:
    plan = workload.make_plan(
        packages=scale.drain_packages, events=scale.drain_events, rules=max(4, scale.drain_packages // 4)
    )
    if scale.drain_window_cap_seconds is not None:
        window = min(settings.batching_window_seconds, scale.drain_window_cap_seconds)
        settings = dataclasses.replace(settings, batching_window_seconds=window)
    out: Json = {
        "packages": scale.drain_packages,
        "versions": len(plan.versions),
        "minimum_calls": plan.minimum_calls,
        "quota_per_second": QUOTA_PER_SECOND,
        "batch_size": settings.batch_size,
        "batching_window_seconds": settings.batching_window_seconds,
        "concurrency": settings.max_concurrency,
        "visibility_timeout_seconds": settings.visibility_timeout_seconds,
    }
    local = start_local()
    try:
        if with_ours:
            out["ours"] = run_one(local, settings, plan, settings.handler, scale.drain_deadline_seconds)
        out["naive"] = run_one(
            local, settings, plan, "perfbench.naive.lambda_handler", scale.naive_drain_deadline_seconds
        )
    finally:
        local.server.stop()
        os.environ.pop("AWS_ENDPOINT_URL", None)
    return out
