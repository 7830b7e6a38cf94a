"""Lambda entry point: Powertools wiring over ``promoter.pipeline``'s plain functions.

Accepts an SQS batch of EventBridge events (the default wiring; partial batch response
through Powertools batch processing), a single raw EventBridge event (a direct rule target,
``sam local invoke -e events/<file>.json``) and a scheduled event (reconcile).

Nothing here talks to AWS or reads files at import: the CodeArtifact client, the rules and
the rate limiter are created on first use and reused by later invocations of the same
container. The X-Ray SDK is imported only when PROMOTER_TRACING=true.
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any, ClassVar

# A Lambda execution environment initialises once and then lives on: the cyclic collector is held off
# while this module and, on the first invocation, boto3 and its client load (all of it long-lived), then
# everything is frozen out of its generations and it runs again (``_release_gc``). Outside Lambda (tests,
# the CLI) nothing changes.
_GC_HELD = os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda_") and gc.isenabled()
if _GC_HELD:
    gc.disable()

import orjson  # noqa: E402 - after the collector is held
from aws_lambda_powertools import Logger, Metrics  # noqa: E402
from aws_lambda_powertools.metrics import MetricUnit, single_metric  # noqa: E402
from promoter.copier import RetryPolicy, no_deadline  # noqa: E402
from promoter.outcome_events import OutcomeEventPublisher  # noqa: E402
from promoter.pacing import RateLimiter, copy_limiter  # noqa: E402
from promoter.pipeline import Dependencies, process_event, process_sqs_records  # noqa: E402
from promoter.report import Reporter  # noqa: E402
from promoter.rules import (  # noqa: E402
    RulesError,
    RuleSet,
    StackScope,
    load_rules_file,
    load_rules_parameter,
)
from promoter.settings import Settings  # noqa: E402

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "codeartifact-promoter"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "CodeArtifactPromoter"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


class PowertoolsMetrics:
    """MetricsSink over Powertools: totals in the invocation's metric set, and dimensioned values as
    single metrics (a dimension would otherwise apply to every metric of the set)."""

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


_LINE_BREAKS = ((b"\xc2\x85", b"\\u0085"), (b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))
"""U+0085, U+2028 and U+2029 in UTF-8, and their JSON escapes."""


def _one_line(data: bytes) -> str:
    """``data`` as text that stays one line: orjson escapes control characters below U+0020 but writes NEL
    (U+0085) and the Unicode line and paragraph separators as they are (valid JSON), and readers that split
    text at every Unicode line boundary (Python's ``splitlines``, JavaScript) would cut an outcome line
    there, e.g. one quoting a malformed body. Their UTF-8 bytes only occur inside strings, so they are
    replaced by their escapes; a line that is all ASCII (nearly every one) is left as it is."""
    if not data.isascii():
        for raw, escaped in _LINE_BREAKS:
            data = data.replace(raw, escaped)
    return data.decode()


def _encode(line: dict[str, Any]) -> str:
    """One JSON line with its newline, compact, with anything JSON lacks as its str(). orjson encodes such a
    line about ten times faster than the json module, which made encoding the largest CPU cost per event; a
    line orjson refuses (an int beyond 64 bits, a non-str key) falls back to json rather than being lost."""
    try:
        return _one_line(orjson.dumps(line, default=str, option=orjson.OPT_APPEND_NEWLINE))
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(line, separators=(",", ":"), default=str) + "\n"


_MARK = "\x00timestamp\x00"
"""Stands for the timestamp while a line's start is encoded (``OutcomeLog._head``)."""


class OutcomeLog:
    """The LogSink for outcome lines: Powertools' JSON shape (its current keys: service, Lambda context,
    correlation id), written straight to the Logger's stream.

    A batch can produce thousands of outcome lines, and a LogRecord plus Powertools' key extraction costs
    about ten times the JSON encoding itself (the largest CPU cost per event). Other log lines keep going
    through the Logger. If the Logger is not the JSON formatter this expects, lines go through it too.
    """

    _LEVELS: ClassVar[dict[str, int]] = {
        "INFO": logging.INFO,
        "WARNING": logging.WARNING,
        "ERROR": logging.ERROR,
    }

    def __init__(self, powertools_logger: Logger) -> None:
        self.logger = powertools_logger
        handler = powertools_logger.registered_handler
        formatter = handler.formatter if handler is not None else None
        self.stream = getattr(handler, "stream", None)
        self.keys: dict[str, Any] | None = getattr(formatter, "log_format", None)
        self.fast = self.stream is not None and isinstance(self.keys, dict)
        self._second, self._stamp, self._zone = -1, "", ""
        self._millisecond, self._timestamp = -1, ""
        self._starts: dict[tuple[str, str], bytes] = {}
        self._prefix: dict[str, Any] | None = None
        self._heads: dict[tuple[str, str], tuple[bytes, bytes] | None] = {}
        self._head_keys: set[str] = set()

    def _line_prefix(self) -> dict[str, Any]:
        """The keys every line starts with, in Powertools' order; fixed for one invocation (the Logger's
        keys are set before the work starts), so built once."""
        if self._prefix is None:
            prefix: dict[str, Any] = {}
            for key, value in (self.keys or {}).items():
                if key in ("level", "message", "timestamp"):
                    prefix[key] = None
                elif key == "location":
                    prefix[key] = "outcome"
                elif value is not None and not (isinstance(value, str) and "%(" in value):
                    prefix[key] = value
            trace = os.environ.get("_X_AMZN_TRACE_ID")
            if trace:
                prefix["xray_trace_id"] = trace.split(";")[0].replace("Root=", "")
            self._prefix = prefix
            self._head_keys = {*prefix, "level", "message", "timestamp"}
        return self._prefix

    def _head(self, level: str, msg: str) -> tuple[bytes, bytes] | None:
        """The line's encoded start, before and after the timestamp's value: ``_encode`` of the prefix with
        this level and message, split where the timestamp goes (None: no such split, use the whole line)."""
        key = (level, msg)
        if key not in self._heads:
            head = dict(self._prefix or {})
            head["level"] = level
            head["message"] = msg
            head["timestamp"] = _MARK
            try:
                encoded = orjson.dumps(head, default=str)
            except (TypeError, orjson.JSONEncodeError):
                encoded = b""
            mark = orjson.dumps(_MARK)
            if encoded.count(mark) == 1 and encoded.endswith(b"}"):
                before, _, after = encoded[:-1].partition(mark)
                self._heads[key] = (before, after)
            else:
                self._heads[key] = None
        return self._heads[key]

    def line(self, level: str, msg: object, extra: dict[str, Any], stacklevel: int = 2) -> None:
        """One line at ``level`` ("INFO", "WARNING" or "ERROR"), as info/warning/error(msg, extra=extra)
        write it; ``Reporter`` calls it directly for its outcome lines (one call less per line)."""
        if self.logger.log_level > self._LEVELS[level]:
            return
        if not self.fast:
            if stacklevel == 2:  # called directly: through info/warning/error, whose frame the location names
                getattr(self, level.lower())(msg, extra=extra)
            else:
                getattr(self.logger, level.lower())(msg, extra=extra, stacklevel=stacklevel)
            return
        now = time.time()
        second, millisecond = int(now), int(now * 1000)
        if millisecond != self._millisecond or second != self._second:
            if second != self._second:
                local = time.localtime(now)
                self._second, self._stamp, self._zone = (
                    second,
                    time.strftime("%Y-%m-%d %H:%M:%S", local),
                    time.strftime("%z", local),
                )
            self._millisecond = millisecond
            self._timestamp = f"{self._stamp},{millisecond % 1000:03d}{self._zone}"
            self._starts = {}
        prefix = self._prefix if self._prefix is not None else self._line_prefix()
        text: str | None = None
        if type(msg) is str and extra and extra.keys().isdisjoint(self._head_keys):
            # The usual line: the prefix's keys, then extra's. Its start is encoded once per level, message
            # and millisecond, so only extra's fields are encoded per line (the bytes of the merged dict's).
            key = (level, msg)
            start = self._starts.get(key)
            if start is None:
                head = self._head(level, msg)
                start = (
                    b"" if head is None else b"".join((head[0], orjson.dumps(self._timestamp), head[1], b","))
                )
                self._starts[key] = start
            if start:
                try:
                    body = orjson.dumps(extra, default=str, option=orjson.OPT_APPEND_NEWLINE)
                except (TypeError, orjson.JSONEncodeError):
                    pass
                else:
                    text = _one_line(start + body[1:])
        if text is None:
            line = dict(prefix)
            line["level"] = level
            line["message"] = msg
            line["timestamp"] = self._timestamp
            line.update(extra)
            text = _encode(line)
        try:
            self.stream.write(text)  # type: ignore[union-attr]
            self.stream.flush()  # type: ignore[union-attr]
        except (OSError, ValueError):  # a closed stream must not fail a promotion
            pass

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.line("INFO", msg, kwargs.get("extra") or {}, 3)

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.line("WARNING", msg, kwargs.get("extra") or {}, 3)

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.line("ERROR", msg, kwargs.get("extra") or {}, 3)


class _State:
    """What survives between invocations of one container."""

    settings: Settings | None = None
    client: Any = None
    events_client: Any = None
    limiter: RateLimiter | None = None
    rules: RuleSet | None = None
    rules_text: str | None = None
    gc_held: bool = _GC_HELD


_state = _State()


def _release_gc() -> None:
    """End of initialisation: what exists now lives as long as the process, so it is frozen (no later
    collection scans it again) and the collector runs again. Idempotent."""
    _state.gc_held = False
    gc.freeze()
    gc.enable()


def reset_state() -> _State:
    """Forget clients, rules and settings (tests; a new container does the same)."""
    for name in ("settings", "client", "events_client", "limiter", "rules", "rules_text"):
        setattr(_state, name, None)
    return _state


def state() -> _State:
    """The container's state: tests put a fake client here instead of patching boto3."""
    return _state


def _settings() -> Settings:
    if _state.settings is None:
        _state.settings = Settings.from_env()
    return _state.settings


def _client() -> Any:
    if _state.client is None:
        # Importing boto3 and building the client allocate a few hundred thousand long-lived objects; the
        # cyclic collector, left on, scans them over and over (young collections, then a full one that
        # alone cost 25-35 ms of the first invocation's CPU, measured by the benchmark's cold start). In
        # Lambda it is still held from the import (_GC_HELD); once the client exists, everything is frozen
        # and it runs again.
        try:
            import boto3  # noqa: PLC0415 - first invocation, not import: keeps tests and cold start honest
            from botocore.config import Config  # noqa: PLC0415

            settings = _settings()
            config = Config(
                retries={"total_max_attempts": 1, "mode": "standard"},  # the copier retries, bounded by time
                connect_timeout=min(5.0, settings.call_timeout),
                read_timeout=settings.call_timeout,
                # Every request is built here from events already validated field by field
                # (promoter.events), and the service validates again: botocore's check of each call's
                # parameters only cost CPU (about 0.4 ms a call, more for the first of an operation).
                parameter_validation=False,
            )
            _state.client = boto3.client("codeartifact", config=config)
        finally:
            if _state.gc_held:
                _release_gc()
    return _state.client


def _events_client() -> Any:
    if _state.events_client is None:
        import boto3  # noqa: PLC0415 - only when outcome events are on

        _state.events_client = boto3.client("events")
    return _state.events_client


def _rules(own_account: str | None = None) -> RuleSet:
    """Rules from SSM (cached by Parameters, recompiled only when the text changes) or from the file, within
    the stack's domain, owner (``own_account`` when DOMAIN_OWNER is empty) and repositories."""
    settings = _settings()
    scope = StackScope(settings.domain_name, settings.domain_owner, own_account)
    if settings.rules_parameter:
        from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - only with an SSM parameter

        text = parameters.get_parameter(settings.rules_parameter, max_age=int(settings.rules_cache_seconds))
        if _state.rules is None or text != _state.rules_text:
            _state.rules = load_rules_parameter(
                str(text),
                name=settings.rules_parameter,
                allowed_sources=settings.allowed_sources,
                allowed_destinations=settings.allowed_destinations,
                scope=scope,
            )
            _state.rules_text = text
        return _state.rules
    if _state.rules is None:
        assert settings.rules_file is not None
        _state.rules = load_rules_file(
            settings.rules_file,
            allowed_sources=settings.allowed_sources,
            allowed_destinations=settings.allowed_destinations,
            scope=scope,
        )
    return _state.rules


def _limiter() -> RateLimiter:
    if _state.limiter is None:
        settings = _settings()
        # One per execution environment, kept across invocations: what it learnt of the free quota stays.
        _state.limiter = copy_limiter(settings.copy_rate, settings.copy_pacing)
    return _state.limiter


def build_dependencies(context: Any) -> Dependencies:
    settings = _settings()
    account = account_of(context)
    try:
        rules = _rules(account)
    except RulesError as exc:
        logger.error(
            "promotion rules are invalid; nothing is promoted until they are fixed", extra={"error": str(exc)}
        )
        raise
    events = (
        OutcomeEventPublisher(
            settings.outcome_event_bus, client_factory=_events_client, metrics=metrics, logger=logger
        )
        if settings.outcome_event_bus
        else None
    )
    remaining: Callable[[], float] = no_deadline
    get_remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(get_remaining):

        def remaining() -> float:
            return float(get_remaining()) / 1000.0

    return Dependencies(
        client=_client(),
        rules=rules,
        reporter=Reporter(OutcomeLog(logger), PowertoolsMetrics(), events),
        remaining=remaining,
        limiter=_limiter(),
        policy=RetryPolicy(call_reserve=settings.call_reserve, max_attempts=settings.max_attempts),
        account_id=account,
        catch_up=settings.catch_up,
        region=settings.region,
    )


EMULATOR_ACCOUNT = "012345678912"
"""The account the Lambda runtime interface emulator (``sam local invoke``, promoter_dev.invoke) puts in
every function ARN: a placeholder, not the account whose domains the function works on."""


def account_of(context: Any) -> str | None:
    """The function's account, from its ARN (arn:aws:lambda:region:account:function:name), if known."""
    parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    account = parts[4] if len(parts) > 4 else ""
    if not (account.isdigit() and len(account) == 12) or account == EMULATOR_ACCOUNT:
        return None
    return account


class RetryRecord(Exception):
    """Marks an SQS record for the partial batch response."""


def is_scheduled(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and event.get("source") == "aws.events"
        and event.get("detail-type") == "Scheduled Event"
    )


def is_sqs_batch(event: Any) -> bool:
    return isinstance(event, dict) and isinstance(event.get("Records"), list)


def handle_sqs(event: dict[str, Any], context: Any, deps: Dependencies) -> dict[str, Any]:
    records = event["Records"]
    # Only records with a message id can be retried by id; the rest are logged as malformed.
    addressable = [
        r for r in records if isinstance(r, dict) and isinstance(r.get("messageId"), str) and r["messageId"]
    ]
    # A batch allocates tens of thousands of objects (candidates, outcomes, log fields) that all live until
    # it ends, so the cyclic collector only rescans them (about 5% of a batch's CPU); they are acyclic and
    # go with the batch. The collector is off while the batch is promoted and back on afterwards, whatever
    # happens (a batch is at most 10,000 records: the memory figure of 10,000 records is unchanged).
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        failing = process_sqs_records(records, deps)
    except Exception:  # a bug must not lose versions: every record goes back to the queue
        logger.exception("unexpected error while promoting a batch; every record will be retried")
        failing = {r["messageId"] for r in addressable}
    finally:
        if paused:
            gc.enable()
    if not addressable or not failing:
        # Nothing to hand back. Powertools' batch processor, whose import costs about 40 ms of cold
        # start (asyncio and every event data class), is loaded only when a record must be retried.
        return {"batchItemFailures": []}
    logger.info("records handed back to the queue", extra={"count": len(failing)})
    from aws_lambda_powertools.utilities.batch import (  # noqa: PLC0415 - see above
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    def record_handler(record: Any) -> None:
        if record.message_id in failing:
            raise RetryRecord(record.message_id)

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response: dict[str, Any] = dict(
        process_partial_response(
            event={"Records": addressable},
            record_handler=record_handler,
            processor=processor,
            context=context,
        )
    )
    return response


def handle_scheduled(event: dict[str, Any], context: Any, deps: Dependencies) -> dict[str, Any]:
    """Scheduled reconcile: the work lives in promoter.reconcile, imported only when a schedule fires."""
    try:
        reconcile: Any = importlib.import_module("promoter.reconcile")
    except ImportError:
        logger.error("scheduled event received but promoter.reconcile is not available")
        return {"reconcile": "unavailable"}
    result: dict[str, Any] = reconcile.run(event=event, context=context, deps=deps)
    return result


def _handler(event: Any, context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and isinstance(event.get("id"), str):
        logger.set_correlation_id(event["id"])
    try:
        deps = build_dependencies(context)
    finally:
        if _state.gc_held:  # invalid rules stop before the client exists: never leave the collector off
            _release_gc()
    try:
        if is_sqs_batch(event):
            return handle_sqs(event, context, deps)
        if is_scheduled(event):
            return handle_scheduled(event, context, deps)
        return process_event(event, deps)
    finally:
        deps.reporter.flush()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return _handler(event, context)


if os.environ.get("PROMOTER_TRACING", "").strip().lower() == "true":  # pragma: no cover - needs the X-Ray SDK
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service=SERVICE)
    lambda_handler = tracer.capture_lambda_handler(lambda_handler)
