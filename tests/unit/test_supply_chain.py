"""Supply-chain controls (issue 20): origin-aware cooldown, expiring exceptions, freezes, denyVersions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from promoter.holds import LookupFailed, VersionFacts
from promoter.outcomes import DEFERRED, FAILED, IGNORED, PROMOTED, Outcome
from promoter.planner import plan
from promoter.report import MemoryMetrics, Reporter
from promoter.rules_document import RulesError
from promoter_dev.recording_logger import RecordingLogger

from .conftest import NOW, candidate, rules

OLD = NOW - timedelta(days=30)
NEW = NOW - timedelta(hours=1)

COOLDOWN_EXTERNAL = """
rules:
  - name: npm
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    minimumReleaseAge: 3d
    minimumReleaseAgeFor: [EXTERNAL]
"""


def facts(published: Any = NEW, origin: str | None = "EXTERNAL") -> Any:
    calls: list[Any] = []

    def lookup(c: Any) -> VersionFacts:
        calls.append(c)
        return VersionFacts(published, origin)

    lookup.calls = calls  # type: ignore[attr-defined]
    return lookup


# --------------------------------------------------------------------------- 1. cooldown by origin


def test_internal_versions_skip_a_cooldown_for_external_only() -> None:
    lookup = facts(NEW, "INTERNAL")
    result = plan([candidate()], rules(COOLDOWN_EXTERNAL), now=NOW, describe=lookup)
    assert [r.destination_repository for r in result.requests] == ["release"]
    assert result.requests[0].items[0].candidate.origin_type == "INTERNAL"
    assert len(lookup.calls) == 1  # one DescribePackageVersion gave the origin and the publish time


def test_external_versions_wait_for_the_cooldown() -> None:
    result = plan([candidate()], rules(COOLDOWN_EXTERNAL), now=NOW, describe=facts(NEW, "EXTERNAL"))
    assert not result.requests
    (outcome,) = result.outcomes
    assert (outcome.status, outcome.reason, outcome.eligible_at) == (DEFERRED, "age", NEW + timedelta(days=3))


@pytest.mark.parametrize("origin", [None, "UNKNOWN"])
def test_unknown_origin_counts_as_external_and_the_line_says_so(origin: str | None) -> None:
    result = plan([candidate()], rules(COOLDOWN_EXTERNAL), now=NOW, describe=facts(NEW, origin))
    (outcome,) = result.outcomes
    assert outcome.status == DEFERRED
    fields = outcome.log_fields()
    assert fields["originType"] == "UNKNOWN"
    assert fields["originNote"] == "unknown origin counted as EXTERNAL (fail closed)"


def test_without_a_lookup_the_origin_is_unknown_and_the_version_waits() -> None:
    result = plan([candidate()], rules(COOLDOWN_EXTERNAL), now=NOW)
    assert [o.status for o in result.outcomes] == [DEFERRED]


def test_cooldown_for_all_origins_by_default_reads_no_origin() -> None:
    text = COOLDOWN_EXTERNAL.replace("    minimumReleaseAgeFor: [EXTERNAL]\n", "")
    result = plan([candidate()], rules(text), now=NOW, describe=facts(NEW, "INTERNAL"))
    assert [o.status for o in result.outcomes] == [DEFERRED]


ORIGINS = """
rules:
  - name: internal-only
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    origins: [INTERNAL]
"""


def test_origins_filter_selects_by_origin() -> None:
    internal = plan([candidate()], rules(ORIGINS), now=NOW, describe=facts(NEW, "INTERNAL"))
    assert len(internal.requests) == 1
    external = plan([candidate()], rules(ORIGINS), now=NOW, describe=facts(NEW, "EXTERNAL"))
    (outcome,) = external.outcomes
    assert (outcome.status, outcome.reason, outcome.rule) == (IGNORED, "origin", "internal-only")
    assert "EXTERNAL not in ['INTERNAL']" in (outcome.error_message or "")
    unknown = plan([candidate()], rules(ORIGINS), now=NOW, describe=facts(NEW, None))
    assert unknown.outcomes[0].reason == "origin"
    assert "fail closed" in (unknown.outcomes[0].error_message or "")


def test_a_listed_origin_needs_no_lookup() -> None:
    lookup = facts()
    result = plan([candidate(origin_type="INTERNAL")], rules(ORIGINS), now=NOW, describe=lookup)
    assert len(result.requests) == 1
    assert lookup.calls == []
    rejected = plan([candidate(origin_type="EXTERNAL")], rules(ORIGINS), now=NOW, describe=lookup)
    assert rejected.outcomes[0].reason == "origin"


def test_an_origin_from_the_source_listing_spares_the_describe() -> None:
    lookup = facts(NEW, "EXTERNAL")
    internal = plan(
        [candidate()], rules(COOLDOWN_EXTERNAL), now=NOW, describe=lookup, listed_origin=lambda c: "INTERNAL"
    )
    assert [r.destination_repository for r in internal.requests] == ["release"]
    assert internal.requests[0].items[0].candidate.origin_type == "INTERNAL"
    assert lookup.calls == []  # an INTERNAL version under a cooldown for EXTERNAL ones needs no publish time

    external = plan(
        [candidate()], rules(COOLDOWN_EXTERNAL), now=NOW, describe=lookup, listed_origin=lambda c: "EXTERNAL"
    )
    assert (external.outcomes[0].status, external.outcomes[0].reason) == (DEFERRED, "age")
    assert len(lookup.calls) == 1  # only the publish time was read


def test_a_version_the_listing_does_not_name_is_described() -> None:
    lookup = facts(NEW, "INTERNAL")
    result = plan(
        [candidate()], rules(COOLDOWN_EXTERNAL), now=NOW, describe=lookup, listed_origin=lambda c: None
    )
    assert len(result.requests) == 1
    assert len(lookup.calls) == 1


def test_a_failed_origin_lookup_is_retryable_failure() -> None:
    def failing(_: Any) -> VersionFacts:
        raise LookupFailed("ThrottlingException", "slow down", retryable=True)

    result = plan([candidate()], rules(ORIGINS), now=NOW, describe=failing)
    (outcome,) = result.outcomes
    assert (outcome.status, outcome.destination, outcome.retryable) == (FAILED, "release", True)


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        (
            "    minimumReleaseAgeFor: [EXTERNAL]\n",
            "minimumReleaseAgeFor",
            "no effect without minimumReleaseAge",
        ),
        ("    origins: [UNKNOWN]\n", "origins", "already counts as EXTERNAL"),
        ("    origins: [internal]\n", "origins", "is not INTERNAL or EXTERNAL"),
        ("    origins: []\n", "origins", "non-empty list"),
    ],
)
def test_origin_keys_are_validated(extra: str, field: str, message: str) -> None:
    text = ORIGINS.replace("    origins: [INTERNAL]\n", extra)
    with pytest.raises(RulesError, match=message) as caught:
        rules(text)
    assert caught.value.field == field


# --------------------------------------------------------------------------- 2. exceptions


def with_top(body: str, rules_text: str = COOLDOWN_EXTERNAL) -> str:
    return rules_text + body


EXCEPTION = """
exceptions:
  - format: npm
    package: widgets
    versions: "1.0.0"
    reason: CVE-2026-1234 fix, approved by security
    expires: 2026-12-31T00:00:00Z
"""


def test_an_exception_passes_the_cooldown_and_is_named() -> None:
    ruleset = rules(with_top(EXCEPTION))
    result = plan([candidate()], ruleset, now=NOW, describe=facts(NEW, "EXTERNAL"))
    assert len(result.requests) == 1
    used = result.exceptions[(candidate().version_key, "release")]
    assert used.name == "npm/widgets@1.0.0"
    promoted = result.annotate(Outcome(PROMOTED, candidate(), destination="release", rule="npm"))
    fields = promoted.log_fields()
    assert fields["exception"] == "npm/widgets@1.0.0"
    assert fields["exceptionReason"] == "CVE-2026-1234 fix, approved by security"
    metrics = MemoryMetrics()
    reporter = Reporter(RecordingLogger(), metrics)
    reporter.outcome(promoted)
    reporter.flush()
    assert metrics.values[("ExceptionUsed", ("Exception", "npm/widgets@1.0.0"))] == 1


def test_an_exception_is_only_used_when_it_makes_a_difference() -> None:
    ruleset = rules(with_top(EXCEPTION))
    result = plan([candidate()], ruleset, now=NOW, describe=facts(OLD, "EXTERNAL"))
    assert len(result.requests) == 1
    assert result.exceptions == {}


def test_an_expired_exception_passes_nothing() -> None:
    ruleset = rules(with_top(EXCEPTION.replace("2026-12-31", "2026-11-01")))
    result = plan([candidate()], ruleset, now=NOW, describe=facts(NEW))
    assert [o.status for o in result.outcomes] == [DEFERRED]
    warnings = ruleset.warnings(NOW)
    assert any("exceptions[0]" in w and "expired" in w for w in warnings)


def test_an_exception_does_not_pass_other_filters() -> None:
    ruleset = rules(with_top(EXCEPTION, ORIGINS))
    result = plan([candidate()], ruleset, now=NOW, describe=facts(NEW, "EXTERNAL"))
    assert result.outcomes[0].reason == "origin"
    other_version = plan(
        [candidate(version="1.0.1")], rules(with_top(EXCEPTION)), now=NOW, describe=facts(NEW)
    )
    assert [o.status for o in other_version.outcomes] == [DEFERRED]


def test_exception_ranges_are_in_the_format_language() -> None:
    text = EXCEPTION.replace("format: npm", "format: pypi").replace('"1.0.0"', '">=1.0,<2"')
    ruleset = rules(
        with_top(text, COOLDOWN_EXTERNAL.replace("minimumReleaseAgeFor: [EXTERNAL]", "formats: [pypi]"))
    )
    result = plan([candidate(format="pypi", version="1.5")], ruleset, now=NOW, describe=facts(NEW))
    assert len(result.requests) == 1
    with pytest.raises(RulesError, match="not a valid pypi version or range") as caught:
        rules(with_top(EXCEPTION.replace("format: npm", "format: pypi")))
    assert caught.value.field == "exceptions[0].versions"


@pytest.mark.parametrize(
    ("drop", "field", "message"),
    [
        ("    expires: 2026-12-31T00:00:00Z\n", "exceptions[0].expires", "without an end date"),
        ("    reason: CVE-2026-1234 fix, approved by security\n", "exceptions[0].reason", "say why"),
        ("    package: widgets\n", "exceptions[0].package", "is required"),
    ],
)
def test_exceptions_without_expires_or_reason_are_refused(drop: str, field: str, message: str) -> None:
    with pytest.raises(RulesError, match=message) as caught:
        rules(with_top(EXCEPTION.replace(drop, "")))
    assert caught.value.field == field
    assert field in str(caught.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-12-31", "no time zone"),  # a YAML date, or text when a loader keeps it
        ("'2026-12-31T00:00:00'", "no time zone"),
        ("tomorrow", "ISO 8601"),
    ],
)
def test_expires_must_be_a_timestamp_with_a_zone(value: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        rules(with_top(EXCEPTION.replace("2026-12-31T00:00:00Z", value)))


def test_unknown_keys_in_an_exception_are_refused() -> None:
    with pytest.raises(RulesError, match="unknown key") as caught:
        rules(with_top(EXCEPTION + "    name: x\n"))
    assert caught.value.field == "exceptions[0].name"


# --------------------------------------------------------------------------- 3. freezes


FREEZE = """
freeze:
  publishedAfter: 2026-11-20T00:00:00Z
"""
PLAIN = """
rules:
  - name: npm
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
"""


def test_a_freeze_defers_versions_published_after_it() -> None:
    ruleset = rules(with_top(FREEZE, PLAIN))
    result = plan([candidate()], ruleset, now=NOW, describe=facts(NEW, "INTERNAL"))
    (outcome,) = result.outcomes
    assert (outcome.status, outcome.reason, outcome.eligible_at) == (DEFERRED, "freeze", None)
    assert "publishedAfter 2026-11-20" in (outcome.error_message or "")
    metrics = MemoryMetrics()
    reporter = Reporter(RecordingLogger(), metrics)
    reporter.outcome(outcome)
    reporter.flush()
    assert metrics.total("VersionsFrozen") == 1
    assert metrics.total("VersionsDeferred") == 1


def test_a_freeze_lets_older_versions_through_and_ends_at_until() -> None:
    ruleset = rules(with_top(FREEZE, PLAIN))
    assert len(plan([candidate()], ruleset, now=NOW, describe=facts(OLD)).requests) == 1
    until = rules(with_top(FREEZE + "  until: 2026-11-27T00:00:00Z\n", PLAIN))
    frozen = plan([candidate()], until, now=NOW, describe=facts(NEW))
    assert frozen.outcomes[0].eligible_at is not None
    assert frozen.outcomes[0].eligible_at.isoformat() == "2026-11-27T00:00:00+00:00"
    lifted = plan([candidate()], until, now=NOW + timedelta(days=2), describe=facts(NEW))
    assert len(lifted.requests) == 1


def test_an_unknown_publish_time_is_frozen() -> None:
    result = plan([candidate()], rules(with_top(FREEZE, PLAIN)), now=NOW, describe=facts(None))
    assert result.outcomes[0].reason == "freeze"


@pytest.mark.parametrize(
    ("published_after", "reads"),
    [
        ("2099-01-01T00:00:00Z", 0),  # a freeze set for a later date holds nothing published yet
        ((NOW + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), 1),  # within the service clock's skew
        ((NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), 1),
    ],
)
def test_a_freeze_reads_publish_times_only_once_its_instant_is_near(published_after: str, reads: int) -> None:
    lookup = facts(OLD, "INTERNAL")
    ruleset = rules(with_top(f"freeze:\n  publishedAfter: {published_after}\n", PLAIN))
    result = plan([candidate()], ruleset, now=NOW, describe=lookup)
    assert len(result.requests) == 1
    assert len(lookup.calls) == reads


def test_a_future_freeze_does_not_hold_a_version_whose_publish_time_is_unknown() -> None:
    ruleset = rules(with_top("freeze:\n  publishedAfter: 2099-01-01T00:00:00Z\n", PLAIN))
    assert len(plan([candidate()], ruleset, now=NOW, describe=facts(None)).requests) == 1


def test_a_rule_freeze_holds_only_that_rule() -> None:
    text = (
        PLAIN
        + """  - name: audit
    domain: acme
    sourceRepository: staging
    destinationRepositories: [audit]
    freeze:
      publishedAfter: 2026-11-20T00:00:00Z
"""
    )
    result = plan([candidate()], rules(text), now=NOW, describe=facts(NEW))
    assert [r.destination_repository for r in result.requests] == ["release"]
    assert [(o.destination, o.reason) for o in result.outcomes] == [("audit", "freeze")]


def test_exceptions_pass_a_freeze() -> None:
    ruleset = rules(with_top(FREEZE + EXCEPTION, PLAIN))
    result = plan([candidate()], ruleset, now=NOW, describe=facts(NEW))
    assert len(result.requests) == 1
    assert result.exceptions[(candidate().version_key, "release")].reason.startswith("CVE")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("freeze: {}\n", "freeze.publishedAfter", "is required"),
        ("freeze: {publishedAfter: x}\n", "freeze.publishedAfter", "ISO 8601"),
        (
            "freeze: {publishedAfter: 2026-11-20T00:00:00Z, until: 2026-11-19T00:00:00Z}\n",
            "freeze.until",
            "later than publishedAfter",
        ),
        ("freeze: {publishedAfter: 2026-11-20T00:00:00Z, from: 1}\n", "freeze", "unknown key 'from'"),
    ],
)
def test_freeze_is_validated(body: str, field: str, message: str) -> None:
    with pytest.raises(RulesError, match=message) as caught:
        rules(PLAIN + body)
    assert caught.value.field == field


def test_an_ended_freeze_is_a_warning() -> None:
    ruleset = rules(with_top(FREEZE + "  until: 2026-11-21T00:00:00Z\n", PLAIN))
    assert any("ended at 2026-11-21" in w for w in ruleset.warnings(NOW))


# --------------------------------------------------------------------------- 4. denyVersions


DENY = """
denyVersions:
  - format: npm
    package: widgets
    versions: "1.0.0"
    reason: compromised maintainer account (INC-42)
"""


def test_denied_versions_are_ignored_with_reason_denied() -> None:
    result = plan([candidate()], rules(with_top(DENY, PLAIN)), now=NOW, describe=facts(OLD))
    (outcome,) = result.outcomes
    assert (outcome.status, outcome.reason, outcome.rule) == (IGNORED, "denied", "npm")
    assert "INC-42" in (outcome.error_message or "")
    assert len(plan([candidate(version="1.0.1")], rules(with_top(DENY, PLAIN)), now=NOW).requests) == 1


def test_an_exception_does_not_lift_a_denial() -> None:
    result = plan([candidate()], rules(with_top(DENY + EXCEPTION)), now=NOW, describe=facts(NEW))
    assert result.outcomes[0].reason == "denied"


def test_deny_entries_fold_names_as_the_format_does() -> None:
    text = (
        DENY.replace("format: npm", "format: pypi")
        .replace("widgets", "Acme_Widgets")
        .replace('"1.0.0"', '"==1.0.0"')
    )
    result = plan([candidate(format="pypi", package="acme-widgets")], rules(with_top(text, PLAIN)), now=NOW)
    assert result.outcomes[0].reason == "denied"


def test_deny_entries_need_no_expires_and_refuse_it() -> None:
    with pytest.raises(RulesError, match="unknown key") as caught:
        rules(with_top(DENY + "    expires: 2026-12-31T00:00:00Z\n", PLAIN))
    assert caught.value.field == "denyVersions[0].expires"


def test_explain_names_the_new_reasons() -> None:
    ruleset = rules(with_top(DENY, PLAIN))
    (explained,) = ruleset.explain(candidate(), now=NOW, published_time=OLD)
    assert explained.rejected_by == "denied"
    frozen = rules(with_top(FREEZE, PLAIN))
    (explained,) = frozen.explain(candidate(), now=NOW, published_time=NEW)
    assert explained.rejected_by == "freeze"
    cooled = rules(COOLDOWN_EXTERNAL)
    (explained,) = cooled.explain(candidate(), now=NOW, published_time=NEW, origin_type="INTERNAL")
    assert explained.rejected_by is None
    (explained,) = cooled.explain(candidate(), now=NOW, published_time=NEW, origin_type="UNKNOWN")
    assert explained.rejected_by == "age"
