"""The scheduled reconcile: the function's entry point for a schedule, which never stops at the first
broken source.

A source or destination that cannot be read (a missing domain or repository, AccessDenied, throttling past
the retries) is an error: the run goes on with the others, reports ``complete: false`` and the errors, and
emits ``ReconcileErrors`` (dimension ``ErrorCode``; 0 after a run without errors). The cursor lives in the
stack's SSM parameter (``RECONCILE_CURSOR_PARAMETER``): one ssm:GetParameter and one ssm:PutParameter a run.
A run continues where the last one stopped and goes to the end; the next starts again at the first source.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from promoter.pipeline import Dependencies
from promoter.reader import error_line
from promoter.reconcile.cursor import Cursor, CursorStore, SsmCursorStore
from promoter.reconcile.reconciler import reconcile

METRIC_ERRORS = "ReconcileErrors"
"""Sources or destinations a scheduled run could not read, by ``ErrorCode``; 0 after a run without any."""
ENV_CURSOR_PARAMETER = "RECONCILE_CURSOR_PARAMETER"
"""The SSM parameter (String, created by the stack) where the scheduled run keeps its cursor."""
LIST_ATTEMPTS = 5
"""Attempts of one read on the scheduled path, whose client makes one attempt per call (each attempt checks
the remaining time first, so retries never outlast the run)."""


def cursor_store(environ: Mapping[str, str] | None = None) -> SsmCursorStore | None:
    """The scheduled run's cursor store: the SSM parameter ``RECONCILE_CURSOR_PARAMETER`` names, if any."""
    name = (os.environ if environ is None else environ).get(ENV_CURSOR_PARAMETER, "").strip()
    if not name:
        return None
    from promoter.container import aws_client  # noqa: PLC0415 - only a scheduled run needs SSM

    return SsmCursorStore(aws_client("ssm"), name)


def handle_scheduled(
    event: Mapping[str, Any], deps: Dependencies, store: CursorStore | None = None
) -> dict[str, Any]:
    """The scheduled entry point: reconcile from the stored cursor, never stop at the first broken source.

    Errors of one source or destination (an unknown domain or repository, access denied, throttling past
    the retries) are logged and counted as ``ReconcileErrors`` by error code, and the other sources still
    run; outcomes are reported by ``deps.reporter`` exactly as the event path reports them (the caller
    flushes it). The cursor is read from ``store`` before and written after the run (reset when the walk
    reached its end). Returns the run's summary, also logged as one line.
    """
    del event
    log = deps.reporter.logger
    problems: list[tuple[str, str]] = []
    start: Cursor | None = None
    if store is not None:
        try:
            start = store.load()
        except ValueError as error:  # someone wrote the parameter by hand: start again, and overwrite it
            log.warning("reconcile cursor ignored; starting at the first source", extra={"error": str(error)})
        except (ClientError, BotoCoreError) as error:
            code, message = error_line(error)
            problems.append((f"reconcile cursor could not be read: {code}: {message}", code))
    result = reconcile(deps, dry_run=False, start=start, fail_fast=False, list_attempts=LIST_ATTEMPTS)
    if store is not None:
        try:
            store.save(result.cursor)
        except (ClientError, BotoCoreError) as error:
            code, message = error_line(error)
            problems.append((f"reconcile cursor could not be saved: {code}: {message}", code))
    for message, code in problems:
        result.errors.append(message)
        result.error_codes[code] += 1
        result.complete = False
    summary = result.summary()
    for line in result.errors:
        log.error("reconcile source failed", extra={"error": line})
    for code, count in sorted(result.error_codes.items()):
        deps.reporter.count(METRIC_ERRORS, count, ("ErrorCode", code))
    if not result.error_codes:
        deps.reporter.count(METRIC_ERRORS, 0)  # a datapoint per run: the alarm reflects the last run
    if result.complete:
        log.info("reconcile finished", extra={"reconcile": summary})
    elif result.errors:
        log.warning(
            "reconcile incomplete: some sources or destinations could not be read",
            extra={"reconcile": summary},
        )
    else:
        log.warning("reconcile stopped early: the next run continues", extra={"reconcile": summary})
    return {"reconcile": summary}


def run(
    *, event: Mapping[str, Any], context: Any, deps: Dependencies, store: CursorStore | None = None
) -> dict[str, Any]:
    """The seam app.py calls for a scheduled event (the remaining time is already in ``deps.remaining``).
    The cursor lives in ``RECONCILE_CURSOR_PARAMETER``'s parameter unless ``store`` is given."""
    del context
    return handle_scheduled(event, deps, store if store is not None else cursor_store())
