"""Planning: coalescing, grouping, chunking, union of destinations, cooldown deferral."""

from __future__ import annotations

from datetime import timedelta

import pytest
from promoter.events import Candidate
from promoter.holds import LookupFailed
from promoter.outcomes import DEFERRED, FAILED, IGNORED
from promoter.planner import coalesce, plan

from .conftest import NOW, candidate, rules

TWO_RULES = """
rules:
  - name: npm-release
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release, mirror]
    formats: [npm]
  - name: all-audit
    domain: acme
    sourceRepository: staging
    destinationRepositories: [audit, release]
    allowOverwrite: true
"""


def test_coalesce_keeps_the_newest_sequence_number() -> None:
    a = candidate(revision="r1", sequence_number=1)
    b = candidate(revision="r3", sequence_number=3)
    c = candidate(revision="r2", sequence_number=2)
    other = candidate(version="2.0.0")
    assert coalesce([a, b, c, other]) == [b, other]


def test_coalesce_tie_prefers_the_later_delivery() -> None:
    a = candidate(revision="r1", sequence_number=5)
    b = candidate(revision="r2", sequence_number=5)
    assert coalesce([a, b]) == [b]


def test_duplicates_cost_one_copy() -> None:
    result = plan([candidate()] * 5, rules(), now=NOW)
    assert len(result.requests) == 1
    assert result.requests[0].api_kwargs()["versionRevisions"] == {"1.0.0": "rev-1"}


def test_versions_of_one_package_share_a_call_and_chunk_at_100() -> None:
    versions = [candidate(version=f"1.0.{i}", revision=f"r{i}") for i in range(250)]
    result = plan(versions, rules(), now=NOW)
    assert [len(r.items) for r in result.requests] == [100, 100, 50]
    for request in result.requests:
        kwargs = request.api_kwargs()
        assert "versions" not in kwargs
        assert len(kwargs["versionRevisions"]) == len(request.items)


def test_groups_split_by_package_namespace_format_and_destination() -> None:
    cands = [
        candidate(package="a"),
        candidate(package="a", version="2.0.0"),
        candidate(package="b"),
        candidate(package="a", namespace="acme"),
        candidate(package="a", format="pypi"),
    ]
    result = plan(cands, rules(), now=NOW)
    keys = sorted((r.format, r.namespace or "", r.package, len(r.items)) for r in result.requests)
    assert keys == [("npm", "", "a", 2), ("npm", "", "b", 1), ("npm", "acme", "a", 1), ("pypi", "", "a", 1)]


def test_union_of_destinations_once_with_the_first_rules_options() -> None:
    result = plan([candidate()], rules(TWO_RULES), now=NOW)
    by_destination = {r.destination_repository: r for r in result.requests}
    assert sorted(by_destination) == ["audit", "mirror", "release"]
    # release is targeted by both rules: the first (npm-release) decides, without overwrite
    assert by_destination["release"].allow_overwrite is False
    assert by_destination["release"].items[0].rule == "npm-release"
    assert by_destination["audit"].allow_overwrite is True


def test_unpinned_candidates_use_versions_never_both() -> None:
    result = plan([candidate(revision=None), candidate(version="2.0.0")], rules(), now=NOW)
    shapes = sorted(
        tuple(sorted(k for k in r.api_kwargs() if k.startswith("version"))) for r in result.requests
    )
    assert shapes == [("versionRevisions",), ("versions",)]


def test_a_follow_up_call_keeps_everything_but_the_versions_it_drops() -> None:
    # Given one call for two versions of a package
    (request,) = plan([candidate(version="1.0.0"), candidate(version="2.0.0")], rules(), now=NOW).requests
    # When it is restricted to one of them (the follow-up after SKIPPED)
    only = request.only(["2.0.0"])
    # Then only the versions differ
    assert [i.candidate.version for i in only.items] == ["2.0.0"]
    assert only == request._replace(items=request.items[1:])
    assert {k: v for k, v in only.api_kwargs().items() if k != "versionRevisions"} == {
        k: v for k, v in request.api_kwargs().items() if k != "versionRevisions"
    }
    assert only.api_kwargs()["versionRevisions"] == {"2.0.0": "rev-1"}


@pytest.mark.parametrize(
    ("cand", "reason"),
    [
        (candidate(operation="Deleted"), "deleted"),
        (candidate(domain="elsewhere"), "domain"),
        (candidate(source_repository="release"), "source"),
        (candidate(state="Unfinished"), "state"),
        (candidate(version="1.0.0-rc.1"), "prerelease"),
    ],
)
def test_ignored_versions_say_why(cand: Candidate, reason: str) -> None:
    result = plan([cand], rules(), now=NOW)
    assert result.requests == []
    assert [(o.status, o.reason) for o in result.outcomes] == [(IGNORED, reason)]


CATCH_ALL_BEFORE_MAVEN = """
rules:
  - name: catch-all
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    namespaces: ["", "acme"]
  - name: maven-release
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    formats: [maven]
    namespaces: ["com.acme"]
  - name: maven-mirror
    domain: acme
    sourceRepository: staging
    destinationRepositories: [mirror]
    formats: [maven]
"""


def test_the_ignore_reason_is_the_rejection_of_the_rule_that_got_furthest() -> None:
    # Given a catch-all rule (rejecting by namespace) listed before two Maven rules (rejecting by state)
    ruleset = rules(CATCH_ALL_BEFORE_MAVEN)
    unfinished = candidate(format="maven", namespace="com.acme", state="Unfinished")
    # When the Unfinished Maven version is planned
    result = plan([unfinished], ruleset, now=NOW)
    # Then it is ignored by state, naming the first Maven rule (a tie goes to file order), as explain says
    assert result.requests == []
    [outcome] = result.outcomes
    assert (outcome.status, outcome.reason, outcome.rule) == (IGNORED, "state", "maven-release")
    explained = {e.rule.name: e.rejected_by for e in ruleset.explain(unfinished)}
    assert explained == {"catch-all": "namespace", "maven-release": "state", "maven-mirror": "state"}


def test_the_furthest_rejection_wins_whatever_the_file_order() -> None:
    # Given the Maven rule first (it rejects a SNAPSHOT by prerelease), the catch-all second (namespace)
    maven_first = """
rules:
  - name: maven-release
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    formats: [maven]
  - name: catch-all
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    namespaces: [""]
"""
    snapshot = candidate(format="maven", namespace="com.acme", version="1.0.0-SNAPSHOT")
    result = plan([snapshot], rules(maven_first), now=NOW)
    assert [(o.reason, o.rule) for o in result.outcomes] == [("prerelease", "maven-release")]


def test_maven_unfinished_then_published_in_one_batch_is_promoted_once() -> None:
    unfinished = candidate(
        format="maven", namespace="com.acme", state="Unfinished", revision="r1", sequence_number=1
    )
    published = candidate(
        format="maven", namespace="com.acme", state="Published", revision="r3", sequence_number=3
    )
    result = plan([published, unfinished], rules(), now=NOW)
    assert result.outcomes == []
    assert result.requests[0].api_kwargs()["versionRevisions"] == {"1.0.0": "r3"}


COOLDOWN = """
rules:
  - name: wait-3d
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    minimumReleaseAge: 3d
"""


def test_a_young_version_is_deferred_with_its_eligible_time() -> None:
    published = NOW - timedelta(days=1)
    looked_up: list[Candidate] = []

    def lookup(c: Candidate) -> object:
        looked_up.append(c)
        return published

    result = plan([candidate()], rules(COOLDOWN), now=NOW, published_time=lookup)  # type: ignore[arg-type]
    assert result.requests == []
    assert [(o.status, o.eligible_at) for o in result.outcomes] == [(DEFERRED, published + timedelta(days=3))]
    assert len(looked_up) == 1


def test_an_old_enough_version_is_copied() -> None:
    result = plan([candidate()], rules(COOLDOWN), now=NOW, published_time=lambda c: NOW - timedelta(days=4))
    assert len(result.requests) == 1
    assert result.outcomes == []


def test_a_known_publish_time_needs_no_lookup() -> None:
    def lookup(c: Candidate) -> None:
        raise AssertionError("no lookup expected")

    result = plan(
        [candidate(published_time=NOW - timedelta(days=5))], rules(COOLDOWN), now=NOW, published_time=lookup
    )
    assert len(result.requests) == 1


def test_rules_without_cooldown_never_look_up() -> None:
    def lookup(c: Candidate) -> None:
        raise AssertionError("no lookup expected")

    assert len(plan([candidate()], rules(), now=NOW, published_time=lookup).requests) == 1


def test_a_failed_lookup_is_a_retryable_failure() -> None:
    def lookup(c: Candidate) -> None:
        raise LookupFailed("ThrottlingException", "slow down", retryable=True)

    result = plan([candidate()], rules(COOLDOWN), now=NOW, published_time=lookup)
    assert [(o.status, o.error_code, o.retryable) for o in result.outcomes] == [
        (FAILED, "ThrottlingException", True)
    ]


def test_a_failed_lookup_fails_only_the_destinations_that_wait() -> None:
    text = (
        COOLDOWN
        + """
  - name: audit-now
    domain: acme
    sourceRepository: staging
    destinationRepositories: [audit]
"""
    )

    def lookup(c: Candidate) -> None:
        raise LookupFailed("InternalServerException", "boom", retryable=True)

    result = plan([candidate()], rules(text), now=NOW, published_time=lookup)
    assert [r.destination_repository for r in result.requests] == ["audit"]
    assert [(o.status, o.destination) for o in result.outcomes] == [(FAILED, "release")]


def test_a_rule_without_cooldown_wins_over_one_with_it() -> None:
    text = (
        COOLDOWN
        + """
  - name: now
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
"""
    )
    result = plan([candidate()], rules(text), now=NOW, published_time=lambda c: NOW)
    assert len(result.requests) == 1
    assert result.requests[0].items[0].rule == "now"
