"""What the parts of one reconcile run share: its dependencies, its result, and how it reads and fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promoter.pipeline import Dependencies
from promoter.reader import OutOfTime, Reader
from promoter.reconcile.results import PlanItem, Progress, ReconcileError, ReconcileResult


@dataclass(eq=False)
class RunState:
    """One run's shared state (the result grows as the run goes)."""

    deps: Dependencies
    list_client: Any
    """The client of every read call (the CLI gives it botocore's retries; copies go through ``deps``)."""
    list_attempts: int
    reserve: float
    """No call starts unless this much time is left (a call, the cursor, the report)."""
    progress: Progress
    include_rejected: bool
    result: ReconcileResult = field(default_factory=ReconcileResult)

    def deadline(self) -> None:
        """Checked before every call: raises ``OutOfTime`` when less than the reserve is left."""
        if self.deps.remaining() < self.reserve:
            raise OutOfTime

    def reader(self, domain: str, owner: str) -> Reader:
        return Reader(
            self.list_client,
            domain,
            owner,
            stats=self.result.listing,
            deadline=self.deadline,
            attempts=self.list_attempts,
            sleep=self.deps.sleep,
        )

    def fail(self, message: str, code: str, *, fail_fast: bool) -> None:
        """An error of the run: raised with ``fail_fast``, else recorded once and the run goes on."""
        if fail_fast:
            raise ReconcileError(message)
        if message not in self.result.errors:
            self.result.errors.append(message)
            self.result.error_codes[code] += 1

    def item(self, item: PlanItem) -> None:
        self.result.items.append(item)
        if self.progress.on_item:
            self.progress.on_item(item)
