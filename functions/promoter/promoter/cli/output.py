"""What the commands write besides their own lines: names as an operator reads them, and the sinks that
stand in for the function's logger, metrics and outcome-event log."""

from __future__ import annotations

from collections import Counter
from typing import Any, TextIO

from promoter.listed import PackageName


def package_name(named: PackageName) -> str:
    """The package as its own ecosystem writes it (an npm scope with its ``@``)."""
    if not named.namespace:
        return named.package
    if named.format == "npm":
        return f"@{named.namespace}/{named.package}"
    return f"{named.namespace}/{named.package}"


def short(revision: str | None) -> str:
    return (revision or "-")[:12]


class QuietLog:
    """The reporter's log sink for the CLI: the CLI prints its own lines, the reporter still counts."""

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        return None

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        return None

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        return None


class WarningsTo:
    """Log sink of the outcome event publisher: a failed delivery is one warning line on stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        extra = kwargs.get("extra") or {}
        detail = ", ".join(f"{key}={value}" for key, value in extra.items())
        print(f"promoter: warning: {msg}" + (f" ({detail})" if detail else ""), file=self.stream)


class Metrics:
    """MetricsSink that keeps the totals for the summary table."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def add(self, name: str, value: float, dimension: tuple[str, str] | None = None) -> None:
        key = f"{name}[{dimension[0]}={dimension[1]}]" if dimension else name
        self.values[key] += int(value)
