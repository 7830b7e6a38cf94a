"""Reconcile's deadline, cursor and errors over HTTP: the local CodeArtifact and SSM in moto's server mode.

The run's remaining time is counted in calls instead of seconds (every request the client sends costs one
"second", through botocore's own event hooks), so a run that must stop halfway does so at the same point
on any machine, while every call is a real HTTP request to the local AWS.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter.cli import EXIT_ENVIRONMENT, EXIT_OK, main
from promoter.listed import PackageRef
from promoter.matching import RuleSet
from promoter.outcomes import PROMOTED
from promoter.pipeline import Dependencies
from promoter.reconcile import METRIC_ERRORS, Cursor, SsmCursorStore, run
from promoter.report import MemoryMetrics, Reporter
from promoter.rules import build_ruleset
from promoter_dev.sample_rules import DOMAIN, STAGING_TO_RELEASE

from .test_cli import copy_by_hand

PARAMETER = "/codeartifact-promoter/test/reconcile-cursor"
RESERVE = 5.0 + 12.0  # reconcile's reserve + the copier's default call reserve


class NullLog:
    def info(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def warning(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def error(self, msg: object, *args: object, **kwargs: Any) -> None: ...


class CallBudget:
    """Remaining "time" = the reserve plus the calls the run may still make; each request spends one."""

    def __init__(self, client: Any, calls: float) -> None:
        self.left = calls
        self.by_operation: list[tuple[str, str]] = []
        self.remaining_at_call: list[float] = []
        client.meta.events.register("before-call.codeartifact.*", self._spend)

    def _spend(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.remaining_at_call.append(self.remaining())
        self.left -= 1
        body = params.get("query_string") or {}
        self.by_operation.append((model.name, str(body.get("repository", ""))))

    def remaining(self) -> float:
        return RESERVE + self.left


def rules(*sources: str) -> RuleSet:
    return build_ruleset(
        {
            "rules": [
                {
                    "name": f"{source}-to-release",
                    "domain": DOMAIN,
                    "sourceRepository": source,
                    "destinationRepositories": ["release"],
                }
                for source in sources or ("staging",)
            ]
        }
    )


@pytest.fixture
def env(aws_server: AwsEnv) -> AwsEnv:
    create_domain_with_repositories(aws_server.client("codeartifact"), DOMAIN, ["staging", "release"])
    aws_server.client("ssm").put_parameter(Name=PARAMETER, Value="{}", Type="String")
    return aws_server


def deps_for(env: AwsEnv, ruleset: RuleSet, budget: float = 10_000) -> tuple[Dependencies, CallBudget]:
    client = env.client("codeartifact")
    calls = CallBudget(client, budget)
    deps = Dependencies(
        client=client,
        rules=ruleset,
        reporter=Reporter(NullLog(), MemoryMetrics()),
        remaining=calls.remaining,
        sleep=lambda _: None,
    )
    return deps, calls


def released(env: AwsEnv, package: str) -> dict[str, str]:
    client = env.client("codeartifact")
    try:
        page = client.list_package_versions(
            domain=DOMAIN, repository="release", format="npm", package=package
        )
    except client.exceptions.ResourceNotFoundException:
        return {}
    return {v["version"]: v["revision"] for v in page["versions"]}


def stored_cursor(env: AwsEnv) -> str:
    return str(env.client("ssm").get_parameter(Name=PARAMETER)["Parameter"]["Value"])


def test_one_missing_version_is_promoted_in_a_run_too_short_to_list_the_release(env: AwsEnv) -> None:
    # Given release holding 300 packages (an upstream cache) and staging one package whose new version
    # release lacks, and a run with time for five calls: fewer than listing release would take on top
    for i in range(300):
        env.control.seed_package_version(DOMAIN, "release", "npm", f"cached-{i:03d}", "1.0.0")
    old = env.control.seed_package_version(DOMAIN, "staging", "npm", "app", "1.0.0")["revision"]
    copy_by_hand(env, "npm", "app", versionRevisions={"1.0.0": old})
    new = env.control.seed_package_version(DOMAIN, "staging", "npm", "app", "1.1.0")["revision"]
    deps, calls = deps_for(env, rules(), budget=5)

    # When the scheduled run goes
    summary = run(event={}, context=None, deps=deps, store=SsmCursorStore(env.client("ssm"), PARAMETER))

    # Then the missing version is promoted and the run completed within its calls, never listing release:
    # DescribeDomain, ListPackages of staging, ListPackageVersions of app in staging and in release, a copy
    assert summary["reconcile"]["outcomes"] == {PROMOTED: 1}
    assert summary["reconcile"]["complete"] is True
    assert released(env, "app") == {"1.0.0": old, "1.1.0": new}
    assert calls.left >= 0
    assert calls.by_operation == [
        ("DescribeDomain", ""),
        ("ListPackages", "staging"),
        ("ListPackageVersions", "staging"),
        ("ListPackageVersions", "release"),
        ("CopyPackageVersions", ""),
    ]


def test_a_run_out_of_time_saves_its_cursor_in_ssm_and_the_next_run_continues_there(env: AwsEnv) -> None:
    # Given 12 packages in staging, each with a version release lacks, and a release holding 150 other
    # packages that reconcile must never enumerate
    revisions = {
        f"pkg-{i:02d}": env.control.seed_package_version(DOMAIN, "staging", "npm", f"pkg-{i:02d}", "1.0.0")[
            "revision"
        ]
        for i in range(12)
    }
    for i in range(150):
        env.control.seed_package_version(DOMAIN, "release", "npm", f"cached-{i:03d}", "1.0.0")
    store = SsmCursorStore(env.client("ssm"), PARAMETER)

    # When a scheduled run has time for a dozen calls only (each package costs three: two reads, a copy)
    deps, calls = deps_for(env, rules(), budget=12)
    first = run(event={}, context=None, deps=deps, store=store)["reconcile"]

    # Then it stopped inside its time, said so, and saved where it stopped in the parameter
    assert first["complete"] is False
    assert first["outOfTime"] is True
    # (every call started with at least the copier's call reserve left: list calls keep reconcile's larger
    # reserve, a package's copy may use the difference)
    assert min(calls.remaining_at_call) >= 12.0
    done = first["packagesDone"]
    assert 0 < done < 12
    assert first["outcomes"] == {PROMOTED: done}
    cursor = Cursor.from_json(stored_cursor(env))
    assert cursor is not None
    assert (cursor.repository, cursor.after) == ("staging", PackageRef("npm", None, f"pkg-{done - 1:02d}"))
    # and release was read package by package, never listed
    assert ("ListPackages", "release") not in calls.by_operation

    # When the next scheduled run has all the time it needs
    deps, calls = deps_for(env, rules())
    second = run(event={}, context=None, deps=deps, store=store)["reconcile"]

    # Then it continued after the cursor, promoted the rest, completed and reset the parameter
    assert second["resumedFrom"]["package"] == f"pkg-{done - 1:02d}"
    assert second["outcomes"] == {PROMOTED: 12 - done}
    assert second["packagesDone"] == 12 - done
    assert second["complete"] is True
    assert stored_cursor(env) == "{}"
    for package, revision in revisions.items():
        assert released(env, package) == {"1.0.0": revision}
    assert ("ListPackages", "release") not in calls.by_operation


def test_a_refused_token_in_the_stored_cursor_falls_back_to_the_cursors_package(env: AwsEnv) -> None:
    # Given a cursor after pkg-03 whose token the local CodeArtifact does not take
    for i in range(6):
        env.control.seed_package_version(DOMAIN, "staging", "npm", f"pkg-{i:02d}", "1.0.0")
    owner = env.client("codeartifact").describe_domain(domain=DOMAIN)["domain"]["owner"]
    stale = Cursor(DOMAIN, owner, "staging", 0, PackageRef("npm", None, "pkg-03"), "not-a-token")
    env.client("ssm").put_parameter(Name=PARAMETER, Value=stale.text(), Type="String", Overwrite=True)

    # When the scheduled run resumes
    deps, _ = deps_for(env, rules())
    summary = run(event={}, context=None, deps=deps, store=SsmCursorStore(env.client("ssm"), PARAMETER))

    # Then it promoted exactly the packages after pkg-03
    assert summary["reconcile"]["outcomes"] == {PROMOTED: 2}
    assert [p for p in (f"pkg-{i:02d}" for i in range(6)) if released(env, p)] == ["pkg-04", "pkg-05"]
    assert stored_cursor(env) == "{}"


def test_sources_that_cannot_be_read_emit_reconcile_errors_by_code(env: AwsEnv) -> None:
    # Given a good source, a source repository that does not exist, and a source that is denied
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    env.client("codeartifact").create_repository(domain=DOMAIN, repository="locked")
    env.control.inject_fault("ListPackages", "AccessDeniedException", count=1)  # the first source listed
    deps, _ = deps_for(env, rules("locked", "missing", "staging"))

    # When the schedule fires
    summary = run(event={}, context=None, deps=deps, store=SsmCursorStore(env.client("ssm"), PARAMETER))[
        "reconcile"
    ]
    deps.reporter.flush()

    # Then the good source is promoted, the run is incomplete, and each error is counted by its code
    assert summary["outcomes"] == {PROMOTED: 1}
    assert summary["complete"] is False
    assert summary["errorCodes"] == {"AccessDeniedException": 1, "ResourceNotFoundException": 1}
    metrics = deps.reporter.metrics
    assert isinstance(metrics, MemoryMetrics)
    assert metrics.values[(METRIC_ERRORS, ("ErrorCode", "AccessDeniedException"))] == 1
    assert metrics.values[(METRIC_ERRORS, ("ErrorCode", "ResourceNotFoundException"))] == 1
    # and the walk reached its end, so the next run starts again at the first source
    assert stored_cursor(env) == "{}"


# --------------------------------------------------------------------------- the CLI


RULES = STAGING_TO_RELEASE


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_reconcile_resumes_from_a_cursor_file_and_resets_it(env: AwsEnv, tmp_path: Path) -> None:
    for i in range(5):
        env.control.seed_package_version(DOMAIN, "staging", "npm", f"pkg-{i:02d}", "1.0.0")
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES)
    owner = env.client("codeartifact").describe_domain(domain=DOMAIN)["domain"]["owner"]
    cursor_file = tmp_path / "cursor.json"
    cursor_file.write_text(
        Cursor(DOMAIN, owner, "staging", 0, PackageRef("npm", None, "pkg-02"), None).text()
    )

    code, out, err = cli("reconcile", "--rules", str(rules_file), "--quiet", "--cursor", str(cursor_file))

    assert (code, err) == (EXIT_OK, "")
    assert [p for p in (f"pkg-{i:02d}" for i in range(5)) if released(env, p)] == ["pkg-03", "pkg-04"]
    assert json.loads(cursor_file.read_text()) == {}
    assert "packages" in out


def test_cli_reconcile_goes_on_past_a_missing_source_and_exits_3(env: AwsEnv, tmp_path: Path) -> None:
    env.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        RULES + RULES.split("rules:\n")[1].replace("staging-to-release", "x").replace("staging", "gone")
    )

    code, out, err = cli("reconcile", "--rules", str(rules_file), "--quiet")

    assert code == EXIT_ENVIRONMENT
    assert released(env, "left-pad")  # the good source still ran
    assert "summary:" in out
    lines = err.splitlines()
    assert any("'gone'" in line for line in lines)
    assert lines[-1] == "promoter: error: reconcile incomplete: 1 source(s) or destination(s) not read"


def test_cli_cursor_file_that_is_not_a_cursor_is_a_usage_error(env: AwsEnv, tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES)
    cursor_file = tmp_path / "cursor.json"
    cursor_file.write_text("[1, 2]")
    code, _, err = cli("reconcile", "--rules", str(rules_file), "--cursor", str(cursor_file))
    assert code == 2
    assert err.startswith(f"promoter: error: --cursor {cursor_file}: reconcile cursor")


def test_a_missing_cursor_parameter_means_the_beginning_and_is_created(aws_server: AwsEnv) -> None:
    # Given no parameter at all (deleted by hand, or a local run without the stack)
    create_domain_with_repositories(aws_server.client("codeartifact"), DOMAIN, ["staging", "release"])
    aws_server.control.seed_package_version(DOMAIN, "staging", "npm", "left-pad", "1.0.0")
    store = SsmCursorStore(aws_server.client("ssm"), PARAMETER)

    # When the schedule fires
    deps, _ = deps_for(aws_server, rules())
    summary = run(event={}, context=None, deps=deps, store=store)["reconcile"]

    # Then it started at the beginning, completed, and left the parameter holding {}
    assert summary["outcomes"] == {PROMOTED: 1}
    assert summary["complete"] is True
    assert stored_cursor(aws_server) == "{}"
