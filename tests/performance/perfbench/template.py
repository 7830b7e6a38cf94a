"""The function's settings as template.yaml deploys them, so the benchmark measures the default
configuration: environment, batch size and window, concurrency, timeout, queue visibility.

CloudFormation intrinsics are resolved with the parameters' defaults (Ref, Sub, If with Equals /
Not / And / Or conditions, GetAtt left unresolved); a missing template or setting falls back to
the Lambda / SAM defaults, and ``Settings.source`` says which were used.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
# BENCH_FUNCTION_DIR measures another copy of the function (an A/B of a change) with the same harness.
FUNCTION_DIR = Path(os.environ.get("BENCH_FUNCTION_DIR") or ROOT / "functions" / "promoter").resolve()

_PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "codeartifact-promoter",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
_NO_VALUE = object()


class _Tag:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag = tag
        self.value = value


class _Loader(yaml.SafeLoader):
    pass


def _construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> _Tag:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return _Tag(name, value)


_Loader.add_multi_constructor("!", _construct)


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


class _Resolver:
    def __init__(self, template: dict[str, Any]) -> None:
        self.params = {k: v.get("Default") for k, v in (template.get("Parameters") or {}).items()}
        self.conditions = template.get("Conditions") or {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, _Tag):
            value = {value.tag: value.value}
        if isinstance(value, list):
            return [r for r in (self(v) for v in value) if r is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                if arg == "AWS::NoValue":
                    return _NO_VALUE
                return _PSEUDO.get(arg, self.params.get(arg, None))
            if key == "Fn::Sub":
                text, extra = (arg[0], self(arg[1])) if isinstance(arg, list) else (arg, {})
                return re.sub(
                    r"\$\{([^}!]+)\}",
                    lambda m: str(extra.get(m[1], _PSEUDO.get(m[1], self.params.get(m[1], m[0])))),
                    text,
                )
            if key == "Fn::If":
                cond, yes, no = arg
                return self(yes if self.condition(cond) else no)
            if key == "Fn::GetAtt":
                return "GetAtt:" + (arg if isinstance(arg, str) else ".".join(map(str, arg)))
            if key in ("Fn::ImportValue", "Fn::GetAZs"):
                return None
            if key == "Fn::Join":
                sep, parts = arg
                return sep.join(str(p) for p in self(parts))
            if key == "Fn::Select":
                idx, items = arg
                return self(items)[int(self(idx))]
        return {k: r for k, r in ((k, self(v)) for k, v in value.items()) if r is not _NO_VALUE}

    def condition(self, name_or_expr: Any) -> bool:
        expr = self.conditions.get(name_or_expr) if isinstance(name_or_expr, str) else name_or_expr
        if isinstance(expr, _Tag):
            expr = {expr.tag: expr.value}
        if not isinstance(expr, dict) or len(expr) != 1:
            return bool(expr)
        ((key, arg),) = expr.items()
        if key == "Fn::Equals":
            a, b = (self(x) for x in arg)
            return str(a) == str(b)
        if key == "Fn::Not":
            return not self.condition(arg[0])
        if key == "Fn::And":
            return all(self.condition(x) for x in arg)
        if key == "Fn::Or":
            return any(self.condition(x) for x in arg)
        if key == "Condition":
            return self.condition(arg)
        return False


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
    template = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    resolve = _Resolver(template)
    globals_fn = resolve((template.get("Globals") or {}).get("Function") or {})
    resources = template.get("Resources") or {}
    function: dict[str, Any] | None = None
    for res in resources.values():
        if res.get("Type") == "AWS::Serverless::Function":
            props = resolve(res.get("Properties") or {})
            if str(props.get("Handler", globals_fn.get("Handler", ""))).endswith("lambda_handler"):
                function = props
                break
    if function is None:
        settings.source = f"{path.name}: no function with a lambda_handler, defaults used"
        return settings
    env = dict((globals_fn.get("Environment") or {}).get("Variables") or {})
    env.update((function.get("Environment") or {}).get("Variables") or {})
    settings.environment = {k: str(v) for k, v in env.items() if v is not None}
    settings.handler = str(function.get("Handler", globals_fn.get("Handler", settings.handler)))
    settings.timeout_seconds = float(function.get("Timeout", globals_fn.get("Timeout", 3)))
    settings.memory_mb = int(function.get("MemorySize", globals_fn.get("MemorySize", 128)))
    reserved = function.get("ReservedConcurrentExecutions")
    for ev in (function.get("Events") or {}).values():
        if ev.get("Type") != "SQS":
            continue
        p = ev.get("Properties") or {}
        settings.batch_size = int(p.get("BatchSize", 10))
        settings.batching_window_seconds = float(p.get("MaximumBatchingWindowInSeconds", 0))
        scaling = p.get("ScalingConfig") or {}
        concurrency = scaling.get("MaximumConcurrency") or reserved
        if concurrency:
            settings.max_concurrency = int(concurrency)
        settings.report_batch_item_failures = "ReportBatchItemFailures" in (
            p.get("FunctionResponseTypes") or []
        )
        queue_ref = str(p.get("Queue") or "")
        queues = {n: r for n, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"}
        named = [n for n in queues if re.search(rf"\b{re.escape(n)}\b", queue_ref)]
        chosen = named or [n for n in queues if "DLQ" not in n.upper() and "DEADLETTER" not in n.upper()]
        if chosen:
            qprops = resolve(queues[chosen[0]].get("Properties") or {})
            settings.visibility_timeout_seconds = int(qprops.get("VisibilityTimeout", 30))
        break
    settings.source = path.name
    return settings


def rules_file(settings: Settings) -> Path:
    """The bundled rules file the default configuration points at (relative to the code root)."""
    name = settings.environment.get("PROMOTION_RULES_FILE") or "promotion-rules.yaml"
    p = Path(name)
    return p if p.is_absolute() else FUNCTION_DIR / p
