"""What a reconcile (or a plan) decided and did: one ``PlanItem`` per version and destination, the
outcomes, and the counts of every call, as the CLI prints them and the scheduled run logs them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from promoter.copier import CopyStats
from promoter.events import Candidate
from promoter.listed import ListingStats
from promoter.outcomes import FAILED, Outcome
from promoter.reconcile.cursor import Cursor

ORIGIN = "reconcile"
"""``Candidate.origin`` of versions that reconcile found (events carry the SQS message id there)."""

COPY = "copy"
SKIP = "skip"
PRESENT = "present in destination"
ALREADY_EXISTS = "ALREADY_EXISTS"
"""The error code of a destination holding another revision, allowOverwrite off: the code the copy call
would answer on the event path, reported the same way (failed, final) without spending the call on it."""

JSON_KEYS = (
    "domain",
    "sourceRepository",
    "destinationRepository",
    "format",
    "namespace",
    "package",
    "version",
    "revision",
    "action",
    "reason",
    "detail",
    "rule",
)

# ``PlanItem.code``: the machine-readable reason of a decision (``plan --json``'s ``reason``). Rejections use
# the rules' filter names (range, prerelease, exclude, state, age, ...), as ``promoter explain`` does.
MISSING_CODE = "missing"
"""copy: the destination lacks the version."""
OVERWRITE = "overwrite"
"""copy: the destination holds another revision and the rule allows overwriting it."""
ALREADY_PRESENT = "already_present"
"""skip: the destination holds the pinned revision."""
CONFLICT = ALREADY_EXISTS
"""skip, and a failure (exit 1): the destination holds another revision and allowOverwrite is off (the
error code the copy would answer, which reconcile reports)."""
PLAN_FAILED = "failed"
"""skip, and a failure: the planner could not decide (for example the publish time could not be read)."""
UNREADABLE = "unreadable"
"""skip: the destination could not be read (an error of the run)."""
NOT_ALLOWED = "NOT_ALLOWED"
"""skip (``plan`` only), and a failure: the destination's origin controls would refuse the copy
(promoter.origin_controls), which the copy would answer NOT_ALLOWED."""
FAILING_CODES = frozenset({CONFLICT, PLAN_FAILED, NOT_ALLOWED})


class ReconcileError(RuntimeError):
    """A problem that stops a source (or, with ``fail_fast``, the run): one line, meant for a human."""


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One (version, destination) decision: ``copy``, or ``skip`` with the reason."""

    candidate: Candidate
    destination: str
    action: str
    reason: str | None = None
    rule: str | None = None
    code: str | None = None
    """The reason as a code (``MISSING_CODE``, ``ALREADY_PRESENT``, a filter name...); ``reason`` is prose."""

    def as_json(self) -> dict[str, Any]:
        """Exactly the keys of ``promoter plan --json``: ``reason`` is the code, ``detail`` the prose."""
        c = self.candidate
        return {
            "domain": c.domain,
            "sourceRepository": c.source_repository,
            "destinationRepository": self.destination,
            "format": c.format,
            "namespace": c.namespace,
            "package": c.package,
            "version": c.version,
            "revision": c.revision,
            "action": self.action,
            "reason": self.code,
            "detail": self.reason,
            "rule": self.rule,
        }


@dataclass
class ReconcileResult:
    items: list[PlanItem] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    listing: ListingStats = field(default_factory=ListingStats)
    copy: CopyStats = field(default_factory=CopyStats)
    packages_total: int = 0
    """Packages listed in the sources so far (the walk does not know the total before it ends)."""
    packages_done: int = 0
    complete: bool = True
    """The walk reached the end of the last source and every source and destination could be read."""
    out_of_time: bool = False
    errors: list[str] = field(default_factory=list)
    error_codes: Counter[str] = field(default_factory=Counter)
    """One count per entry of ``errors``, by the error's code (the ReconcileErrors metric)."""
    resumed_from: Cursor | None = None
    cursor: Cursor | None = None
    """Where the next run continues; None when this one reached the end."""
    seconds: float = 0.0

    @property
    def to_copy(self) -> list[PlanItem]:
        return [item for item in self.items if item.action == COPY]

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == FAILED]

    def outcome_counts(self) -> Counter[str]:
        return Counter(outcome.status for outcome in self.outcomes)

    def summary(self) -> dict[str, Any]:
        """A small JSON-able digest: the scheduled run's return value and its summary log line."""
        return {
            "complete": self.complete,
            "outOfTime": self.out_of_time,
            "packages": self.packages_total,
            "packagesDone": self.packages_done,
            "versionsToCopy": len(self.to_copy),
            "outcomes": dict(sorted(self.outcome_counts().items())),
            "listCalls": dict(sorted(self.listing.calls.items())),
            "describeCalls": self.copy.describe_calls,
            "copyCalls": self.copy.copy_requests,
            "copyThrottled": self.copy.throttled,
            "errors": list(self.errors),
            "errorCodes": dict(sorted(self.error_codes.items())),
            "resumedFrom": self.resumed_from.as_json() if self.resumed_from else None,
            "cursor": self.cursor.as_json() if self.cursor else None,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class Progress:
    """Callbacks for a terminal (the CLI); all optional. ``on_total`` is called once the walk has ended,
    with the number of packages listed; ``on_package(done, listed so far)`` after every package."""

    on_total: Callable[[int], None] | None = None
    on_package: Callable[[int, int], None] | None = None
    on_item: Callable[[PlanItem], None] | None = None
    on_outcome: Callable[[Outcome], None] | None = None
