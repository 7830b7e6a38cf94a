"""One reconcile (or plan) run: walk the sources, list each package ahead on a few threads, and decide, copy
and report the packages in walk order, until the walk ends or the time runs short.

List calls run ahead of the copying, which is what wall time is made of; copies are paced by the copier's
token bucket (PROMOTER_COPY_RATE) and throttling is absorbed with backoff, as on the event path. ``plan``
(the CLI's dry run) is this very code with ``dry_run=True``: the same decisions, no copies and no reports.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from promoter.copier import Copier
from promoter.pipeline import Dependencies
from promoter.reader import OutOfTime, error_code
from promoter.reconcile.cursor import Cursor
from promoter.reconcile.decide import Decider
from promoter.reconcile.package import ListedPackage, PackageLister
from promoter.reconcile.results import Progress, ReconcileResult
from promoter.reconcile.state import RunState
from promoter.reconcile.walk import Step, sources, steps

DEFAULT_CONCURRENCY = 4
DEFAULT_RESERVE_SECONDS = 5.0
"""Added to the copier's call reserve: no call starts unless this much more time is left (the cursor must
still be saved, and a package's copy must fit after its listing)."""


class Reconciler:
    """One reconcile (or plan) run over every rule of a RuleSet."""

    def __init__(
        self,
        deps: Dependencies,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        reserve_seconds: float = DEFAULT_RESERVE_SECONDS,
        progress: Progress | None = None,
        list_client: Any = None,
        list_attempts: int = 1,
        include_rejected: bool = False,
    ) -> None:
        self.state = RunState(
            deps=deps,
            list_client=list_client if list_client is not None else deps.client,
            list_attempts=list_attempts,
            reserve=reserve_seconds + deps.policy.call_reserve,
            progress=progress or Progress(),
            include_rejected=include_rejected,
        )
        self.concurrency = max(1, concurrency)
        self.copier: Copier = deps.copier()
        self.state.result.copy = self.copier.stats
        self.lister = PackageLister(self.state)
        self.decider = Decider(self.state, self.copier)

    @property
    def result(self) -> ReconcileResult:
        return self.state.result

    def run(self, *, dry_run: bool, start: Cursor | None = None, fail_fast: bool = True) -> ReconcileResult:
        started = time.monotonic()
        result = self.result
        try:
            walked = sources(self.state, fail_fast=fail_fast)
            if start is not None and not any(source.at(start) for source in walked):
                start = None  # the rules no longer read that source: a new walk
            result.resumed_from = start
            result.cursor = start
            self._drive(
                steps(self.state, walked, start, fail_fast=fail_fast), dry_run=dry_run, fail_fast=fail_fast
            )
            if self.state.progress.on_total:
                self.state.progress.on_total(result.packages_total)
        finally:
            if not dry_run:
                self.state.deps.reporter.copy_stats(self.copier.stats)
            result.seconds = time.monotonic() - started
        if result.out_of_time or result.errors:
            result.complete = False
        return result

    def _drive(self, walk: Iterator[Step], *, dry_run: bool, fail_fast: bool) -> None:
        """Listings fetched ``concurrency`` packages ahead on threads, processed in walk order; the cursor
        follows the last package processed. Stops when time runs short."""
        result, progress = self.result, self.state.progress
        window = self.concurrency * 2
        pending: deque[tuple[Step, Future[ListedPackage]]] = deque()
        exhausted = False
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="reconcile-list") as pool:
            try:
                while True:
                    while not exhausted and len(pending) < window:
                        try:
                            step = next(walk)
                        except StopIteration:
                            exhausted = True
                        except OutOfTime:
                            exhausted = True
                            result.out_of_time = True
                        else:
                            pending.append((step, pool.submit(self.lister.list, step.source, step.ref)))
                    if not pending:
                        break
                    step, future = pending.popleft()
                    if self.state.deps.remaining() < self.state.reserve:
                        result.out_of_time = True
                        break
                    try:
                        listed = future.result()
                    except OutOfTime:
                        result.out_of_time = True
                        break
                    except (ClientError, BotoCoreError) as error:
                        where = f"{step.source.list_error(error)} (package {_package_name(step)})"
                        self.state.fail(where, error_code(error), fail_fast=fail_fast)
                    else:
                        self.decider.process(listed, dry_run=dry_run, fail_fast=fail_fast)
                        if self.copier.stats.out_of_time:
                            # the copier could not start a call of this package in time (its versions are
                            # reported NotAttempted): the cursor stays before it, the next run redoes it
                            result.out_of_time = True
                            break
                    result.packages_done += 1
                    result.cursor = step.cursor()
                    if progress.on_package:
                        progress.on_package(result.packages_done, result.packages_total)
            finally:
                for _, future in pending:
                    future.cancel()
                walk.close()  # type: ignore[attr-defined]
        if exhausted and not pending and not result.out_of_time:
            result.cursor = None  # the end of the last source: the next run starts again


def _package_name(step: Step) -> str:
    ref = step.ref
    return f"{ref.namespace}/{ref.package}" if ref.namespace else ref.package


def reconcile(
    deps: Dependencies,
    *,
    dry_run: bool = False,
    start: Cursor | None = None,
    fail_fast: bool = True,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
    list_client: Any = None,
    list_attempts: int = 1,
    include_rejected: bool = False,
) -> ReconcileResult:
    """Walk, plan and (unless ``dry_run``) copy and report, for every rule of ``deps.rules``, from just
    after ``start`` (None: from the beginning) until the walk ends or ``deps.remaining()`` runs short.

    ``list_client`` (default ``deps.client``) makes the read calls; each read makes ``list_attempts``
    attempts at most (give the client botocore retries instead, where no deadline applies: the CLI).
    ``include_rejected`` (``plan --all``) also lists every state and adds a skip item for each version a
    rule's filters reject.
    """
    reconciler = Reconciler(
        deps,
        concurrency=concurrency,
        progress=progress,
        list_client=list_client,
        list_attempts=list_attempts,
        include_rejected=include_rejected,
    )
    return reconciler.run(dry_run=dry_run, start=start, fail_fast=fail_fast)
