"""Catch-up (promoter.catchup) through promote() and process_sqs_records() with the in-memory CodeArtifact.

Each copy call is filled with the package's other versions the same rules send to the same destination
(pinned to the listed revision), versions already identical in the destination are dropped (no call when
nothing is left), and catch-up never adds a call, never reports a sibling's failure and never changes what
is retried. The subject is what reaches CopyPackageVersions, what the destination holds, and the outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from promoter.outcomes import ALREADY_PRESENT, FAILED, IGNORED, PROMOTED, Outcome
from promoter.pipeline import Dependencies, process_sqs_records, promote
from promoter.settings import Settings
from promoter_dev.recording_logger import RecordingLogger

from .conftest import candidate, event_for, rules, sqs_record
from .fake_codeartifact import IDENTICAL_OMITTED, FakeCodeArtifact, client_error

MakeDeps = Callable[..., Dependencies]
CATCH_UP = "catch-up"


# ----------------------------------------------------------------------------- helpers


def publish_all(
    fake: FakeCodeArtifact, versions: list[str], repository: str = "staging", **kwargs: Any
) -> dict[str, str]:
    return {v: fake.publish("acme", repository, "npm", "widgets", v, **kwargs) for v in versions}


def copied(fake: FakeCodeArtifact) -> list[tuple[str, dict[str, str]]]:
    """Every copy call as (destination, versionRevisions)."""
    return [(call["destinationRepository"], dict(call["versionRevisions"])) for call in fake.calls]


def held(fake: FakeCodeArtifact, repository: str = "release") -> dict[str, str]:
    """version -> revision of widgets in ``repository``."""
    return {
        key[5]: stored.revision
        for key, stored in fake.versions.items()
        if key[:5] == ("acme", repository, "npm", "", "widgets")
    }


def results(outcomes: list[Outcome]) -> dict[str, tuple[str, str | None]]:
    return {o.candidate.version: (o.status, o.reason) for o in outcomes if o.candidate is not None}


def logged(log: RecordingLogger) -> dict[str, tuple[str, str | None]]:
    return {line["version"]: (line["outcome"], line.get("reason")) for line in log.outcomes()}


def versions(count: int) -> list[str]:
    return [f"1.0.{i}" for i in range(count)]


# ----------------------------------------------------------------------------- siblings join the call


def test_one_event_brings_the_packages_other_versions_in_one_pinned_call(
    fake: FakeCodeArtifact, make_deps: MakeDeps, log: RecordingLogger
) -> None:
    # Given four Published versions of one package in staging, and an event for only one of them
    revs = publish_all(fake, ["1.0.0", "1.1.0", "1.2.0", "1.3.0"])
    # When the batch is promoted
    outcomes = promote([candidate(version="1.3.0", revision=revs["1.3.0"])], make_deps())
    # Then one call carries all four, each pinned to the revision the source holds
    assert copied(fake) == [("release", revs)]
    assert held(fake) == revs
    # and the event's version is promoted as such, the three others as catch-up (logged alike)
    expected = {
        "1.3.0": (PROMOTED, None),
        "1.0.0": (PROMOTED, CATCH_UP),
        "1.1.0": (PROMOTED, CATCH_UP),
        "1.2.0": (PROMOTED, CATCH_UP),
    }
    assert results(outcomes) == expected
    assert logged(log) == expected
    assert len(outcomes) == len(log.outcomes()) == 4  # one outcome each, none twice
    assert {o.destination for o in outcomes} == {"release"}


def test_the_siblings_own_events_later_find_them_present_and_cost_no_call(
    fake: FakeCodeArtifact, make_deps: MakeDeps, log: RecordingLogger
) -> None:
    # Given a first batch whose single event copied the package's three other versions along
    revs = publish_all(fake, ["1.0.0", "1.1.0", "1.2.0", "1.3.0"])
    promote([candidate(version="1.3.0", revision=revs["1.3.0"])], make_deps())
    assert len(fake.calls) == 1
    log.lines.clear()
    # When a later batch (another invocation) delivers the three other versions' events
    records = [sqs_record(event_for(v, revs[v]), f"m-{v}") for v in ("1.0.0", "1.1.0", "1.2.0")]
    retry = process_sqs_records(records, make_deps())
    # Then no copy call is made, each is already present, and nothing goes back to the queue
    assert len(fake.calls) == 1
    assert retry == set()
    assert logged(log) == dict.fromkeys(("1.0.0", "1.1.0", "1.2.0"), (ALREADY_PRESENT, None))
    assert {line["destinationRepository"] for line in log.outcomes()} == {"release"}


def test_an_event_version_already_identical_in_the_destination_costs_no_call(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    rev = fake.publish("acme", "staging", "npm", "widgets", "1.0.0")
    fake.publish("acme", "release", "npm", "widgets", "1.0.0", revision=rev)
    outcomes = promote([candidate(version="1.0.0", revision=rev)], make_deps())
    assert fake.calls == []
    assert results(outcomes) == {"1.0.0": (ALREADY_PRESENT, None)}


def test_no_call_is_made_for_siblings_alone(fake: FakeCodeArtifact, make_deps: MakeDeps) -> None:
    # Given the event's version already identical in release, and a sibling release lacks
    revs = publish_all(fake, ["1.0.0", "1.1.0"])
    fake.publish("acme", "release", "npm", "widgets", "1.0.0", revision=revs["1.0.0"])
    # When the event is promoted
    outcomes = promote([candidate(version="1.0.0", revision=revs["1.0.0"])], make_deps())
    # Then no call is made just for the sibling: it stays for its own event
    assert fake.calls == []
    assert held(fake) == {"1.0.0": revs["1.0.0"]}
    assert results(outcomes) == {"1.0.0": (ALREADY_PRESENT, None)}


# ----------------------------------------------------------------------------- siblings that are not joined


def rule(name: str, *lines: str, destination: str = "release") -> str:
    """One rule of acme/staging in YAML, with ``lines`` (its filters and options) added."""
    head = f"  - name: {name}\n    domain: acme\n    sourceRepository: staging\n"
    return (
        head + f"    destinationRepositories: [{destination}]\n" + "".join(f"    {line}\n" for line in lines)
    )


def rules_text(*items: str) -> str:
    return "\nrules:\n" + "".join(items)


ONES = rule("ones", "formats: [npm]", 'versions: "^1"')
ONES_AND_AGED = rules_text(ONES, rule("aged", "minimumReleaseAge: 3d"))
ONES_ONLY = rules_text(ONES)
ONES_AND_EXCLUDED = rules_text(
    rule("ones", "packages: [widgets]", "formats: [npm]", 'versions: "<2"'),
    rule("all-but-widgets", "excludePackages: [widgets]"),
)
ONES_AND_TWOS_WITH_OVERWRITE = rules_text(
    ONES, rule("twos-overwrite", "formats: [npm]", 'versions: "^2"', "allowOverwrite: true")
)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(ONES_AND_AGED, id="only-a-rule-with-minimumReleaseAge-accepts-it"),
        pytest.param(ONES_ONLY, id="outside-the-version-range"),
        pytest.param(ONES_AND_EXCLUDED, id="range-and-excludePackages"),
        pytest.param(ONES_AND_TWOS_WITH_OVERWRITE, id="other-copy-options"),
    ],
)
def test_a_sibling_the_calls_rules_do_not_send_there_now_is_not_joined(
    fake: FakeCodeArtifact, make_deps: MakeDeps, text: str
) -> None:
    # Given 1.0.0 (the event), 1.1.0 (accepted like it) and 2.0.0 (published long ago, but not accepted
    # by a rule without cooldown, or only with other copy options)
    revs = publish_all(fake, ["1.0.0", "1.1.0", "2.0.0"])
    # When the event is promoted
    outcomes = promote([candidate(version="1.0.0", revision=revs["1.0.0"])], make_deps(rules(text)))
    # Then only 1.1.0 joins; 2.0.0 is neither copied nor reported, and no other call is made for it
    assert copied(fake) == [("release", {"1.0.0": revs["1.0.0"], "1.1.0": revs["1.1.0"]})]
    assert fake.calls[0]["allowOverwrite"] is False
    assert results(outcomes) == {"1.0.0": (PROMOTED, None), "1.1.0": (PROMOTED, CATCH_UP)}
    assert fake.describe_calls == []  # no publish-time lookup for a sibling


def test_a_sibling_in_a_state_the_rule_does_not_accept_is_not_joined(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    # Given an Unlisted and an Archived sibling, and the default rule (Published only)
    rev = fake.publish("acme", "staging", "npm", "widgets", "1.0.0")
    fake.publish("acme", "staging", "npm", "widgets", "1.1.0", status="Unlisted")
    fake.publish("acme", "staging", "npm", "widgets", "1.2.0", status="Archived")
    outcomes = promote([candidate(version="1.0.0", revision=rev)], make_deps())
    # Then the call carries the event's version only, and the source was listed Published only
    assert copied(fake) == [("release", {"1.0.0": rev})]
    assert results(outcomes) == {"1.0.0": (PROMOTED, None)}
    [source_listing] = [c for c in fake.list_calls if c["repository"] == "staging"]
    assert source_listing["status"] == "Published"


BASIC_WITH_STATES = rules_text(rule("to-release", "states: [Published, Archived]"))


def test_with_several_accepted_states_the_planner_filters_the_siblings_state(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    # Given a rule accepting Published and Archived versions (the source is listed unfiltered)
    rev = fake.publish("acme", "staging", "npm", "widgets", "1.0.0")
    fake.publish("acme", "staging", "npm", "widgets", "1.1.0", status="Unlisted")
    archived = fake.publish("acme", "staging", "npm", "widgets", "1.2.0", status="Archived")
    outcomes = promote([candidate(version="1.0.0", revision=rev)], make_deps(rules(BASIC_WITH_STATES)))
    # Then the Archived sibling joins and the Unlisted one does not
    assert copied(fake) == [("release", {"1.0.0": rev, "1.2.0": archived})]
    assert results(outcomes) == {"1.0.0": (PROMOTED, None), "1.2.0": (PROMOTED, CATCH_UP)}
    [source_listing] = [c for c in fake.list_calls if c["repository"] == "staging"]
    assert "status" not in source_listing


TWO_DESTINATIONS = rules_text(ONES, rule("twos", "formats: [npm]", 'versions: "^2"', destination="archive"))


def test_a_sibling_for_a_destination_without_a_call_in_this_batch_is_not_copied(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    # Given 2.0.0 goes to archive by its rule, and the batch only copies 1.0.0 to release
    revs = publish_all(fake, ["1.0.0", "1.1.0", "2.0.0"])
    outcomes = promote(
        [candidate(version="1.0.0", revision=revs["1.0.0"])], make_deps(rules(TWO_DESTINATIONS))
    )
    # Then the release call takes 1.1.0 along, and no call is made to archive
    assert copied(fake) == [("release", {"1.0.0": revs["1.0.0"], "1.1.0": revs["1.1.0"]})]
    assert held(fake, "archive") == {}
    assert results(outcomes) == {"1.0.0": (PROMOTED, None), "1.1.0": (PROMOTED, CATCH_UP)}


def test_siblings_already_in_the_destination_are_not_joined_whatever_their_revision(
    fake: FakeCodeArtifact, make_deps: MakeDeps, log: RecordingLogger
) -> None:
    # Given release holds 1.1.0 identical and 1.2.0 with other content; 1.3.0 is missing there
    revs = publish_all(fake, ["1.0.0", "1.1.0", "1.2.0", "1.3.0"])
    fake.publish("acme", "release", "npm", "widgets", "1.1.0", revision=revs["1.1.0"])
    fake.publish("acme", "release", "npm", "widgets", "1.2.0", revision="other-build")
    outcomes = promote([candidate(version="1.0.0", revision=revs["1.0.0"])], make_deps())
    # Then only the missing one joins; the present ones are neither copied nor reported
    assert copied(fake) == [("release", {"1.0.0": revs["1.0.0"], "1.3.0": revs["1.3.0"]})]
    assert held(fake)["1.2.0"] == "other-build"
    assert results(outcomes) == {"1.0.0": (PROMOTED, None), "1.3.0": (PROMOTED, CATCH_UP)}
    assert set(logged(log)) == {"1.0.0", "1.3.0"}


def test_an_event_version_present_with_another_revision_stays_in_the_call(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    # Given release already holds another build of the event's version (and 1.1.0 identical)
    revs = publish_all(fake, ["1.0.0", "1.1.0"])
    fake.publish("acme", "release", "npm", "widgets", "1.0.0", revision="other-build")
    fake.publish("acme", "release", "npm", "widgets", "1.1.0", revision=revs["1.1.0"])
    outcomes = promote([candidate(version="1.0.0", revision=revs["1.0.0"])], make_deps())
    # Then the service decides: the call is made and answers ALREADY_EXISTS, a final failure
    assert copied(fake) == [("release", {"1.0.0": revs["1.0.0"]})]
    [outcome] = outcomes
    assert (outcome.status, outcome.error_code, outcome.retryable) == (FAILED, "ALREADY_EXISTS", False)
    assert held(fake)["1.0.0"] == "other-build"


def test_an_unpinned_call_takes_no_siblings(fake: FakeCodeArtifact, make_deps: MakeDeps) -> None:
    # Given an event without a revision (the call copies by version, unpinned)
    publish_all(fake, ["1.0.0", "1.1.0"])
    outcomes = promote([candidate(version="1.0.0", revision=None)], make_deps())
    # Then siblings (always pinned) do not join it
    assert [call["versions"] for call in fake.calls] == [["1.0.0"]]
    assert results(outcomes) == {"1.0.0": (PROMOTED, None)}


def test_a_version_the_batch_itself_decided_otherwise_is_not_joined(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    # Given a batch with 1.0.0 published and 1.1.0 deleted, while the source still lists 1.1.0
    revs = publish_all(fake, ["1.0.0", "1.1.0"])
    batch = [
        candidate(version="1.0.0", revision=revs["1.0.0"]),
        candidate(version="1.1.0", revision=revs["1.1.0"], operation="Deleted", sequence_number=2),
    ]
    outcomes = promote(batch, make_deps())
    # Then the planner's decision for 1.1.0 stands: catch-up does not copy it along
    assert copied(fake) == [("release", {"1.0.0": revs["1.0.0"]})]
    assert results(outcomes) == {"1.0.0": (PROMOTED, None), "1.1.0": (IGNORED, "deleted")}


# ----------------------------------------------------------------------------- capacity


def test_a_call_is_filled_up_to_100_versions(fake: FakeCodeArtifact, make_deps: MakeDeps) -> None:
    revs = publish_all(fake, versions(100))
    outcomes = promote([candidate(version="1.0.0", revision=revs["1.0.0"])], make_deps())
    assert copied(fake) == [("release", revs)]
    assert held(fake) == revs
    assert sum(1 for o in outcomes if o.status == PROMOTED) == 100


def test_more_siblings_than_room_never_make_a_second_call(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    # Given 150 other versions missing in release and one event
    revs = publish_all(fake, versions(151))
    event_version = "1.0.150"
    outcomes = promote([candidate(version=event_version, revision=revs[event_version])], make_deps())
    # Then exactly one call of 100 versions, the event's among them, each pinned to its source revision
    [(destination, call)] = copied(fake)
    assert destination == "release"
    assert len(call) == 100
    assert call[event_version] == revs[event_version]
    assert all(revs[v] == r for v, r in call.items())
    assert held(fake) == call
    assert results(outcomes)[event_version] == (PROMOTED, None)
    assert len(outcomes) == 100


def test_a_full_batch_call_takes_no_sibling(fake: FakeCodeArtifact, make_deps: MakeDeps) -> None:
    # Given 100 events of one package (a full call) and one more version in staging
    revs = publish_all(fake, versions(101))
    events = [candidate(version=v, revision=revs[v]) for v in versions(100)]
    promote(events, make_deps())
    assert [sorted(call) for _, call in copied(fake)] == [sorted(versions(100))]


# ----------------------------------------------------------------------------- listing failures


class FailingListings(FakeCodeArtifact):
    """ListPackageVersions of one repository always fails with ``error``."""

    def __init__(self, repository: str, error: Exception) -> None:
        super().__init__()
        self.failing_repository = repository
        self.error = error

    def list_package_versions(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs["repository"] == self.failing_repository:
            self.list_calls.append(kwargs)
            raise self.error
        return super().list_package_versions(**kwargs)


LISTING_ERRORS = [
    pytest.param(client_error("ThrottlingException", 400, operation="ListPackageVersions"), id="throttled"),
    pytest.param(client_error("AccessDeniedException", 403, operation="ListPackageVersions"), id="denied"),
    pytest.param(ReadTimeoutError(endpoint_url="https://codeartifact"), id="read-timeout"),
]


@pytest.mark.parametrize("repository", ["release", "staging"])
@pytest.mark.parametrize("error", LISTING_ERRORS)
def test_a_listing_failure_leaves_the_call_as_planned(
    make_deps: MakeDeps, repository: str, error: Exception
) -> None:
    # Given listing the package in the destination (or in the source) fails
    fake = FailingListings(repository, error)
    revs = publish_all(fake, ["1.0.0", "1.1.0"])
    # When the event is promoted
    outcomes = promote([candidate(version="1.0.0", revision=revs["1.0.0"])], make_deps(client=fake))
    # Then the call is the one made without catch-up: the event's version only, promoted
    assert [c["repository"] for c in fake.list_calls].count(repository) == 1
    assert copied(fake) == [("release", {"1.0.0": revs["1.0.0"]})]
    assert results(outcomes) == {"1.0.0": (PROMOTED, None)}
    assert held(fake) == {"1.0.0": revs["1.0.0"]}


def test_the_first_listing_fault_of_the_fake_turns_catch_up_off_for_the_call(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    revs = publish_all(fake, ["1.0.0", "1.1.0"])
    fake.list_faults = [client_error("ThrottlingException", 400, operation="ListPackageVersions")]
    outcomes = promote([candidate(version="1.0.0", revision=revs["1.0.0"])], make_deps())
    assert copied(fake) == [("release", {"1.0.0": revs["1.0.0"]})]
    assert results(outcomes) == {"1.0.0": (PROMOTED, None)}


def test_an_unexpected_listing_exception_leaves_the_call_as_planned(make_deps: MakeDeps) -> None:
    fake = FailingListings("release", RuntimeError("connection pool broke"))
    revs = publish_all(fake, ["1.0.0"])
    outcomes = promote([candidate(version="1.0.0", revision=revs["1.0.0"])], make_deps(client=fake))
    assert copied(fake) == [("release", {"1.0.0": revs["1.0.0"]})]
    assert results(outcomes) == {"1.0.0": (PROMOTED, None)}


# ----------------------------------------------------------------------------- a sibling's copy fails


class Racing(FakeCodeArtifact):
    """Runs ``change`` once, just before the first CopyPackageVersions: what another writer did between
    catch-up's listing and the copy."""

    def __init__(self) -> None:
        super().__init__()
        self.change: Callable[[FakeCodeArtifact], None] = lambda fake: None
        self.answers: list[dict[str, Any]] = []

    def copy_package_versions(self, **kwargs: Any) -> dict[str, Any]:
        change, self.change = self.change, lambda fake: None
        change(self)
        answer = super().copy_package_versions(**kwargs)
        self.answers.append(answer)
        return answer


def _republish(fake: FakeCodeArtifact) -> None:
    fake.publish("acme", "staging", "npm", "widgets", "1.1.0", revision="rebuilt")


def _copied_by_another(fake: FakeCodeArtifact) -> None:
    fake.publish("acme", "release", "npm", "widgets", "1.1.0", revision="another-build")


def _disposed(fake: FakeCodeArtifact) -> None:
    stored = fake.get("acme", "staging", "npm", "widgets", "1.1.0")
    assert stored is not None
    stored.status = "Disposed"


@pytest.mark.parametrize(
    ("change", "answer"),
    [
        pytest.param(_republish, "MISMATCHED_REVISION", id="revision-changed"),
        pytest.param(_copied_by_another, "ALREADY_EXISTS", id="other-build-appeared"),
        pytest.param(_disposed, "MISMATCHED_STATUS", id="disposed"),
    ],
)
def test_a_siblings_failed_copy_is_not_reported_and_not_retried(
    make_deps: MakeDeps,
    log: RecordingLogger,
    change: Callable[[FakeCodeArtifact], None],
    answer: str,
) -> None:
    # Given a sibling that changes between catch-up's listing and the copy
    fake = Racing()
    revs = publish_all(fake, ["1.0.0", "1.1.0"])
    fake.change = change
    # When the event's record is processed
    retry = process_sqs_records(
        [sqs_record(event_for("1.0.0", revs["1.0.0"]), "m-1")], make_deps(client=fake)
    )
    # Then the first call fails the sibling (the event's version SKIPPED), the follow-up promotes the event
    assert [sorted(call) for _, call in copied(fake)] == [["1.0.0", "1.1.0"], ["1.0.0"]]
    assert fake.answers[0]["failedVersions"]["1.1.0"]["errorCode"] == answer
    assert fake.answers[0]["failedVersions"]["1.0.0"]["errorCode"] == "SKIPPED"
    assert held(fake)["1.0.0"] == revs["1.0.0"]
    # and the sibling's failure is neither reported nor retried: its own event still owns it
    assert logged(log) == {"1.0.0": (PROMOTED, None)}
    assert not [line for line in log.lines if line["level"] != "INFO"]
    assert retry == set()


def test_a_failed_call_retries_only_the_events_own_records(
    fake: FakeCodeArtifact, make_deps: MakeDeps, log: RecordingLogger
) -> None:
    # Given the copy call is denied (every version in it fails, retryably)
    revs = publish_all(fake, ["1.0.0", "1.1.0"])
    fake.faults = [client_error("AccessDeniedException", 403)]
    retry = process_sqs_records([sqs_record(event_for("1.0.0", revs["1.0.0"]), "m-1")], make_deps())
    # Then the call carried the sibling, but only the event's record goes back and only it is reported
    assert [sorted(call) for _, call in copied(fake)] == [["1.0.0", "1.1.0"]]
    assert retry == {"m-1"}
    assert logged(log) == {"1.0.0": (FAILED, None)}


# ----------------------------------------------------------------------------- switched off


def test_without_catch_up_nothing_is_listed_before_the_call_and_it_holds_the_events_only(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    revs = publish_all(fake, ["1.0.0", "1.1.0", "1.2.0"])
    fake.publish("acme", "release", "npm", "widgets", "1.1.0", revision=revs["1.1.0"])
    events = [candidate(version=v, revision=revs[v]) for v in ("1.0.0", "1.1.0")]
    outcomes = promote(events, make_deps(catch_up=False))
    both = {"1.0.0": revs["1.0.0"], "1.1.0": revs["1.1.0"]}
    # The identical 1.1.0 is verified by one read of release after the answer (ALREADY_EXISTS as documented,
    # or named in neither map): no read before the call, and 1.0.0 is copied by the follow-up if one is due.
    assert len(fake.list_calls) == 1
    assert fake.list_calls[0]["repository"] == "release"
    if fake.variant == IDENTICAL_OMITTED:
        assert copied(fake) == [("release", both)]
    else:
        assert copied(fake) == [("release", both), ("release", {"1.0.0": revs["1.0.0"]})]
    assert results(outcomes) == {"1.0.0": (PROMOTED, None), "1.1.0": (ALREADY_PRESENT, None)}
    assert "1.2.0" not in held(fake)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, True), ("", True), ("true", True), ("false", False), ("0", False), (" FALSE ", False)],
)
def test_promoter_catch_up_setting(raw: str | None, expected: bool) -> None:
    environ = {"PROMOTION_RULES_FILE": "/rules.yaml"}
    if raw is not None:
        environ["PROMOTER_CATCH_UP"] = raw
    assert Settings.from_env(environ).catch_up is expected


def test_promoter_catch_up_setting_refuses_other_words() -> None:
    with pytest.raises(ValueError, match="PROMOTER_CATCH_UP") as info:
        Settings.from_env({"PROMOTION_RULES_FILE": "/rules.yaml", "PROMOTER_CATCH_UP": "maybe"})
    assert "maybe" in str(info.value)


# ----------------------------------------------------------------------------- what the source decides


def test_an_event_for_a_revision_the_source_no_longer_holds_is_superseded_without_a_call(
    fake: FakeCodeArtifact, make_deps: MakeDeps, log: RecordingLogger
) -> None:
    # Given a version whose event names revision r1 while the source already holds a later build r2,
    # which an earlier batch copied to release
    old = fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision="r1")
    new = fake.publish("acme", "staging", "npm", "widgets", "1.0.0", revision="r2")
    fake.publish("acme", "release", "npm", "widgets", "1.0.0", revision=new)
    # When the stale event arrives
    outcomes = promote([candidate(version="1.0.0", revision=old)], make_deps())
    # Then it is superseded, as the copy would answer (MISMATCHED_REVISION), without spending the call
    assert fake.calls == []
    [outcome] = outcomes
    assert (outcome.status, outcome.error_code) == ("superseded", "MISMATCHED_REVISION")
    assert "r2" in (outcome.error_message or "")
    assert [line["outcome"] for line in log.outcomes()] == ["superseded"]


def test_a_version_whose_event_was_ignored_for_its_state_joins_when_the_source_lists_it_published(
    fake: FakeCodeArtifact, make_deps: MakeDeps
) -> None:
    # Given a batch with 1.0.0 published and an older event of 1.1.0 still Unfinished (a Maven-style
    # publish whose last event is in another batch), while the source lists 1.1.0 Published by now
    revs = publish_all(fake, ["1.0.0", "1.1.0"])
    batch = [
        candidate(version="1.0.0", revision=revs["1.0.0"]),
        candidate(version="1.1.0", revision="an-earlier-build", state="Unfinished"),
    ]
    outcomes = promote(batch, make_deps())
    # Then the one call also copies 1.1.0, pinned to the revision the source lists now
    assert copied(fake) == [("release", revs)]
    assert results(outcomes)["1.1.0"] == (PROMOTED, CATCH_UP)
    # and the Unfinished event itself is still reported as the planner decided it
    assert (IGNORED, "state") in [
        (o.status, o.reason) for o in outcomes if o.candidate and o.candidate.version == "1.1.0"
    ]
