"""``promoter``: the function's own code, seen from a terminal.

    promoter rules check FILE
    promoter explain --rules FILE [--at TIME] EVENT.json
    promoter plan --rules FILE [--json] [--all] [--at TIME]
    promoter reconcile --rules FILE [--quiet]

Every command uses the function's modules (the rules loader, the matcher's explanations, the planner, the
copier, the reporter, reconcile), so a rules file checked here is checked exactly as the function will
check it, and ``plan`` is ``reconcile`` without the copies. AWS access comes from the environment as for
any AWS tool (``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL`` for a local AWS).

Exit codes: 0 success; 1 a version failed, or the rules or event file is invalid; 2 wrong usage;
3 AWS or environment trouble (no credentials, no region, unknown domain or repository, throttling that
outlasted the retries, an endpoint that cannot be reached). Errors are one line on stderr, never a
traceback (``PROMOTER_DEBUG=1`` shows it).

``rich`` (the optional extra ``cli``) draws the progress bar and tables on a terminal; without it, or when
the output is not a terminal, the output is plain lines. The function itself never imports this module.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from promoter.copier import RateLimiter, RetryPolicy
from promoter.events import (
    Candidate,
    MalformedEvent,
    NotCodeArtifactEvent,
    VersionKey,
    parse_event,
    parse_sqs_body,
)
from promoter.outcome_events import ENV_BUS, OutcomeEventPublisher
from promoter.outcomes import DEFERRED, FAILED, Outcome
from promoter.pipeline import Dependencies
from promoter.planner import plan
from promoter.reconcile import COPY, PRESENT, PlanItem, Progress, ReconcileError, ReconcileResult, reconcile
from promoter.report import Reporter
from promoter.rules import AGE, DOMAIN, RulesError, RuleSet, StackScope, load_rules_file

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
_DOMAIN_PATTERN = r"[a-z][a-z0-9\-]{0,48}[a-z0-9]"

Clock = Callable[[], datetime]


class CliError(Exception):
    """Ends the command with one line on stderr and ``code``."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


class _QuietLog:
    """The reporter's log sink for the CLI: the CLI prints its own lines, the reporter still counts."""

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        return None

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        return None

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        return None


class _WarningsTo:
    """Log sink of the outcome event publisher: a failed delivery is one warning line on stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        extra = kwargs.get("extra") or {}
        detail = ", ".join(f"{key}={value}" for key, value in extra.items())
        print(f"promoter: warning: {msg}" + (f" ({detail})" if detail else ""), file=self.stream)


class _Metrics:
    """MetricsSink that keeps the totals for the summary table."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def add(self, name: str, value: float, dimension: tuple[str, str] | None = None) -> None:
        key = f"{name}[{dimension[0]}={dimension[1]}]" if dimension else name
        self.values[key] += int(value)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time such as 2026-12-01T09:00Z"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _allowed(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def stack_scope(args: argparse.Namespace | None = None, *, require_domain: bool = True) -> StackScope:
    """The stack's domain and owner, as the function gets them: ``--domain``/``--domain-owner``, else the
    function's own DOMAIN_NAME/DOMAIN_OWNER from the environment. A rule without ``domain`` needs one
    (except in ``rules check``, which then checks it as written); a rule naming another is refused."""
    domain = getattr(args, "domain", None) or os.environ.get("DOMAIN_NAME", "") or None
    owner = getattr(args, "domain_owner", None) or os.environ.get("DOMAIN_OWNER", "") or None
    if domain is not None and not re.fullmatch(_DOMAIN_PATTERN, domain):
        raise CliError(
            f"--domain / DOMAIN_NAME {domain[:80]!r} is not a CodeArtifact domain name", EXIT_USAGE
        )
    if owner is not None and not re.fullmatch(r"[0-9]{12}", owner):
        raise CliError(
            f"--domain-owner / DOMAIN_OWNER {owner[:80]!r} is not a 12-digit account id", EXIT_USAGE
        )
    return StackScope(
        domain,
        owner,
        require_domain=require_domain,
        unset_hint="pass --domain (or set DOMAIN_NAME) to the stack's domain, which a rule without one means",
    )


def load_rules(path: str, args: argparse.Namespace | None = None, *, require_domain: bool = True) -> RuleSet:
    """The function's loader, with the function's ALLOWED_* restrictions when the environment sets them and
    the stack's domain and owner (``stack_scope``)."""
    return load_rules_file(
        path,
        allowed_sources=_allowed("ALLOWED_SOURCE_REPOSITORIES"),
        allowed_destinations=_allowed("ALLOWED_DESTINATION_REPOSITORIES"),
        scope=stack_scope(args, require_domain=require_domain),
    )


def _session(args: argparse.Namespace) -> Any:
    import boto3  # noqa: PLC0415 - `promoter rules check` needs no AWS at all

    region = args.region or os.environ.get("AWS_REGION") or None
    return boto3.Session(profile_name=args.profile, region_name=region)


def _client(args: argparse.Namespace, *, single_attempt: bool = False) -> Any:
    """A client for read calls (botocore retries them), or with ``single_attempt`` for the copier, which
    retries copies and publish-time lookups itself: botocore's retries inside its attempts would multiply
    them (8 x 20 calls, minutes per package when throttling persists)."""
    from botocore.config import Config  # noqa: PLC0415

    session = _session(args)
    # AWS_MAX_ATTEMPTS and AWS_RETRY_MODE still apply to reads; the defaults outlast short throttling.
    retries: Any = {
        "mode": os.environ.get("AWS_RETRY_MODE") or "standard",
        "max_attempts": int(os.environ.get("AWS_MAX_ATTEMPTS") or 8),
    }
    if single_attempt:
        retries = {"mode": "standard", "total_max_attempts": 1}
    config = Config(retries=retries, connect_timeout=5, read_timeout=30)
    return session.client("codeartifact", config=config)


def _package_name(candidate: Candidate) -> str:
    if not candidate.namespace:
        return candidate.package
    if candidate.format in ("npm",):
        return f"@{candidate.namespace}/{candidate.package}"
    return f"{candidate.namespace}/{candidate.package}"


def _short(revision: str | None) -> str:
    return (revision or "-")[:12]


# --------------------------------------------------------------------------- rules check


def cmd_rules_check(args: argparse.Namespace, out: TextIO) -> int:
    ruleset = load_rules(args.file, args, require_domain=False)
    for rule in ruleset.rules:
        print(rule.describe(), file=out)
    return EXIT_OK


# --------------------------------------------------------------------------- explain


def _event_candidates(path: str) -> tuple[list[Candidate], list[str]]:
    """Candidates of an EventBridge event file, or of every record of an SQS batch file, and what is not."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as error:
        raise CliError(f"cannot read event file {path!r}: {error.strerror or error}") from None
    except ValueError as error:
        raise CliError(f"event file {path!r} is not JSON: {error}") from None
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        candidates: list[Candidate] = []
        problems: list[str] = []
        for index, record in enumerate(document["Records"]):
            body = record.get("body") if isinstance(record, dict) else None
            name = record.get("messageId") if isinstance(record, dict) else None
            try:
                candidates.append(parse_sqs_body(body))
            except (MalformedEvent, NotCodeArtifactEvent) as error:
                problems.append(f"record {name or index}: {error}")
        return candidates, problems
    try:
        return [parse_event(document)], []
    except (MalformedEvent, NotCodeArtifactEvent) as error:
        raise CliError(f"event file {path!r}: {error}") from None


def cmd_explain(args: argparse.Namespace, out: TextIO, clock: Clock, client: Any) -> int:
    ruleset = load_rules(args.rules, args)
    candidates, problems = _event_candidates(args.event)
    now = args.at or clock()
    clients: list[Any] = [client]
    published: dict[VersionKey, datetime | None] = {}
    notes: dict[VersionKey, str] = {}

    def published_time(candidate: Candidate) -> datetime | None:
        """The function's lookup (DescribePackageVersion in the source); a failure only annotates."""
        key = candidate.version_key
        if key in published:
            return published[key]
        published[key] = None
        try:
            if clients[0] is None:
                clients[0] = _client(args)
            described = clients[0].describe_package_version(
                domain=candidate.domain,
                domainOwner=candidate.domain_owner,
                repository=candidate.source_repository,
                format=candidate.format,
                package=candidate.package,
                packageVersion=candidate.version,
                **({"namespace": candidate.namespace} if candidate.namespace else {}),
            )
        except (ClientError, BotoCoreError) as error:
            notes[key] = f"publish time unknown: {_one_line(error)}"
            return None
        value = described.get("packageVersion", {}).get("publishedTime")
        published[key] = value if isinstance(value, datetime) else None
        return published[key]

    for candidate in candidates:
        print(
            f"event: {candidate.format} {_package_name(candidate)} {candidate.version} in "
            f"{candidate.domain}/{candidate.source_repository} "
            f"(revision {_short(candidate.revision)}, {candidate.state}, {candidate.operation})",
            file=out,
        )
        # The matcher's own explain mode; the publish time is read only when a cooldown rule is reached.
        cooled = any(
            e.rejected_by is None and e.rule.minimum_release_age is not None
            for e in ruleset.explain(candidate)
        )
        deleted = candidate.operation == "Deleted"  # never copied: the planner ignores it, age or not
        published_at = published_time(candidate) if cooled and not deleted else None
        explained = ruleset.explain(candidate, now=None if deleted else now, published_time=published_at)
        for explanation in explained:
            rule = explanation.rule
            if explanation.rejected_by == AGE:
                eligible = rule.eligible_at(published_at)
                when = (
                    f"eligible at {eligible.isoformat()}"
                    if eligible
                    else notes.get(candidate.version_key, "publish time unknown")
                )
                print(f"  rule {rule.name}: rejected by {AGE} ({when})", file=out)
            elif explanation.rejected_by is not None:
                reason = (
                    "domain/source repository"
                    if explanation.rejected_by == DOMAIN
                    else explanation.rejected_by
                )
                print(f"  rule {rule.name}: rejected by {reason}", file=out)
            else:
                print(f"  rule {rule.name}: matches -> {', '.join(rule.destination_repositories)}", file=out)
        decided = plan([candidate], ruleset, now=now, published_time=published_time)
        if decided.requests:
            print("  copy requests:", file=out)
            for request in decided.requests:
                kwargs = request.api_kwargs()
                pinned = json.dumps(kwargs.get("versionRevisions") or kwargs.get("versions"), sort_keys=True)
                route = f"{request.source_repository} -> {request.destination_repository}"
                flags = (
                    f"allowOverwrite={str(request.allow_overwrite).lower()} "
                    f"includeFromUpstream={str(request.include_from_upstream).lower()}"
                )
                package = _package_name(request.items[0].candidate)
                print(
                    f"    CopyPackageVersions {route} {request.format} {package} {pinned} {flags}", file=out
                )
        else:
            print("  copy requests: none", file=out)
        for outcome in decided.outcomes:
            if outcome.status == DEFERRED:
                when = outcome.eligible_at.isoformat() if outcome.eligible_at else "its publish time is known"
                print(f"  deferred for {outcome.destination} until {when}", file=out)
            else:
                detail = outcome.reason or outcome.error_code or ""
                rule_note = f" (first rule: {outcome.rule})" if outcome.rule else ""
                print(f"  {outcome.status}: {detail}{rule_note}", file=out)
    for problem in problems:
        print(f"not a CodeArtifact event: {problem}", file=out)
    if problems:
        raise CliError(
            f"{len(problems)} of {len(problems) + len(candidates)} records are not CodeArtifact events"
        )
    return EXIT_OK


# --------------------------------------------------------------------------- plan and reconcile


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


def _deps(args: argparse.Namespace, ruleset: RuleSet, clock: Clock, client: Any) -> Dependencies:
    """The function's Dependencies; copies paced (PROMOTER_COPY_RATE, default 5/s) and retried
    (PROMOTER_MAX_ATTEMPTS, default 20) like the function's."""
    return Dependencies(
        client=client if client is not None else _client(args, single_attempt=True),
        rules=ruleset,
        reporter=Reporter(_QuietLog(), _Metrics()),
        clock=clock,
        limiter=RateLimiter(_copy_rate()),
        policy=RetryPolicy(max_attempts=_max_attempts()),
    )


def _list_client(args: argparse.Namespace, client: Any) -> Any:
    """Reads go through botocore's retries (a test's client is used as it is)."""
    return client if client is not None else _client(args)


def _item_line(item: PlanItem) -> str:
    c = item.candidate
    text = (
        f"{item.action:<4}  {c.domain}/{c.source_repository} -> {item.destination}  {c.format} "
        f"{_package_name(c)} {c.version}  revision {_short(c.revision)}"
    )
    return text if item.reason is None else f"{text}  ({item.reason})"


def _calls_line(result: ReconcileResult) -> str:
    listing = result.listing.calls
    return (
        f"{result.packages_done}/{result.packages_total} packages, "
        f"{sum(listing.values())} list calls ({', '.join(f'{k} {v}' for k, v in sorted(listing.items()))}), "
        f"{result.copy.describe_calls} describe calls, {result.copy.copy_requests} copy calls, "
        f"{result.seconds:.1f}s"
    )


def cmd_plan(args: argparse.Namespace, out: TextIO, clock: Clock, client: Any) -> int:
    ruleset = load_rules(args.rules, args)
    at = args.at
    deps = _deps(args, ruleset, (lambda: at) if at else clock, client)
    result = reconcile(deps, dry_run=True, list_client=_list_client(args, client))
    if args.json:
        json.dump([item.as_json() for item in result.items], out, indent=2)
        out.write("\n")
        return EXIT_OK
    actions: Counter[str] = Counter()
    for item in result.items:
        reason = item.reason or ""
        actions["present" if reason == PRESENT else item.action if item.action == COPY else "other skip"] += 1
        if args.all or reason != PRESENT:
            print(_item_line(item), file=out)
    print(
        f"plan: {actions[COPY]} to copy, {actions['present']} already present, "
        f"{actions['other skip']} skipped for another reason; {_calls_line(result)}",
        file=out,
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
    ruleset = load_rules(args.rules, args)
    deps = _deps(args, ruleset, clock, client)
    bus = os.environ.get(ENV_BUS, "").strip()
    if bus:  # outcomes of an operator's reconcile reach the same subscribers as the function's
        deps.reporter.events = OutcomeEventPublisher(
            bus, client_factory=lambda: _session(args).client("events"), logger=_WarningsTo(err)
        )
    fancy = not args.quiet and err.isatty() and _rich_available()
    console: list[Any] = []

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
        line = (
            f"{outcome.status:<15} {c.domain}/{c.source_repository} -> {outcome.destination}  {c.format} "
            f"{_package_name(c)} {c.version}{detail}"
        )
        if console:
            console[0].print(line, markup=False, highlight=False, soft_wrap=True)
        elif not args.quiet or outcome.status == FAILED:
            print(line, file=out, flush=True)

    if fancy:
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
        console.append(bar.console)
        task = bar.add_task("reconcile", total=None)
        progress = Progress(
            on_total=lambda total: bar.update(task, total=total),
            on_package=lambda done, total: bar.update(task, completed=done),
            on_outcome=print_outcome,
        )
        with bar:
            result = reconcile(deps, progress=progress, list_client=_list_client(args, client))
    else:
        result = reconcile(
            deps, progress=Progress(on_outcome=print_outcome), list_client=_list_client(args, client)
        )
    deps.reporter.flush()
    rows = _summary_rows(result)
    if out.isatty() and _rich_available():
        from rich.console import Console  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415

        table = Table(title="reconcile summary")
        table.add_column("")
        table.add_column("count", justify="right")
        for name, value in rows:
            table.add_row(name, value)
        Console(file=out).print(table)
    else:
        width = max(len(name) for name, _ in rows)
        print("summary:", file=out)
        for name, value in rows:
            print(f"  {name:<{width}}  {value:>8}", file=out)
    failed = result.failed
    if failed:
        codes = Counter(o.error_code or "Unknown" for o in failed)
        raise CliError(
            f"{len(failed)} version(s) failed ({', '.join(f'{c}: {n}' for c, n in sorted(codes.items()))})",
            EXIT_FAILED,
        )
    return EXIT_OK


# --------------------------------------------------------------------------- errors and main


def _one_line(error: BaseException) -> str:
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        return f"{detail.get('Code') or 'ClientError'}: {detail.get('Message') or error}"
    return " ".join(str(error).split()) or type(error).__name__


def _explain_error(error: BaseException) -> CliError:
    """One clear line for everything an operator can run into."""
    if isinstance(error, CliError):
        return error
    if isinstance(error, RulesError):
        return CliError(f"invalid rules: {error}", EXIT_FAILED)
    if isinstance(error, NoCredentialsError):
        return CliError(
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            EXIT_ENVIRONMENT,
        )
    if isinstance(error, NoRegionError):
        return CliError(
            "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) or pass --region", EXIT_ENVIRONMENT
        )
    if isinstance(error, ReconcileError):
        return CliError(str(error), EXIT_ENVIRONMENT)
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code") or "")
        if "Throttl" in code or code == "TooManyRequestsException":
            return CliError(
                f"CodeArtifact kept throttling after every retry ({_one_line(error)}); try again later",
                EXIT_ENVIRONMENT,
            )
        return CliError(_one_line(error), EXIT_ENVIRONMENT)
    if isinstance(error, BotoCoreError):
        return CliError(f"AWS: {_one_line(error)}", EXIT_ENVIRONMENT)
    return CliError(f"unexpected {type(error).__name__}: {_one_line(error)}", EXIT_FAILED)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promoter",
        description="Check promotion rules, explain decisions, and plan or run a reconcile of CodeArtifact "
        "repositories with the promoter function's own code.",
        epilog="Exit codes: 0 ok, 1 failed versions or invalid input, 2 usage, 3 AWS or environment error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def stack_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--domain",
            help="the stack's domain (its DomainName), which rules without 'domain' mean and the only one a "
            "rule may name (default: DOMAIN_NAME)",
        )
        sub.add_argument(
            "--domain-owner",
            metavar="ACCOUNT",
            help="the stack's domain owner (its DomainOwner) for rules without 'domainOwner' (default: "
            "DOMAIN_OWNER, else the caller's account)",
        )

    def aws_options(sub: argparse.ArgumentParser) -> None:
        stack_options(sub)
        sub.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's)")
        sub.add_argument("--profile", help="AWS profile (default: AWS_PROFILE)")

    rules = commands.add_parser("rules", help="work with a rules file")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True, metavar="SUBCOMMAND")
    check = rules_commands.add_parser("check", help="validate a rules file with the function's loader")
    check.add_argument("file", metavar="FILE")
    stack_options(check)

    explain = commands.add_parser("explain", help="which rules match an event, and the copies it would make")
    explain.add_argument("--rules", required=True, metavar="FILE")
    explain.add_argument("event", metavar="EVENT.json", help="an EventBridge event, or an SQS batch of them")
    explain.add_argument("--at", type=_parse_time, metavar="TIME", help="evaluate release ages at TIME")
    aws_options(explain)

    plan_parser = commands.add_parser("plan", help="dry run of reconcile: what would be copied, and why not")
    plan_parser.add_argument("--rules", required=True, metavar="FILE")
    plan_parser.add_argument("--json", action="store_true", help="one JSON array of plan items")
    plan_parser.add_argument("--all", action="store_true", help="also list versions already present")
    plan_parser.add_argument("--at", type=_parse_time, metavar="TIME", help="evaluate release ages at TIME")
    aws_options(plan_parser)

    run = commands.add_parser("reconcile", help="copy what the rules accept and a destination lacks")
    run.add_argument("--rules", required=True, metavar="FILE")
    run.add_argument("--quiet", action="store_true", help="no progress, only failures and the summary")
    aws_options(run)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    clock: Clock | None = None,
    client: Any = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command; returns the exit code. ``clock`` and ``client`` are for tests."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    now = clock or _utc_now
    try:
        if args.command == "rules":
            return cmd_rules_check(args, out)
        if args.command == "explain":
            return cmd_explain(args, out, now, client)
        if args.command == "plan":
            return cmd_plan(args, out, now, client)
        return cmd_reconcile(args, out, err, now, client)
    except KeyboardInterrupt:
        print("promoter: interrupted", file=err)
        return 130
    except Exception as error:
        if os.environ.get("PROMOTER_DEBUG"):
            raise
        failure = _explain_error(error)
        print(f"promoter: error: {' '.join(str(failure).split())}", file=err)
        return failure.code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
