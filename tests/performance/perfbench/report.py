"""The results table (printed) and bench-results.json (the same figures, machine-readable)."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfbench.template import ROOT

RESULTS_FILE = ROOT / "bench-results.json"


@dataclass
class Row:
    figure: str
    metric: str
    ours: float | None
    baseline: float | None
    baseline_name: str
    unit: str
    target: str
    met: bool | None
    note: str = ""


@dataclass
class Report:
    scale: str
    template_source: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "elapsed_seconds": round(time.time() - self.started, 1),
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
            },
            "template": self.template_source,
            "figures": [asdict(r) for r in self.rows],
            "details": self.details,
        }

    def write(self, path: Path = RESULTS_FILE) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n")

    def table(self) -> str:
        head = ("figure", "metric", "ours", "baseline", "target", "met", "note")
        lines = [head]
        for r in self.rows:
            base = "-" if r.baseline is None else f"{_fmt(r.baseline)} {r.unit} ({r.baseline_name})"
            ours = "n/a" if r.ours is None else f"{_fmt(r.ours)} {r.unit}"
            met = "n/a" if r.met is None else ("yes" if r.met else "NO")
            lines.append((r.figure, r.metric, ours, base, r.target, met, r.note))
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
        out = [
            f"benchmark ({self.scale} scale, settings from {self.template_source}, "
            f"{time.time() - self.started:.0f} s)"
        ]
        for n, line in enumerate(lines):
            out.append("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
            if n == 0:
                out.append("  ".join("-" * w for w in widths))
        return "\n".join(out)


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
