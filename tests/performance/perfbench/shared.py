"""Issue 21's drains: promoter stacks sharing one account's CopyPackageVersions quota, and a large burst.

``run_stacks`` is figure 4's drain (``drain.py``) generalised: one local CodeArtifact whose copy quota is
``quota`` per second for everyone, and for each stack its own domain, burst, SQS queue and emulated event
source mapping (the template's batch size, window and concurrency: one process per execution
environment), started together. An optional unrelated client spends ``other_rate`` successful copy
calls a second from the same quota (it retries its throttled calls 50 ms later, so it keeps spending
that much). The clock runs until every stack's queue is empty and nothing is in flight.

What it models: the quota is one token bucket per account (capacity max(1, quota), refilled at the
quota), shared by all callers; each execution environment paces itself with what it alone sees.
What it does not: network latency (loopback), other CodeArtifact quotas (ListPackageVersions is
unlimited here), Lambda's scaling of pollers (the concurrency is fixed at the mapping's maximum from
the start), and cold starts (workers import the handler before the clock starts).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfbench import template, workload
from perfbench.drain import Local, _clients, _prepare, _present, _queue_empty, _stderr_tail, worker_spec
from perfbench.runner import child_env
from perfbench.template import FUNCTION_DIR

Json = dict[str, Any]

# List prices, us-east-1, as published on the AWS pricing pages (aws.amazon.com/lambda/pricing,
# /sqs/pricing, /eventbridge/pricing, /codeartifact/pricing), as of 2026-12-06; free tiers ignored.
PRICES = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1_000_000,
    "sqs_request": 0.40 / 1_000_000,  # standard queue, per 64 KB chunk of a request
    "eventbridge_aws_service_event": 0.0,  # state changes of AWS services on the default bus are free
    "codeartifact_request": 0.05 / 10_000,
}
PRICES_DATE = "2026-12-06"


@dataclass
class StackRun:
    """One promoter stack of a shared-quota run: its domain, its burst and its environment."""

    name: str
    domain: str
    plan: workload.Plan
    environment: dict[str, str] = field(default_factory=dict)
    handler: str | None = None


def _in_domain(event: Json, domain: str) -> Json:
    event = json.loads(json.dumps(event))
    event["detail"]["domainName"] = domain
    event["resources"] = [r.replace(f"/{workload.DOMAIN}/", f"/{domain}/") for r in event["resources"]]
    return event


def _rules(plan: workload.Plan, domain: str) -> str:
    return workload.rules_document([rule | {"domain": domain} for rule in plan.rules])


class OtherClient(threading.Thread):
    """An unrelated tool spending ``rate`` accepted CopyPackageVersions calls a second of the quota."""

    def __init__(self, url: str, rate: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.rate, self.stop = url, rate, stop
        self.calls = self.throttled = 0

    def setup(self, local: Local) -> None:
        ca, _ = _clients(self.url)
        ca.create_domain(domain="other-tool")
        for repo in ("src", "dst"):
            ca.create_repository(domain="other-tool", repository=repo)
        local.control.seed_package_version("other-tool", "src", "npm", "tool", "1.0.0")

    def run(self) -> None:
        ca, _ = _clients(self.url)
        due = time.monotonic()
        while not self.stop.is_set():
            time.sleep(max(0.0, due - time.monotonic()))
            self.calls += 1
            try:
                ca.copy_package_versions(
                    domain="other-tool",
                    sourceRepository="src",
                    destinationRepository="dst",
                    format="npm",
                    package="tool",
                    versions=["1.0.0"],
                    allowOverwrite=True,
                )
                due += 1 / self.rate
            except ca.exceptions.ThrottlingException:
                self.throttled += 1
                due = time.monotonic() + 0.05


QUEUE_DEPTH = 400
"""Events kept waiting in a stack's queue at most: moto's SQS scans every message of a queue on each
ReceiveMessage (``Queue.messages``), so a queue of thousands made each poll take seconds, an emulator cost
real SQS does not have. A feeder tops the queue up to this depth as the mapping drains it (40 batches
ahead of 2 pollers: the queue never runs dry before the burst is all sent)."""


class Feeder(threading.Thread):
    """Sends a burst's events to its queue, keeping at most ``QUEUE_DEPTH`` waiting."""

    def __init__(self, url: str, queue_url: str, events: list[Json]) -> None:
        super().__init__(daemon=True)
        self.queue_url, self.events = queue_url, events
        _, self.sqs = _clients(url)
        self.sent = 0
        self.stop = threading.Event()

    def top_up(self) -> None:
        waiting = int(
            self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
        )
        room = QUEUE_DEPTH - waiting
        while room > 0 and self.sent < len(self.events):
            chunk = self.events[self.sent : self.sent + min(10, room)]
            self.sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(j), "MessageBody": json.dumps(e)} for j, e in enumerate(chunk)],
            )
            self.sent += len(chunk)
            room -= len(chunk)

    @property
    def done(self) -> bool:
        return self.sent >= len(self.events)

    def run(self) -> None:
        while not self.done and not self.stop.is_set():
            self.top_up()
            time.sleep(0.1)


def _empty_queue(local: Local, settings: template.Settings) -> str:
    _, sqs = _clients(local.url)
    url: str = sqs.create_queue(
        QueueName=f"promoter-bench-{time.monotonic_ns()}",
        Attributes={"VisibilityTimeout": str(settings.visibility_timeout_seconds)},
    )["QueueUrl"]
    return url


def run_stacks(
    local: Local,
    settings: template.Settings,
    stacks: list[StackRun],
    *,
    quota: float,
    deadline_s: float,
    other_rate: float = 0.0,
) -> Json:
    """Drain every stack's burst at once against one quota; per stack and in total: time, calls, throttles,
    versions lost, invocations, peak memory and what the run costs."""
    local.control.reset()
    other_stop = threading.Event()
    other = OtherClient(local.url, other_rate, other_stop) if other_rate > 0 else None
    if other is not None:
        other.setup(local)
    prepared = []
    feeders: list[Feeder] = []
    for stack in stacks:
        revisions = _prepare(local, stack.plan, stack.domain, reset=False)
        burst = workload.build_burst(stack.plan, events=0, revisions=revisions)
        burst = workload.build_burst(
            stack.plan, events=len(burst.events) + len(burst.events) // 10, revisions=revisions
        )
        burst.events = [_in_domain(e, stack.domain) for e in burst.events]
        queue_url = _empty_queue(local, settings)
        feeder = Feeder(local.url, queue_url, burst.events)
        feeder.top_up()
        feeders.append(feeder)
        prepared.append((stack, revisions, burst, queue_url))
    _, sqs = _clients(local.url)
    with tempfile.TemporaryDirectory(prefix="bench-shared-") as tmp:
        go, stop = Path(tmp, "go"), Path(tmp, "stop")
        procs: list[tuple[int, subprocess.Popen[bytes], Path, Path]] = []
        for index, (stack, _, _, queue_url) in enumerate(prepared):
            rules_file = Path(tmp, f"rules-{index}.json")
            rules_file.write_text(_rules(stack.plan, stack.domain))
            env = child_env(settings, rules_file=rules_file, endpoint=local.url)
            env |= {"DOMAIN_NAME": stack.domain} | stack.environment
            for n in range(settings.max_concurrency):
                ready, result = Path(tmp, f"ready{index}-{n}"), Path(tmp, f"result{index}-{n}.json")
                spec = worker_spec(settings, stack.handler or settings.handler, queue_url, Path(tmp), ready)
                spec["function_name"] = f"promoter-{stack.name}"
                spec_file = Path(tmp, f"spec{index}-{n}.json")
                spec_file.write_text(json.dumps(spec))
                with (
                    Path(tmp, f"stderr{index}-{n}").open("wb") as err,
                    Path(tmp, f"log{index}-{n}").open("wb") as log,
                ):
                    proc = subprocess.Popen(
                        [sys.executable, "-m", "perfbench.child", str(spec_file), str(result)],
                        cwd=FUNCTION_DIR,
                        env=env,
                        stdout=log,
                        stderr=err,
                    )
                procs.append((index, proc, ready, result))
        drained_at: dict[int, float] = {}
        try:
            wait_until = time.monotonic() + 120
            while not all(r.exists() for _, _, r, _ in procs):
                if any(p.poll() is not None for _, p, _, _ in procs) or time.monotonic() > wait_until:
                    raise RuntimeError("a drain worker did not start: " + _stderr_tail(Path(tmp)))
                time.sleep(0.02)
            local.control.set_rate_limit("CopyPackageVersions", quota)
            before = local.control.stats().get("CopyPackageVersions", {})
            if other is not None:
                other.start()
            start = time.time()
            go.touch()
            for feeder in feeders:
                feeder.start()
            while time.time() - start < deadline_s and len(drained_at) < len(prepared):
                time.sleep(0.25)
                for index, (_, _, _, queue_url) in enumerate(prepared):
                    if index not in drained_at and feeders[index].done and _queue_empty(sqs, queue_url):
                        drained_at[index] = time.time()
        finally:
            stop.touch()
            other_stop.set()
            for feeder in feeders:
                feeder.stop.set()
            for _, p, _, _ in procs:
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
        stopped = time.time()
        after = local.control.stats().get("CopyPackageVersions", {})
        local.control.set_rate_limit("CopyPackageVersions", None)
        results: dict[int, list[Json]] = {}
        failures: dict[int, Counter[str]] = {}
        for index, _, _, result in procs:
            if result.exists():
                results.setdefault(index, []).append(json.loads(result.read_text()))
        for log_file in Path(tmp).glob("log*"):
            index = int(log_file.name[3:].split("-")[0])
            failures.setdefault(index, Counter()).update(_failed_outcomes(log_file))
    other_calls = other.calls if other is not None else 0
    other_throttled = other.throttled if other is not None else 0
    per_stack: list[Json] = []
    for index, (stack, revisions, burst, _) in enumerate(prepared):
        workers = results.get(index, [])
        invocations = [i for w in workers for i in w["invocations"]]
        drained = index in drained_at
        last_end = max((i["end"] for i in invocations), default=stopped)
        seconds = (last_end if drained else stopped) - start
        same, other_rev = _present(local, stack.plan, revisions, stack.domain)
        expected = len(stack.plan.expected)
        sqs_requests = sum(w["sqs_requests"]["receive"] + w["sqs_requests"]["delete"] for w in workers)
        per_stack.append(
            {
                "name": stack.name,
                "environment": stack.environment,
                "drained": drained,
                "seconds": seconds,
                "events": len(burst.events),
                "versions": len(stack.plan.versions),
                "expected_versions": expected,
                "minimum_calls": stack.plan.minimum_calls,
                "lost": expected - same - other_rev if drained else None,
                "missing_at_stop": expected - same - other_rev,
                "present_other_revision": other_rev,
                "invocations": len(invocations),
                "invocation_errors": sum(1 for i in invocations if i["error"]),
                "records_failed": sum(i["failed"] for i in invocations),
                "failed_outcomes": dict(failures.get(index, Counter()).most_common(5)),
                "peak_rss_mb": max((w["peak_rss_kb"] for w in workers), default=0) / 1024,
                "billed_ms": sum(math.ceil((i["end"] - i["start"]) * 1000) for i in invocations),
                # EventBridge -> SQS delivers each event with one SendMessage; the mapping's polls and deletes
                "sqs_requests": len(burst.events) + sqs_requests,
            }
        )
    copy_calls = int(after.get("calls", 0)) - int(before.get("calls", 0)) - other_calls
    throttled = int(after.get("throttled", 0)) - int(before.get("throttled", 0)) - other_throttled
    minimum = sum(s["minimum_calls"] for s in per_stack)
    seconds = max(s["seconds"] for s in per_stack)
    ideal = minimum / (quota - other_rate)
    return {
        "quota_per_second": quota,
        "other_client_rate": other_rate,
        "other_client_calls": other_calls,
        "other_client_throttled": other_throttled,
        "stacks": per_stack,
        "drained": all(s["drained"] for s in per_stack),
        "seconds": seconds,
        "minimum_calls": minimum,
        "ideal_seconds": ideal,
        "ratio": seconds / ideal,
        "copy_calls": copy_calls,
        "throttled": throttled,
        "throttled_share": throttled / copy_calls if copy_calls else 0.0,
        "lost": sum(s["lost"] or 0 for s in per_stack) if all(s["drained"] for s in per_stack) else None,
        "missing_at_stop": sum(s["missing_at_stop"] for s in per_stack),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in per_stack),
        "cost": cost(per_stack, settings, copy_calls),
    }


def _failed_outcomes(log_file: Path) -> Counter[str]:
    """The function's ``failed`` outcome lines in one environment's log, by error code and message start
    (why records went back to the queue)."""
    counts: Counter[str] = Counter()
    with log_file.open("rb") as lines:
        for line in lines:
            if b'"failed"' not in line:
                continue
            try:
                fields = json.loads(line)
            except ValueError:
                continue
            if fields.get("outcome") == "failed":
                counts[f"{fields.get('errorCode')}: {str(fields.get('errorMessage'))[:80]}"] += 1
    return counts


def cost(per_stack: list[Json], settings: template.Settings, copy_calls: int) -> Json:
    """Dollars at PRICES: Lambda (billed duration x memory, and requests), SQS requests (the events'
    delivery, the mapping's receives and deletes), EventBridge (free for AWS service events), and
    CodeArtifact requests (the copy calls, throttled ones included; the reads are not counted here)."""
    gb_seconds = sum(s["billed_ms"] for s in per_stack) / 1000 * settings.memory_mb / 1024
    invocations = sum(s["invocations"] for s in per_stack)
    sqs_requests = sum(s["sqs_requests"] for s in per_stack)
    parts = {
        "lambda": gb_seconds * PRICES["lambda_gb_second_arm64"] + invocations * PRICES["lambda_request"],
        "sqs": sqs_requests * PRICES["sqs_request"],
        "eventbridge": 0.0,
        "codeartifact": copy_calls * PRICES["codeartifact_request"],
    }
    # Per version promoted: a run stopped at its deadline (the naive one) is priced by what it delivered.
    versions = sum(s["expected_versions"] - s["missing_at_stop"] for s in per_stack)
    return {
        "dollars": sum(parts.values()),
        "parts": parts,
        "gb_seconds": gb_seconds,
        "per_1000_versions": sum(parts.values()) / versions * 1000 if versions else None,
        "prices": PRICES,
        "prices_date": PRICES_DATE,
    }


def _start() -> Local:
    from perfbench.drain import start_local  # noqa: PLC0415

    return start_local()


def _stop(local: Local) -> None:
    import os  # noqa: PLC0415

    local.server.stop()
    os.environ.pop("AWS_ENDPOINT_URL", None)


def _plan(packages: int, events: int, seed: int) -> workload.Plan:
    return workload.make_plan(packages=packages, events=events, rules=max(4, packages // 4), seed=seed)


def shared_quota(
    settings: template.Settings, *, packages: int, events: int, deadline_s: float, quota: float = 5.0
) -> Json:
    """Two stacks (two domains, two queues, each mapping with the template's concurrency), one quota:
    adaptive pacing (the default), then the fixed pacing it replaced as the baseline, same bursts."""
    out: Json = {"packages_per_stack": packages, "events_per_stack": events}
    local = _start()
    try:
        for pacing in ("adaptive", "fixed"):
            stacks = [
                StackRun(name, domain, _plan(packages, events, seed), {"PROMOTER_COPY_PACING": pacing})
                for name, domain, seed in (("a", "acme-a", 5), ("b", "acme-b", 6))
            ]
            out[pacing] = run_stacks(local, settings, stacks, quota=quota, deadline_s=deadline_s)
    finally:
        _stop(local)
    return out


def third_client(
    settings: template.Settings,
    *,
    packages: int,
    events: int,
    deadline_s: float,
    quota: float = 5.0,
    other_rate: float = 2.0,
) -> Json:
    """One stack beside an unrelated client spending ``other_rate`` calls/s: adaptive, then fixed."""
    out: Json = {"packages": packages, "events": events}
    local = _start()
    try:
        for pacing in ("adaptive", "fixed"):
            stacks = [StackRun("a", "acme-a", _plan(packages, events, 5), {"PROMOTER_COPY_PACING": pacing})]
            out[pacing] = run_stacks(
                local, settings, stacks, quota=quota, deadline_s=deadline_s, other_rate=other_rate
            )
    finally:
        _stop(local)
    return out


def scale_series(
    settings: template.Settings,
    *,
    steps: list[tuple[int, int]],
    quota: float,
    deadline_s: float,
    naive_step: tuple[int, int] | None,
    naive_deadline_s: float = 60.0,
) -> Json:
    """The same burst shape at growing sizes ((packages, events) per step), one stack, the quota raised to
    ``quota`` and CopyRatePerInvocation to quota / concurrency (a raised quota, used fully). The naive
    promoter drains ``naive_step`` once, for its cost per version beside ours."""
    rate = quota / settings.max_concurrency
    env = {"PROMOTER_COPY_RATE": f"{rate:g}"}
    out: Json = {"quota_per_second": quota, "copy_rate_per_invocation": rate, "steps": []}
    local = _start()
    try:
        for packages, events in steps:
            stacks = [StackRun("a", "acme-a", _plan(packages, events, 5), env)]
            run = run_stacks(local, settings, stacks, quota=quota, deadline_s=deadline_s)
            run["packages"], run["events"] = packages, run["stacks"][0]["events"]
            out["steps"].append(run)
        if naive_step is not None:
            packages, events = naive_step
            plan = _plan(packages, events, 5)
            naive = StackRun("naive", "acme-a", plan, handler="perfbench.naive.lambda_handler")
            run = run_stacks(local, settings, [naive], quota=quota, deadline_s=naive_deadline_s)
            run["packages"], run["events"] = packages, run["stacks"][0]["events"]
            out["naive"] = run
    finally:
        _stop(local)
    return out
