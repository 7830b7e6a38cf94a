"""A logger that keeps what the promoter logs, for tests to assert on.

The outcome log lines are the promoter's observable output; the unit and integration tests hand this to
``Reporter`` in place of the Powertools logger. It lives beside the other local tooling so both test
folders import the same one.
"""

from __future__ import annotations

from typing import Any


class RecordingLogger:
    """Keeps every log line (message, level and extra fields) for assertions."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def _log(self, level: str, msg: object, **kwargs: Any) -> None:
        self.lines.append({"level": level, "message": str(msg), **(kwargs.get("extra") or {})})

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._log("INFO", msg, **kwargs)

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._log("WARNING", msg, **kwargs)

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._log("ERROR", msg, **kwargs)

    def outcomes(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if "outcome" in line]
