"""The fault storms' table: each storm test records its row as a user property, and the terminal summary
(hooked in tests/conftest.py, which the xdist controller loads) prints them all at the end of the run."""

from __future__ import annotations

from typing import Any

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


def terminal_summary(terminalreporter: Any) -> None:
    rows = _rows(terminalreporter)
    if rows:
        terminalreporter.section("fault storms: every published version accounted for")
        terminalreporter.write_line(format_table(rows))
