"""``promoter plan`` and ``promoter reconcile``: reconcile itself, with the copies (reconcile) or without
(plan), its decisions and outcomes printed as lines and a summary."""

from __future__ import annotations

import argparse
import functools
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from promoter.cli.aws import codeartifact_client, list_client, session
from promoter.cli.errors import EXIT_ENVIRONMENT, EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError
from promoter.cli.inputs import Clock, load_rules
from promoter.cli.output import Metrics, QuietLog, WarningsTo, package_name, short
from promoter.copier import RetryPolicy
from promoter.matching import RuleSet
from promoter.outcome_events import ENV_BUS, OutcomeEventPublisher
from promoter.outcomes import DEFERRED, FAILED, Outcome
from promoter.pacing import RateLimiter
from promoter.pipeline import Dependencies
from promoter.reconcile import (
    COPY,
    FAILING_CODES,
    PRESENT,
    FileCursorStore,
    PlanItem,
    Progress,
    ReconcileResult,
    reconcile,
)
from promoter.report import Reporter


def _copy_rate() -> float:
    raw = os.environ.get("PROMOTER_COPY_RATE", "").strip()
    try:
        return float(raw) if raw else 5.0
    except ValueError:
        raise CliError(f"PROMOTER_COPY_RATE must be a number, not {raw!r}", EXIT_USAGE) from None


def _max_attempts() -> int:
    raw = os.environ.get("PROMOTER_MAX_ATTEMPTS", "").strip()
    try:
        return max(1, int(raw)) if raw else RetryPolicy().max_attempts
    except ValueError:
        raise CliError(f"PROMOTER_MAX_ATTEMPTS must be a whole number, not {raw!r}", EXIT_USAGE) from None


def _dependencies(args: argparse.Namespace, ruleset: RuleSet, clock: Clock, client: Any) -> Dependencies:
    """The function's Dependencies; copies paced (PROMOTER_COPY_RATE, default 5/s) and retried
    (PROMOTER_MAX_ATTEMPTS, default 20) like the function's."""
    return Dependencies(
        client=client if client is not None else codeartifact_client(args, single_attempt=True),
        rules=ruleset,
        reporter=Reporter(QuietLog(), Metrics()),
        clock=clock,
        limiter=RateLimiter(_copy_rate()),
        policy=RetryPolicy(max_attempts=_max_attempts()),
    )


def _item_line(item: PlanItem) -> str:
    c = item.candidate
    text = (
        f"{item.action:<4}  {c.domain}/{c.source_repository} -> {item.destination}  {c.format} "
        f"{package_name(c)} {c.version}  revision {short(c.revision)}"
    )
    if item.reason is None:
        return text
    rule = f", rule {item.rule}" if item.rule and item.code not in (None, "already_present") else ""
    return f"{text}  ({item.reason}{rule})"


def _calls_line(result: ReconcileResult) -> str:
    listing = result.listing.calls
    return (
        f"{result.packages_done}/{result.packages_total} packages, "
        f"{sum(listing.values())} list calls ({', '.join(f'{k} {v}' for k, v in sorted(listing.items()))}), "
        f"{result.copy.describe_calls} describe calls, {result.copy.copy_requests} copy calls, "
        f"{result.seconds:.1f}s"
    )


def cmd_plan(args: argparse.Namespace, out: TextIO, clock: Clock, client: Any) -> int:
    """Reconcile without copies. ``--all`` adds versions already present and those a rule's filters turn
    away (range, prerelease, exclude, state). Exit 1, as ``reconcile``, when a version would fail (an
    ALREADY_EXISTS conflict, a copy the destination's origin controls would refuse, or a version the planner
    could not decide)."""
    ruleset = load_rules(args.rules, args)
    at = args.at
    deps = _dependencies(args, ruleset, (lambda: at) if at else clock, client)
    result = reconcile(
        deps, dry_run=True, list_client=list_client(args, client), include_rejected=bool(args.all)
    )
    failing = Counter(item.code for item in result.items if item.code in FAILING_CODES)
    if args.json:
        json.dump([item.as_json() for item in result.items], out, indent=2)
        out.write("\n")
    else:
        actions: Counter[str] = Counter()
        for item in result.items:
            reason = item.reason or ""
            kind = "present" if reason == PRESENT else item.action if item.action == COPY else "other skip"
            actions[kind] += 1
            if args.all or kind != "present":
                print(_item_line(item), file=out)
        print(
            f"plan: {actions[COPY]} to copy, {actions['present']} already present, "
            f"{actions['other skip']} skipped for another reason; {_calls_line(result)}",
            file=out,
        )
    if failing:
        raise CliError(
            f"{sum(failing.values())} version(s) would fail "
            f"({', '.join(f'{code}: {n}' for code, n in sorted(failing.items()))})",
            EXIT_FAILED,
        )
    return EXIT_OK


def _summary_rows(result: ReconcileResult) -> list[tuple[str, str]]:
    counts = result.outcome_counts()
    present = sum(1 for item in result.items if item.reason == PRESENT)
    rows = [(status, str(counts[status])) for status in sorted(counts)]
    rows.append(("present (no copy needed)", str(present)))
    failures = Counter(o.error_code or "Unknown" for o in result.failed)
    rows.extend((f"failed: {code}", str(n)) for code, n in sorted(failures.items()))
    rows.append(("list calls", str(result.listing.total())))
    rows.append(("describe calls", str(result.copy.describe_calls)))
    rows.append(("copy calls", str(result.copy.copy_requests)))
    rows.append(("throttled copy calls", str(result.copy.throttled)))
    rows.append(("packages", f"{result.packages_done}/{result.packages_total}"))
    rows.append(("seconds", f"{result.seconds:.1f}"))
    return rows


def _rich_available() -> bool:
    try:
        import rich  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def cmd_reconcile(args: argparse.Namespace, out: TextIO, err: TextIO, clock: Clock, client: Any) -> int:
    """Copy what the rules accept and a destination lacks; exit 3 when a source or destination could not be
    read, else 1 when a version failed (stopping at ``--time-limit`` is not an error)."""
    ruleset = load_rules(args.rules, args)
    deps = _dependencies(args, ruleset, clock, client)
    store = FileCursorStore(Path(args.cursor)) if args.cursor else None
    try:
        start = store.load() if store else None
    except (OSError, ValueError) as error:
        raise CliError(f"--cursor {args.cursor}: {error}", EXIT_USAGE) from None
    if args.time_limit is not None:
        ends = time.monotonic() + args.time_limit
        deps = deps._replace(remaining=lambda: ends - time.monotonic())
    bus = os.environ.get(ENV_BUS, "").strip()
    if bus:  # outcomes of an operator's reconcile reach the same subscribers as the function's
        deps.reporter.events = OutcomeEventPublisher(
            bus, client_factory=lambda: session(args).client("events"), logger=WarningsTo(err)
        )
    run = functools.partial(
        reconcile, deps, list_client=list_client(args, client), start=start, fail_fast=False
    )
    if not args.quiet and err.isatty() and _rich_available():
        result = _with_progress_bar(run, err, lambda console: _outcome_printer(args, out, console))
    else:
        result = run(progress=Progress(on_outcome=_outcome_printer(args, out, None)))
    deps.reporter.flush()
    if store is not None:
        store.save(result.cursor)
    _print_summary(_summary_rows(result), out)
    for line in result.errors:
        print(f"promoter: not read: {line}", file=err)
    if result.out_of_time:
        again = f" --cursor {args.cursor}" if args.cursor else " with --cursor FILE"
        print(f"promoter: stopped at the time limit; run again{again} to continue", file=err)
    failed = result.failed
    if result.errors:
        raise CliError(
            f"reconcile incomplete: {len(result.errors)} source(s) or destination(s) not read",
            EXIT_ENVIRONMENT,
        )
    if failed:
        codes = Counter(o.error_code or "Unknown" for o in failed)
        raise CliError(
            f"{len(failed)} version(s) failed ({', '.join(f'{c}: {n}' for c, n in sorted(codes.items()))})",
            EXIT_FAILED,
        )
    return EXIT_OK


def _outcome_printer(args: argparse.Namespace, out: TextIO, console: Any) -> Callable[[Outcome], None]:
    """One line per outcome: above the progress bar (``console``), else on ``out`` (only failures with
    ``--quiet``)."""

    def print_outcome(outcome: Outcome) -> None:
        c = outcome.candidate
        if c is None:
            return
        detail = ""
        if outcome.status == FAILED:
            detail = f"  ({outcome.error_code}: {outcome.error_message})"
        elif outcome.status == DEFERRED and outcome.eligible_at:
            detail = f"  (until {outcome.eligible_at.isoformat()})"
        elif outcome.reason:
            detail = f"  ({outcome.reason})"
        destination = outcome.destination or "-"  # none for a version ignored as denied
        line = (
            f"{outcome.status:<15} {c.domain}/{c.source_repository} -> {destination}  {c.format} "
            f"{package_name(c)} {c.version}{detail}"
        )
        if console is not None:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        elif not args.quiet or outcome.status == FAILED:
            print(line, file=out, flush=True)

    return print_outcome


def _with_progress_bar(
    run: Callable[..., ReconcileResult], err: TextIO, printer: Callable[[Any], Callable[[Outcome], None]]
) -> ReconcileResult:
    """``run`` under a rich progress bar on stderr, the outcome lines printed above it."""
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn  # noqa: PLC0415
    from rich.progress import Progress as Bar  # noqa: PLC0415

    bar = Bar(
        TextColumn("reconcile"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("packages"),
        TimeElapsedColumn(),
        console=Console(file=err),
        transient=True,
    )
    task = bar.add_task("reconcile", total=None)
    progress = Progress(
        on_total=lambda total: bar.update(task, total=total),
        on_package=lambda done, total: bar.update(task, completed=done),
        on_outcome=printer(bar.console),
    )
    with bar:
        return run(progress=progress)


def _print_summary(rows: list[tuple[str, str]], out: TextIO) -> None:
    """A table on a terminal with rich, else aligned plain lines."""
    if out.isatty() and _rich_available():
        from rich.console import Console  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415

        table = Table(title="reconcile summary")
        table.add_column("")
        table.add_column("count", justify="right")
        for name, value in rows:
            table.add_row(name, value)
        Console(file=out).print(table)
        return
    width = max(len(name) for name, _ in rows)
    print("summary:", file=out)
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>8}", file=out)
