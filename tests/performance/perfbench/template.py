"""The function's settings as template.yaml deploys them, so the benchmark measures the default
configuration: environment, batch size and window, concurrency, timeout, queue visibility.

The template is read by ``promoter_dev.cfn``, the evaluator the emulator invoker and the demo use,
with the parameters' defaults; a missing template or setting falls back to the Lambda / SAM
defaults, and ``Settings.source`` says which were used.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from promoter_dev import cfn

ROOT = Path(__file__).resolve().parents[3]
# BENCH_FUNCTION_DIR measures another copy of the function (an A/B of a change) with the same harness.
FUNCTION_DIR = Path(os.environ.get("BENCH_FUNCTION_DIR") or ROOT / "functions" / "promoter").resolve()


@dataclass
class Settings:
    environment: dict[str, str] = field(default_factory=dict)
    handler: str = "app.lambda_handler"
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    max_concurrency: int = 2
    timeout_seconds: float = 60.0
    memory_mb: int = 128
    visibility_timeout_seconds: int = 30
    report_batch_item_failures: bool = True
    source: str = "defaults (no template.yaml)"


def load(path: Path | None = None) -> Settings:
    """The template's settings; BENCH_SETTINGS (a JSON object of Settings fields) overrides them for
    experiments (for example ``{"batch_size": 100, "batching_window_seconds": 2}``), and says so."""
    settings = _load(path or ROOT / "template.yaml")
    overrides = json.loads(os.environ.get("BENCH_SETTINGS") or "{}")
    for key, value in overrides.items():
        if key not in Settings.__dataclass_fields__ or key == "source":
            raise ValueError(f"BENCH_SETTINGS: unknown setting {key!r}")
        if key == "environment":  # merged, so that one variable can be tried alone
            settings.environment = {**settings.environment, **{k: str(v) for k, v in value.items()}}
            continue
        setattr(settings, key, value)
    if overrides:
        settings.source += f" + BENCH_SETTINGS {json.dumps(overrides, sort_keys=True)}"
    return settings


def _load(path: Path) -> Settings:
    settings = Settings()
    if not path.exists():
        return settings
    resolver = cfn.Resolver(cfn.load_template(path))
    resources = resolver.template["Resources"]
    functions = [
        name
        for name, res in resources.items()
        if res.get("Type") == "AWS::Serverless::Function"
        and str(cfn.function_config(resolver, name, root=path.parent).handler).endswith("lambda_handler")
    ]
    if not functions:
        settings.source = f"{path.name}: no function with a lambda_handler, defaults used"
        return settings
    function = cfn.function_config(resolver, functions[0], root=path.parent)
    settings.environment = function.environment
    settings.handler = function.handler
    settings.timeout_seconds = float(function.timeout)
    settings.memory_mb = function.memory
    properties = resources[functions[0]].get("Properties") or {}
    reserved = resolver.resolve(properties.get("ReservedConcurrentExecutions"))
    for event in (properties.get("Events") or {}).values():
        if event.get("Type") != "SQS":
            continue
        raw = dict(event.get("Properties") or {})
        queue = raw.pop("Queue", None)  # a GetAtt of the queue: named, not evaluated
        p = resolver.resolve(raw)
        settings.batch_size = int(p.get("BatchSize", 10))
        settings.batching_window_seconds = float(p.get("MaximumBatchingWindowInSeconds", 0))
        concurrency = (p.get("ScalingConfig") or {}).get("MaximumConcurrency") or reserved
        if concurrency:
            settings.max_concurrency = int(concurrency)
        settings.report_batch_item_failures = "ReportBatchItemFailures" in (
            p.get("FunctionResponseTypes") or []
        )
        queues = [n for n, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"]
        named = [n for n in queues if re.search(rf"\b{re.escape(n)}\b", json.dumps(queue))]
        chosen = named or [n for n in queues if "DLQ" not in n.upper() and "DEADLETTER" not in n.upper()]
        if chosen:
            queue_properties = resources[chosen[0]].get("Properties") or {}  # its redrive names the DLQ
            settings.visibility_timeout_seconds = int(
                resolver.resolve(queue_properties.get("VisibilityTimeout", 30))
            )
        break
    settings.source = path.name
    return settings


def rules_file(settings: Settings) -> Path:
    """The bundled rules file the default configuration points at (relative to the code root)."""
    name = settings.environment.get("PROMOTION_RULES_FILE") or "promotion-rules.yaml"
    p = Path(name)
    return p if p.is_absolute() else FUNCTION_DIR / p


def with_rules_file(settings: Settings, path: Path) -> Settings:
    """``settings`` with the function reading its rules from ``path``."""
    return dataclasses.replace(
        settings, environment={**settings.environment, "PROMOTION_RULES_FILE": str(path)}
    )
