"""The handler's work as plain functions: records in, outcomes reported, records to retry out.

Everything the work depends on comes in through ``Dependencies`` so tests (and reconcile,
and the CLI) hand in a fake client, a fixed clock, rules and a reporter without patching.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from promoter.catchup import REASON as CATCH_UP_REASON
from promoter.catchup import CatchUp, SourceListings
from promoter.copier import Copier, RetryPolicy, no_deadline
from promoter.events import (
    Candidate,
    MalformedEvent,
    NotCodeArtifactEvent,
    OtherRegionEvent,
    VersionKey,
    excerpt,
    parse_event,
    parse_sqs_body,
)
from promoter.matching import RuleSet
from promoter.outcomes import FAILED, IGNORED, PROMOTED, Outcome
from promoter.pacing import RateLimiter
from promoter.planner import plan
from promoter.report import MALFORMED, NOT_CODEARTIFACT, REGION, Reporter
from promoter.rule_filters import STATE


def utc_now() -> datetime:
    return datetime.now(UTC)


DEFAULT_POLICY = RetryPolicy()


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class Dependencies(NamedTuple):
    """What one invocation works with; all of it replaceable in tests."""

    client: Any
    rules: RuleSet
    reporter: Reporter
    clock: Callable[[], datetime] = utc_now
    remaining: Callable[[], float] = no_deadline
    limiter: RateLimiter | None = None
    policy: RetryPolicy = DEFAULT_POLICY
    sleep: Callable[[float], None] = time.sleep
    # The function's own account: the owner of the domains of rules that name no domainOwner.
    account_id: str | None = None
    # Fill each copy call with the package's other versions the rules accept (promoter.catchup).
    catch_up: bool = True
    # The function's region: an event of another region is ignored (reason ``region``), never copied in
    # this region's domain of the same name. None: not checked.
    region: str | None = None

    def copier(self) -> Copier:
        return Copier(
            self.client, remaining=self.remaining, limiter=self.limiter, policy=self.policy, sleep=self.sleep
        )


class PromotionIncomplete(RuntimeError):
    """Raised for a directly invoked event whose copy must be retried (Lambda's async retry takes over)."""


def promote(candidates: Sequence[Candidate], deps: Dependencies) -> list[Outcome]:
    """Plan and copy ``candidates``; report every outcome; return them."""
    copier = deps.copier()
    now = deps.clock()
    sources = SourceListings(
        deps.client, deps.rules, remaining=deps.remaining, reserve=deps.policy.call_reserve
    )
    result = plan(
        candidates,
        deps.rules,
        now=now,
        describe=copier.describe_version,
        listed_origin=sources.origin_type,
        own_account=deps.account_id,
    )
    outcomes = list(result.outcomes)
    for outcome in outcomes:
        deps.reporter.outcome(outcome)
    catch_up = (
        CatchUp(
            deps.client,
            deps.rules,
            now=now,
            remaining=deps.remaining,
            reserve=deps.policy.call_reserve,
            own_account=deps.account_id,
            known=_decided(candidates, result.outcomes),
            sources=sources,
        )
        if deps.catch_up and result.requests
        else None
    )
    # Reported attempt by attempt: a log line is never held back by later copies.
    prepare = catch_up.prepare if catch_up is not None else None
    for decided in copier.copy_fairly(result.requests, prepare):
        for outcome in decided:
            reported = _own(result.annotate(outcome))
            if reported is not None:
                deps.reporter.outcome(reported)
                outcomes.append(reported)
    deps.reporter.copy_stats(copier.stats)
    return outcomes


def _decided(candidates: Sequence[Candidate], outcomes: Sequence[Outcome]) -> set[VersionKey]:
    """The batch's versions whose decision catch-up must not revisit: all of them but those ignored for their
    state, which the source may list as Published by now (a Maven version's last event in another batch)."""
    waiting = {
        o.candidate.version_key
        for o in outcomes
        if o.status == IGNORED and o.reason == STATE and o.candidate is not None
    }
    return {c.version_key for c in candidates} - waiting


def _own(outcome: Outcome) -> Outcome | None:
    """The outcome to report: a version that only joined another's call is reported when it was promoted
    (with reason ``catch-up``); otherwise its own event, or reconcile, still owns it."""
    if outcome.candidate is None or outcome.candidate.origin != CATCH_UP_REASON:
        return outcome
    return outcome._replace(reason=CATCH_UP_REASON) if outcome.status == PROMOTED else None


def retry_keys(outcomes: Iterable[Outcome]) -> set[VersionKey]:
    return {o.candidate.version_key for o in outcomes if o.status == FAILED and o.retryable and o.candidate}


def _ignore_other_region(event: OtherRegionEvent, deps: Dependencies) -> None:
    """An event of another region (routed across regions into this bus, or replayed from an archive) names a
    domain of that region: reported ignored with reason ``region``, and never copied here."""
    deps.reporter.outcome(
        Outcome(
            IGNORED,
            event.candidate,
            reason=REGION,
            error_message=f"event of region {event.region}; this function serves {deps.region}",
        )
    )


def process_sqs_records(records: Sequence[Any], deps: Dependencies) -> set[str]:
    """Promote what an SQS batch carries; return the message ids the queue must deliver again.

    A record is retried when any version it carries (after coalescing, possibly through
    another record of the same version) failed in a retryable way or was not reached in
    time. Malformed records are logged, counted and acknowledged: retrying cannot repair
    them, and they would only cycle to the dead-letter queue.
    """
    candidates: list[Candidate] = []
    for record in records:
        if not isinstance(record, Mapping):
            deps.reporter.ignored_input(MALFORMED, "SQS record is not an object", excerpt=excerpt(record))
            continue
        message_id = record.get("messageId")
        message_id = message_id if isinstance(message_id, str) and message_id else None
        body = record.get("body")
        try:
            candidate = parse_sqs_body(body, origin=message_id, region=deps.region)
        except OtherRegionEvent as exc:
            _ignore_other_region(exc, deps)
            continue
        except MalformedEvent as exc:
            deps.reporter.ignored_input(MALFORMED, str(exc), record_id=message_id, excerpt=excerpt(body))
            continue
        except NotCodeArtifactEvent as exc:
            deps.reporter.ignored_input(
                NOT_CODEARTIFACT, str(exc), record_id=message_id, excerpt=excerpt(body)
            )
            continue
        candidates.append(candidate)
    if not candidates:
        return set()
    outcomes = promote(candidates, deps)
    retry = retry_keys(outcomes)
    if not retry:
        return set()
    # A candidate's origin is its record's message id (None: the record cannot be retried by id).
    return {c.origin for c in candidates if c.origin is not None and c.version_key in retry}


def process_event(event: Any, deps: Dependencies) -> dict[str, Any]:
    """Promote what one raw EventBridge event carries; returns a summary of outcomes."""
    try:
        candidate = parse_event(event, region=deps.region)
    except OtherRegionEvent as exc:
        _ignore_other_region(exc, deps)
        return {"outcomes": {"ignored": 1}}
    except MalformedEvent as exc:
        deps.reporter.ignored_input(MALFORMED, str(exc), excerpt=excerpt(event))
        return {"outcomes": {"ignored": 1}}
    except NotCodeArtifactEvent as exc:
        deps.reporter.ignored_input(NOT_CODEARTIFACT, str(exc), excerpt=excerpt(event))
        return {"outcomes": {"ignored": 1}}
    outcomes = promote([candidate], deps)
    summary: dict[str, int] = {}
    for outcome in outcomes:
        summary[outcome.status] = summary.get(outcome.status, 0) + 1
    if retry_keys(outcomes):
        raise PromotionIncomplete(
            f"{candidate.package} {candidate.version}: a copy failed in a retryable way (see the log lines)"
        )
    return {"outcomes": summary}
