"""Reconcile: promote what the rules accept and a destination lacks, by listing instead of by events.

Events miss versions (published before the promoter existed, lost past the dead-letter queue, accepted only
after a rule was widened, or deferred by ``minimumReleaseAge``). Reconcile walks every rule's source and
feeds what a destination lacks to the same rules, planner, copier and reporter as the event path: a listed
version is pinned to the revision read from the source, so a copy never takes another build.

Read in the order the data flows: ``walk`` (sources and their packages, from a ``cursor``), ``package``
(one package's versions and what its destinations hold), ``decide`` (plan, copy, report), ``reconciler``
(one run, listing ahead on threads), ``scheduled`` (the function's schedule entry point); ``results`` holds
what a run decided and did.
"""

from promoter.reconcile.cursor import RESET, Cursor, CursorStore, FileCursorStore, SsmCursorStore
from promoter.reconcile.reconciler import DEFAULT_CONCURRENCY, DEFAULT_RESERVE_SECONDS, Reconciler, reconcile
from promoter.reconcile.results import (
    ALREADY_EXISTS,
    ALREADY_PRESENT,
    CONFLICT,
    COPY,
    FAILING_CODES,
    JSON_KEYS,
    MISSING_CODE,
    NOT_ALLOWED,
    ORIGIN,
    OVERWRITE,
    PLAN_FAILED,
    PRESENT,
    SKIP,
    UNREADABLE,
    PlanItem,
    Progress,
    ReconcileError,
    ReconcileResult,
)
from promoter.reconcile.scheduled import (
    ENV_CURSOR_PARAMETER,
    LIST_ATTEMPTS,
    METRIC_ERRORS,
    cursor_store,
    handle_scheduled,
    run,
)

__all__ = [
    "ALREADY_EXISTS",
    "ALREADY_PRESENT",
    "CONFLICT",
    "COPY",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_RESERVE_SECONDS",
    "ENV_CURSOR_PARAMETER",
    "FAILING_CODES",
    "JSON_KEYS",
    "LIST_ATTEMPTS",
    "METRIC_ERRORS",
    "MISSING_CODE",
    "NOT_ALLOWED",
    "ORIGIN",
    "OVERWRITE",
    "PLAN_FAILED",
    "PRESENT",
    "RESET",
    "SKIP",
    "UNREADABLE",
    "Cursor",
    "CursorStore",
    "FileCursorStore",
    "PlanItem",
    "Progress",
    "ReconcileError",
    "ReconcileResult",
    "Reconciler",
    "SsmCursorStore",
    "cursor_store",
    "handle_scheduled",
    "reconcile",
    "run",
]
