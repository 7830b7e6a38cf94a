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

from promoter.reconcile.cursor import Cursor, CursorStore, FileCursorStore, SsmCursorStore
from promoter.reconcile.reconciler import DEFAULT_RESERVE_SECONDS, reconcile
from promoter.reconcile.results import (
    COPY,
    FAILING_CODES,
    JSON_KEYS,
    PRESENT,
    SKIP,
    PlanItem,
    Progress,
    ReconcileError,
    ReconcileResult,
)
from promoter.reconcile.scheduled import METRIC_ERRORS, handle_scheduled, run

__all__ = [
    "COPY",
    "DEFAULT_RESERVE_SECONDS",
    "FAILING_CODES",
    "JSON_KEYS",
    "METRIC_ERRORS",
    "PRESENT",
    "SKIP",
    "Cursor",
    "CursorStore",
    "FileCursorStore",
    "PlanItem",
    "Progress",
    "ReconcileError",
    "ReconcileResult",
    "SsmCursorStore",
    "handle_scheduled",
    "reconcile",
    "run",
]
