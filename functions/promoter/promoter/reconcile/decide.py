"""Deciding one listed package: what each destination lacks goes through the event path's planner, copier
and reporter, so a listed version is promoted exactly as an event's would be.

Whether a destination holds a version (identical, or as another build) is decided by ``reader.compare``,
as everywhere else; a destination holding another revision with allowOverwrite off is reported as the copy
would answer it (ALREADY_EXISTS, failed) without spending the call. Each package and destination that lacks
something costs one CopyPackageVersions call (up to 100 versions), and one DescribePackageVersion per
missing version under a cooldown rule.
"""

from __future__ import annotations

from promoter.copier import Copier
from promoter.events import Candidate
from promoter.listed import PackageAt
from promoter.origin_controls import Controls, read_controls, refusal
from promoter.outcomes import DEFERRED, FAILED, IGNORED, Outcome
from promoter.planner import CopyRequest, Plan, plan
from promoter.reader import IDENTICAL, MISSING, OTHER_REVISION, compare
from promoter.reconcile.package import ListedPackage
from promoter.reconcile.results import (
    ALREADY_EXISTS,
    ALREADY_PRESENT,
    CONFLICT,
    COPY,
    MISSING_CODE,
    NOT_ALLOWED,
    OVERWRITE,
    PLAN_FAILED,
    PRESENT,
    SKIP,
    UNREADABLE,
    PlanItem,
)
from promoter.reconcile.state import RunState
from promoter.report import FREEZE
from promoter.rule_filters import AGE, DENIED, EXTERNAL, INTERNAL, origin_text

RETRY_ROUNDS = 2
"""Retry rounds of one package's copies: a package whose copies keep failing must not spend the run the
others need (what it could not copy, the next run or its own events copy)."""


class Decider:
    """Decides, copies and reports the listed packages of one run, in walk order."""

    def __init__(self, state: RunState, copier: Copier) -> None:
        self.state = state
        self.copier = copier
        self._controls: dict[tuple[str, str, str, str | None, str], Controls] = {}
        """``plan``: origin controls read per (domain, destination, format, namespace, package)."""

    def process(self, listed: ListedPackage, *, dry_run: bool, fail_fast: bool) -> None:
        for rejected in listed.rejected:
            self.state.item(rejected)
        self._unreadable_destinations(listed, fail_fast=fail_fast)
        needed = self._needed(listed)
        if not needed:
            return
        deps = self.state.deps
        decided = plan(needed, deps.rules, now=deps.clock(), describe=self.copier.describe_version)
        outcomes: list[Outcome] = []
        requests = [
            kept
            for request in decided.requests
            if (kept := self._copies(listed, decided, request, outcomes, dry_run=dry_run)) is not None
        ]
        outcomes.extend(self._not_copied(listed, decided))
        if dry_run:
            return
        copied = self.copier.copy_all(requests, rounds=RETRY_ROUNDS)
        outcomes.extend(decided.annotate(outcome) for outcome in copied)
        for outcome in outcomes:
            self.state.result.outcomes.append(outcome)
            deps.reporter.outcome(outcome)
            if self.state.progress.on_outcome:
                self.state.progress.on_outcome(outcome)

    def _unreadable_destinations(self, listed: ListedPackage, *, fail_fast: bool) -> None:
        """A destination that could not be read is an error of the run (each distinct one once)."""
        for destination, (code, message) in listed.unreadable.items():
            where = (
                f"domain {listed.source.domain!r}, destination {destination!r} "
                f"(of source {listed.source.repository!r})"
            )
            self.state.fail(f"{where}: {code}: {message}", code, fail_fast=fail_fast)

    def _needed(self, listed: ListedPackage) -> list[Candidate]:
        """The wanted versions some readable destination lacks; the others are shown as skipped."""
        needed: list[Candidate] = []
        for candidate, destinations in listed.wanted:
            missing = False
            for destination in destinations:
                if destination in listed.unreadable:
                    code = listed.unreadable[destination][0]
                    reason = f"destination could not be read: {code}"
                    self.state.item(PlanItem(candidate, destination, SKIP, reason, code=UNREADABLE))
                elif compare(listed.held[destination], candidate.version, candidate.revision) == IDENTICAL:
                    self.state.item(PlanItem(candidate, destination, SKIP, PRESENT, code=ALREADY_PRESENT))
                else:
                    missing = True
            if missing:
                needed.append(candidate)
        return needed

    def _copies(
        self,
        listed: ListedPackage,
        decided: Plan,
        request: CopyRequest,
        outcomes: list[Outcome],
        *,
        dry_run: bool,
    ) -> CopyRequest | None:
        """The part of a planned request the destination lacks (None: nothing), each version shown; another
        revision with allowOverwrite off is the conflict the copy would answer, reported without the call."""
        destination = request.destination_repository
        held = listed.held.get(destination)
        if held is None:  # unreadable: already reported
            return None
        keep = []
        for planned in request.items:
            candidate = planned.candidate
            state = compare(held, candidate.version, candidate.revision)
            if state == MISSING or (state == OTHER_REVISION and request.allow_overwrite):
                refused = self._refused(listed, candidate, destination) if dry_run else None
                if refused is not None:
                    self.state.item(
                        PlanItem(candidate, destination, SKIP, refused, planned.rule, NOT_ALLOWED)
                    )
                    continue
                keep.append(planned)
                code = MISSING_CODE if state == MISSING else OVERWRITE
                used = decided.exceptions.get((candidate.version_key, destination))
                why = f"exception {used.name}: {used.reason}" if used is not None else None
                self.state.item(PlanItem(candidate, destination, COPY, why, planned.rule, code))
            elif state == OTHER_REVISION:
                revision = held[candidate.version]
                reason = f"destination holds revision {revision} and allowOverwrite is off"
                self.state.item(PlanItem(candidate, destination, SKIP, reason, planned.rule, CONFLICT))
                message = (
                    f"{destination} holds revision {revision} of this version, not {candidate.revision}, "
                    "and allowOverwrite is off"
                )
                outcomes.append(
                    Outcome(
                        FAILED,
                        candidate,
                        destination=destination,
                        rule=planned.rule,
                        error_code=ALREADY_EXISTS,
                        error_message=message,
                    )
                )
            # IDENTICAL: already shown as present
        return request._replace(items=tuple(keep)) if keep else None

    def _not_copied(self, listed: ListedPackage, decided: Plan) -> list[Outcome]:
        """The planner's own outcomes (denied, deferred, frozen, failed) for destinations that lack the
        version, each shown as a skip."""
        held = listed.held
        outcomes: list[Outcome] = []
        wanted = {c.version_key: destinations for c, destinations in listed.wanted}
        for outcome in decided.outcomes:
            candidate = outcome.candidate
            if outcome.status == IGNORED and outcome.reason == DENIED and candidate is not None:
                # Denied (denyVersions): shown per destination that lacks it, reported once.
                for destination in wanted.get(candidate.version_key, ()):
                    if destination in held and not self._identical(listed, candidate, destination):
                        detail = f"denied: {outcome.error_message}"
                        self.state.item(PlanItem(candidate, destination, SKIP, detail, outcome.rule, DENIED))
                outcomes.append(outcome)
                continue
            if candidate is None or outcome.destination is None or outcome.status == IGNORED:
                continue
            destination = outcome.destination
            if destination not in held or self._identical(listed, candidate, destination):
                continue
            reason, code = _skip_reason(outcome, candidate)
            self.state.item(PlanItem(candidate, destination, SKIP, reason, outcome.rule, code))
            outcomes.append(outcome)
        return outcomes

    @staticmethod
    def _identical(listed: ListedPackage, candidate: Candidate, destination: str) -> bool:
        return compare(listed.held[destination], candidate.version, candidate.revision) == IDENTICAL

    def _refused(self, listed: ListedPackage, candidate: Candidate, destination: str) -> str | None:
        """``plan``: "would be refused: ..." when the destination's origin controls would answer the copy
        NOT_ALLOWED (read once per destination package; a failed read decides nothing)."""
        key = (candidate.domain, destination, candidate.format, candidate.namespace, candidate.package)
        controls = self._controls.get(key)
        if controls is None:
            controls = read_controls(self.state.list_client, PackageAt.of(candidate, destination))
            self._controls[key] = controls
        origin = listed.origins.get(candidate.version) or "UNKNOWN"
        why = refusal(controls, origin, destination)
        return None if why is None else f"would be refused: {why} (origin {origin})"


def _skip_reason(outcome: Outcome, candidate: Candidate) -> tuple[str, str]:
    """(prose, code) of a version the planner deferred, froze or could not decide."""
    if outcome.status == DEFERRED and outcome.reason == FREEZE:
        until = f" until {outcome.eligible_at.isoformat()}" if outcome.eligible_at else ""
        return f"frozen{until} ({outcome.error_message})", FREEZE
    if outcome.status == DEFERRED:
        when = outcome.eligible_at.isoformat() if outcome.eligible_at else "its publish time is known"
        reason = f"deferred until {when}"
        if candidate.origin_type not in (None, INTERNAL, EXTERNAL):  # the fail-closed reading, said
            reason += f" (origin {origin_text(candidate.origin_type)})"
        return reason, AGE
    return f"failed: {outcome.error_code}: {outcome.error_message}", PLAN_FAILED
