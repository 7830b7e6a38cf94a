"""Reconcile: promote what the rules accept and a destination lacks, by listing instead of by events.

Events miss versions (published before the promoter existed, lost past the dead-letter queue, accepted only
after a rule was widened, or deferred by ``minimumReleaseAge``). Reconcile lists every rule's source and
destinations and feeds what is missing to the *same* rules, planner, copier and reporter as the event path:
a listed version becomes a ``Candidate`` pinned to the revision read from the source, so a copy can never
take a different build than the one that was listed.

How the work is bounded (the choice, written down): **no stored cursor; resume by idempotence.** A run
processes package by package (list, plan, copy, report) and stops starting new packages when the function's
remaining time falls below a reserve. Whatever it copied is present in the destination afterwards, so the
next scheduled run skips it at the cost of its list calls only, and continues with the rest. Each scheduled
run starts at a different package (an offset derived from the schedule's event time), so a source too large
for one run is still covered over a few runs instead of the first packages being reconciled over and over.
Why not a cursor or a fan-out through the queue: both need state or permissions beyond what the event path
has (a table or parameter to write, or SendMessage on the queue plus a second message shape in the handler),
and the list calls they would save are cheap next to the CopyPackageVersions quota, which the copier already
paces. Copies within a run are paced by the copier's token bucket (PROMOTER_COPY_RATE) and throttling is
absorbed with backoff, as on the event path; the account quota is shared with concurrent event invocations,
so what a throttled run cannot copy in its time, the next run does.

What it costs (``ReconcileResult.listing`` and ``.copy`` count every call):
per source, ``ceil(packages / 1000)`` ListPackages calls (server-side filtered, see ``listing.list_queries``);
per destination the same, once; per package one ListPackageVersions call in the source and one in each
destination that has the package and that some rule would send one of its versions to (none for packages no
rule accepts, none where the destination lacks the package); one DescribePackageVersion per missing version
under a cooldown rule; and one CopyPackageVersions call per package and destination that lacks something
(up to 100 versions a call) - a version already identical in the destination costs no copy call at all.
List calls run on a few threads ahead of the copying, which is what wall time is made of.

``plan`` (the CLI's dry run) is this very code with ``dry_run=True``: everything up to the copier, the same
decisions, no copies and no reports.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from promoter.copier import Copier, CopyStats
from promoter.events import Candidate
from promoter.listing import ListedVersion, Lister, ListingStats, ListQuery, PackageRef, list_queries
from promoter.outcomes import DEFERRED, FAILED, IGNORED, Outcome
from promoter.pipeline import Dependencies
from promoter.planner import CopyRequest, plan
from promoter.rules import AGE, EXCLUDE, PRERELEASE, RANGE, STATE, Rule, listing_status, rejection_detail

ORIGIN = "reconcile"
"""``Candidate.origin`` of versions that reconcile found (events carry the SQS message id there)."""

COPY = "copy"
SKIP = "skip"
PRESENT = "present in destination"
ALREADY_EXISTS = "ALREADY_EXISTS"
"""The error code of a destination holding another revision, allowOverwrite off: the code the copy call
would answer on the event path, reported the same way (failed, final) without spending the call on it."""

DEFAULT_CONCURRENCY = 4
DEFAULT_RESERVE_SECONDS = 5.0
"""Added to the copier's call reserve: a package is only started when list + copy calls still fit."""

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
MISSING = "missing"
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
FAILING_CODES = frozenset({CONFLICT, PLAN_FAILED})


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
    """The reason as a code (``MISSING``, ``ALREADY_PRESENT``, a filter name, ...); ``reason`` is prose."""

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
    packages_done: int = 0
    complete: bool = True
    errors: list[str] = field(default_factory=list)
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
            "packages": self.packages_total,
            "packagesDone": self.packages_done,
            "versionsToCopy": len(self.to_copy),
            "outcomes": dict(sorted(self.outcome_counts().items())),
            "listCalls": dict(sorted(self.listing.calls.items())),
            "describeCalls": self.copy.describe_calls,
            "copyCalls": self.copy.copy_requests,
            "copyThrottled": self.copy.throttled,
            "errors": list(self.errors),
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


@dataclass
class _Package:
    """What was listed for one package: candidates that some rule accepts, and the destinations' versions."""

    source: _Source
    ref: PackageRef
    wanted: list[tuple[Candidate, tuple[str, ...]]]
    present: dict[str, dict[str, ListedVersion]]
    rejected: list[PlanItem] = field(default_factory=list)
    """With ``include_rejected`` (``plan --all``): versions a rule's filters turned away, with the filter."""


@dataclass
class Progress:
    """Callbacks for a terminal (the CLI); all optional."""

    on_total: Callable[[int], None] | None = None
    on_package: Callable[[int, int], None] | None = None
    on_item: Callable[[PlanItem], None] | None = None
    on_outcome: Callable[[Outcome], None] | None = None


def _error_line(error: BaseException) -> tuple[str, str]:
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        return str(detail.get("Code") or "ClientError"), str(detail.get("Message") or error)
    return type(error).__name__, str(error)


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
        include_rejected: bool = False,
    ) -> None:
        self.deps = deps
        self.include_rejected = include_rejected
        self.list_client = list_client if list_client is not None else deps.client
        self.concurrency = max(1, concurrency)
        self.reserve = reserve_seconds + deps.policy.call_reserve
        self.progress = progress or Progress()
        self.result = ReconcileResult()
        self.copier: Copier = deps.copier()
        self.result.copy = self.copier.stats
        self._owners: dict[tuple[str, str | None], str] = {}
        self._package_sets: dict[tuple[str, str, str, tuple[ListQuery, ...]], set[PackageRef]] = {}

    # ----------------------------------------------------------------- the run

    def run(self, *, dry_run: bool, start_at: int = 0, fail_fast: bool = True) -> ReconcileResult:
        started = time.monotonic()
        try:
            work = self._work(fail_fast=fail_fast)
            if work:
                offset = start_at % len(work)
                work = work[offset:] + work[:offset]
            self.result.packages_total = len(work)
            if self.progress.on_total:
                self.progress.on_total(len(work))
            for listed in self._listed(work, fail_fast=fail_fast):
                self._process(listed, dry_run=dry_run)
                self.result.packages_done += 1
                if self.progress.on_package:
                    self.progress.on_package(self.result.packages_done, len(work))
        finally:
            if not dry_run:
                self.deps.reporter.copy_stats(self.copier.stats)
            self.result.seconds = time.monotonic() - started
        return self.result

    def _fail(self, message: str, *, fail_fast: bool) -> None:
        if fail_fast:
            raise ReconcileError(message)
        self.result.errors.append(message)

    # ----------------------------------------------------------------- sources and their packages

    def _lister(self, domain: str, owner: str) -> Lister:
        return Lister(self.list_client, domain, owner, stats=self.result.listing)

    def _owner(self, rule: Rule) -> str:
        """The domain's owner account (the copy call and the candidates need it; rules may omit it)."""
        key = (rule.domain, rule.domain_owner)
        if key not in self._owners:
            params: dict[str, Any] = {"domain": rule.domain}
            if rule.domain_owner:
                params["domainOwner"] = rule.domain_owner
            try:
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
            except ReconcileError as error:
                self._fail(str(error), fail_fast=fail_fast)
                continue
            except ClientError as error:  # the service answered (access denied, throttled): this domain only
                code, message = _error_line(error)
                self._fail(f"domain {domain!r}: {code}: {message}", fail_fast=fail_fast)
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

    def _package_set(self, source: _Source, repository: str) -> set[PackageRef]:
        key = (source.domain, source.owner, repository, source.queries)
        if key not in self._package_sets:
            lister = self._lister(source.domain, source.owner)
            self._package_sets[key] = lister.package_set(repository, source.queries)
        return self._package_sets[key]

    def _work(self, *, fail_fast: bool) -> list[tuple[_Source, PackageRef]]:
        work: list[tuple[_Source, PackageRef]] = []
        for source in self._sources(fail_fast=fail_fast):
            destination: str | None = None  # the repository being listed, when it is a destination
            try:
                packages = sorted(self._package_set(source, source.repository))
                for destination in source.destinations:
                    self._package_set(source, destination)
            except (ClientError, BotoCoreError) as error:
                self._fail(self._describe_list_error(source, error, destination), fail_fast=fail_fast)
                continue
            work.extend((source, ref) for ref in packages)
        return work

    @staticmethod
    def _describe_list_error(source: _Source, error: BaseException, destination: str | None = None) -> str:
        """One line naming the repository that could not be listed (a destination, when it was one)."""
        code, message = _error_line(error)
        where = f"domain {source.domain!r}, source {source.repository!r}"
        if destination is not None:
            where = f"domain {source.domain!r}, destination {destination!r} (of source {source.repository!r})"
        if code == "ResourceNotFoundException":
            return f"{where}: {message or 'repository not found'}"
        return f"{where}: {code}: {message}"

    # ----------------------------------------------------------------- listing (on worker threads)

    def _list_package(self, source: _Source, ref: PackageRef) -> _Package:
        lister = self._lister(source.domain, source.owner)
        wanted: list[tuple[Candidate, tuple[str, ...]]] = []
        rejected: list[PlanItem] = []
        status = (
            None if self.include_rejected else source.status
        )  # every state, to say which were turned away
        for listed in lister.versions(source.repository, ref, status=status):
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
        present: dict[str, dict[str, ListedVersion]] = {}
        for destination in dict.fromkeys(d for _, dests in wanted for d in dests):
            if ref in self._package_set(source, destination):
                present[destination] = {v.version: v for v in lister.versions(destination, ref)}
            else:
                present[destination] = {}
        return _Package(source, ref, wanted, present, rejected)

    def _listed(self, work: list[tuple[_Source, PackageRef]], *, fail_fast: bool) -> Iterator[_Package]:
        """Listings in work order, fetched ``concurrency`` packages ahead; stops when time runs short."""
        window = self.concurrency * 2
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="reconcile-list") as pool:
            pending: list[tuple[tuple[_Source, PackageRef], Future[_Package]]] = []
            position = 0
            try:
                while position < len(work) or pending:
                    while position < len(work) and len(pending) < window:
                        source, ref = work[position]
                        pending.append(((source, ref), pool.submit(self._list_package, source, ref)))
                        position += 1
                    (source, ref), future = pending.pop(0)
                    if self.deps.remaining() < self.reserve:
                        self.result.complete = False
                        return
                    try:
                        yield future.result()
                    except (ClientError, BotoCoreError) as error:
                        code, message = _error_line(error)
                        name = f"{ref.namespace}/{ref.package}" if ref.namespace else ref.package
                        self._fail(
                            f"{self._describe_list_error(source, error)} (package {name})"
                            if code != "ResourceNotFoundException"
                            else f"domain {source.domain!r}: {message}",
                            fail_fast=fail_fast,
                        )
            finally:
                for _, future in pending:
                    future.cancel()

    # ----------------------------------------------------------------- decide, copy, report

    def _item(self, item: PlanItem) -> None:
        self.result.items.append(item)
        if self.progress.on_item:
            self.progress.on_item(item)

    def _process(self, listed: _Package, *, dry_run: bool) -> None:
        for rejected in listed.rejected:
            self._item(rejected)
        present = listed.present
        needed: list[Candidate] = []
        for candidate, destinations in listed.wanted:
            missing = False
            for destination in destinations:
                existing = present[destination].get(candidate.version)
                if existing is not None and existing.revision == candidate.revision:
                    self._item(PlanItem(candidate, destination, SKIP, PRESENT, code=ALREADY_PRESENT))
                else:
                    missing = True
            if missing:
                needed.append(candidate)
        if not needed:
            return
        decided = plan(
            needed, self.deps.rules, now=self.deps.clock(), published_time=self.copier.published_time
        )
        outcomes: list[Outcome] = []
        requests: list[CopyRequest] = []
        for request in decided.requests:
            keep = []
            for planned in request.items:
                candidate = planned.candidate
                existing = present[request.destination_repository].get(candidate.version)
                if existing is None or (existing.revision != candidate.revision and request.allow_overwrite):
                    keep.append(planned)
                    code = MISSING if existing is None else OVERWRITE
                    self._item(
                        PlanItem(candidate, request.destination_repository, COPY, None, planned.rule, code)
                    )
                elif existing.revision != candidate.revision:
                    reason = f"destination holds revision {existing.revision} and allowOverwrite is off"
                    self._item(
                        PlanItem(
                            candidate, request.destination_repository, SKIP, reason, planned.rule, CONFLICT
                        )
                    )
                    outcomes.append(
                        Outcome(
                            FAILED,
                            candidate,
                            destination=request.destination_repository,
                            rule=planned.rule,
                            error_code=ALREADY_EXISTS,
                            error_message=(
                                f"{request.destination_repository} holds revision {existing.revision} of "
                                f"this version, not {candidate.revision}, and allowOverwrite is off"
                            ),
                        )
                    )
                # an identical copy was already listed as present above
            if keep:
                requests.append(request.with_items(tuple(keep)))
        for outcome in decided.outcomes:
            if outcome.candidate is None or outcome.destination is None or outcome.status == IGNORED:
                continue
            candidate, destination = outcome.candidate, outcome.destination
            existing = present.get(destination, {}).get(candidate.version)
            if existing is not None and existing.revision == candidate.revision:
                continue
            if outcome.status == DEFERRED:
                when = outcome.eligible_at.isoformat() if outcome.eligible_at else "its publish time is known"
                reason, code = f"deferred until {when}", AGE
            else:
                reason, code = f"failed: {outcome.error_code}: {outcome.error_message}", PLAN_FAILED
            self._item(PlanItem(candidate, destination, SKIP, reason, outcome.rule, code))
            outcomes.append(outcome)
        if dry_run:
            return
        outcomes.extend(self.copier.copy_all(requests))
        for outcome in outcomes:
            self.result.outcomes.append(outcome)
            self.deps.reporter.outcome(outcome)
            if self.progress.on_outcome:
                self.progress.on_outcome(outcome)


_SHOWN_REJECTIONS = frozenset({EXCLUDE, RANGE, PRERELEASE, STATE})
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
    start_at: int = 0,
    fail_fast: bool = True,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
    list_client: Any = None,
    include_rejected: bool = False,
) -> ReconcileResult:
    """List, plan and (unless ``dry_run``) copy and report, for every rule of ``deps.rules``.

    ``list_client`` (default ``deps.client``) makes the read calls; give it botocore retries when the copy
    client has none (the copier retries copies itself, bounded by the remaining time). ``include_rejected``
    (``plan --all``) also lists every state and adds a skip item for each version a rule's filters reject.
    """
    return Reconciler(
        deps,
        concurrency=concurrency,
        progress=progress,
        list_client=list_client,
        include_rejected=include_rejected,
    ).run(dry_run=dry_run, start_at=start_at, fail_fast=fail_fast)


def retrying_client(client: Any) -> Any:
    """A CodeArtifact client like ``client`` (region, endpoint) whose calls botocore retries on throttling.

    The function's own client makes one attempt per call because the copier retries copies against the
    remaining time; list calls have no such loop, so reconcile reads through this one. Falls back to
    ``client`` when it is not a botocore client (a test's fake).
    """
    meta = getattr(client, "meta", None)
    if meta is None or not hasattr(meta, "region_name"):
        return client
    import boto3  # noqa: PLC0415 - boto3 is already loaded by the function; this keeps the module light
    from botocore.config import Config  # noqa: PLC0415

    config = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=30)
    return boto3.client(
        "codeartifact", region_name=meta.region_name, endpoint_url=meta.endpoint_url, config=config
    )


def start_offset(event: Mapping[str, Any]) -> int:
    """Where a scheduled run starts in the package list: stable for one schedule tick, different per tick."""
    stamp = str(event.get("time") or event.get("id") or "")
    return int.from_bytes(hashlib.sha256(stamp.encode()).digest()[:8], "big")


def handle_scheduled(event: Mapping[str, Any], deps: Dependencies) -> dict[str, Any]:
    """The scheduled entry point: reconcile everything, never stop at the first broken source.

    Errors of one source (an unknown domain or repository, throttling past the retries) are logged and the
    other sources still run; outcomes are reported by ``deps.reporter`` exactly as the event path reports
    them (the caller flushes it). Returns the run's summary, also logged as one line.
    """
    result = reconcile(
        deps,
        dry_run=False,
        start_at=start_offset(event),
        fail_fast=False,
        list_client=retrying_client(deps.client),
    )
    summary = result.summary()
    log = deps.reporter.logger
    if result.errors:
        for error in result.errors:
            log.error("reconcile source failed", extra={"error": error})
    (log.info if result.complete else log.warning)(
        "reconcile finished" if result.complete else "reconcile stopped early: the next run continues",
        extra={"reconcile": summary},
    )
    return {"reconcile": summary}


def run(*, event: Mapping[str, Any], context: Any, deps: Dependencies) -> dict[str, Any]:
    """The seam app.py calls for a scheduled event (the remaining time is already in ``deps.remaining``)."""
    del context
    return handle_scheduled(event, deps)
