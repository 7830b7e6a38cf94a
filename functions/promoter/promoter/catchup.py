"""Catch-up: one copy call per package and destination, even when the package's events arrive in many batches.

Copy calls are the scarce resource (5 requests/s per account by default) and the planner can only coalesce
what one batch holds, while a release spreads one package's events over many batches. So just before each
copy this module reads the package in the destination and in the source (ListPackageVersions, which has its
own, much larger quota) and

- takes out of the call the versions already identical in the destination: ``already_present``, and when
  nothing is left the call is not made;
- takes out the versions whose event names a revision the source no longer holds: ``superseded``, exactly
  what the copy would answer (MISMATCHED_REVISION), without spending the call on it;
- adds the package's other versions in the source that the same rules send to the same destination with the
  same options, that the destination lacks and that need no waiting, pinned to the listed revision, up to
  the call's 100 versions (reported ``promoted`` with reason ``catch-up``; their own events then find them
  present).

It never adds a call and takes the decisions reconcile would take for the package, only earlier. A refused
listing or no time left leaves the call as planned; a transient listing failure makes the package yield its
turn and copy as planned in the copier's next round: correctness never depends on catch-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from promoter.copier import ReadFailed, call_error
from promoter.copy_answers import outcome
from promoter.events import Candidate
from promoter.listed import Listed, ListedVersion, PackageAt, listed_candidate
from promoter.matching import RuleSet, listing_status
from promoter.outcomes import ALREADY_PRESENT, SUPERSEDED, Outcome
from promoter.planner import MAX_VERSIONS_PER_CALL, CopyRequest, PlannedVersion, plan
from promoter.reader import IDENTICAL, compare, read_versions, revisions

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
        sources: SourceListings | None = None,
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
        self.sources = sources or SourceListings(client, rules, remaining=remaining, reserve=reserve)
        self._siblings: dict[_PackageKey, dict[_Options, list[PlannedVersion]] | None] = {}
        self._taken: set[tuple[_PackageKey, str, str]] = set()

    def prepare(self, request: CopyRequest) -> tuple[CopyRequest, list[Outcome]]:
        """The call to make instead of ``request`` (possibly with no items: make none), and the outcomes
        decided without it."""
        present = _read(
            self.client,
            PackageAt.of(request, request.destination_repository),
            status=None,
            remaining=self.remaining,
            reserve=self.reserve,
        )
        if present is None:
            return request, []
        held = revisions(present)
        source = self.sources.of(request)
        outcomes: list[Outcome] = []
        keep: list[PlannedVersion] = []
        for item in request.items:
            version, revision = item.candidate.version, item.candidate.revision
            now_held, _, _ = source.get(version, _UNLISTED) if source is not None else _UNLISTED
            if compare(held, version, revision) == IDENTICAL:
                outcomes.append(outcome(request, item, ALREADY_PRESENT))
            elif revision and now_held and now_held != revision:
                # What the copy would answer (MISMATCHED_REVISION): the source moved on to a newer build,
                # whose own event promotes it (or did: an earlier batch's catch-up may have copied it).
                message = f"the source now holds revision {now_held} of this version"
                outcomes.append(
                    outcome(request, item, SUPERSEDED, code="MISMATCHED_REVISION", message=message)
                )
            else:
                keep.append(item)
        room = MAX_VERSIONS_PER_CALL - len(keep)
        if keep and room > 0 and request.pinned:
            keep.extend(self._join(request, present, room))
        return request._replace(items=tuple(keep)), outcomes

    # ----------------------------------------------------------------- siblings

    def _join(self, request: CopyRequest, present: Listed, room: int) -> list[PlannedVersion]:
        key = _package_key(request)
        if key not in self._siblings:
            self._siblings[key] = self._plan_siblings(request, self.sources.of(request))
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

    def _plan_siblings(
        self, request: CopyRequest, listed: Listed | None
    ) -> dict[_Options, list[PlannedVersion]] | None:
        key = _package_key(request)
        if not listed:
            return None
        source = PackageAt.of(request, request.source_repository)
        candidates = [
            listed_candidate(
                source, ListedVersion(version, revision, status), origin=REASON, origin_type=origin_type
            )
            for version, (revision, status, origin_type) in listed.items()
            if revision and (*key, version) not in self.known
        ]
        if not candidates:
            return None
        # No publish-time lookup: a version that has to age or is frozen is left to its own event and to
        # reconcile (the listing names each version's origin).
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
                items = [
                    i
                    for i in sibling.items
                    if (i.candidate.version_key, destination) not in decided.exceptions
                ]
                if items:
                    by_options.setdefault(options, []).extend(items)
        return by_options


class SourceListings:
    """Per invocation: each package's versions in its source, read at most once (the events are older than
    the invocation) and shared by the planner, which takes a version's origin from it instead of describing
    the version, and by catch-up, which takes the version's siblings."""

    def __init__(
        self, client: Any, rules: RuleSet, *, remaining: Callable[[], float], reserve: float
    ) -> None:
        self.client = client
        self.rules = rules
        self.remaining = remaining
        self.reserve = reserve
        self._listed: dict[PackageAt, Listed | None] = {}
        self._status: dict[tuple[str, str], str | None] = {}

    def of(self, package: Candidate | CopyRequest) -> Listed | None:
        """The versions of ``package`` (a candidate or a copy call) in its source; see ``_read``."""
        at = PackageAt.of(package, package.source_repository)
        if at not in self._listed:
            self._listed[at] = _read(
                self.client,
                at,
                status=self._status_filter(at),
                remaining=self.remaining,
                reserve=self.reserve,
            )
        return self._listed[at]

    def origin_type(self, candidate: Candidate) -> str | None:
        """The origin the source lists for the candidate's revision; None when the listing does not say (the
        version is not listed, or as another revision, or the source cannot be read now): the planner then
        describes the version."""
        try:
            listed = self.of(candidate)
        except ReadFailed:
            return None
        revision, _, origin_type = listed.get(candidate.version, _UNLISTED) if listed else _UNLISTED
        if revision is None or (candidate.revision and revision != candidate.revision):
            return None
        return origin_type

    def _status_filter(self, at: PackageAt) -> str | None:
        """``Published`` when every rule of the source only accepts it (the default): the server filters."""
        source = (at.domain, at.repository)
        if source not in self._status:
            self._status[source] = listing_status(self.rules.by_source.get(source, ()))
        return self._status[source]


_UNLISTED: tuple[str | None, str, str | None] = (None, "", None)


def _read(
    client: Any, at: PackageAt, *, status: str | None, remaining: Callable[[], float], reserve: float
) -> Listed | None:
    """The package's versions (``{}`` when the repository lacks the package); None when catch-up must stay
    out of the call (no time left, or a read the service refuses). A transient failure (throttling, 5xx, a
    broken or hung connection) raises ``ReadFailed``: the package yields its turn to the others, and its
    retry copies as planned."""
    if remaining() < reserve:
        return None
    try:
        return read_versions(client, at, status=status)
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
