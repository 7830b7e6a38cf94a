"""catchup.SourceListings: each package's source listing read once per invocation and shared by the planner
(a version's origin, instead of a DescribePackageVersion) and catch-up (its siblings)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from botocore.exceptions import ReadTimeoutError
from promoter.catchup import SourceListings
from promoter.outcomes import DEFERRED, PROMOTED
from promoter.pipeline import Dependencies, promote

from .conftest import NOW, candidate, rules
from .fake_codeartifact import FakeCodeArtifact, client_error
from .test_supply_chain import COOLDOWN_EXTERNAL

MakeDeps = Callable[..., Dependencies]


def listings(fake: FakeCodeArtifact) -> SourceListings:
    return SourceListings(fake, rules(COOLDOWN_EXTERNAL), remaining=lambda: 60.0, reserve=12.0)


def test_the_listed_origin_of_the_event_revision_is_used(fake: FakeCodeArtifact) -> None:
    revision = fake.publish("acme", "staging", "npm", "widgets", "1.0.0", origin_type="INTERNAL")
    sources = listings(fake)
    assert sources.origin_type(candidate(revision=revision)) == "INTERNAL"
    assert sources.origin_type(candidate(version="1.0.0", revision=revision)) == "INTERNAL"
    assert len(fake.list_calls) == 1  # read once, then shared


def test_another_revision_or_an_unlisted_version_gives_no_origin(fake: FakeCodeArtifact) -> None:
    fake.publish("acme", "staging", "npm", "widgets", "1.0.0", origin_type="INTERNAL")
    sources = listings(fake)
    # The source now holds another build of the version: its origin says nothing of the event's revision
    assert sources.origin_type(candidate(revision="an-older-build")) is None
    assert sources.origin_type(candidate(version="9.9.9", revision="r")) is None
    assert sources.origin_type(candidate(package="absent", revision="r")) is None  # the package is not there


def test_a_failed_read_gives_no_origin_and_is_tried_again(fake: FakeCodeArtifact) -> None:
    revision = fake.publish("acme", "staging", "npm", "widgets", "1.0.0", origin_type="EXTERNAL")
    fake.list_faults.append(client_error("ThrottlingException", 400, operation="ListPackageVersions"))
    fake.list_faults.append(ReadTimeoutError(endpoint_url="https://codeartifact"))
    sources = listings(fake)
    assert sources.origin_type(candidate(revision=revision)) is None
    assert sources.origin_type(candidate(revision=revision)) is None
    assert sources.origin_type(candidate(revision=revision)) == "EXTERNAL"  # a transient failure is not kept


def test_an_internal_version_is_promoted_without_a_describe(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    # Given a cooldown for EXTERNAL versions only, and one fresh version of each origin in staging
    fresh = NOW - timedelta(hours=1)
    internal = fake.publish(
        "acme", "staging", "npm", "widgets", "1.0.0", origin_type="INTERNAL", published_time=fresh
    )
    external = fake.publish(
        "acme", "staging", "npm", "gadgets", "1.0.0", origin_type="EXTERNAL", published_time=fresh
    )
    deps = make_deps(rules(COOLDOWN_EXTERNAL))
    # When their events are promoted together
    outcomes = promote([candidate(revision=internal), candidate(package="gadgets", revision=external)], deps)
    # Then the INTERNAL one is copied at once and the EXTERNAL one waits, and only the EXTERNAL one was
    # described (for its publish time); each package's source was listed once, for the planner and catch-up
    status = {o.candidate.package: o.status for o in outcomes if o.candidate is not None}
    assert status == {"widgets": PROMOTED, "gadgets": DEFERRED}
    assert [call["package"] for call in fake.describe_calls] == ["gadgets"]
    source_reads = [c["package"] for c in fake.list_calls if c["repository"] == "staging"]
    assert sorted(source_reads) == ["gadgets", "widgets"]
