"""The benchmark's reconcile figure at a small scale: it must reach the minimum copy calls and converge."""

from __future__ import annotations

import pytest
from promoter_dev.reconcile_bench import figure


@pytest.mark.parametrize(("layout", "minimum"), [("latest", 12), ("packages", 3)])
def test_reconcile_needs_exactly_the_minimum_copy_calls(layout: str, minimum: int) -> None:
    result = figure(packages=12, versions=5, missing_fraction=0.25, layout=layout, concurrency=2)
    assert result["missingVersions"] == 15
    assert result["minimumCopyCalls"] == minimum
    assert result["copyCalls"] == minimum
    assert result["promoted"] == 15
    assert result["failed"] == 0
    assert result["describeCalls"] == 0
    # one page of the source's packages (the destination is never enumerated), and one version listing
    # per package in the source and in the destination (a package the destination lacks costs the call too)
    assert result["listCallsByOperation"]["ListPackages"] == 1
    assert result["listCallsByOperation"]["ListPackageVersions"] == 12 + 12
    assert result["steadyState"]["copyCalls"] == 0
