"""Reconcile: promote what the rules accept and a destination lacks, by listing instead of by events.

Events miss versions (published before the promoter existed, lost past the dead-letter queue, accepted only
after a rule was widened, or deferred by ``minimumReleaseAge``). Reconcile walks every rule's source and
feeds what a destination lacks to the *same* rules, planner, copier and reporter as the event path: a listed
version becomes a ``Candidate`` pinned to the revision read from the source, so a copy can never take a
different build than the one that was listed. Whether a destination holds a version, identically or as
another build, is decided by ``promoter.destination.compare``, as everywhere else.

How the work is bounded: **a walk of the sources, with a cursor.** Sources are walked in rule order,
package by package (``ListPackages`` pages), and for each package its versions are read in the source and
in the destinations some rule would send them to (``ListPackageVersions`` of that one package; a
ResourceNotFoundException naming the package means the destination lacks it). A destination is never
enumerated: a release repository with an upstream cache can hold hundreds of thousands of packages that no
rule reads from, so its size must not decide how long a run takes. Every page of every listing first checks
the function's remaining time (``listing.Lister``'s deadline); a run that cannot finish stops cleanly
(``complete: false``) and returns a ``Cursor`` (the source, which of its ListPackages walks, the page's
nextToken and the last package done). The scheduled run keeps it in the stack's SSM parameter
(``RECONCILE_CURSOR_PARAMETER``) and the next run continues after that package: from the page's token, or,
if the service refuses the token (ValidationException; the API reference does not say how long a nextToken
stays valid, so any refusal is expected), from the first page, skipping up to the cursor's package. A run
that reaches the end of the last source resets the cursor; the next run starts again at the first source.
A run continues where the last one stopped and goes to the end, it does not wrap around to the start.

A source or destination that cannot be read (a missing domain or repository, AccessDenied, throttling past
the retries) is an error: the run goes on with the others, reports ``complete: false`` and the errors, and
the scheduled run emits ``ReconcileErrors`` (dimension ``ErrorCode``; 0 after a run without errors).

What it costs (``ReconcileResult.listing`` and ``.copy`` count every call):
per source, ``ceil(packages / 1000)`` ListPackages calls (server-side filtered, see ``listing.list_queries``),
plus one DescribeDomain per domain; per source package, one ListPackageVersions call per 1,000 versions in
the source, and one per destination that some rule would send one of its versions to (none for packages
none of whose versions a rule accepts; a destination lacking the package answers ResourceNotFoundException,
which costs the same call); no call at all on a destination's other packages; one DescribePackageVersion
per missing version under a cooldown rule; and one CopyPackageVersions call per package and destination
that lacks something (up to 100 versions a call) - a version already identical in the destination costs no
copy call at all. A resumed run whose token is refused costs the ListPackages pages up to the cursor once
more. The scheduled run adds one ssm:GetParameter and one ssm:PutParameter. List calls run on a few threads
ahead of the copying, which is what wall time is made of; copies are paced by the copier's token bucket
(PROMOTER_COPY_RATE) and throttling is absorbed with backoff, as on the event path.

``plan`` (the CLI's dry run) is this very code with ``dry_run=True``: everything up to the copier, the same
decisions, no copies and no reports.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from promoter.copier import Copier, CopyStats
from promoter.destination import IDENTICAL, MISSING, OTHER_REVISION, compare
from promoter.events import Candidate
from promoter.listing import (
    Lister,
    ListingStats,
    ListQuery,
    OutOfTime,
    PackageRef,
    error_code,
    list_queries,
    not_found_resource,
)
from promoter.matching import listing_status
from promoter.origin_controls import Controls, read_controls, refusal
from promoter.outcomes import DEFERRED, FAILED, IGNORED, Outcome
from promoter.pipeline import Dependencies
from promoter.planner import UNKNOWN_ORIGIN, CopyRequest, plan
from promoter.rule_filters import (
    AGE,
    DENIED,
    EXCLUDE,
    EXTERNAL,
    FREEZE,
    INTERNAL,
    PRERELEASE,
    RANGE,
    STATE,
    Rule,
    origin_text,
    rejection_detail,
)
from promoter.rule_filters import ORIGIN as ORIGIN_FILTER

ORIGIN = "reconcile"
"""``Candidate.origin`` of versions that reconcile found (events carry the SQS message id there)."""

COPY = "copy"
SKIP = "skip"
PRESENT = "present in destination"
ALREADY_EXISTS = "ALREADY_EXISTS"
"""The error code of a destination holding another revision, allowOverwrite off: the code the copy call
would answer on the event path, reported the same way (failed, final) without spending the call on it."""

METRIC_ERRORS = "ReconcileErrors"
"""Sources or destinations a scheduled run could not read, by ``ErrorCode``; 0 after a run without any."""
ENV_CURSOR_PARAMETER = "RECONCILE_CURSOR_PARAMETER"
"""The SSM parameter (String, created by the stack) where the scheduled run keeps its cursor."""

DEFAULT_CONCURRENCY = 4
DEFAULT_RESERVE_SECONDS = 5.0
"""Added to the copier's call reserve: no call starts unless this much more time is left (the cursor must
still be saved, and a package's copy must fit after its listing)."""
RECONCILE_RETRY_ROUNDS = 2
"""Retry rounds of one package's copies in a reconcile (the event path retries until its time runs out)."""
LIST_ATTEMPTS = 5
"""Attempts of one read on the scheduled path, whose client makes one attempt per call (each attempt checks
the remaining time first, so retries never outlast the run)."""

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
class Cursor:
    """Where the next run continues: after package ``after`` of walk ``query`` of one source, whose page was
    fetched with ``token`` (None: the walk's first page)."""

    domain: str
    domain_owner: str
    repository: str
    query: int
    after: PackageRef
    token: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "domainOwner": self.domain_owner,
            "repository": self.repository,
            "query": self.query,
            "format": self.after.format,
            "namespace": self.after.namespace,
            "package": self.after.package,
            "nextToken": self.token,
        }

    @classmethod
    def from_json(cls, text: str) -> Cursor | None:
        """The cursor ``text`` holds; None for ``{}`` or blank (start at the beginning). ValueError names
        what is wrong with anything else."""
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ValueError(f"reconcile cursor is not JSON: {error}") from None
        if data == {}:
            return None
        try:
            namespace, token = data.get("namespace"), data.get("nextToken")
            cursor = cls(
                domain=str(data["domain"]),
                domain_owner=str(data["domainOwner"]),
                repository=str(data["repository"]),
                query=int(data["query"]),
                after=PackageRef(
                    str(data["format"]), None if namespace is None else str(namespace), str(data["package"])
                ),
                token=None if token is None else str(token),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"reconcile cursor {text[:200]!r} is not a cursor ({error!r})") from None
        if cursor.query < 0:
            raise ValueError(f"reconcile cursor {text[:200]!r} has a negative query")
        return cursor

    def text(self) -> str:
        return json.dumps(self.as_json(), separators=(",", ":"))


class CursorStore(Protocol):
    def load(self) -> Cursor | None: ...
    def save(self, cursor: Cursor | None) -> None: ...


RESET = "{}"
"""What a store holds when the next run starts at the beginning (SSM parameters cannot be empty)."""


class SsmCursorStore:
    """The scheduled run's cursor: one String parameter of the stack (GetParameter, PutParameter)."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def load(self) -> Cursor | None:
        """The stored cursor; None (the beginning) when the value is ``{}`` or the parameter does not exist
        (deleted by hand, or a local run without the stack: ``save`` creates it)."""
        try:
            value = self.client.get_parameter(Name=self.name)["Parameter"]["Value"]
        except ClientError as error:
            if error_code(error) == "ParameterNotFound":
                return None
            raise
        return Cursor.from_json(str(value))

    def save(self, cursor: Cursor | None) -> None:
        value = RESET if cursor is None else cursor.text()
        self.client.put_parameter(Name=self.name, Value=value, Type="String", Overwrite=True)


class FileCursorStore:
    """The CLI's cursor (``promoter reconcile --cursor FILE``): a missing file means the beginning."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Cursor | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return Cursor.from_json(text)

    def save(self, cursor: Cursor | None) -> None:
        self.path.write_text((RESET if cursor is None else cursor.text()) + "\n", encoding="utf-8")


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


@dataclass
class _Source:
    """One source repository of one domain, with every rule that reads from it."""

    domain: str
    owner: str
    repository: str
    rules: tuple[Rule, ...]
    queries: tuple[ListQuery, ...]
    status: str | None
    destinations: tuple[str, ...]

    def at(self, cursor: Cursor | None) -> bool:
        return cursor is not None and (cursor.domain, cursor.domain_owner, cursor.repository) == (
            self.domain,
            self.owner,
            self.repository,
        )


@dataclass(frozen=True)
class _Step:
    """One package of the walk: where it was listed (for the cursor) and what it is."""

    source: _Source
    query: int
    token: str | None
    ref: PackageRef

    def cursor(self) -> Cursor:
        s = self.source
        return Cursor(s.domain, s.owner, s.repository, self.query, self.ref, self.token)


@dataclass
class _Package:
    """What was listed for one package: candidates that some rule accepts, what each destination holds
    (version -> revision), and the destinations that could not be read (destination -> (code, message))."""

    source: _Source
    ref: PackageRef
    wanted: list[tuple[Candidate, tuple[str, ...]]]
    held: dict[str, dict[str, str | None]]
    unreadable: dict[str, tuple[str, str]] = field(default_factory=dict)
    rejected: list[PlanItem] = field(default_factory=list)
    """With ``include_rejected`` (``plan --all``): versions a rule's filters turned away, with the filter."""
    origins: dict[str, str | None] = field(default_factory=dict)
    """version -> ``origin.originType`` in the source, as listed (which origin control a copy meets)."""


@dataclass
class Progress:
    """Callbacks for a terminal (the CLI); all optional. ``on_total`` is called once the walk has ended,
    with the number of packages listed; ``on_package(done, listed so far)`` after every package."""

    on_total: Callable[[int], None] | None = None
    on_package: Callable[[int, int], None] | None = None
    on_item: Callable[[PlanItem], None] | None = None
    on_outcome: Callable[[Outcome], None] | None = None


def _error_line(error: BaseException) -> tuple[str, str]:
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        return error_code(error), str(detail.get("Message") or error)
    return type(error).__name__, str(error)


_RUN_WIDE = (NoCredentialsError, NoRegionError)
"""Errors no source escapes: they end the run instead of being one source's error."""


def _package_name(ref: PackageRef) -> str:
    return f"{ref.namespace}/{ref.package}" if ref.namespace else ref.package


def _token_refused(error: ClientError) -> bool:
    """A stored nextToken the service will not take: any client error but the ones that say the listing
    itself cannot be read (those are errors of the source, with or without a token)."""
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 400 <= status < 500 and error_code(error) not in (
        "AccessDeniedException",
        "ResourceNotFoundException",
        "ThrottlingException",
    )


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
        self.deps = deps
        self.include_rejected = include_rejected
        self.list_client = list_client if list_client is not None else deps.client
        self.list_attempts = list_attempts
        self.concurrency = max(1, concurrency)
        self.reserve = reserve_seconds + deps.policy.call_reserve
        self.progress = progress or Progress()
        self.result = ReconcileResult()
        self.copier: Copier = deps.copier()
        self.result.copy = self.copier.stats
        self._owners: dict[tuple[str, str | None], str] = {}
        self._unreadable: dict[tuple[str, str], tuple[str, str]] = {}
        """(domain, destination) -> (code, message) of a destination found unreadable in this run."""
        self._controls: dict[tuple[str, str, str, str | None, str], Controls] = {}
        """``plan``: origin controls read per (domain, destination, format, namespace, package)."""

    # ----------------------------------------------------------------- the run

    def run(self, *, dry_run: bool, start: Cursor | None = None, fail_fast: bool = True) -> ReconcileResult:
        started = time.monotonic()
        try:
            sources = self._sources(fail_fast=fail_fast)
            if start is not None and not any(source.at(start) for source in sources):
                start = None  # the rules no longer read that source: a new walk
            self.result.resumed_from = start
            self.result.cursor = start
            self._drive(self._walk(sources, start, fail_fast=fail_fast), dry_run=dry_run, fail_fast=fail_fast)
            if self.progress.on_total:
                self.progress.on_total(self.result.packages_total)
        finally:
            if not dry_run:
                self.deps.reporter.copy_stats(self.copier.stats)
            self.result.seconds = time.monotonic() - started
        if self.result.out_of_time or self.result.errors:
            self.result.complete = False
        return self.result

    def _fail(self, message: str, code: str, *, fail_fast: bool) -> None:
        if fail_fast:
            raise ReconcileError(message)
        if message not in self.result.errors:
            self.result.errors.append(message)
            self.result.error_codes[code] += 1

    def _deadline(self) -> None:
        """Before every call: stop when less than the reserve is left (a call, the cursor, the report)."""
        if self.deps.remaining() < self.reserve:
            raise OutOfTime

    # ----------------------------------------------------------------- sources and their packages

    def _lister(self, domain: str, owner: str) -> Lister:
        return Lister(
            self.list_client,
            domain,
            owner,
            stats=self.result.listing,
            deadline=self._deadline,
            attempts=self.list_attempts,
            sleep=self.deps.sleep,
        )

    def _owner(self, rule: Rule) -> str:
        """The domain's owner account (the copy call and the candidates need it; rules may omit it)."""
        key = (rule.domain, rule.domain_owner)
        if key not in self._owners:
            params: dict[str, Any] = {"domain": rule.domain}
            if rule.domain_owner:
                params["domainOwner"] = rule.domain_owner
            try:
                self._deadline()
                self.result.listing.add("DescribeDomain")
                described = self.list_client.describe_domain(**params)
            except ClientError as error:
                if _error_line(error)[0] == "ResourceNotFoundException":
                    owner = f" owned by {rule.domain_owner}" if rule.domain_owner else ""
                    raise ReconcileError(
                        f"domain {rule.domain!r}{owner} not found (rule {rule.name!r})"
                    ) from None
                raise
            self._owners[key] = str(described["domain"].get("owner") or rule.domain_owner or "")
        return self._owners[key]

    def _sources(self, *, fail_fast: bool) -> list[_Source]:
        grouped: dict[tuple[str, str | None, str], list[Rule]] = {}
        for rule in self.deps.rules.rules:
            grouped.setdefault((rule.domain, rule.domain_owner, rule.source_repository), []).append(rule)
        sources: list[_Source] = []
        for (domain, _, repository), rules in grouped.items():
            try:
                owner = self._owner(rules[0])
            except OutOfTime:
                self.result.out_of_time = True
                break
            except ReconcileError as error:
                self._fail(str(error), "ResourceNotFoundException", fail_fast=fail_fast)
                continue
            except (ClientError, BotoCoreError) as error:  # access denied, throttled: this domain only
                if isinstance(error, _RUN_WIDE) or (fail_fast and isinstance(error, BotoCoreError)):
                    raise  # nothing can be read: the caller says so in its own words
                code, message = _error_line(error)
                self._fail(f"domain {domain!r}: {code}: {message}", code, fail_fast=fail_fast)
                continue
            queries = list_queries(
                [sorted(r.formats) if r.formats is not None else None for r in rules],
                [list(r.namespaces.patterns) if r.namespaces is not None else None for r in rules],
                [list(r.packages.patterns) for r in rules],
            )
            destinations = tuple(dict.fromkeys(d for r in rules for d in r.destination_repositories))
            sources.append(
                _Source(
                    domain=domain,
                    owner=owner,
                    repository=repository,
                    rules=tuple(rules),
                    queries=tuple(queries),
                    status=listing_status(rules),
                    destinations=destinations,
                )
            )
        return sources

    @staticmethod
    def _describe_list_error(source: _Source, error: BaseException) -> str:
        code, message = _error_line(error)
        where = f"domain {source.domain!r}, source {source.repository!r}"
        if code == "ResourceNotFoundException":
            return f"{where}: {message or 'repository not found'}"
        return f"{where}: {code}: {message}"

    # ----------------------------------------------------------------- the walk (main thread)

    def _walk(self, sources: list[_Source], start: Cursor | None, *, fail_fast: bool) -> Iterator[_Step]:
        """Every package of every source, in order, from just after ``start``. A source that cannot be
        listed is an error and the walk goes on with the next; ``OutOfTime`` ends the walk."""
        begin = next((i for i, source in enumerate(sources) if source.at(start)), 0)
        for source in sources[begin:]:
            resume = start if source.at(start) else None
            try:
                for index, query in enumerate(source.queries):
                    if resume is not None and index < resume.query:
                        continue
                    at = resume if resume is not None and index == resume.query else None
                    yield from self._walk_query(source, index, query, at)
            except (ClientError, BotoCoreError) as error:
                self._fail(self._describe_list_error(source, error), error_code(error), fail_fast=fail_fast)

    def _walk_query(
        self, source: _Source, index: int, query: ListQuery, resume: Cursor | None
    ) -> Iterator[_Step]:
        lister = self._lister(source.domain, source.owner)
        stored = token = resume.token if resume is not None else None
        skip = resume.after if resume is not None else None
        from_token = token is not None
        while True:
            try:
                refs, next_token = lister.packages_page(source.repository, query, token)
            except ClientError as error:
                if not (from_token and token == stored and _token_refused(error)):
                    raise
                # The service refused the stored token (expired, or from another listing): walk from the
                # first page and skip up to the cursor's package.
                token, from_token = None, False
                continue
            if skip is not None:
                if skip in refs:
                    refs, skip = refs[refs.index(skip) + 1 :], None
                elif from_token:
                    skip = None  # the cursor's package left its page: nothing of this page was done yet
                else:
                    refs = []  # still before the cursor
            for ref in refs:
                self.result.packages_total += 1
                yield _Step(source, index, token, ref)
            if not next_token:
                break
            token = next_token
        if skip is not None:
            # Walked from the start without meeting the cursor's package (it was deleted): that walk
            # skipped everything, so walk it again and skip nothing.
            yield from self._walk_query(source, index, query, None)

    def _drive(self, walk: Iterator[_Step], *, dry_run: bool, fail_fast: bool) -> None:
        """Listings fetched ``concurrency`` packages ahead on threads, processed in walk order; the cursor
        follows the last package processed. Stops when time runs short."""
        window = self.concurrency * 2
        pending: deque[tuple[_Step, Future[_Package]]] = deque()
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
                            self.result.out_of_time = True
                        else:
                            pending.append((step, pool.submit(self._list_package, step.source, step.ref)))
                    if not pending:
                        break
                    step, future = pending.popleft()
                    if self.deps.remaining() < self.reserve:
                        self.result.out_of_time = True
                        break
                    try:
                        listed = future.result()
                    except OutOfTime:
                        self.result.out_of_time = True
                        break
                    except (ClientError, BotoCoreError) as error:
                        where = self._describe_list_error(step.source, error)
                        package = _package_name(step.ref)
                        self._fail(f"{where} (package {package})", error_code(error), fail_fast=fail_fast)
                    else:
                        self._process(listed, dry_run=dry_run, fail_fast=fail_fast)
                        if self.copier.stats.out_of_time:
                            # the copier could not start a call of this package in time (its versions are
                            # reported NotAttempted): the cursor stays before it, the next run redoes it
                            self.result.out_of_time = True
                            break
                    self.result.packages_done += 1
                    self.result.cursor = step.cursor()
                    if self.progress.on_package:
                        self.progress.on_package(self.result.packages_done, self.result.packages_total)
            finally:
                for _, future in pending:
                    future.cancel()
                walk.close()  # type: ignore[attr-defined]
        if exhausted and not pending and not self.result.out_of_time:
            self.result.cursor = None  # the end of the last source: the next run starts again

    # ----------------------------------------------------------------- listing one package (worker threads)

    def _list_package(self, source: _Source, ref: PackageRef) -> _Package:
        lister = self._lister(source.domain, source.owner)
        wanted: list[tuple[Candidate, tuple[str, ...]]] = []
        rejected: list[PlanItem] = []
        # Every state with --all, to say which versions were turned away for their state.
        status = None if self.include_rejected else source.status
        try:
            listed_versions = lister.versions(source.repository, ref, status=status)
        except ClientError as error:
            if not_found_resource(error) in ("package", ""):  # deleted since it was listed (or no version
                listed_versions = []  # of that status): nothing to promote
            else:
                raise
        for listed in listed_versions:
            candidate = Candidate(
                domain=source.domain,
                domain_owner=source.owner,
                source_repository=source.repository,
                format=ref.format,
                namespace=ref.namespace,
                package=ref.package,
                version=listed.version,
                revision=listed.revision,
                state=listed.status,
                origin=ORIGIN,
                origin_type=listed.origin_type or UNKNOWN_ORIGIN,
            )
            destinations = tuple(
                dict.fromkeys(
                    d
                    for rule in source.rules
                    if rule.rejection(candidate) is None
                    for d in rule.destination_repositories
                )
            )
            if destinations:
                wanted.append((candidate, destinations))
            if self.include_rejected:
                rejected.extend(_rejected_items(candidate, source.rules, destinations))
        held: dict[str, dict[str, str | None]] = {}
        unreadable: dict[str, tuple[str, str]] = {}
        for destination in dict.fromkeys(d for _, dests in wanted for d in dests):
            known = self._unreadable.get((source.domain, destination))
            if known is not None:
                unreadable[destination] = known
                continue
            try:
                held[destination] = {v.version: v.revision for v in lister.versions(destination, ref)}
            except (ClientError, BotoCoreError) as error:
                if not_found_resource(error) in ("package", ""):
                    held[destination] = {}  # the destination lacks the package
                    continue
                unreadable[destination] = _error_line(error)
                if not_found_resource(error) or error_code(error) == "AccessDeniedException":
                    # the repository or domain itself: spare the other packages the same answer
                    self._unreadable.setdefault((source.domain, destination), unreadable[destination])
        origins = {v.version: v.origin_type for v in listed_versions}
        return _Package(source, ref, wanted, held, unreadable, rejected, origins)

    # ----------------------------------------------------------------- decide, copy, report

    def _item(self, item: PlanItem) -> None:
        self.result.items.append(item)
        if self.progress.on_item:
            self.progress.on_item(item)

    def _refused(self, listed: _Package, candidate: Candidate, destination: str) -> str | None:
        """``plan``: "would be refused: ..." when the destination's origin controls would answer the copy
        NOT_ALLOWED (read once per destination package; a failed read decides nothing)."""
        key = (candidate.domain, destination, candidate.format, candidate.namespace, candidate.package)
        controls = self._controls.get(key)
        if controls is None:
            controls = read_controls(
                self.list_client,
                domain=candidate.domain,
                domain_owner=candidate.domain_owner,
                repository=destination,
                format=candidate.format,
                namespace=candidate.namespace,
                package=candidate.package,
            )
            self._controls[key] = controls
        origin = listed.origins.get(candidate.version) or "UNKNOWN"
        why = refusal(controls, origin, destination)
        return None if why is None else f"would be refused: {why} (origin {origin})"

    def _unreadable_destination(self, listed: _Package, *, fail_fast: bool) -> None:
        """A destination that could not be read is an error of the run (each distinct one once)."""
        for destination, (code, message) in listed.unreadable.items():
            where = (
                f"domain {listed.source.domain!r}, destination {destination!r} "
                f"(of source {listed.source.repository!r})"
            )
            self._fail(f"{where}: {code}: {message}", code, fail_fast=fail_fast)

    def _process(self, listed: _Package, *, dry_run: bool, fail_fast: bool) -> None:
        for rejected in listed.rejected:
            self._item(rejected)
        if listed.unreadable:
            self._unreadable_destination(listed, fail_fast=fail_fast)
        held = listed.held
        needed: list[Candidate] = []
        for candidate, destinations in listed.wanted:
            missing = False
            for destination in destinations:
                if destination in listed.unreadable:
                    code = listed.unreadable[destination][0]
                    reason = f"destination could not be read: {code}"
                    self._item(PlanItem(candidate, destination, SKIP, reason, code=UNREADABLE))
                elif compare(held[destination], candidate.version, candidate.revision) == IDENTICAL:
                    self._item(PlanItem(candidate, destination, SKIP, PRESENT, code=ALREADY_PRESENT))
                else:
                    missing = True
            if missing:
                needed.append(candidate)
        if not needed:
            return
        decided = plan(needed, self.deps.rules, now=self.deps.clock(), describe=self.copier.describe_version)
        outcomes: list[Outcome] = []
        requests: list[CopyRequest] = []
        for request in decided.requests:
            destination = request.destination_repository
            if destination not in held:  # unreadable: already reported above
                continue
            keep = []
            for planned in request.items:
                candidate = planned.candidate
                state = compare(held[destination], candidate.version, candidate.revision)
                if state == MISSING or (state == OTHER_REVISION and request.allow_overwrite):
                    refused = self._refused(listed, candidate, destination) if dry_run else None
                    if refused is not None:
                        self._item(PlanItem(candidate, destination, SKIP, refused, planned.rule, NOT_ALLOWED))
                        continue
                    keep.append(planned)
                    code = MISSING_CODE if state == MISSING else OVERWRITE
                    used = decided.exceptions.get((candidate[:7], destination))
                    why = f"exception {used.name}: {used.reason}" if used is not None else None
                    self._item(PlanItem(candidate, destination, COPY, why, planned.rule, code))
                elif state == OTHER_REVISION:
                    revision = held[destination][candidate.version]
                    reason = f"destination holds revision {revision} and allowOverwrite is off"
                    self._item(PlanItem(candidate, destination, SKIP, reason, planned.rule, CONFLICT))
                    outcomes.append(
                        Outcome(
                            FAILED,
                            candidate,
                            destination=destination,
                            rule=planned.rule,
                            error_code=ALREADY_EXISTS,
                            error_message=(
                                f"{destination} holds revision {revision} of this version, not "
                                f"{candidate.revision}, and allowOverwrite is off"
                            ),
                        )
                    )
                # IDENTICAL: already listed as present above
            if keep:
                requests.append(request.with_items(tuple(keep)))
        wanted_by_key = {c[:7]: destinations for c, destinations in listed.wanted}
        for outcome in decided.outcomes:
            if outcome.status == IGNORED and outcome.reason == DENIED and outcome.candidate is not None:
                # Denied (denyVersions): shown per destination that lacks it, reported once.
                candidate = outcome.candidate
                for destination in wanted_by_key.get(candidate[:7], ()):
                    if destination in held and (
                        compare(held[destination], candidate.version, candidate.revision) != IDENTICAL
                    ):
                        detail = f"denied: {outcome.error_message}"
                        self._item(PlanItem(candidate, destination, SKIP, detail, outcome.rule, DENIED))
                outcomes.append(outcome)
                continue
            if outcome.candidate is None or outcome.destination is None or outcome.status == IGNORED:
                continue
            candidate, destination = outcome.candidate, outcome.destination
            if destination not in held:
                continue
            if compare(held[destination], candidate.version, candidate.revision) == IDENTICAL:
                continue
            if outcome.status == DEFERRED and outcome.reason == FREEZE:
                until = f" until {outcome.eligible_at.isoformat()}" if outcome.eligible_at else ""
                reason, code = f"frozen{until} ({outcome.error_message})", FREEZE
            elif outcome.status == DEFERRED:
                when = outcome.eligible_at.isoformat() if outcome.eligible_at else "its publish time is known"
                reason, code = f"deferred until {when}", AGE
                if candidate.origin_type not in (None, INTERNAL, EXTERNAL):  # the fail-closed reading, said
                    reason += f" (origin {origin_text(candidate.origin_type)})"
            else:
                reason, code = f"failed: {outcome.error_code}: {outcome.error_message}", PLAN_FAILED
            self._item(PlanItem(candidate, destination, SKIP, reason, outcome.rule, code))
            outcomes.append(outcome)
        if dry_run:
            return
        # Few retry rounds: a package whose copies keep failing must not spend the run the others need;
        # what it could not copy, the next run (or its own events) copies.
        copied = self.copier.copy_all(requests, rounds=RECONCILE_RETRY_ROUNDS)
        outcomes.extend(decided.annotate(outcome) for outcome in copied)
        for outcome in outcomes:
            self.result.outcomes.append(outcome)
            self.deps.reporter.outcome(outcome)
            if self.progress.on_outcome:
                self.progress.on_outcome(outcome)


_SHOWN_REJECTIONS = frozenset({EXCLUDE, RANGE, PRERELEASE, STATE, ORIGIN_FILTER})
"""The filters ``plan --all`` reports: those that turn away a version of a package the rule is about (its
format, namespace and package globs match); the others would list every package of the source per rule."""


def _rejected_items(
    candidate: Candidate, rules: tuple[Rule, ...], accepted: tuple[str, ...]
) -> list[PlanItem]:
    """One skip item per destination a rule would send ``candidate`` to but its filters turn it away (the
    first rule per destination; a destination some rule accepts it for is not rejected)."""
    items: dict[str, PlanItem] = {}
    for rule in rules:
        reason = rule.rejection(candidate)
        if reason not in _SHOWN_REJECTIONS:
            continue
        detail = rejection_detail(rule, candidate, reason)
        for destination in rule.destination_repositories:
            if destination not in accepted and destination not in items:
                items[destination] = PlanItem(candidate, destination, SKIP, detail, rule.name, reason)
    return list(items.values())


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


def cursor_store(environ: Mapping[str, str] | None = None) -> SsmCursorStore | None:
    """The scheduled run's cursor store: the SSM parameter ``RECONCILE_CURSOR_PARAMETER`` names, if any."""
    name = (os.environ if environ is None else environ).get(ENV_CURSOR_PARAMETER, "").strip()
    if not name:
        return None
    import boto3  # noqa: PLC0415 - already loaded by the function; only a scheduled run needs SSM

    return SsmCursorStore(boto3.client("ssm"), name)


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
            code, message = _error_line(error)
            problems.append((f"reconcile cursor could not be read: {code}: {message}", code))
    result = reconcile(deps, dry_run=False, start=start, fail_fast=False, list_attempts=LIST_ATTEMPTS)
    if store is not None:
        try:
            store.save(result.cursor)
        except (ClientError, BotoCoreError) as error:
            code, message = _error_line(error)
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
