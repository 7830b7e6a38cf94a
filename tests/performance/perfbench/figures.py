"""Figures 1, 2, 3 and 5 (cold start, CPU per event, API calls, memory), each beside its baseline."""

from __future__ import annotations

import json
import re
import statistics
import tempfile
from pathlib import Path
from typing import Any

import yaml

from perfbench import template, workload
from perfbench.runner import (
    child_env,
    lambda_python,
    lambda_site,
    lambda_task,
    on_lambda_site,
    run_child,
)
from perfbench.scale import Scale
from perfbench.stub_server import StubServer
from perfbench.workload import Package

Json = dict[str, Any]
NAIVE_HANDLER = "perfbench.naive.lambda_handler"


def _glob_example(pattern: str, fallback: str) -> str:
    """A concrete name that a rule's glob accepts (``*`` -> ``bench``, ``?`` -> ``x``, ``[ab]`` -> ``a``)."""
    if not pattern:
        return fallback
    text = re.sub(r"\[!?([^\]])[^\]]*\]", r"\1", pattern)
    return text.replace("*", "bench").replace("?", "x")


def _version_example(version_range: Any) -> str:
    """The lowest version a range names (``>=2.1`` -> ``2.1.0``), or 1.0.0 when it names none."""
    match = re.search(r"\d+(?:\.\d+)*", str(version_range or ""))
    parts = (match[0] if match else "1.0.0").split(".")
    while len(parts) < 3:
        parts.append("0")
    return ".".join(parts)


def cold_start_event(rules_path: Path, *, rules: int = 3) -> Json:
    """An SQS batch with one event for each of the bundled file's first ``rules`` rules, made to be
    promoted by it (so that the first invocation copies, whatever the first rule's filters)."""
    doc = yaml.safe_load(rules_path.read_text(encoding="utf-8")) or {}
    events = [_event_for(rule, n) for n, rule in enumerate((doc.get("rules") or [{}])[:rules])]
    return workload.sqs_batch(events)


def _event_for(rule: Json, n: int) -> Json:
    fmt = (rule.get("formats") or ["npm"])[0]
    namespaces = rule.get("namespaces") or []
    namespace = _glob_example(namespaces[0], "") if namespaces else None
    if not namespace and fmt in ("maven", "generic", "swift"):
        namespace = "com.example"
    versions = rule.get("versions")
    if isinstance(versions, dict):
        versions = versions.get(fmt)
    pkg = Package(
        fmt, namespace or None, _glob_example((rule.get("packages") or ["*"])[0], f"bench-lib{n}"), 0
    )
    event = workload.codeartifact_event(
        repository=rule.get("sourceRepository", "staging"),
        pkg=pkg,
        version=_version_example(versions),
        state=(rule.get("states") or ["Published"])[0],
        revision=workload.fake_revision("cold", n, pkg.key),
        operation="Created",
        sequence=1,
        status_changed=True,
    )
    event["detail"]["domainName"] = rule.get("domain", workload.DOMAIN)
    if rule.get("domainOwner"):
        event["detail"]["domainOwner"] = str(rule["domainOwner"])
    return event


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cold_start(scale: Scale, settings: template.Settings) -> Json:
    rules_path = template.rules_file(settings)
    event = cold_start_event(rules_path) if rules_path.exists() else None
    with tempfile.TemporaryDirectory(prefix="bench-cold-rules-") as rules_dir:
        if workload.supply_chain_enabled() and rules_path.exists():
            document = yaml.safe_load(rules_path.read_text(encoding="utf-8")) or {}
            rules_path = Path(rules_dir, "rules.json")
            rules_path.write_text(json.dumps(workload.with_supply_chain(document)))
            settings = template.with_rules_file(settings, rules_path)
        return _cold_start(scale, settings, rules_path, event)


def _cold_start(scale: Scale, settings: template.Settings, rules_path: Path, event: Json | None) -> Json:
    floor: list[Json] = []
    ours: list[Json] = []
    site = lambda_site()
    interpreter = [lambda_python(), "-S"] if site is not None else None
    published = [json.loads(r["body"])["detail"] for r in (event or {}).get("Records", [])]
    with StubServer(published) as stub, tempfile.TemporaryDirectory(prefix="bench-task-") as tmp:
        env = child_env(settings, endpoint=stub.url)
        task: Path | None = None
        if site is not None:
            task = lambda_task(Path(tmp))
            env = on_lambda_site(env, site, task)
        if not rules_path.exists():
            env.pop("PROMOTION_RULES_FILE", None)
        for _ in range(scale.cold_start_repeats):
            # Alternate, so that drifts of the machine (other jobs, CPU frequency) hit both alike.
            floor.append(
                run_child(
                    "perfbench.cold_child",
                    {"mode": "floor"},
                    env,
                    timeout=120,
                    interpreter=interpreter,
                    cwd=task,
                )
            )
            ours.append(
                run_child(
                    "perfbench.cold_child",
                    {"mode": "ours", "handler": settings.handler, "event": event},
                    env,
                    interpreter=interpreter,
                    cwd=task,
                )
            )
        copy_requests = len(stub.requests)
    floor_s = _median([r["seconds"] for r in floor])
    ours_s = _median([r["seconds"] for r in ours])
    floor_cpu = _median([r["cpu_seconds"] for r in floor])
    ours_cpu = _median([r["cpu_seconds"] for r in ours])
    return {
        "repeats": scale.cold_start_repeats,
        "floor_cpu_ms": floor_cpu * 1000,
        "ours_cpu_ms": ours_cpu * 1000,
        "ratio": ours_cpu / floor_cpu,
        "floor_ms": floor_s * 1000,
        "ours_ms": ours_s * 1000,
        "wall_ratio": ours_s / floor_s,
        "pairwise_cpu_ratio": _median(
            [o["cpu_seconds"] / f["cpu_seconds"] for o, f in zip(ours, floor, strict=True)]
        ),
        "ours_cpu_import_ms": _median([r["cpu_import_seconds"] for r in ours]) * 1000,
        "ours_import_ms": _median([r["import_seconds"] for r in ours]) * 1000,
        "ours_first_invoke_ms": _median([r["invoke_seconds"] for r in ours]) * 1000,
        "floor_all_ms": [round(r["seconds"] * 1000, 1) for r in floor],
        "ours_all_ms": [round(r["seconds"] * 1000, 1) for r in ours],
        "floor_all_cpu_ms": [round(r["cpu_seconds"] * 1000, 1) for r in floor],
        "ours_all_cpu_ms": [round(r["cpu_seconds"] * 1000, 1) for r in ours],
        "floor_peak_rss_mb": _median([r["max_rss_kb"] for r in floor]) / 1024,
        "ours_peak_rss_mb": _median([r["max_rss_kb"] for r in ours]) / 1024,
        "first_invocation_copy_requests": copy_requests / max(1, len(ours)),
        "first_response": ours[-1].get("response"),
        "rules_file": str(rules_path) if rules_path.exists() else None,
        "site": str(site) if site is not None else "the development venv (uv not found)",
    }


def _write_inputs(tmp: Path, plan: workload.Plan, burst: workload.Burst) -> tuple[Path, Path]:
    rules_file = tmp / "rules.json"
    rules_file.write_text(workload.rules_document(plan.rules))
    events_file = tmp / "events.json"
    events_file.write_text(json.dumps(burst.events))
    return rules_file, events_file


def _cpu_child(
    settings: template.Settings,
    handler: str,
    rules_file: Path,
    events_file: Path,
    plan: workload.Plan,
    *,
    repeats: int,
    batch_size: int | None = None,
) -> Json:
    spec = {
        "kind": "cpu",
        "handler": handler,
        "events_file": str(events_file),
        "repeats": repeats,
        "batch_size": batch_size,
        "expected": sorted(plan.expected),
    }
    return run_child("perfbench.child", spec, child_env(settings, rules_file=rules_file, unpaced=True))


def cpu_per_event(scale: Scale, settings: template.Settings, *, with_ours: bool) -> Json:
    plan = workload.make_plan(packages=scale.cpu_packages, events=scale.cpu_records, rules=scale.cpu_rules)
    burst = workload.build_burst(plan, events=scale.cpu_records)
    out: Json = {"records": len(burst.events), "packages": scale.cpu_packages, "rules": scale.cpu_rules}
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        rules_file, events_file = _write_inputs(Path(tmp), plan, burst)
        runs = {"naive": NAIVE_HANDLER} | ({"ours": settings.handler} if with_ours else {})
        for name, handler in runs.items():
            r = _cpu_child(settings, handler, rules_file, events_file, plan, repeats=scale.cpu_repeats)
            out[name] = {
                "us_per_event": _median(r["cpu_seconds"]) / r["records"] * 1e6,
                "wall_us_per_event": _median(r["wall_seconds"]) / r["records"] * 1e6,
                "cpu_seconds": r["cpu_seconds"],
                "calls": r["calls"],
                "missing": r["missing"],
                "unexpected": r["unexpected"],
                "batch_item_failures": r["batch_item_failures"],
            }
            if name == "ours":
                # The default configuration hands the function the template's batch size, so the
                # per-invocation work (Powertools wrappers, metrics flush, dependencies) counts too.
                small = _cpu_child(
                    settings,
                    handler,
                    rules_file,
                    events_file,
                    plan,
                    repeats=scale.cpu_repeats,
                    batch_size=settings.batch_size,
                )
                out["ours_template_batches"] = {
                    "batch_size": settings.batch_size,
                    "us_per_event": _median(small["cpu_seconds"]) / small["records"] * 1e6,
                    "calls": small["calls"],
                    "missing": small["missing"],
                }
    return out


def api_calls(scale: Scale, settings: template.Settings, *, with_ours: bool) -> Json:
    plan = workload.make_plan(packages=scale.burst_packages, events=scale.burst_events, rules=scale.cpu_rules)
    burst = workload.build_burst(plan, events=scale.burst_events)
    out: Json = {
        "events": len(burst.events),
        "packages": scale.burst_packages,
        "versions": len(plan.versions),
        "event_mix": burst.counts,
        "minimum": plan.minimum_calls,
        "naive_expected": burst.naive_calls,
        "template_batch_size": settings.batch_size,
    }
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as tmp:
        rules_file, events_file = _write_inputs(Path(tmp), plan, burst)
        naive = _cpu_child(settings, NAIVE_HANDLER, rules_file, events_file, plan, repeats=1)
        out["naive"] = {k: naive[k] for k in ("calls", "missing", "unexpected")}
        if with_ours:
            one = _cpu_child(settings, settings.handler, rules_file, events_file, plan, repeats=1)
            out["ours"] = {
                k: one[k]
                for k in ("calls", "list_calls", "groups", "missing", "unexpected", "batch_item_failures")
            }
            per_batch = _cpu_child(
                settings,
                settings.handler,
                rules_file,
                events_file,
                plan,
                repeats=1,
                batch_size=settings.batch_size,
            )
            out["ours_template_batches"] = {
                k: per_batch[k] for k in ("calls", "list_calls", "missing", "unexpected")
            }
    return out


def memory(scale: Scale, settings: template.Settings, *, with_ours: bool) -> Json:
    records = scale.memory_records
    plan = workload.make_plan(packages=max(50, records // 10), events=records, rules=scale.cpu_rules)
    burst = workload.build_burst(plan, events=records)
    out: Json = {"records": len(burst.events)}
    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
        rules_file = Path(tmp, "rules.json")
        rules_file.write_text(workload.rules_document(plan.rules))
        event_file = Path(tmp, "event.json")
        event_file.write_text(json.dumps(workload.sqs_batch(burst.events)))
        out["payload_mb"] = event_file.stat().st_size / 2**20
        runs = {"naive": NAIVE_HANDLER} | ({"ours": settings.handler} if with_ours else {})
        for name, handler in runs.items():
            spec = {"kind": "memory", "handler": handler, "event_file": str(event_file)}
            r = run_child("perfbench.child", spec, child_env(settings, rules_file=rules_file, unpaced=True))
            out[name] = {
                "peak_rss_mb": r["peak_rss_kb"] / 1024,
                "rss_after_import_mb": r["rss_after_import_kb"] / 1024,
                "rss_before_invoke_mb": r["rss_before_invoke_kb"] / 1024,
                "calls": r["calls"],
                "batch_item_failures": r["batch_item_failures"],
            }
    return out


def reconcile(scale: Scale, settings: template.Settings) -> Json:
    """Issue 8's figure: 10 versions per package, 10% missing from the destination (run in-process
    against moto by ``promoter_dev.reconcile_bench``, copies unpaced; the quota floor is reported)."""
    spec = {
        "kind": "reconcile",
        "packages": scale.reconcile_packages,
        "versions": 10,
        "missing_fraction": 0.1,
    }
    return run_child("perfbench.child", spec, child_env(settings, unpaced=True), timeout=600)
