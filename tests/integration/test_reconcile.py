"""Reconcile against the local CodeArtifact over HTTP: backfill, lost events, cooldown, plan == reconcile.

Everything runs through moto in server mode (``aws_server``): real HTTP calls, real pagination, the real
copy semantics of the backend. Only the clock is injected, so the cooldown needs no sleeping.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter.matching import RuleSet
from promoter.outcomes import DEFERRED, PROMOTED
from promoter.pipeline import Dependencies, process_sqs_records
from promoter.reconcile import COPY, PRESENT, SKIP, Progress, ReconcileError, reconcile, run
from promoter.report import MemoryMetrics, Reporter
from promoter.rules import build_ruleset
from promoter_dev.recording_logger import RecordingLogger

from .test_cli import copy_by_hand

DOMAIN = "acme"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def rules(**extra: Any) -> RuleSet:
    rule = {
        "name": "staging-to-release",
        "domain": DOMAIN,
        "sourceRepository": "staging",
        "destinationRepositories": ["release"],
        "formats": ["npm", "pypi"],
    }
    rule.update(extra)
    return build_ruleset({"rules": [rule]})


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def env(aws_server: AwsEnv) -> AwsEnv:
    create_domain_with_repositories(aws_server.client("codeartifact"), DOMAIN, ["staging", "release"])
    return aws_server


def deps_for(env: AwsEnv, ruleset: RuleSet, clock: Callable[[], datetime] | None = None) -> Dependencies:
    reporter = Reporter(RecordingLogger(), MemoryMetrics())
    return Dependencies(
        client=env.client("codeartifact"),
        rules=ruleset,
        reporter=reporter,
        clock=clock or Clock(T0),
        sleep=lambda _: None,
    )


def versions_in(env: AwsEnv, repository: str, package: str, fmt: str = "npm") -> dict[str, str]:
    client = env.client("codeartifact")
    page = client.list_package_versions(domain=DOMAIN, repository=repository, format=fmt, package=package)
    return {v["version"]: v["revision"] for v in page["versions"]}


def copy_calls(env: AwsEnv) -> int:
    stats = env.control.stats()
    return int(stats.get("CopyPackageVersions", {}).get("calls", 0))


def test_backfills_versions_published_before_any_rule_existed(env: AwsEnv) -> None:
    # Given versions that were published before the promoter existed (no event will ever come for them)
    seeded = {}
    for package in ("left-pad", "right-pad"):
        for version in ("1.0.0", "1.1.0", "2.0.0"):
            seeded[(package, version)] = env.control.seed_package_version(
                DOMAIN, "staging", "npm", package, version, published_time=T0 - timedelta(days=30)
            )["revision"]
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "3.0.0-beta.1")
    deps = deps_for(env, rules())

    # When one reconcile runs
    result = reconcile(deps)

    # Then every accepted version is in release, with the revision that was listed, in one call per package
    for package in ("left-pad", "right-pad"):
        assert versions_in(env, "release", package) == {
            v: seeded[(package, v)] for v in ("1.0.0", "1.1.0", "2.0.0")
        }
    assert result.outcome_counts() == {PROMOTED: 6}
    assert result.failed == []
    assert result.copy.copy_requests == 2
    assert copy_calls(env) == 2
    # and the outcomes were reported like event outcomes
    assert deps.reporter.outcomes_by_status[PROMOTED] == 6
    assert all(line.get("outcome") == PROMOTED for line in deps.reporter.logger.lines)  # type: ignore[attr-defined]


def test_second_reconcile_costs_list_calls_only(env: AwsEnv) -> None:
    # Given a source that one reconcile already backfilled
    for version in ("1.0.0", "1.1.0"):
        env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", version)
    reconcile(deps_for(env, rules()))
    before = copy_calls(env)

    # When reconcile runs again
    result = reconcile(deps_for(env, rules()))

    # Then nothing is copied and nothing reported, and plan shows the versions as present
    assert copy_calls(env) == before
    assert result.outcomes == []
    assert {(i.candidate.version, i.action, i.reason) for i in result.items} == {
        ("1.0.0", SKIP, PRESENT),
        ("1.1.0", SKIP, PRESENT),
    }


def test_scoped_and_unscoped_packages_of_one_format_reconcile_together(env: AwsEnv) -> None:
    # Given an npm source holding an unscoped package (no namespace) and a scoped one (@acme/...)
    unscoped = env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")["revision"]
    scoped = env.control.seed_package_version(DOMAIN, "staging", "npm", "widgets", "1.0.0", namespace="acme")[
        "revision"
    ]

    # When reconcile runs (packages are ordered although only some have a namespace)
    result = reconcile(deps_for(env, rules()))

    # Then both are promoted with their own revisions
    assert result.outcome_counts() == {PROMOTED: 2}
    assert versions_in(env, "release", "left-pad") == {"1.0.0": unscoped}
    page = env.client("codeartifact").list_package_versions(
        domain=DOMAIN, repository="release", format="npm", namespace="acme", package="widgets"
    )
    assert {v["version"]: v["revision"] for v in page["versions"]} == {"1.0.0": scoped}


def test_version_whose_event_was_purged_is_promoted_by_the_next_reconcile(env: AwsEnv) -> None:
    # Given an EventBridge rule that routes publish events to a queue, like the stack does
    sqs = env.client("sqs")
    events = env.client("events")
    queue_url = sqs.create_queue(QueueName="promoter-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="codeartifact-publish",
        EventPattern=json.dumps({"source": ["aws.codeartifact"], "detail": {"repositoryName": ["staging"]}}),
    )
    events.put_targets(Rule="codeartifact-publish", Targets=[{"Id": "queue", "Arn": queue_arn}])
    # and two publishes, whose first event an operator purged
    env.control.seed_package_version(DOMAIN, "staging", "npm", "lost", "1.0.0")
    sqs.purge_queue(QueueUrl=queue_url)
    revision = env.control.seed_package_version(DOMAIN, "staging", "npm", "kept", "1.0.0")["revision"]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    assert messages, "the second publish reached the queue"
    records = [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]
    deps = deps_for(env, rules())
    assert process_sqs_records(records, deps) == set()
    assert versions_in(env, "release", "kept") == {"1.0.0": revision}
    assert versions_in(env, "staging", "lost")  # still only in staging
    with pytest.raises(env.client("codeartifact").exceptions.ResourceNotFoundException):
        versions_in(env, "release", "lost")

    # When the next reconcile runs
    result = reconcile(deps_for(env, rules()))

    # Then the lost version is promoted, and the one the event handled costs nothing
    assert [(o.candidate.package, o.status) for o in result.outcomes if o.candidate] == [("lost", PROMOTED)]
    assert "1.0.0" in versions_in(env, "release", "lost")


def test_cooldown_defers_an_event_and_a_later_reconcile_promotes_it(env: AwsEnv) -> None:
    # Given a rule with a 3 day cooldown and a version published just now
    ruleset = rules(minimumReleaseAge="3d")
    clock = Clock(T0 + timedelta(hours=1))
    published = env.control.seed_package_version(
        DOMAIN, "staging", "npm", "fresh", "1.0.0", published_time=T0
    )
    event = {
        "version": "0",
        "id": "evt-1",
        "source": "aws.codeartifact",
        "detail-type": "CodeArtifact Package Version State Change",
        "account": env.account_id,
        "region": env.region,
        "time": T0.isoformat(),
        "resources": [],
        "detail": {
            "domainName": DOMAIN,
            "domainOwner": env.account_id,
            "repositoryName": "staging",
            "packageFormat": "npm",
            "packageNamespace": None,
            "packageName": "fresh",
            "packageVersion": "1.0.0",
            "packageVersionState": "Published",
            "packageVersionRevision": published["revision"],
            "operationType": "Created",
            "sequenceNumber": 1,
        },
    }
    deps = deps_for(env, ruleset, clock)
    process_sqs_records([{"messageId": "m-1", "body": json.dumps(event)}], deps)
    assert deps.reporter.outcomes_by_status[DEFERRED] == 1

    # When a reconcile runs before the version comes of age
    early = reconcile(deps_for(env, ruleset, clock))

    # Then it is deferred again, with the time it becomes eligible, and nothing was copied
    assert [(o.status, o.eligible_at) for o in early.outcomes] == [(DEFERRED, T0 + timedelta(days=3))]
    assert [i.reason for i in early.items] == [f"deferred until {(T0 + timedelta(days=3)).isoformat()}"]
    assert copy_calls(env) == 0

    # When the clock passes the cooldown and reconcile runs again
    clock.now = T0 + timedelta(days=3, minutes=1)
    late = reconcile(deps_for(env, ruleset, clock))

    # Then it is promoted, pinned to the published revision
    assert [o.status for o in late.outcomes] == [PROMOTED]
    assert versions_in(env, "release", "fresh") == {"1.0.0": published["revision"]}


def test_plan_lists_exactly_what_reconcile_copies_and_nothing_after(env: AwsEnv) -> None:
    # Given a mix: some versions present in release, some missing, one outside the rules
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        env.control.seed_package_version(DOMAIN, "staging", "pypi", "requests-lite", version)
    env.control.seed_package_version(DOMAIN, "staging", "pypi", "requests-lite", "2.0.0rc1")
    env.control.seed_package_version(DOMAIN, "staging", "npm", "only-npm", "0.1.0")
    copy_by_hand(env, "pypi", "requests-lite", versions=["1.0.0"])
    ruleset = rules()

    # When plan runs, then reconcile
    planned = reconcile(deps_for(env, ruleset), dry_run=True)
    assert copy_calls(env) == 1  # plan copies nothing
    done = reconcile(deps_for(env, ruleset))

    # Then what plan said it would copy is exactly what reconcile promoted
    def key(c: Any, destination: str | None) -> tuple[str, str, str | None, str | None]:
        return (c.package, c.version, destination, c.revision)

    to_copy = {key(i.candidate, i.destination) for i in planned.items if i.action == COPY}
    promoted = {key(o.candidate, o.destination) for o in done.outcomes if o.status == PROMOTED}
    staging = versions_in(env, "staging", "requests-lite", "pypi")
    assert (
        to_copy
        == promoted
        == {
            ("requests-lite", "1.1.0", "release", staging["1.1.0"]),
            ("requests-lite", "1.2.0", "release", staging["1.2.0"]),
            ("only-npm", "0.1.0", "release", versions_in(env, "staging", "only-npm")["0.1.0"]),
        }
    )
    # and a plan afterwards has nothing left to copy
    after = reconcile(deps_for(env, ruleset), dry_run=True)
    assert [i for i in after.items if i.action == COPY] == []
    assert {i.candidate.version for i in after.items} == {"1.0.0", "1.1.0", "1.2.0", "0.1.0"}


def test_unknown_domain_is_one_clear_error(env: AwsEnv) -> None:
    rule = {
        "name": "r",
        "domain": "nope",
        "sourceRepository": "staging",
        "destinationRepositories": ["release"],
    }
    ruleset = build_ruleset({"rules": [rule]})
    with pytest.raises(ReconcileError, match="domain 'nope' not found"):
        reconcile(deps_for(env, ruleset))


def test_scheduled_run_reports_broken_sources_and_continues(env: AwsEnv) -> None:
    # Given one good rule and one whose source repository does not exist
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    ruleset = build_ruleset(
        {
            "rules": [
                {
                    "name": "good",
                    "domain": DOMAIN,
                    "sourceRepository": "staging",
                    "destinationRepositories": ["release"],
                },
                {
                    "name": "bad",
                    "domain": DOMAIN,
                    "sourceRepository": "missing",
                    "destinationRepositories": ["release"],
                },
            ]
        }
    )
    deps = deps_for(env, ruleset)

    # When the schedule fires
    summary = run(event={"source": "aws.events", "time": T0.isoformat()}, context=None, deps=deps)[
        "reconcile"
    ]

    # Then the good source is reconciled and the bad one is one error line
    assert summary["outcomes"] == {PROMOTED: 1}
    assert len(summary["errors"]) == 1
    assert "'missing'" in summary["errors"][0]
    # and the run says it is incomplete, and counts the error by its code for the alarm
    assert summary["complete"] is False
    assert summary["errorCodes"] == {"ResourceNotFoundException": 1}
    deps.reporter.flush()
    metrics = deps.reporter.metrics
    assert isinstance(metrics, MemoryMetrics)
    assert metrics.values[("ReconcileErrors", ("ErrorCode", "ResourceNotFoundException"))] == 1


def test_stops_when_time_runs_out_and_the_next_run_continues(env: AwsEnv) -> None:
    # Given four packages to backfill, and a function that has time for two of them
    for package in ("a", "b", "c", "d"):
        env.control.seed_package_version(DOMAIN, "staging", "npm", package, "1.0.0")
    done: list[int] = []
    deps = deps_for(env, rules())._replace(remaining=lambda: 100.0 if len(done) < 2 else 0.0)
    progress = Progress(on_package=lambda count, total: done.append(count))

    # When reconcile runs, it stops starting packages once the time is short
    partial = reconcile(deps, concurrency=1, progress=progress)
    assert partial.complete is False
    assert partial.packages_done == 2
    assert partial.outcome_counts() == {PROMOTED: 2}

    # Then the next run continues with the rest, and the first two cost no copy
    rest = reconcile(deps_for(env, rules()))
    assert rest.complete is True
    assert rest.outcome_counts() == {PROMOTED: 2}
    assert rest.copy.copy_requests == 2
