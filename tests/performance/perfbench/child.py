"""Figures that run inside a fresh interpreter: ``python -m perfbench.child SPEC.json RESULT.json``.

Kinds:
- ``cpu``: the fake client installed, the handler warmed up, then the same batch timed
  ``repeats`` times (process CPU time and wall time), optionally in chunks of ``batch_size``;
  reports the copy calls of the last repeat and whether they copied exactly what was expected.
- ``memory``: peak resident memory of one invocation with a large batch (fake client).
- ``reconcile``: ``promoter_dev.reconcile_bench.figure`` (list and copy calls of a reconcile).
- ``reconcile_scale``: ``reconcile_scale.figure`` (a large domain over scheduled runs, each with a deadline).
- ``worker``: one Lambda execution environment behind an emulated SQS event source mapping
  (see ``drain``), against a local CodeArtifact over HTTP.
"""

from __future__ import annotations

import json
import sys
import time
from importlib import import_module
from pathlib import Path
from typing import Any

from promoter_dev.lambda_context import LambdaContext

from perfbench import fake_codeartifact, workload

Json = dict[str, Any]


def _handler(spec: Json) -> Any:
    module_name, _, attr = spec["handler"].rpartition(".")
    return getattr(import_module(module_name), attr)


def _rss_kb() -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def run_cpu(spec: Json) -> Json:
    recorder = fake_codeartifact.Recorder()
    fake_codeartifact.install(recorder)
    events: list[Json] = json.loads(Path(spec["events_file"]).read_text())
    recorder.catalogue(events, workload.SOURCE)
    handler = _handler(spec)
    warm = workload.sqs_batch(events[: min(50, len(events))], start=10_000_000)
    handler(warm, LambdaContext())
    batch_size = int(spec.get("batch_size") or len(events))
    cpu: list[float] = []
    wall: list[float] = []
    failures = 0
    for _ in range(int(spec["repeats"])):
        batches = [
            workload.sqs_batch(events[i : i + batch_size], start=i) for i in range(0, len(events), batch_size)
        ]
        contexts = [LambdaContext() for _ in batches]  # the runtime's work, not timed
        recorder.reset()
        failures = 0
        c0, w0 = time.process_time(), time.perf_counter()
        for batch, context in zip(batches, contexts, strict=True):
            response = handler(batch, context)
            failures += len((response or {}).get("batchItemFailures") or [])
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    expected = {tuple(x) for x in spec.get("expected", [])}
    copied = recorder.copied()
    return {
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "records": len(events),
        "calls": len(recorder.calls),
        "list_calls": recorder.operations["ListPackageVersions"],
        "groups": len(recorder.groups()),
        "batch_item_failures": failures,
        "missing": len(expected - copied),
        "unexpected": len(copied - expected),
        "max_rss_kb": _rss_kb()["VmHWM"],
    }


def run_memory(spec: Json) -> Json:
    recorder = fake_codeartifact.Recorder()
    fake_codeartifact.install(recorder)
    handler = _handler(spec)
    after_import = _rss_kb()
    # The runtime hands the handler a dict decoded from the invocation's JSON payload: so do we.
    event: Json = json.loads(Path(spec["event_file"]).read_bytes())
    recorder.catalogue((json.loads(r["body"]) for r in event["Records"]), workload.SOURCE)
    before = _rss_kb()
    response = handler(event, LambdaContext())
    after = _rss_kb()
    return {
        "records": len(event["Records"]),
        "rss_after_import_kb": after_import["VmRSS"],
        "rss_before_invoke_kb": before["VmRSS"],
        "rss_after_invoke_kb": after["VmRSS"],
        "peak_rss_kb": after["VmHWM"],
        "calls": len(recorder.calls),
        "batch_item_failures": len((response or {}).get("batchItemFailures") or []),
    }


def main() -> None:
    spec_path, result_path = sys.argv[1], sys.argv[2]
    spec: Json = json.loads(Path(spec_path).read_text())
    kind = spec["kind"]
    if kind == "cpu":
        result = run_cpu(spec)
    elif kind == "memory":
        result = run_memory(spec)
    elif kind == "reconcile":
        from promoter_dev.reconcile_bench import figure  # noqa: PLC0415 - helper-4's figure, when present

        result = figure(int(spec["packages"]), int(spec["versions"]), float(spec["missing_fraction"]))
    elif kind == "reconcile_scale":
        from perfbench import reconcile_scale  # noqa: PLC0415

        result = reconcile_scale.figure(
            int(spec["packages"]), int(spec["versions"]), float(spec["timeout"]), float(spec["copy_rate"])
        )
    elif kind == "worker":
        from perfbench import esm  # noqa: PLC0415 - only workers need boto3's SQS client

        result = esm.run_worker(spec, _handler(spec))
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    Path(result_path).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
