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
    # one page of packages per repository, one version listing per package and repository that has it
    present_packages = 12 if layout == "latest" else 12 - minimum
    assert result["listCallsByOperation"]["ListPackageVersions"] == 12 + present_packages
    assert result["steadyState"]["copyCalls"] == 0
