"""Benchmark sizes. ``BENCH_SCALE=small`` keeps CI's run quick; the full scale is what issue 5 specifies."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    cold_start_repeats: int
    cpu_records: int
    cpu_packages: int
    cpu_rules: int
    cpu_repeats: int
    burst_events: int
    burst_packages: int
    drain_packages: int
    drain_events: int
    drain_deadline_seconds: float
    naive_drain_deadline_seconds: float
    memory_records: int
    reconcile_packages: int
    drain_window_cap_seconds: float | None = None
    """Caps the template's batching window in the drain figure (small scale: CI only checks it runs)."""


FULL = Scale(
    name="full",
    cold_start_repeats=41,
    cpu_records=5_000,
    cpu_packages=500,
    cpu_rules=100,
    cpu_repeats=15,
    burst_events=2_000,
    burst_packages=500,
    drain_packages=100,
    drain_events=300,
    drain_deadline_seconds=90.0,
    naive_drain_deadline_seconds=60.0,
    memory_records=10_000,
    reconcile_packages=1_000,
)

SMALL = Scale(
    name="small",
    cold_start_repeats=3,
    cpu_records=500,
    cpu_packages=50,
    cpu_rules=100,
    cpu_repeats=2,
    burst_events=200,
    burst_packages=50,
    drain_packages=12,
    drain_events=36,
    drain_deadline_seconds=25.0,
    naive_drain_deadline_seconds=6.0,
    memory_records=2_000,
    reconcile_packages=30,
    drain_window_cap_seconds=1.0,
)


def current() -> Scale:
    """The scale chosen by ``BENCH_SCALE`` (``small`` or ``full``, the default)."""
    name = os.environ.get("BENCH_SCALE", "full").strip().lower()
    if name == "small":
        return SMALL
    if name in ("", "full"):
        return FULL
    raise ValueError(f"BENCH_SCALE must be 'small' or 'full', not {name!r}")
