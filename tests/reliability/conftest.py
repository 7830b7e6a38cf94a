"""Fixtures for the reliability suite: the function configured like the stack configures it, with a fresh
container state per test, and the storm table printed at the end of the run (also under xdist)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import app
import pytest

DOMAIN = "acme"
RULES = {
    "rules": [
        {
            "name": "staging-to-release",
            "domain": DOMAIN,
            "sourceRepository": "staging",
            "destinationRepositories": ["release"],
            "formats": ["npm", "pypi", "generic", "maven"],
            "includePrerelease": True,
        }
    ]
}
STORM_PROPERTY = "storm_row"
STORM_COLUMNS = (
    "storm",
    "published",
    "promoted",
    "failed",
    "dlq",
    "lost",
    "copy_calls",
    "throttled",
    "faults",
    "invocations",
    "retried",
    "max_invocation_s",
)
STORM_HEADINGS = (
    "storm",
    "published",
    "promoted",
    "failed-with-reason",
    "in DLQ",
    "lost",
    "copy calls",
    "CopyThrottled",
    "faults injected",
    "invocations",
    "records retried",
    "longest invocation s",
)


@pytest.fixture
def function_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The handler's environment: a rules file, the allow-lists the stack sets, a short call timeout
    (so a slow answer costs seconds, not minutes) and no container state from an earlier test."""
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(json.dumps(RULES))
    monkeypatch.setenv("PROMOTION_RULES_FILE", str(rules_file))
    monkeypatch.setenv("ALLOWED_SOURCE_REPOSITORIES", "staging")
    monkeypatch.setenv("ALLOWED_DESTINATION_REPOSITORIES", "release")
    monkeypatch.setenv("PROMOTER_CALL_TIMEOUT_SECONDS", "0.5")
    for name in ("PROMOTION_RULES_PARAMETER", "OUTCOME_EVENT_BUS", "PROMOTER_COPY_RATE"):
        monkeypatch.delenv(name, raising=False)
    app.reset_state()
    yield rules_file
    app.reset_state()


def _rows(terminalreporter: Any) -> list[dict[str, Any]]:
    rows = []
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        if getattr(report, "when", None) != "call":
            continue
        for key, value in getattr(report, "user_properties", []):
            if key == STORM_PROPERTY:
                rows.append(value)
    return sorted(rows, key=lambda r: str(r["storm"]))


def format_table(rows: list[dict[str, Any]]) -> str:
    cells = [list(STORM_HEADINGS)] + [[str(row.get(c, "")) for c in STORM_COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(STORM_COLUMNS))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rows = _rows(terminalreporter)
    if rows:
        terminalreporter.section("fault storms: every published version accounted for")
        terminalreporter.write_line(format_table(rows))
