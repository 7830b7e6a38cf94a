"""Catch-up: one copy call per package and destination, even when the package's events arrive in many batches.

Why it exists: CopyPackageVersions calls are the scarce resource (5 requests/s per account by default) and the
planner can only coalesce what one batch holds. A release publishes many versions of a package at once; the
event source mapping spreads their events over batches and over concurrent invocations, so planning per batch
alone spends one call per package *per batch* (the drain benchmark: 166 calls for 109 package-destination
groups). Just before each copy this module reads the package in the destination and in the source
(ListPackageVersions: its own quota, 200 requests/s by default against the copy's 5) and

- takes out of the call the versions already identical in the destination (an earlier batch's catch-up copied
  them): they are reported ``already_present`` and, when nothing is left, the call is not made;
- takes out the versions whose event names a revision the source no longer holds (a later build of the same
  version, as Maven and PyPI publish more assets): reported ``superseded``, exactly what the copy would answer
  (MISMATCHED_REVISION), without spending the call on it;
- adds to the call the package's other versions in the source that the same rules send to the same destination
  with the same options, that the destination lacks and that need no waiting (no ``minimumReleaseAge``),
  pinned to the revision the source lists, up to the call's 100 versions. Their own events, when their batch
  comes, find them present and cost no call.

It never adds a call, it only fills calls the batch makes anyway; it takes the same decisions reconcile takes
for the package (same rules, same planner), only earlier. A version it copies is reported ``promoted`` with
reason ``catch-up``; if it cannot be copied, nothing is reported for it here: its own event (or reconcile)
still owns it. A listing the service refuses (denied) or no time left leaves the call exactly as planned; a
transient listing failure (throttled, 5xx, a hung connection) makes the package yield its turn to the batch's
other packages and copy as planned in the copier's next round: catch-up saves calls, correctness never
depends on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from promoter.copier import ReadFailed, call_error
from promoter.destination import IDENTICAL, compare, package_versions, revisions
from promoter.events import Candidate
from promoter.matching import RuleSet, listing_status
from promoter.outcomes import ALREADY_PRESENT, SUPERSEDED, Outcome
from promoter.planner import MAX_VERSIONS_PER_CALL, CopyRequest, PlannedVersion, plan

REASON = "catch-up"
"""``Outcome.reason`` of a version promoted along with another version's copy, and its candidates' origin."""

_PackageKey = tuple[str | None, ...]
"""``Candidate.version_key`` without the version: one package of one source."""
_Options = tuple[str, bool, bool]
"""(destination, allowOverwrite, includeFromUpstream): what a sibling must share with the call it joins."""


class CatchUp:
    """Per invocation: source listings and sibling plans are cached, destination listings are read fresh
    before every call (they are what shows another invocation's work)."""

    def __init__(
        self,
        client: Any,
        rules: RuleSet,
        *,
        now: datetime,
        remaining: Callable[[], float],
        reserve: float,
        own_account: str | None = None,
        known: Iterable[tuple[str | None, ...]] = (),
    ) -> None:
        self.client = client
        self.rules = rules
        self.now = now
        self.remaining = remaining
        self.reserve = reserve
        self.own_account = own_account
        self.known = set(known)
        """Version keys the batch decided already (``pipeline._decided``): planning them again as siblings
        would only cost CPU, and a listing is not trusted over the batch's own events (a deleted version)."""
        self._sources: dict[_PackageKey, dict[str, tuple[str | None, str]] | None] = {}
        self._siblings: dict[_PackageKey, dict[_Options, list[PlannedVersion]] | None] = {}
        self._taken: set[tuple[_PackageKey, str, str]] = set()
        self._status: dict[tuple[str, str], str | None] = {}

    def prepare(self, request: CopyRequest) -> tuple[CopyRequest, list[Outcome]]:
        """The call to make instead of ``request`` (possibly with no items: make none), and the outcomes
        decided without it."""
        present = self._versions(request, request.destination_repository, status=None)
        if present is None:
            return request, []
        held = revisions(present)
        source = self._source(request)
        outcomes: list[Outcome] = []
        keep: list[PlannedVersion] = []
        for item in request.items:
            version, revision = item.candidate.version, item.candidate.revision
            current = source.get(version) if source is not None else None
            if compare(held, version, revision) == IDENTICAL:
                outcomes.append(
                    Outcome(
                        ALREADY_PRESENT,
                        item.candidate,
                        destination=request.destination_repository,
                        rule=item.rule,
                    )
                )
            elif current is not None and revision and current[0] and current[0] != revision:
                # What the copy would answer (MISMATCHED_REVISION): the source moved on to a newer build,
                # whose own event promotes it (or did: an earlier batch's catch-up may have copied it).
                outcomes.append(
                    Outcome(
                        SUPERSEDED,
                        item.candidate,
                        destination=request.destination_repository,
                        rule=item.rule,
                        error_code="MISMATCHED_REVISION",
                        error_message=f"the source now holds revision {current[0]} of this version",
                    )
                )
            else:
                keep.append(item)
        room = MAX_VERSIONS_PER_CALL - len(keep)
        if keep and room > 0 and request.pinned:
            keep.extend(self._join(request, present, room))
        return request.with_items(tuple(keep)), outcomes

    # ----------------------------------------------------------------- siblings

    def _join(
        self, request: CopyRequest, present: dict[str, tuple[str | None, str]], room: int
    ) -> list[PlannedVersion]:
        key = _package_key(request)
        if key not in self._siblings:
            self._siblings[key] = self._plan_siblings(request, self._source(request))
        by_options = self._siblings[key]
        if not by_options:
            return []
        options = (request.destination_repository, request.allow_overwrite, request.include_from_upstream)
        in_call = {item.candidate.version for item in request.items}
        joined: list[PlannedVersion] = []
        for item in by_options.get(options, ()):
            version = item.candidate.version
            taken = (key, request.destination_repository, version)
            if version in in_call or version in present or taken in self._taken:
                continue
            self._taken.add(taken)
            joined.append(item)
            if len(joined) == room:
                break
        return joined

    def _source(self, request: CopyRequest) -> dict[str, tuple[str | None, str]] | None:
        """The package's versions in the source, read once per invocation (its events are older than that)."""
        key = _package_key(request)
        if key not in self._sources:
            status = self._status_filter(request)
            self._sources[key] = self._versions(request, request.source_repository, status=status)
        return self._sources[key]

    def _plan_siblings(
        self, request: CopyRequest, listed: dict[str, tuple[str | None, str]] | None
    ) -> dict[_Options, list[PlannedVersion]] | None:
        key = _package_key(request)
        if not listed:
            return None
        candidates = [
            Candidate(
                domain=request.domain,
                domain_owner=request.domain_owner,
                source_repository=request.source_repository,
                format=request.format,
                namespace=request.namespace,
                package=request.package,
                version=version,
                revision=revision,
                state=status,
                origin=REASON,
            )
            for version, (revision, status) in listed.items()
            if revision and (*key, version) not in self.known
        ]
        if not candidates:
            return None
        # No publish-time lookup: a version that has to age, is frozen or whose origin a rule needs (unknown
        # here, so EXTERNAL) is left to its own event and to reconcile.
        decided = plan(
            candidates, self.rules, now=self.now, published_time=None, own_account=self.own_account
        )
        by_options: dict[_Options, list[PlannedVersion]] = {}
        for sibling in decided.requests:
            if sibling.pinned:
                options = (
                    sibling.destination_repository,
                    sibling.allow_overwrite,
                    sibling.include_from_upstream,
                )
                destination = sibling.destination_repository
                # A version an exception lets through is left to its own event and reconcile too, whose
                # outcome line names the exception (ExceptionUsed); a joined version's would not.
                items = [i for i in sibling.items if (i.candidate[:7], destination) not in decided.exceptions]
                if items:
                    by_options.setdefault(options, []).extend(items)
        return by_options

    def _status_filter(self, request: CopyRequest) -> str | None:
        """``Published`` when every rule of the source only accepts it (the default): the server filters."""
        source = (request.domain, request.source_repository)
        if source not in self._status:
            self._status[source] = listing_status(self.rules.by_source.get(source, ()))
        return self._status[source]

    # ----------------------------------------------------------------- listing

    def _versions(
        self, request: CopyRequest, repository: str, *, status: str | None
    ) -> dict[str, tuple[str | None, str]] | None:
        """The package's versions in ``repository``, version -> (revision, status) ({} when it lacks the
        package); None when catch-up must stay out of this call (no time left, or a read the service
        refuses). A transient failure (throttling, 5xx, a broken or hung connection) raises ``ReadFailed``:
        the package yields its turn to the others, and its retry copies as planned."""
        if self.remaining() < self.reserve:
            return None
        try:
            return package_versions(self.client, request, repository, status=status)
        except Exception as exc:  # a read never fails the call: it yields its turn or leaves catch-up out
            error = call_error(exc)
            if error.transient:
                raise ReadFailed(error) from None
            return None


def _package_key(request: CopyRequest) -> _PackageKey:
    """``Candidate.version_key`` without the version (the namespace as the candidates carry it)."""
    return (
        request.domain,
        request.domain_owner,
        request.source_repository,
        request.format,
        request.namespace,
        request.package,
    )
