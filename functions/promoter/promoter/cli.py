"""``promoter``: the function's own code, seen from a terminal.

    promoter rules check FILE
    promoter explain --rules FILE [--at TIME] FORMAT/[NAMESPACE/]PACKAGE@VERSION | EVENT.json
    promoter plan --rules FILE [--json] [--all] [--at TIME]
    promoter reconcile --rules FILE [--quiet] [--cursor FILE] [--time-limit SECONDS]
    promoter revoke --rules FILE FORMAT/[NAMESPACE/]PACKAGE@VERSION --reason TEXT [--status Unlisted|Archived]
        [--write]

``--rules`` takes a file or ``ssm:PARAMETER_NAME`` (read as the function reads PROMOTION_RULES_PARAMETER).

Every command uses the function's modules (the rules loader, the matcher's explanations, the planner, the
copier, the reporter, reconcile), so a rules file checked here is checked exactly as the function will
check it, and ``plan`` is ``reconcile`` without the copies. AWS access comes from the environment as for
any AWS tool (``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL`` for a local AWS). Reads fail fast: a
2 s connect timeout (``PROMOTER_CONNECT_TIMEOUT``), a 30 s read timeout (``PROMOTER_READ_TIMEOUT``) and 3
attempts (``AWS_MAX_ATTEMPTS``, ``AWS_RETRY_MODE``), so an unreachable endpoint is an error within seconds;
on a terminal, stderr shows which call it is waiting for.

``explain`` and ``plan`` read the destination's origin controls before a copy they would make (DescribePackage
for the package's, GetAssociatedPackageGroup for its package group's, INHERIT resolved up the group tree) and
say "would be refused: destination package blocks publish" (or upstream, or "package group '/npm/*' blocks
publish") where the copy would fail NOT_ALLOWED (promoter.origin_controls).

Exit codes (``plan`` and ``reconcile`` alike): 0 success; 1 a version failed (``plan``: would fail, such as
an ALREADY_EXISTS conflict or a NOT_ALLOWED refusal), or the rules or event file is invalid; 2 wrong usage;
3 AWS or environment trouble (no credentials, no region, unknown domain or repository, throttling that
outlasted the retries, an endpoint that cannot be reached). Errors are one line on stderr, never a
traceback (``PROMOTER_DEBUG=1`` shows it). ``reconcile`` goes on past a source or destination it cannot
read, like the scheduled run, and then exits 3 (the run is incomplete), else 1 if a version failed;
stopping at ``--time-limit`` is not an error (exit 0, with a line saying how to continue).

``reconcile --cursor FILE`` resumes after the package the file names (a missing file, or ``{}``, means
the beginning) and writes where it stopped back to the file (``{}`` once the walk reached its end), the
same cursor the scheduled run keeps in its SSM parameter; without ``--cursor`` it starts at the beginning
and keeps nothing.

``rich`` (the optional extra ``cli``) draws the progress bar and tables on a terminal; without it, or when
the output is not a terminal, the output is plain lines. The function itself never imports this module.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from promoter.copier import RetryPolicy
from promoter.destination import IDENTICAL, MISSING, compare
from promoter.events import (
    Candidate,
    MalformedEvent,
    NotCodeArtifactEvent,
    VersionKey,
    parse_event,
    parse_sqs_body,
)
from promoter.origin_controls import read_controls, refusal
from promoter.outcome_events import ENV_BUS, OutcomeEventPublisher
from promoter.outcomes import DEFERRED, FAILED, Outcome
from promoter.pacing import RateLimiter
from promoter.pipeline import Dependencies
from promoter.planner import VersionFacts, plan
from promoter.reconcile import (
    COPY,
    FAILING_CODES,
    PRESENT,
    FileCursorStore,
    PlanItem,
    Progress,
    ReconcileError,
    ReconcileResult,
    reconcile,
)
from promoter.record import Record
from promoter.report import Reporter
from promoter.revoke import OUTCOME as REVOKED_OUTCOME
from promoter.revoke import (
    REVOKED,
    TARGET_STATUSES,
    Target,
    add_deny_entry,
    deny_entry,
    entry_yaml,
    revoke,
    routes,
)
from promoter.rules import (
    ACCOUNT_PATTERN,
    AGE,
    DENIED,
    DOMAIN_PATTERN,
    FREEZE,
    ORIGIN,
    PRERELEASE,
    RANGE,
    STATE,
    Rule,
    RulesError,
    RuleSet,
    StackScope,
    load_rules_file,
    load_rules_parameter,
    load_rules_text,
    origin_text,
    rejection_detail,
)
from promoter.versions import FORMATS

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3

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


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text!r}")
    return value


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
    if domain is not None and not re.fullmatch(DOMAIN_PATTERN, domain):
        raise CliError(
            f"--domain / DOMAIN_NAME {domain[:80]!r} is not a CodeArtifact domain name", EXIT_USAGE
        )
    if owner is not None and not re.fullmatch(ACCOUNT_PATTERN, owner):
        raise CliError(
            f"--domain-owner / DOMAIN_OWNER {owner[:80]!r} is not a 12-digit account id", EXIT_USAGE
        )
    return StackScope(
        domain,
        owner,
        require_domain=require_domain,
        unset_hint="pass --domain (or set DOMAIN_NAME) to the stack's domain, which a rule without one means",
    )


SSM_PREFIX = "ssm:"

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 30.0
READ_ATTEMPTS = 3
"""The CLI's defaults for reads: an operator waits at a terminal, so an endpoint that does not answer is an
error within seconds (3 attempts of at most 2 s to connect), not the minute botocore's defaults take."""


def load_rules(path: str, args: argparse.Namespace | None = None, *, require_domain: bool = True) -> RuleSet:
    """The function's loader, with the function's ALLOWED_* restrictions when the environment sets them and
    the stack's domain and owner (``stack_scope``); ``ssm:NAME`` reads the parameter as the function reads
    PROMOTION_RULES_PARAMETER (GetParameter, no decryption: a String parameter holding the rules as YAML or
    JSON)."""
    allowed_sources = _allowed("ALLOWED_SOURCE_REPOSITORIES")
    allowed_destinations = _allowed("ALLOWED_DESTINATION_REPOSITORIES")
    scope = stack_scope(args, require_domain=require_domain)
    if not path.startswith(SSM_PREFIX):
        return load_rules_file(
            path, allowed_sources=allowed_sources, allowed_destinations=allowed_destinations, scope=scope
        )
    name = path[len(SSM_PREFIX) :].strip()
    if not name:
        raise CliError("--rules ssm: needs a parameter name, as in ssm:/promoter/rules", EXIT_USAGE)
    client = _session(args or argparse.Namespace(region=None, profile=None)).client("ssm", config=_config())
    try:
        value = client.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            raise CliError(
                f"SSM parameter {name!r} not found in {client.meta.region_name}", EXIT_ENVIRONMENT
            ) from None
        raise
    return load_rules_parameter(
        str(value),
        name=name,
        allowed_sources=allowed_sources,
        allowed_destinations=allowed_destinations,
        scope=scope,
    )


def _env_number(name: str, default: float, *, whole: bool = False) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = 0
    if value <= 0:
        kind = "a whole number" if whole else "a number of seconds"
        raise CliError(f"{name} must be {kind} above 0, not {raw!r}", EXIT_ENVIRONMENT)
    return value


def _check_environment() -> None:
    """Environment values botocore would take apart with a traceback (or ignore): one line, exit 3."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if endpoint and re.match(r"^https?://[^/\s:]+(:[0-9]{1,5})?(/\S*)?$", endpoint) is None:
        raise CliError(
            f"AWS_ENDPOINT_URL must be a URL such as http://127.0.0.1:5000, not {endpoint!r}",
            EXIT_ENVIRONMENT,
        )
    mode = os.environ.get("AWS_RETRY_MODE", "").strip()
    if mode and mode not in ("legacy", "standard", "adaptive"):
        raise CliError(f"AWS_RETRY_MODE must be legacy, standard or adaptive, not {mode!r}", EXIT_ENVIRONMENT)
    _env_number("AWS_MAX_ATTEMPTS", READ_ATTEMPTS, whole=True)


def _config(*, single_attempt: bool = False) -> Any:
    from botocore.config import Config  # noqa: PLC0415

    retries: Any = {
        "mode": os.environ.get("AWS_RETRY_MODE", "").strip() or "standard",
        "max_attempts": int(_env_number("AWS_MAX_ATTEMPTS", READ_ATTEMPTS, whole=True)),
    }
    if single_attempt:
        retries = {"mode": "standard", "total_max_attempts": 1}
    return Config(
        retries=retries,
        connect_timeout=_env_number("PROMOTER_CONNECT_TIMEOUT", CONNECT_TIMEOUT),
        read_timeout=_env_number("PROMOTER_READ_TIMEOUT", READ_TIMEOUT),
    )


def _session(args: argparse.Namespace) -> Any:
    import boto3  # noqa: PLC0415 - `promoter rules check` needs no AWS at all

    _check_environment()
    region = args.region or os.environ.get("AWS_REGION") or None
    return boto3.Session(profile_name=args.profile, region_name=region)


class _Waiting:
    """On a terminal, one status line on stderr naming the call in flight, cleared when it answers."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def attach(self, client: Any) -> Any:
        if self.stream.isatty():
            client.meta.events.register("before-parameter-build", self._before)
            client.meta.events.register("after-call", self._after)
        return client

    def _before(self, model: Any = None, **_: Any) -> None:
        name = getattr(model, "name", "a call")
        self.stream.write(f"\r\x1b[Kwaiting for CodeArtifact {name} ...")
        self.stream.flush()

    def _after(self, **_: Any) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


_WAITING: list[_Waiting] = []
"""The run's status line (set by ``main`` for its stderr)."""


def _client(args: argparse.Namespace, *, single_attempt: bool = False) -> Any:
    """A client for read calls (botocore retries them, see ``_config``), or with ``single_attempt`` for the
    copier, which retries copies and publish-time lookups itself: botocore's retries inside its attempts
    would multiply them."""
    client = _session(args).client("codeartifact", config=_config(single_attempt=single_attempt))
    for waiting in _WAITING:
        waiting.attach(client)
    return client


def _package_name(candidate: Candidate) -> str:
    if not candidate.namespace:
        return candidate.package
    if candidate.format in ("npm",):
        return f"@{candidate.namespace}/{candidate.package}"
    return f"{candidate.namespace}/{candidate.package}"


def _short(revision: str | None) -> str:
    return (revision or "-")[:12]


# --------------------------------------------------------------------------- rules check


def cmd_rules_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Valid rules exit 0, also with warnings (filters that contradict a rule's formats), one line each."""
    ruleset = load_rules(args.file, args, require_domain=False)
    for rule in ruleset.rules:
        print(rule.describe(), file=out)
    for warning in ruleset.warnings():
        print(f"promoter: warning: {warning}", file=err)
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
    target = args.event
    if not target.lower().endswith(".json") and not os.path.exists(target):
        coordinate = parse_coordinate(target)
        return _explain_version(args, ruleset, coordinate, out, args.at or clock(), client)
    return _explain_events(args, ruleset, out, clock, client)


def _explain_events(
    args: argparse.Namespace, ruleset: RuleSet, out: TextIO, clock: Clock, client: Any
) -> int:
    candidates, problems = _event_candidates(args.event)
    now = args.at or clock()
    clients: list[Any] = [client]
    published: dict[VersionKey, VersionFacts] = {}
    notes: dict[VersionKey, str] = {}

    def describe(candidate: Candidate) -> VersionFacts:
        """The function's lookup (DescribePackageVersion in the source); a failure only annotates."""
        key = candidate.version_key
        if key in published:
            return published[key]
        published[key] = VersionFacts(None, None)
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
        except (ClientError, BotoCoreError, CliError) as error:
            notes[key] = f"publish time unknown: {_one_line(error)}"
            return published[key]
        value = described.get("packageVersion", {}).get("publishedTime")
        origin = _origin(described.get("packageVersion", {}))
        published[key] = VersionFacts(value if isinstance(value, datetime) else None, origin)
        return published[key]

    for candidate in candidates:
        print(
            f"event: {candidate.format} {_package_name(candidate)} {candidate.version} in "
            f"{candidate.domain}/{candidate.source_repository} "
            f"(revision {_short(candidate.revision)}, {candidate.state}, {candidate.operation})",
            file=out,
        )
        # The matcher's own explain mode; the source is read only when a rule with a cooldown, a freeze or an
        # origin filter is reached.
        cooled = any(
            e.rejected_by is None
            and (e.rule.needs_origin or ruleset.needs_published_time(e.rule, candidate.origin_type, now))
            for e in ruleset.explain(candidate)
        )
        deleted = candidate.operation == "Deleted"  # never copied: the planner ignores it, age or not
        read = describe(candidate) if cooled and not deleted else VersionFacts(None, None)
        published_at = read.published_time
        origin_type = read.origin_type if cooled and not deleted else None
        explained = ruleset.explain(
            candidate, now=None if deleted else now, published_time=published_at, origin_type=origin_type
        )
        if origin_type is not None:
            print(f"  origin: {origin_text(origin_type)}", file=out)
        for explanation in explained:
            rule = explanation.rule
            if explanation.rejected_by in (AGE, FREEZE):
                held = ruleset.held_back(rule, published_at, origin_type, now)
                eligible = held[1] if held is not None else None
                when = (
                    f"eligible at {eligible.isoformat()}"
                    if eligible
                    else notes.get(candidate.version_key, "publish time unknown")
                    if published_at is None
                    else "until the freeze is lifted"
                )
                what = f" ({held[2].describe()})" if held is not None and held[2] is not None else ""
                print(f"  rule {rule.name}: rejected by {explanation.rejected_by}{what} ({when})", file=out)
            elif explanation.rejected_by == DENIED:
                entry = ruleset.deny.find(candidate)
                detail = f"denyVersions[{entry.position}] {entry.name}: {entry.reason}" if entry else ""
                print(f"  rule {rule.name}: rejected by {DENIED}: {detail}", file=out)
            elif explanation.rejected_by == ORIGIN:
                detail = rejection_detail(rule, candidate._replace(origin_type=origin_type), ORIGIN)
                print(f"  rule {rule.name}: rejected by {detail}", file=out)
            elif explanation.rejected_by is not None:
                detail = rejection_detail(rule, candidate, explanation.rejected_by)
                print(f"  rule {rule.name}: rejected by {detail}", file=out)
            else:
                print(f"  rule {rule.name}: matches -> {', '.join(rule.destination_repositories)}", file=out)
        decided = plan([candidate], ruleset, now=now, describe=describe)
        if decided.requests:
            print("  copy requests:", file=out)
            for request in decided.requests:
                print(f"    {_copy_call(request)}", file=out)
                used = decided.exceptions.get((candidate[:7], request.destination_repository))
                if used is not None:
                    print(
                        f"      exception {used.name} ({used.reason}, expires {used.expires.isoformat()})",
                        file=out,
                    )
        else:
            print("  copy requests: none", file=out)
        for outcome in decided.outcomes:
            if outcome.status == DEFERRED and outcome.reason == FREEZE:
                until = outcome.eligible_at.isoformat() if outcome.eligible_at else "the freeze is lifted"
                print(f"  frozen for {outcome.destination} until {until} ({outcome.error_message})", file=out)
            elif outcome.status == DEFERRED:
                when = outcome.eligible_at.isoformat() if outcome.eligible_at else "its publish time is known"
                print(f"  deferred for {outcome.destination} until {when}", file=out)
            else:
                detail = outcome.reason or outcome.error_code or ""
                if outcome.reason in (DENIED, ORIGIN) and outcome.error_message:
                    detail = f"{outcome.reason}: {outcome.error_message}"
                rule_note = f" (first rule: {outcome.rule})" if outcome.rule else ""
                print(f"  {outcome.status}: {detail}{rule_note}", file=out)
    for problem in problems:
        print(f"not a CodeArtifact event: {problem}", file=out)
    if problems:
        raise CliError(
            f"{len(problems)} of {len(problems) + len(candidates)} records are not CodeArtifact events"
        )
    return EXIT_OK


def _copy_call(request: Any) -> str:
    """A planned CopyPackageVersions call, as ``explain`` shows it."""
    kwargs = request.api_kwargs()
    pinned = json.dumps(kwargs.get("versionRevisions") or kwargs.get("versions"), sort_keys=True)
    route = f"{request.source_repository} -> {request.destination_repository}"
    flags = (
        f"allowOverwrite={str(request.allow_overwrite).lower()} "
        f"includeFromUpstream={str(request.include_from_upstream).lower()}"
    )
    package = _package_name(request.items[0].candidate)
    return f"CopyPackageVersions {route} {request.format} {package} {pinned} {flags}"


# --------------------------------------------------------------------------- explain a version


class Coordinate(Record):
    """``FORMAT/[NAMESPACE/]PACKAGE@VERSION``, as ``promoter explain`` takes it."""

    __slots__ = ("format", "namespace", "package", "version")
    _fields = ("format", "namespace", "package", "version")

    def __init__(self, format: str, namespace: str | None, package: str, version: str) -> None:
        self.format = format
        self.namespace = namespace
        self.package = package
        self.version = version


def parse_coordinate(text: str) -> Coordinate:
    """``npm/@acme/widgets@1.2.0``, ``pypi/requests@2.0.0``, ``maven/com.acme/lib@1.0``: the version after
    the last ``@``, the format before the first ``/``, the package after the last ``/``; between them the
    namespace (an npm scope's ``@`` is dropped, as CodeArtifact stores it)."""
    usage = (
        f"{text!r} is neither an event file nor FORMAT/[NAMESPACE/]PACKAGE@VERSION "
        "(for example npm/@acme/widgets@1.2.0 or pypi/requests@2.31.0)"
    )
    name, at, version = text.rpartition("@")
    fmt, slash, rest = name.partition("/")
    if not at or not slash or not version or not rest or not fmt:
        raise CliError(usage, EXIT_USAGE)
    if fmt not in FORMATS:
        raise CliError(f"{fmt!r} is not a format ({', '.join(sorted(FORMATS))}): {usage}", EXIT_USAGE)
    namespace, _, package = rest.rpartition("/")
    if fmt == "npm" and namespace.startswith("@"):
        namespace = namespace[1:]
    if not package or "@" in package or (namespace == "" and rest.startswith("/")):
        raise CliError(usage, EXIT_USAGE)
    return Coordinate(fmt, namespace or None, package, version)


def _coordinate_kwargs(coordinate: Coordinate) -> dict[str, str]:
    kwargs = {
        "format": coordinate.format,
        "package": coordinate.package,
        "packageVersion": coordinate.version,
    }
    if coordinate.namespace:
        kwargs["namespace"] = coordinate.namespace
    return kwargs


def _describe(client: Any, rule: Rule, repository: str, coordinate: Coordinate) -> dict[str, Any] | None:
    """DescribePackageVersion of the coordinate in ``repository`` of the rule's domain; None when the
    repository holds no such version (other errors, such as a missing repository, raise)."""
    params: dict[str, Any] = {
        "domain": rule.domain,
        "repository": repository,
        **_coordinate_kwargs(coordinate),
    }
    if rule.domain_owner:
        params["domainOwner"] = rule.domain_owner
    try:
        described: dict[str, Any] = client.describe_package_version(**params)["packageVersion"]
    except ClientError as error:
        if _missing_version(error):
            return None
        raise
    return described


def _missing_version(error: ClientError) -> bool:
    """A ResourceNotFoundException about the package or its version (the repository exists), not about the
    domain or the repository: the exception's ``resourceType`` says which (API reference), else the message
    ("Package not found ...", "Package version not found ...")."""
    detail = error.response.get("Error", {})
    if detail.get("Code") != "ResourceNotFoundException":
        return False
    kind = str(error.response.get("resourceType") or "")
    if kind:
        return kind in ("package", "package-version")
    return str(detail.get("Message") or "").lower().startswith("package")


def _origin(described: Mapping[str, Any]) -> str:
    origin = described.get("origin") or {}
    kind = origin.get("originType") if isinstance(origin, Mapping) else None
    return str(kind or "UNKNOWN")


_NEEDS_THE_SOURCE = frozenset({RANGE, PRERELEASE, STATE})
"""Filters checked after the source is read (range and prerelease too: another rule may name the source
version's state, and the source line is printed once, before the first rule that reads it)."""


def _explain_version(  # noqa: PLR0917 - the command's own pieces, as the other cmd_ helpers take them
    args: argparse.Namespace,
    ruleset: RuleSet,
    coordinate: Coordinate,
    out: TextIO,
    now: datetime,
    client: Any,
) -> int:
    """For each rule: accepted (the copy it would make, or what the destination already holds) or the first
    filter that rejects the version as the source describes it, with the value and what the filter wanted."""
    reader = client if client is not None else _client(args)
    sources: dict[tuple[str, str | None, str], dict[str, Any] | str | None] = {}
    name = _package_name(_coordinate_candidate(coordinate, None, "", ""))
    print(f"version: {coordinate.format} {name} {coordinate.version}", file=out)
    for rule in ruleset.rules:
        source = (rule.domain, rule.domain_owner, rule.source_repository)
        where = f"{rule.domain}/{rule.source_repository}"
        # The filters that need no read first: a rule for another format or package costs no call.
        early = rule.rejection(_coordinate_candidate(coordinate, rule, "Published", None))
        if early is not None and early not in _NEEDS_THE_SOURCE:
            early_detail = rejection_detail(
                rule, _coordinate_candidate(coordinate, rule, "Published", None), early
            )
            print(f"  rule {rule.name}: rejected by {early_detail}", file=out)
            continue
        if source not in sources:
            try:
                sources[source] = _describe(reader, rule, rule.source_repository, coordinate)
            except (ClientError, BotoCoreError) as error:
                sources[source] = _one_line(error)
            described = sources[source]
            if isinstance(described, dict):
                published = described.get("publishedTime")
                print(
                    f"  in {where}: revision {described.get('revision') or '-'}, {described.get('status')}, "
                    f"origin {_origin(described)}, published "
                    f"{published.isoformat() if isinstance(published, datetime) else 'unknown'}",
                    file=out,
                )
        described = sources[source]
        if described is None:
            print(f"  rule {rule.name}: not in {where} (no such package version in the source)", file=out)
            continue
        if isinstance(described, str):
            print(f"  rule {rule.name}: cannot read {where}: {described}", file=out)
            continue
        published = described.get("publishedTime")
        candidate = _coordinate_candidate(
            coordinate,
            rule,
            str(described.get("status") or ""),
            described.get("revision"),
            published if isinstance(published, datetime) else None,
        )._replace(origin_type=_origin(described))
        reason = rule.rejection(candidate)
        eligible = rule.eligible_at(candidate.published_time)
        detail = ""
        denied = ruleset.deny.find(candidate) if reason is None else None
        exception = ruleset.exceptions.find(candidate, now)
        if denied is not None:
            reason = DENIED
            detail = f"{DENIED}: denyVersions[{denied.position}] {denied.name}: {denied.reason}"
        elif reason is None:
            held = ruleset.held_back(rule, candidate.published_time, candidate.origin_type, now)
            if held is not None and exception is None:
                reason, eligible = held[0], held[1]
                if held[2] is not None:
                    until = f"until {eligible.isoformat()}" if eligible else "until the freeze is lifted"
                    detail = f"{FREEZE}: {held[2].describe()} ({until})"
            elif held is not None and exception is not None:
                expires = exception.expires.isoformat() if exception.expires else "-"
                print(
                    f"  rule {rule.name}: {held[0]} passed by exception {exception.name} "
                    f"({exception.reason}, expires {expires})",
                    file=out,
                )
        if reason is not None:
            detail = detail or rejection_detail(rule, candidate, reason, eligible=eligible)
            print(f"  rule {rule.name}: rejected by {detail}", file=out)
            continue
        for destination in rule.destination_repositories:
            held_line = _destination_line(
                reader, rule, destination, candidate, coordinate, _origin(described)
            )
            print(f"  rule {rule.name}: accepted -> {destination}: {held_line}", file=out)
    return EXIT_OK


def _coordinate_candidate(
    coordinate: Coordinate,
    rule: Rule | None,
    state: str,
    revision: str | None,
    published: datetime | None = None,
) -> Candidate:
    return Candidate(
        domain=rule.domain if rule else "",
        domain_owner=(rule.domain_owner or "") if rule else "",
        source_repository=rule.source_repository if rule else "",
        format=coordinate.format,
        namespace=coordinate.namespace,
        package=coordinate.package,
        version=coordinate.version,
        revision=revision,
        state=state,
        published_time=published,
    )


def _destination_line(  # noqa: PLR0917 - the command's own pieces
    reader: Any, rule: Rule, destination: str, candidate: Candidate, coordinate: Coordinate, origin: str
) -> str:
    """What the destination holds of the version (destination.compare), and so what a copy would do,
    including a copy the destination's origin controls would refuse (NOT_ALLOWED)."""
    try:
        held_version = _describe(reader, rule, destination, coordinate)
    except (ClientError, BotoCoreError) as error:
        return f"cannot read {rule.domain}/{destination}: {_one_line(error)}"
    held = {coordinate.version: held_version.get("revision")} if held_version is not None else {}
    found = compare(held, coordinate.version, candidate.revision)
    if found == IDENTICAL:
        return f"already present (revision {candidate.revision or '-'})"
    pinned = (
        json.dumps({coordinate.version: candidate.revision}) if candidate.revision else coordinate.version
    )
    call = (
        f"CopyPackageVersions {rule.source_repository} -> {destination} {coordinate.format} "
        f"{_package_name(candidate)} {pinned} allowOverwrite={str(rule.allow_overwrite).lower()} "
        f"includeFromUpstream={str(rule.include_from_upstream).lower()}"
    )
    if found == MISSING:
        return _origin_checked(reader, rule, destination, coordinate, origin, f"would copy: {call}")
    other = held.get(coordinate.version) or "-"
    if rule.allow_overwrite:
        line = f"another build in {destination} (revision {other}); allowOverwrite replaces it: {call}"
        return _origin_checked(reader, rule, destination, coordinate, origin, line)
    return (
        f"another build in {destination} (revision {other}, not {candidate.revision}): a copy fails "
        "ALREADY_EXISTS unless the rule sets allowOverwrite"
    )


def _origin_checked(  # noqa: PLR0917 - the command's own pieces
    reader: Any, rule: Rule, destination: str, coordinate: Coordinate, origin: str, line: str
) -> str:
    """``line`` (a copy that would be made), or "would be refused: ..." when the destination's origin controls
    (package or package group) would answer it NOT_ALLOWED (promoter.origin_controls); a note when they
    could not be read."""
    controls = read_controls(
        reader,
        domain=rule.domain,
        domain_owner=rule.domain_owner,
        repository=destination,
        format=coordinate.format,
        namespace=coordinate.namespace,
        package=coordinate.package,
    )
    why = refusal(controls, origin, destination)
    if why is not None:
        return f"would be refused: {why} (origin {origin}; the copy would fail NOT_ALLOWED)"
    if controls.errors:
        return f"{line} (origin controls not read: {'; '.join(controls.errors)})"
    return line


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
    deps = _deps(args, ruleset, (lambda: at) if at else clock, client)
    result = reconcile(
        deps, dry_run=True, list_client=_list_client(args, client), include_rejected=bool(args.all)
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
    ruleset = load_rules(args.rules, args)
    deps = _deps(args, ruleset, clock, client)
    store = FileCursorStore(Path(args.cursor)) if args.cursor else None
    try:
        start = store.load() if store else None
    except (OSError, ValueError) as error:
        raise CliError(f"--cursor {args.cursor}: {error}", EXIT_USAGE) from None
    if args.time_limit is not None:
        ends = time.monotonic() + args.time_limit
        deps.remaining = lambda: ends - time.monotonic()
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
        destination = outcome.destination or "-"  # none for a version ignored as denied
        line = (
            f"{outcome.status:<15} {c.domain}/{c.source_repository} -> {destination}  {c.format} "
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
            result = reconcile(
                deps, progress=progress, list_client=_list_client(args, client), start=start, fail_fast=False
            )
    else:
        result = reconcile(
            deps,
            progress=Progress(on_outcome=print_outcome),
            list_client=_list_client(args, client),
            start=start,
            fail_fast=False,
        )
    deps.reporter.flush()
    if store is not None:
        store.save(result.cursor)
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
        hint = ""
        if isinstance(error, (EndpointConnectionError, ConnectTimeoutError)):
            hint = " (PROMOTER_CONNECT_TIMEOUT and AWS_MAX_ATTEMPTS set how long to try)"
        return CliError(f"AWS: {_one_line(error)}{hint}", EXIT_ENVIRONMENT)
    if isinstance(error, ValueError) and str(error).startswith("Invalid endpoint"):
        return CliError(f"AWS_ENDPOINT_URL: {error}", EXIT_ENVIRONMENT)
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
    check.add_argument("file", metavar="FILE", help="a rules file, or ssm:PARAMETER_NAME")
    aws_options(check)

    rules_help = "a rules file, or ssm:PARAMETER_NAME (read as the function reads it)"
    explain = commands.add_parser(
        "explain", help="why a version is (not) promoted: each rule's answer, and the copies it would make"
    )
    explain.add_argument("--rules", required=True, metavar="FILE", help=rules_help)
    explain.add_argument(
        "event",
        metavar="VERSION|EVENT.json",
        help="FORMAT/[NAMESPACE/]PACKAGE@VERSION (read from each rule's source), or an EventBridge event "
        "file, or an SQS batch of them",
    )
    explain.add_argument("--at", type=_parse_time, metavar="TIME", help="evaluate release ages at TIME")
    aws_options(explain)

    plan_parser = commands.add_parser("plan", help="dry run of reconcile: what would be copied, and why not")
    plan_parser.add_argument("--rules", required=True, metavar="FILE", help=rules_help)
    plan_parser.add_argument("--json", action="store_true", help="one JSON array of plan items")
    plan_parser.add_argument(
        "--all",
        action="store_true",
        help="also list versions already present and those rejected by range, prerelease, exclude or state",
    )
    plan_parser.add_argument("--at", type=_parse_time, metavar="TIME", help="evaluate release ages at TIME")
    aws_options(plan_parser)

    run = commands.add_parser("reconcile", help="copy what the rules accept and a destination lacks")
    run.add_argument("--rules", required=True, metavar="FILE", help=rules_help)
    run.add_argument("--quiet", action="store_true", help="no progress, only failures and the summary")
    run.add_argument(
        "--cursor",
        metavar="FILE",
        help="resume after the package FILE names, and write where this run stopped back to FILE",
    )
    run.add_argument(
        "--time-limit",
        type=_seconds,
        metavar="SECONDS",
        help="stop starting calls after SECONDS (with --cursor, the next run continues there)",
    )
    aws_options(run)

    revoke_parser = commands.add_parser(
        "revoke",
        help="take a promoted version back: set its status in every destination the rules send it to, "
        "and record it in denyVersions",
    )
    revoke_parser.add_argument("--rules", required=True, metavar="FILE", help=rules_help)
    revoke_parser.add_argument("version", metavar="FORMAT/[NAMESPACE/]PACKAGE@VERSION")
    revoke_parser.add_argument("--reason", required=True, help="why (kept in the denyVersions entry)")
    revoke_parser.add_argument(
        "--status",
        choices=TARGET_STATUSES,
        default="Unlisted",
        help="Unlisted (default: exact-version installs keep working, resolution skips it) or Archived "
        "(downloads blocked)",
    )
    revoke_parser.add_argument(
        "--write", action="store_true", help="also add the denyVersions entry to the rules FILE"
    )
    aws_options(revoke_parser)
    return parser


# --------------------------------------------------------------------------- revoke


def cmd_revoke(args: argparse.Namespace, out: TextIO, err: TextIO, clock: Clock, client: Any) -> int:
    """Exit 0 when every destination holds the version revoked (or not at all), 1 when one could not be
    revoked (another build there, a refused or unverified call); the denyVersions entry is printed (and
    with ``--write`` added to the file) either way."""
    reason = " ".join(str(args.reason).split())
    if not reason or len(reason) > 1000:
        raise CliError("--reason must be a non-empty text of at most 1000 characters", EXIT_USAGE)
    if args.write and args.rules.startswith(SSM_PREFIX):
        raise CliError(
            "--write edits a rules file; for ssm: rules, add the printed entry to the parameter", EXIT_USAGE
        )
    if args.write and not os.access(args.rules, os.W_OK):
        raise CliError(f"--write: cannot write the rules file {args.rules!r}", EXIT_USAGE)
    ruleset = load_rules(args.rules, args)
    coordinate = parse_coordinate(args.version)
    target = Target(coordinate.format, coordinate.namespace, coordinate.package, coordinate.version)
    name = (
        f"{target.format} {_package_name(_coordinate_candidate(coordinate, None, '', ''))} {target.version}"
    )
    if not routes(ruleset, target):
        raise CliError(f"no rule sends {name} to any destination: nothing to revoke", EXIT_FAILED)
    steps = revoke(client if client is not None else _client(args), ruleset, target, status=args.status)
    print(f"revoke: {name} -> {args.status}", file=out)
    for step in steps:
        pinned = f" (revision {step.revision})" if step.revision else ""
        if step.new_revision:
            pinned = f" (revision {step.revision}, now {step.new_revision})"
        print(
            f"  {step.domain}/{step.destination}: {step.action}: {step.detail}{pinned} [rule {step.rule}]",
            file=out,
        )
    _publish_revocations(args, err, steps, target, reason, clock())
    entry = deny_entry(target, reason)
    if args.write:
        path = args.rules
        add_deny_entry(
            path,
            entry,
            check=lambda text: load_rules_text(
                text,
                source=path,
                allowed_sources=_allowed("ALLOWED_SOURCE_REPOSITORIES"),
                allowed_destinations=_allowed("ALLOWED_DESTINATION_REPOSITORIES"),
                scope=stack_scope(args),
            ),
        )
        print(f"recorded in {path} (denyVersions); deploy the rules so the function honours it", file=out)
    else:
        print(
            "add to the rules (top level), so that neither events nor reconcile promote it again:", file=out
        )
        print("denyVersions:", file=out)
        print(entry_yaml(entry), end="", file=out)
    return EXIT_OK if all(step.ok for step in steps) else EXIT_FAILED


def _publish_revocations(  # noqa: PLR0917 - the command's pieces
    args: argparse.Namespace, err: TextIO, steps: list[Any], target: Any, reason: str, now: datetime
) -> None:
    """One ``Revoked`` outcome event per destination revoked, on OUTCOME_EVENT_BUS when it is set."""
    bus = os.environ.get(ENV_BUS, "").strip()
    revoked = [step for step in steps if step.action == REVOKED]
    if not bus or not revoked:
        return
    publisher = OutcomeEventPublisher(
        bus, client_factory=lambda: _session(args).client("events"), logger=_WarningsTo(err)
    )
    for step in revoked:
        publisher.publish(
            {
                "outcome": REVOKED_OUTCOME,
                "domain": step.domain,
                "domainOwner": step.domain_owner,
                "sourceRepository": step.source,
                "destinationRepository": step.destination,
                "format": target.format,
                "namespace": target.namespace,
                "package": target.package,
                "version": target.version,
                "revision": step.revision,
                "destinationRevision": step.new_revision or step.revision,
                "previousStatus": step.previous_status,
                "status": step.status,
                "rule": step.rule,
                "reason": reason,
                "revokedAt": now.isoformat(),
            }
        )
    publisher.flush()


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
    _WAITING[:] = [_Waiting(err)]
    try:
        if args.command == "rules":
            return cmd_rules_check(args, out, err)
        if args.command == "explain":
            return cmd_explain(args, out, now, client)
        if args.command == "plan":
            return cmd_plan(args, out, now, client)
        if args.command == "revoke":
            return cmd_revoke(args, out, err, now, client)
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
