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
    shared_packages: int = 100
    """Issue 21's shared-quota and third-client figures: packages and events of each stack's burst."""
    shared_events: int = 300
    shared_deadline_seconds: float = 300.0
    scale_steps: tuple[tuple[int, int], ...] = ((400, 2_000), (800, 4_000), (1_200, 6_000))
    """The scale figure's bursts, (packages, events), smallest first: growth is checked to be linear."""
    scale_quota: float = 10.0
    """The raised CopyPackageVersions quota of the scale figure (CopyRatePerInvocation = quota / 2)."""
    scale_deadline_seconds: float = 600.0
    reconcile_scale: tuple[int, int, float] = (20_000, 5, 180.0)
    """Reconcile at scale: (packages, versions per package, each run's timeout in seconds)."""
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
    shared_packages=12,
    shared_events=36,
    shared_deadline_seconds=60.0,
    scale_steps=((40, 200), (80, 400)),
    scale_deadline_seconds=120.0,
    reconcile_scale=(200, 5, 30.0),
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
