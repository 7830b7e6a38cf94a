"""The operator CLI against the local AWS over HTTP: plan, reconcile, explain with a cooldown, and errors.

A few tests run the installed console script in a subprocess with AWS_ENDPOINT_URL pointing at the local
server (what an operator does); the rest call ``main(argv)`` in-process against the same server (fast).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from codeartifact_moto.testing import AwsEnv
from promoter.cli import EXIT_ENVIRONMENT, EXIT_FAILED, EXIT_OK, main
from promoter.reconcile import JSON_KEYS
from promoter_dev.sample_rules import DOMAIN, NPM_TO_RELEASE, write_rules

RULES = NPM_TO_RELEASE
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def promoter_script() -> list[str]:
    script = Path(sys.executable).with_name("promoter")
    return [str(script)] if script.exists() else [sys.executable, "-m", "promoter.cli"]


def run_subprocess(env: AwsEnv, *args: str) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ)
    assert env.endpoint_url is not None
    environ["AWS_ENDPOINT_URL"] = env.endpoint_url
    return subprocess.run(
        [*promoter_script(), *args], capture_output=True, text=True, env=environ, timeout=120, check=False
    )


def run(*argv: str, clock: datetime = NOW) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, clock=lambda: clock)
    return code, out.getvalue(), err.getvalue()


def copy_by_hand(env: AwsEnv, fmt: str, package: str, **versions: Any) -> None:
    """A copy from staging to release made outside the promoter (``versions=`` or ``versionRevisions=``)."""
    env.client("codeartifact").copy_package_versions(
        domain=DOMAIN,
        sourceRepository="staging",
        destinationRepository="release",
        format=fmt,
        package=package,
        **versions,
    )


def seed(env: AwsEnv, package: str, *versions: str) -> dict[str, str]:
    return {
        v: env.control.seed_package_version(DOMAIN, "staging", "npm", package, v)["revision"]
        for v in versions
    }


def test_plan_json_then_reconcile_then_nothing_left(env: AwsEnv, rules_file: Path) -> None:
    # Given two packages in staging, one version already promoted
    revisions = seed(env, "left-pad", "1.0.0", "1.1.0") | {"r2.0.0": seed(env, "right-pad", "2.0.0")["2.0.0"]}
    copy_by_hand(env, "npm", "left-pad", versions=["1.0.0"])

    # When an operator runs plan --json (the console script, over HTTP)
    planned = run_subprocess(env, "plan", "--rules", str(rules_file), "--json")

    # Then stdout is one JSON array of objects with exactly the documented keys
    assert planned.returncode == EXIT_OK, planned.stderr
    items = json.loads(planned.stdout)
    assert all(tuple(item) == JSON_KEYS for item in items)
    by_version = {(i["package"], i["version"]): i for i in items}
    assert by_version[("left-pad", "1.0.0")]["action"] == "skip"
    assert by_version[("left-pad", "1.0.0")]["reason"] == "already_present"
    assert by_version[("left-pad", "1.0.0")]["detail"] == "present in destination"
    assert by_version[("left-pad", "1.1.0")] == {
        "domain": DOMAIN,
        "sourceRepository": "staging",
        "destinationRepository": "release",
        "format": "npm",
        "namespace": None,
        "package": "left-pad",
        "version": "1.1.0",
        "revision": revisions["1.1.0"],
        "action": "copy",
        "reason": "missing",
        "detail": None,
        "rule": "npm-to-release",
    }
    to_copy = {(i["package"], i["version"], i["revision"]) for i in items if i["action"] == "copy"}

    # When reconcile runs (console script, not a terminal: plain lines and a summary)
    done = run_subprocess(env, "reconcile", "--rules", str(rules_file))

    # Then it copied exactly the planned versions, printed one line each, and exited 0
    assert done.returncode == EXIT_OK, done.stderr
    promoted_lines = [line for line in done.stdout.splitlines() if line.startswith("promoted")]
    assert len(promoted_lines) == len(to_copy) == 2
    assert "summary:" in done.stdout
    assert done.stderr == ""
    release = env.client("codeartifact")
    for package, version, revision in to_copy:
        listed = release.list_package_versions(
            domain=DOMAIN, repository="release", format="npm", package=package
        )
        assert {v["version"]: v["revision"] for v in listed["versions"]}[version] == revision

    # And a plan afterwards has nothing to copy
    code, out, _ = run("plan", "--rules", str(rules_file), "--json")
    assert code == EXIT_OK
    assert [i for i in json.loads(out) if i["action"] == "copy"] == []


def test_plan_text_lists_copies_and_counts_present(env: AwsEnv, rules_file: Path) -> None:
    seed(env, "left-pad", "1.0.0")
    code, out, err = run("plan", "--rules", str(rules_file))
    assert code == EXIT_OK, err
    assert "copy  acme/staging -> release  npm left-pad 1.0.0" in out
    assert out.splitlines()[-1].startswith("plan: 1 to copy, 0 already present")


def test_reconcile_exits_1_when_a_version_fails(env: AwsEnv, rules_file: Path) -> None:
    # Given a version and a destination that refuses the copy
    seed(env, "left-pad", "1.0.0")
    env.control.inject_fault("CopyPackageVersions", "AccessDeniedException", count=1)

    # When reconcile runs
    code, out, err = run("reconcile", "--rules", str(rules_file))

    # Then the failure is a line, the summary is printed, and the last line on stderr says what failed
    assert code == EXIT_FAILED
    assert "failed" in out
    assert "AccessDeniedException" in out
    assert err == "promoter: error: 1 version(s) failed (AccessDeniedException: 1)\n"


def test_a_conflict_is_a_skip_in_plan_and_a_failure_in_reconcile(env: AwsEnv, rules_file: Path) -> None:
    # Given release holds another build of left-pad 1.0.0 (staging's changed after the copy)
    old = seed(env, "left-pad", "1.0.0")["1.0.0"]
    copy_by_hand(env, "npm", "left-pad", versions=["1.0.0"])
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0", assets={"x": b"new"})

    # When an operator plans: a skip that says why, and exit 1 as reconcile (the copy would fail)
    code, out, err = run("plan", "--rules", str(rules_file), "--json")
    assert code == EXIT_FAILED
    assert err == "promoter: error: 1 version(s) would fail (ALREADY_EXISTS: 1)\n"
    [item] = json.loads(out)
    assert (item["action"], item["reason"]) == ("skip", "ALREADY_EXISTS")
    assert f"destination holds revision {old}" in item["detail"]

    # When reconcile runs: the version failed with ALREADY_EXISTS, as on the event path, exit 1
    code, out, err = run("reconcile", "--rules", str(rules_file))
    assert code == EXIT_FAILED
    assert "ALREADY_EXISTS" in out
    assert err == "promoter: error: 1 version(s) failed (ALREADY_EXISTS: 1)\n"


def test_unknown_domain_is_one_line_and_exit_3(env: AwsEnv, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("domain: acme", "domain: nowhere"))
    result = run_subprocess(env, "plan", "--rules", str(path))
    assert result.returncode == EXIT_ENVIRONMENT
    assert result.stderr == "promoter: error: domain 'nowhere' not found (rule 'npm-to-release')\n"
    assert result.stdout == ""


def test_throttling_that_outlasts_the_retries_is_one_line(
    env: AwsEnv, rules_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(env, "left-pad", "1.0.0")
    env.control.inject_fault("ListPackages", "ThrottlingException", count=50)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    code, out, err = run("plan", "--rules", str(rules_file))
    assert code == EXIT_ENVIRONMENT
    assert out == ""
    assert err.startswith("promoter: error: ")
    assert "ThrottlingException" in err
    assert err.count("\n") == 1


def test_copy_throttling_that_outlasts_the_retries_ends_after_the_copiers_attempts(
    env: AwsEnv, rules_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a version to copy and CopyPackageVersions throttled for good
    seed(env, "left-pad", "1.0.0")
    env.control.inject_fault("CopyPackageVersions", "ThrottlingException", count=1000)
    monkeypatch.setenv("PROMOTER_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "4")  # for the read calls only

    # When reconcile runs
    code, out, err = run("reconcile", "--rules", str(rules_file), "--quiet")

    # Then the copier's own attempts are the only retries (botocore's are not multiplied into them)
    assert code == EXIT_FAILED
    assert env.control.stats()["CopyPackageVersions"]["calls"] == 2
    assert "ThrottlingException" in out
    assert err == "promoter: error: 1 version(s) failed (ThrottlingException: 1)\n"


def test_explain_a_cooldown_rejects_by_age_until_the_version_is_old_enough(
    env: AwsEnv, tmp_path: Path
) -> None:
    # Given a rule with a 3 day cooldown and a version published at NOW
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES + "    minimumReleaseAge: 3d\n")
    published = env.control.seed_package_version(
        DOMAIN, "staging", "npm", "fresh", "1.0.0", published_time=NOW
    )
    event = json.loads((Path(__file__).resolve().parents[2] / "events/npm-published.json").read_text())
    event["detail"].update(
        domainName=DOMAIN,
        domainOwner=env.account_id,
        repositoryName="staging",
        packageNamespace=None,
        packageName="fresh",
        packageVersion="1.0.0",
        packageVersionRevision=published["revision"],
    )
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event))

    # When explain runs a day later
    code, out, err = run("explain", "--rules", str(rules), str(event_path), clock=NOW + timedelta(days=1))

    # Then the rule is rejected by age, with the time the version becomes eligible, and nothing is copied
    assert code == EXIT_OK, err
    eligible = (NOW + timedelta(days=3)).isoformat()
    assert f"rule npm-to-release: rejected by age (eligible at {eligible})" in out
    assert "copy requests: none" in out
    assert f"deferred for release until {eligible}" in out

    # And with --at after the cooldown, the rule matches and the copy request is shown
    code, out, _ = run("explain", "--rules", str(rules), str(event_path), "--at", "2026-12-01T00:00:00Z")
    assert code == EXIT_OK
    assert "rule npm-to-release: matches -> release" in out
    assert f'{{"1.0.0": "{published["revision"]}"}}' in out


def test_reconcile_over_a_cooldown_defers_then_promotes(env: AwsEnv, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES + "    minimumReleaseAge: 90m\n")
    env.control.seed_package_version(DOMAIN, "staging", "npm", "fresh", "1.0.0", published_time=NOW)

    code, out, _ = run("reconcile", "--rules", str(rules), clock=NOW + timedelta(minutes=30))
    assert code == EXIT_OK
    assert "deferred" in out
    assert "(until 2026-11-26T13:30:00+00:00)" in out
    assert env.control.stats().get("CopyPackageVersions", {}).get("calls", 0) == 0

    code, out, _ = run("reconcile", "--rules", str(rules), clock=NOW + timedelta(minutes=91))
    assert code == EXIT_OK
    assert [line.split()[0] for line in out.splitlines() if "fresh" in line] == ["promoted"]


def test_reconcile_puts_outcome_events_on_the_configured_bus(
    env: AwsEnv, rules_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given OUTCOME_EVENT_BUS names a bus with a subscribed queue
    events, sqs = env.client("events"), env.client("sqs")
    events.create_event_bus(Name="promotions")
    queue_url = sqs.create_queue(QueueName="outcomes")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="all", EventBusName="promotions", EventPattern='{"source": ["codeartifact-promoter"]}'
    )
    events.put_targets(Rule="all", EventBusName="promotions", Targets=[{"Id": "q", "Arn": arn}])
    monkeypatch.setenv("OUTCOME_EVENT_BUS", "promotions")
    seed(env, "left-pad", "1.0.0")

    # When an operator reconciles
    code, _, err = run("reconcile", "--rules", str(rules_file))

    # Then the promotion is announced on the bus like the function's
    assert code == EXIT_OK, err
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"])["detail"]["package"] for m in messages] == ["left-pad"]


def test_an_undeliverable_outcome_event_is_a_warning_not_a_failure(
    env: AwsEnv, rules_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTCOME_EVENT_BUS", "no-such-bus")
    seed(env, "left-pad", "1.0.0")
    code, out, err = run("reconcile", "--rules", str(rules_file))
    assert code == EXIT_OK
    assert "promoted" in out
    assert err.startswith("promoter: warning: outcome events not delivered")
    assert "ResourceNotFoundException" in err


# --------------------------------------------------------------------------- "why wasn't it promoted?"

WHY_RULES = """
rules:
  - name: pypi-1x
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    formats: [pypi]
    versions: ">=1,<2"
  - name: npm-acme
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    formats: [npm]
    namespaces: [acme, "acme.*"]
"""


@pytest.fixture
def why_rules(tmp_path: Path) -> Path:
    return write_rules(tmp_path, WHY_RULES, "why.yaml")


def test_explain_a_version_says_which_filter_rejects_it_with_the_value_and_the_wanted(
    env: AwsEnv, why_rules: Path
) -> None:
    # Given pypi requests 2.0.0 in staging (outside the pypi rule's range)
    revision = env.control.seed_package_version(DOMAIN, "staging", "pypi", "requests", "2.0.0")["revision"]

    # When an operator asks why it was not promoted, by coordinate (the console script, over HTTP)
    result = run_subprocess(env, "explain", "--rules", str(why_rules), "pypi/requests@2.0.0")

    # Then each rule answers: the range with the value and what it wanted, the npm rule by format
    assert result.returncode == EXIT_OK, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == "version: pypi requests 2.0.0"
    assert f"  in acme/staging: revision {revision}, Published, origin INTERNAL, published " in out
    assert "  rule pypi-1x: rejected by range: 2.0.0 not in >=1,<2 (pypi)\n" in out
    assert "  rule npm-acme: rejected by format: 'pypi' not in ['npm']\n" in out


def test_explain_a_version_names_the_namespace_wanted(env: AwsEnv, why_rules: Path) -> None:
    env.control.seed_package_version(DOMAIN, "staging", "npm", "widgets", "1.0.0", namespace="other")
    code, out, err = run("explain", "--rules", str(why_rules), "npm/@other/widgets@1.0.0")
    assert code == EXIT_OK, err
    assert "  rule npm-acme: rejected by namespace: 'other' not in ['acme', 'acme.*']\n" in out


def test_explain_an_accepted_version_reads_the_destination(env: AwsEnv, why_rules: Path) -> None:
    # Given pypi requests 1.5.0 in staging, not yet in release
    revision = env.control.seed_package_version(DOMAIN, "staging", "pypi", "requests", "1.5.0")["revision"]

    # When explained: the copy it would make, pinned to the source's revision
    code, out, _ = run("explain", "--rules", str(why_rules), "pypi/requests@1.5.0")
    assert code == EXIT_OK
    assert (
        "  rule pypi-1x: accepted -> release: would copy: CopyPackageVersions staging -> release pypi "
        f'requests {{"1.5.0": "{revision}"}} allowOverwrite=false includeFromUpstream=false'
    ) in out

    # When release holds the same build: already present
    copy_by_hand(env, "pypi", "requests", versionRevisions={"1.5.0": revision})
    code, out, _ = run("explain", "--rules", str(why_rules), "pypi/requests@1.5.0")
    assert f"  rule pypi-1x: accepted -> release: already present (revision {revision})" in out

    # When staging's build changes after the copy: another build in release
    new = env.control.seed_package_version(
        DOMAIN, "staging", "pypi", "requests", "1.5.0", assets={"x": b"new"}
    )["revision"]
    code, out, _ = run("explain", "--rules", str(why_rules), "pypi/requests@1.5.0")
    assert (
        f"  rule pypi-1x: accepted -> release: another build in release (revision {revision}, not {new}): "
        "a copy fails ALREADY_EXISTS unless the rule sets allowOverwrite"
    ) in out


def test_explain_a_version_the_source_lacks_says_so(env: AwsEnv, why_rules: Path) -> None:
    code, out, _ = run("explain", "--rules", str(why_rules), "pypi/requests@1.0.0")
    assert code == EXIT_OK
    assert "  rule pypi-1x: not in acme/staging (no such package version in the source)" in out


def test_explain_a_version_in_a_missing_source_names_it(env: AwsEnv, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(WHY_RULES.replace("sourceRepository: staging", "sourceRepository: nosuch", 1))
    code, out, _ = run("explain", "--rules", str(path), "pypi/requests@1.0.0")
    assert code == EXIT_OK
    assert "  rule pypi-1x: cannot read acme/nosuch: ResourceNotFoundException: " in out
    assert "nosuch" in out.split("cannot read acme/nosuch:")[1].splitlines()[0]


@pytest.mark.parametrize(
    "argument", ["requests@1.0", "pypi/requests", "conda/requests@1.0", "pypi/@1.0", "npm/@acme/@1.0"]
)
def test_explain_of_a_bad_coordinate_is_a_usage_error(env: AwsEnv, why_rules: Path, argument: str) -> None:
    code, out, err = run("explain", "--rules", str(why_rules), argument)
    assert code == 2
    assert out == ""
    assert err.startswith("promoter: error: ")
    assert err.count("\n") == 1


def test_plan_all_lists_rejected_versions_with_reason_codes(env: AwsEnv, tmp_path: Path) -> None:
    # Given a rule for 1.x npm versions without prereleases or internal packages, and staging holding
    # one version of each kind, one Unfinished, and one already in release
    path = tmp_path / "rules.yaml"
    path.write_text(RULES + '    versions: "^1"\n    excludePackages: ["*-internal"]\n')
    seed(env, "left-pad", "1.0.0", "2.0.0", "1.1.0-beta.1")
    seed(env, "secret-internal", "1.0.0")
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.2.0", status="Unfinished")
    copy_by_hand(env, "npm", "left-pad", versions=["1.0.0"])

    # When an operator runs plan --all --json
    code, out, err = run("plan", "--rules", str(path), "--all", "--json")

    # Then every version considered is there, with a machine-readable reason beside the prose
    assert code == EXIT_OK, err
    items = {(i["package"], i["version"]): i for i in json.loads(out)}
    assert all(tuple(item) == JSON_KEYS for item in items.values())
    assert {k: (i["action"], i["reason"]) for k, i in items.items()} == {
        ("left-pad", "1.0.0"): ("skip", "already_present"),
        ("left-pad", "2.0.0"): ("skip", "range"),
        ("left-pad", "1.1.0-beta.1"): ("skip", "prerelease"),
        ("left-pad", "1.2.0"): ("skip", "state"),
        ("secret-internal", "1.0.0"): ("skip", "exclude"),
    }
    assert items[("left-pad", "2.0.0")]["detail"] == "range: 2.0.0 not in ^1 (npm)"
    assert items[("left-pad", "1.2.0")]["detail"] == "state: Unfinished not in ['Published']"
    assert items[("left-pad", "2.0.0")]["rule"] == "npm-to-release"

    # And the text form prints the same reasons; without --all only what is neither present nor rejected
    code, out, _ = run("plan", "--rules", str(path), "--all")
    assert "npm left-pad 2.0.0" in out
    assert "(range: 2.0.0 not in ^1 (npm), rule npm-to-release)" in out
    code, out, _ = run("plan", "--rules", str(path))
    assert "2.0.0" not in out
    assert out.splitlines()[-1].startswith("plan: 0 to copy, 1 already present, 0 skipped")


def test_rules_from_an_ssm_parameter_are_read_as_the_function_reads_them(env: AwsEnv) -> None:
    # Given the rules in an SSM String parameter, and a version to copy
    env.client("ssm").put_parameter(Name="/promoter/rules", Value=RULES, Type="String")
    seed(env, "left-pad", "1.0.0")

    # When plan and rules check read them with ssm:NAME
    code, out, err = run("plan", "--rules", "ssm:/promoter/rules")
    assert code == EXIT_OK, err
    assert "copy  acme/staging -> release  npm left-pad 1.0.0" in out
    code, out, _ = run("rules", "check", "ssm:/promoter/rules")
    assert code == EXIT_OK
    assert out.startswith("npm-to-release: acme/staging -> release")

    # Then a missing parameter or a SecureString are one line each
    code, _, err = run("plan", "--rules", "ssm:/promoter/missing")
    assert code == EXIT_ENVIRONMENT
    assert err == "promoter: error: SSM parameter '/promoter/missing' not found in us-east-1\n"
    env.client("ssm").put_parameter(Name="/promoter/secret", Value=RULES, Type="SecureString")
    code, _, err = run("rules", "check", "ssm:/promoter/secret")
    assert code == EXIT_FAILED
    assert "must be a String parameter" in err
    assert err.count("\n") == 1


def test_a_missing_destination_repository_is_named_as_the_destination(env: AwsEnv, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("destinationRepositories: [release]", "destinationRepositories: [gone]"))
    seed(env, "left-pad", "1.0.0")
    # plan stops at the first error; reconcile goes on past it, names it, then says the run is incomplete
    code, _, err = run("plan", "--rules", str(path))
    assert code == EXIT_ENVIRONMENT
    assert err.startswith("promoter: error: domain 'acme', destination 'gone' (of source 'staging'): ")
    assert err.count("\n") == 1
    code, _, err = run("reconcile", "--rules", str(path))
    assert code == EXIT_ENVIRONMENT
    first, second = err.splitlines()
    assert first.startswith("promoter: not read: domain 'acme', destination 'gone' (of source 'staging'): ")
    assert second.startswith("promoter: error: reconcile incomplete")
