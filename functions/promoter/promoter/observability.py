"""The function's one Powertools Logger and Metrics, and the metrics sink the reporter writes to.

Service name and namespace come from POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE (template.yaml
sets both), with the same defaults when they are unset (tests, the emulator without the template).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import orjson
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "codeartifact-promoter"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "CodeArtifactPromoter"

# U+0085, U+2028 and U+2029 in UTF-8, and their JSON escapes.
_LINE_BREAKS = ((b"\xc2\x85", b"\\u0085"), (b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


def to_json(log: Mapping[str, Any]) -> str:
    """One compact JSON line, whatever the log quotes: orjson, several times faster than json on the
    thousands of outcome lines of a batch.

    orjson leaves NEL and the Unicode line and paragraph separators unescaped (valid JSON), and readers
    that split text at every Unicode line boundary would cut the line there, so they are escaped. A value
    orjson refuses (an int beyond 64 bits, a key that is not a str) falls back to json, never lost.
    """
    try:
        data = orjson.dumps(log, default=str)
    except orjson.JSONEncodeError:
        return json.dumps(log, separators=(",", ":"), default=str)
    if not data.isascii():
        for raw, escaped in _LINE_BREAKS:
            data = data.replace(raw, escaped)
    return data.decode()


# The Logger's lines and the outcome lines (OutcomeLines) are encoded alike, by to_json.
logger = Logger(service=SERVICE, json_serializer=to_json)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


class PowertoolsMetrics:
    """The reporter's MetricsSink over ``metrics``.

    Totals go into the invocation's metric set; a dimensioned value is also a single metric, because a
    dimension added to the set would apply to every metric in it.
    """

    def add(self, name: str, value: float, dimension: tuple[str, str] | None = None) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        if dimension is not None:
            with single_metric(
                name=name,
                unit=MetricUnit.Count,
                value=value,
                namespace=NAMESPACE,
                default_dimensions={"service": SERVICE},
            ) as metric:
                metric.add_dimension(name=dimension[0], value=dimension[1])


class OutcomeLines:
    """The reporter's log sink: lines in the shape ``logger`` writes (its level, its keys: service, Lambda
    context, correlation id) straight to its handler's stream, one per outcome.

    A batch writes thousands of these, and the Logger's LogRecord and key extraction cost about ten times
    the line itself, which doubled the CPU of an event. Other lines go through the Logger. Made once per
    invocation, after the handler's decorators set the Logger's keys, so it takes them as they are then.
    """

    _OWN_KEYS = frozenset({"level", "location", "message", "timestamp"})

    def __init__(self, log: Logger) -> None:
        self.log = log
        self.handler = log.registered_handler
        # Powertools' own keys still hold LogRecord formats ("%(funcName)s"), which these lines fill in.
        self.keys = {
            key: value
            for key, value in log.get_current_keys().items()
            if key not in self._OWN_KEYS and value is not None
        }
        trace = os.environ.get("_X_AMZN_TRACE_ID")
        if trace:
            self.keys["xray_trace_id"] = trace.split(";")[0].replace("Root=", "")

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._write(logging.INFO, "INFO", msg, kwargs.get("extra") or {})

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._write(logging.WARNING, "WARNING", msg, kwargs.get("extra") or {})

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._write(logging.ERROR, "ERROR", msg, kwargs.get("extra") or {})

    def _write(self, level: int, level_name: str, msg: object, extra: Mapping[str, Any]) -> None:
        if self.log.log_level > level:
            return
        now = time.time()
        line: dict[str, Any] = {
            "level": level_name,
            "location": "outcome",
            "message": msg,
            # Powertools' default timestamp, e.g. 2026-12-06 23:05:27,883+0000.
            "timestamp": time.strftime(
                f"%Y-%m-%d %H:%M:%S,{int(now * 1000) % 1000:03d}%z", time.localtime(now)
            ),
            **self.keys,
            **extra,
        }
        stream = self.handler.stream  # type: ignore[attr-defined]
        try:
            stream.write(to_json(line) + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed stream must not fail a promotion
            pass
