"""Fault storms end to end: publish -> EventBridge -> SQS (+ DLQ) -> the handler -> CodeArtifact under faults.

For each storm, N versions are published into ``staging`` of the local CodeArtifact (moto over HTTP), the
backend's events reach a queue with a redrive policy through a real EventBridge rule, and the queue is
drained the way Lambda's event source mapping drains it while ``Control.inject_fault`` makes
CopyPackageVersions throttle, fail with 5xx, deny access, not find things or answer slowly.

Then every version must be accounted for, in this order:

- promoted: ``release`` holds it with exactly the revision that was published;
- in the DLQ: its event waits in the dead-letter queue, and the log says why (a failed outcome line with
  an error code);
- failed with a reason: a final failure (the record was acknowledged) with its error code in a log line and
  in the ``VersionsFailed`` metric's ``ErrorCode`` dimension;
- otherwise it is lost, and the test fails.

One version (``storm-conflict 1.0.0``) already exists in ``release`` as a different build, so every storm
also carries one final ``ALREADY_EXISTS`` failure (unless the storm keeps it from being tried at all).
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from codeartifact_moto.control import Control
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories

from .conftest import DOMAIN
from .harness import Invocation, Output, Pipeline, drain, invoke, redrive
from .storm_table import STORM_COLUMNS, STORM_PROPERTY, format_table

FUNCTION_TIMEOUT = 5.0
"""The emulated function timeout (the copier keeps call timeout 0.5 s + 2 s margin in reserve)."""
VISIBILITY_TIMEOUT = 5
"""At least the function timeout, as Lambda requires of an event source queue."""
MAX_RECEIVE_COUNT = 3
SLOW_TIMEOUT = 3.6
"""The slow storm's function timeout: about 1 s of work per invocation once the reserve is kept back."""
COPY = "CopyPackageVersions"

PACKAGES: tuple[tuple[str, str | None, str], ...] = (
    ("npm", None, "storm-a"),
    ("npm", None, "storm-b"),
    ("npm", None, "storm-c"),
    ("pypi", None, "storm-d"),
    ("pypi", None, "storm-e"),
    ("generic", "acme", "storm-f"),
)
VERSIONS_PER_PACKAGE = 4
CONFLICT = ("npm", None, "storm-conflict", "1.0.0")
CONFLICT_KEY = ("npm", "", "storm-conflict", "1.0.0")


@dataclass(frozen=True)
class Version:
    format: str
    namespace: str | None
    package: str
    version: str
    revision: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.format, self.namespace or "", self.package, self.version)


@dataclass
class Storm:
    name: str
    inject: Callable[[Control], None]
    check: Callable[[dict[str, Any], Output], None]
    timeout: float = FUNCTION_TIMEOUT
    after_publish: Callable[[AwsEnv, list[Version]], None] | None = None
    """Runs once the versions are published, before the queue is drained."""
    environment: dict[str, str] = dataclasses.field(default_factory=dict)
    """The function's environment beside ``function_env``'s (e.g. catch-up off)."""


def _none(control: Control) -> None:
    """No fault: the baseline every storm is compared with."""


def _throttling(control: Control) -> None:
    control.set_rate_limit(COPY, 2.0)  # below the function's own 5/s pacing: the account is busy elsewhere
    control.inject_fault(COPY, "ThrottlingException", rate=0.3)


def _bursts_of_5xx(control: Control) -> None:
    control.inject_fault(COPY, "InternalServerException", count=10, status=500)


def _access_denied(control: Control) -> None:
    control.inject_fault(COPY, "AccessDeniedException", rate=1.0)


def _resource_not_found(control: Control) -> None:
    control.inject_fault(COPY, "ResourceNotFoundException", rate=0.4)


def _slow(control: Control) -> None:
    # Two answers slower than the function's read timeout (the server still copies, the client gives up),
    # then every answer just below it: a batch of six packages no longer fits into one invocation.
    control.inject_fault(COPY, "", count=2, delay_seconds=0.8)
    control.inject_fault(COPY, "", rate=1.0, delay_seconds=0.4)


def _odd_answers(control: Control) -> None:
    """Answers a proxy or a later API could give: 200s that name nothing, with and without the copy."""
    # One of each kind, in turn, for the first copy calls; two of them after the copy was made.
    for kind in ("empty-body", "empty-object", "null-maps", "unrequested-versions", "html", "unparseable"):
        control.inject_answer(COPY, kind, count=1, perform=kind in ("html", "null-maps"))


def _unknown_codes(control: Control) -> None:
    for kind in ("unknown-error-code", "missing-error-code", "null-error-code"):
        control.inject_answer(COPY, kind, count=1)


def _another_revision(control: Control) -> None:
    control.inject_answer(COPY, "other-revision", rate=0.3, count=None)


def _hanging_package(control: Control) -> None:
    # Every call naming storm-a hangs past the client's read timeout (the server still copies afterwards)
    for operation in (COPY, "ListPackageVersions"):
        control.inject_fault(operation, "", rate=1.0, delay_seconds=0.8, package="storm-a")


def _copy_half_first(env: AwsEnv, published: list[Version]) -> None:
    """Another invocation (or reconcile) copies every other version into release, pinned, before the
    function sees their events: the function's own copies then meet ALREADY_EXISTS for identical builds."""
    client = env.client("codeartifact")
    for version in published[::2]:
        if version.key == CONFLICT_KEY:
            continue
        kwargs: dict[str, Any] = {
            "domain": DOMAIN,
            "sourceRepository": "staging",
            "destinationRepository": "release",
            "format": version.format,
            "package": version.package,
            "versionRevisions": {version.version: version.revision},
        }
        if version.namespace:
            kwargs["namespace"] = version.namespace
        client.copy_package_versions(**kwargs)


def _expect_all_promoted(row: dict[str, Any], output: Output) -> None:
    assert row["promoted"] == row["published"] - 1
    assert row["failed"] == 1
    assert row["dlq"] == 0


def _expect_only_the_conflict_failed(row: dict[str, Any]) -> None:
    """Nothing but the conflicting version fails for good; it may also still wait in the DLQ if the storm
    kept it from ever reaching CopyPackageVersions."""
    assert row["failed"] <= 1
    assert row["promoted"] >= row["published"] - 1 - row["dlq"]


def _expect_throttled(row: dict[str, Any], output: Output) -> None:
    assert row["throttled"] > 0  # the function saw (and counted) the throttles
    _expect_only_the_conflict_failed(row)


def _expect_5xx_absorbed(row: dict[str, Any], output: Output) -> None:
    assert row["faults"] == 10
    _expect_all_promoted(row, output)  # retried in the call, or by the queue when the invocation ran short


def _expect_all_dead(row: dict[str, Any], output: Output) -> None:
    assert row["dlq"] == row["published"]
    assert row["promoted"] == 0
    assert output.metric("VersionsFailed", ("ErrorCode", "AccessDeniedException")) > 0


def _expect_some_retried(row: dict[str, Any], output: Output) -> None:
    assert row["retried"] > 0
    assert output.metric("VersionsFailed", ("ErrorCode", "ResourceNotFoundException")) > 0
    assert row["promoted"] > 0


def _expect_slow_within_timeout(row: dict[str, Any], output: Output) -> None:
    assert row["max_invocation_s"] < SLOW_TIMEOUT
    assert row["retried"] > 0  # not every copy fitted: the rest went back to the queue, none was cut off
    codes = {line.get("errorCode") for line in output.outcomes() if line["outcome"] == "failed"}
    # Which records were still unreached (NotAttempted) when time ran short depends on the machine's speed;
    # that the slow ones timed out, and that nothing failed for another reason, does not.
    assert "ReadTimeoutError" in codes
    assert codes <= {"ReadTimeoutError", "NotAttempted", "ALREADY_EXISTS"}
    _expect_only_the_conflict_failed(row)


def _expect_retried_and_all_promoted(row: dict[str, Any], output: Output) -> None:
    assert row["retried"] > 0  # records went back, none was acknowledged unverified
    _expect_only_the_conflict_failed(row)
    assert row["dlq"] == 0


def _expect_odd_answers_verified(row: dict[str, Any], output: Output) -> None:
    assert output.metric("VersionsFailed", ("ErrorCode", "Unverified")) > 0
    _expect_retried_and_all_promoted(row, output)


def _expect_unknown_codes_retried(row: dict[str, Any], output: Output) -> None:
    failed = [line for line in output.outcomes() if line["outcome"] == "failed"]
    unknown = [line for line in failed if line["errorCode"] != "ALREADY_EXISTS"]
    assert unknown
    assert all(line["retryable"] for line in unknown)
    _expect_retried_and_all_promoted(row, output)


def _expect_other_revision_retried(row: dict[str, Any], output: Output) -> None:
    lines = [line for line in output.outcomes() if line.get("errorCode") == "UnexpectedRevision"]
    assert lines
    assert all(line["retryable"] and line["destinationRevision"] != line["revision"] for line in lines)
    _expect_retried_and_all_promoted(row, output)


def _expect_identical_builds_already_present(row: dict[str, Any], output: Output) -> None:
    _expect_all_promoted(row, output)
    assert output.metric("VersionsFailed", ("ErrorCode", "ALREADY_EXISTS")) == 1  # the conflict only
    assert output.metric("VersionsAlreadyPresent") >= (row["published"] - 1) // 2


def _expect_hanging_package_alone_retried(row: dict[str, Any], output: Output) -> None:
    assert row["retried"] > 0
    _expect_only_the_conflict_failed(row)
    healthy = [
        line
        for line in output.outcomes()
        if line["outcome"] == "failed" and line.get("package") not in ("storm-a", "storm-conflict")
    ]
    assert healthy == []  # only the hanging package's records went back


STORMS = [
    Storm("baseline (no faults)", _none, _expect_all_promoted),
    Storm("throttling storm (2/s + 30% 429)", _throttling, _expect_throttled),
    Storm("burst of 10 x 500 InternalServer", _bursts_of_5xx, _expect_5xx_absorbed),
    Storm("AccessDenied on every copy", _access_denied, _expect_all_dead),
    Storm("ResourceNotFound on 40% of copies", _resource_not_found, _expect_some_retried),
    Storm("slow answers near the timeout", _slow, _expect_slow_within_timeout, timeout=SLOW_TIMEOUT),
    Storm("odd 200 answers naming nothing (6 kinds)", _odd_answers, _expect_odd_answers_verified),
    Storm("undocumented error codes (3 kinds)", _unknown_codes, _expect_unknown_codes_retried),
    Storm("success naming another revision (30%)", _another_revision, _expect_other_revision_retried),
    Storm(
        "identical builds already in release, catch-up off",
        _none,
        _expect_identical_builds_already_present,
        after_publish=_copy_half_first,
        environment={"PROMOTER_CATCH_UP": "false"},
    ),
    Storm("one package hangs past the read timeout", _hanging_package, _expect_hanging_package_alone_retried),
]


def publish(env: AwsEnv) -> list[Version]:
    """The conflicting build goes into release first, then each version into staging (one event each)."""
    fmt, namespace, package, version = CONFLICT
    env.control.seed_package_version(
        DOMAIN, "release", fmt, package, version, namespace=namespace, assets={"x.tgz": b"another build"}
    )
    published: list[Version] = []
    targets = [(f, ns, p, f"1.{i}.0") for f, ns, p in PACKAGES for i in range(VERSIONS_PER_PACKAGE)]
    for fmt, namespace, package, version in [*targets, CONFLICT]:
        asset = f"{package}-{version}.bin"
        seeded = env.control.seed_package_version(
            DOMAIN,
            "staging",
            fmt,
            package,
            version,
            namespace=namespace,
            assets={asset: f"{package} {version} build".encode()},
        )
        published.append(Version(fmt, namespace, package, version, str(seeded["revision"])))
    return published


def release_revisions(env: AwsEnv, published: list[Version]) -> dict[tuple[str, str, str, str], str]:
    client = env.client("codeartifact")
    found: dict[tuple[str, str, str, str], str] = {}
    for fmt, namespace, package in {(v.format, v.namespace, v.package) for v in published}:
        kwargs: dict[str, Any] = {
            "domain": DOMAIN,
            "repository": "release",
            "format": fmt,
            "package": package,
        }
        if namespace:
            kwargs["namespace"] = namespace
        try:
            pages = list(client.get_paginator("list_package_versions").paginate(**kwargs))
        except client.exceptions.ResourceNotFoundException:
            continue
        for page in pages:
            for item in page["versions"]:
                found[(fmt, namespace or "", package, item["version"])] = item["revision"]
    return found


def account(
    published: list[Version],
    release: dict[tuple[str, str, str, str], str],
    dead: list[dict[str, Any]],
    output: Output,
) -> tuple[dict[str, int], list[str]]:
    """Put every published version in exactly one bucket; return the counts and what is unaccounted for."""
    dead_keys = {
        (d["packageFormat"], d.get("packageNamespace") or "", d["packageName"], d["packageVersion"])
        for d in (body["detail"] for body in dead)
    }
    failures: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in output.outcomes():
        if line["outcome"] == "failed" and "package" in line:
            key = (line["format"], line.get("namespace") or "", line["package"], line["version"])
            failures[key].append(line)
    counts = {"promoted": 0, "failed": 0, "dlq": 0, "lost": 0}
    problems: list[str] = []
    for version in published:
        held = release.get(version.key)
        if held == version.revision:
            counts["promoted"] += 1
            continue
        if held is not None and version.key != CONFLICT_KEY:
            problems.append(
                f"{version.key}: release holds revision {held}, not the published {version.revision}"
            )
        reasons = [
            line
            for line in failures[version.key]
            if line.get("errorCode") and line.get("errorMessage") is not None
        ]
        if version.key in dead_keys:
            counts["dlq"] += 1
            if not reasons:
                problems.append(f"{version.key}: in the DLQ, but no log line says why")
            continue
        final = [line for line in reasons if not line.get("retryable")]
        if final and all(
            output.metric("VersionsFailed", ("ErrorCode", line["errorCode"])) > 0 for line in final
        ):
            counts["failed"] += 1
            continue
        counts["lost"] += 1
        problems.append(f"{version.key}: not in release, not in the DLQ, no final failure logged: LOST")
    return counts, problems


Handler = Callable[[dict[str, Any], Any], tuple[Any, BaseException | None]]


def run_storm(
    storm: Storm, env: AwsEnv, handler: Handler, output: Output, *, drain_timeout: float
) -> tuple[dict[str, Any], list[str], list[Invocation]]:
    """Wire the pipeline, switch the storm on, publish, drain with ``handler``, and account for everything."""
    row, problems, invocations, _, _ = storm_and_pipeline(
        storm, env, handler, output, drain_timeout=drain_timeout
    )
    return row, problems, invocations


def storm_and_pipeline(
    storm: Storm, env: AwsEnv, handler: Handler, output: Output, *, drain_timeout: float
) -> tuple[dict[str, Any], list[str], list[Invocation], Pipeline, list[Version]]:
    """``run_storm``, also handing back the pipeline and what was published (for a redrive afterwards)."""
    # Given a domain, the EventBridge rule -> queue -> DLQ wiring, and the storm switched on
    create_domain_with_repositories(env.client("codeartifact"), DOMAIN, ["staging", "release"])
    pipeline = Pipeline.create(
        env,
        domain=DOMAIN,
        sources=["staging"],
        visibility_timeout=VISIBILITY_TIMEOUT,
        max_receive_count=MAX_RECEIVE_COUNT,
    )
    env.control.seed_faults_rng(6)
    storm.inject(env.control)

    # When N versions are published and the queue is drained by the function
    published = publish(env)
    assert pipeline.depth() == len(published), "every publish must have put exactly one event on the queue"
    if storm.after_publish is not None:
        storm.after_publish(env, published)
    invocations = drain(pipeline, handler, timeout_seconds=drain_timeout)
    env.control.clear_faults()
    env.control.set_rate_limit(COPY, None)

    # Then every version is accounted for
    stats = env.control.stats().get(COPY, {})
    counts, problems = account(published, release_revisions(env, published), pipeline.dead_letters(), output)
    row: dict[str, Any] = {
        "storm": storm.name,
        "published": len(published),
        **counts,
        "copy_calls": stats.get("calls", 0),
        "throttled": int(output.metric("CopyThrottled")),
        "faults": stats.get("faults", 0),
        "invocations": len(invocations),
        "retried": sum(i.failures for i in invocations),
        "max_invocation_s": round(max(i.seconds for i in invocations), 2),
    }
    assert list(row) == list(STORM_COLUMNS)
    return row, problems, invocations, pipeline, published


def check_accounting(
    row: dict[str, Any], problems: list[str], invocations: list[Invocation], output: Output
) -> None:
    """None lost, the handler never failed, and its logs and metrics agree with each other."""
    assert problems == []
    assert row["lost"] == 0
    assert row["promoted"] + row["failed"] + row["dlq"] == row["published"]
    assert [i.error for i in invocations if i.error] == []
    assert not output.other, f"the function printed lines that are not JSON: {output.other[:3]}"
    statuses = [line["outcome"] for line in output.outcomes()]
    assert output.metric("VersionsFailed") == statuses.count("failed")
    assert output.metric("VersionsPromoted") == statuses.count("promoted")
    by_code = sum(v for (name, dim), v in output.metrics().items() if name == "VersionsFailed" and dim)
    assert by_code == statuses.count("failed")


@pytest.mark.parametrize("storm", STORMS, ids=[s.name for s in STORMS])
def test_every_version_is_accounted_for_under_the_storm(
    storm: Storm,
    aws_server: AwsEnv,
    function_env: Any,
    record_property: Callable[[str, object], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in storm.environment.items():
        monkeypatch.setenv(name, value)
    output = Output()
    row, problems, invocations = run_storm(
        storm,
        aws_server,
        lambda event, context: invoke(event, context, output),
        output,
        drain_timeout=storm.timeout,
    )
    record_property(STORM_PROPERTY, row)
    print("\n" + format_table([row]))
    check_accounting(row, problems, invocations, output)
    assert all(i.seconds < storm.timeout for i in invocations)  # drain() also counts an overrun as a failure
    storm.check(row, output)


EMULATOR_TIMEOUT = 4
"""The function timeout the runtime emulator enforces in the emulated storm (it kills the handler past it)."""
RIE_LINES = ("START RequestId", "END RequestId", "REPORT RequestId", "INIT_START", "INIT_REPORT")


@pytest.mark.e2e
def test_slow_answers_through_the_runtime_emulator(
    aws_server: AwsEnv, function_env: Path, record_property: Callable[[str, object], None]
) -> None:
    """The slow storm again, with the function under the Lambda runtime interface emulator as template.yaml
    configures it (handler, environment, PROMOTER_COPY_RATE), but a 4 s timeout the emulator enforces."""
    from promoter_dev import cfn  # noqa: PLC0415 - local tooling, only for this test
    from promoter_dev.invoke import Emulator  # noqa: PLC0415

    function = dataclasses.replace(
        cfn.function_config(cfn.Resolver(cfn.load_template(), {})), timeout=EMULATOR_TIMEOUT
    )
    overrides = {
        name: os.environ[name]
        for name in (
            "PROMOTION_RULES_FILE",
            "ALLOWED_SOURCE_REPOSITORIES",
            "ALLOWED_DESTINATION_REPOSITORIES",
            "PROMOTER_CALL_TIMEOUT_SECONDS",
        )
    }
    output = Output()
    storm = Storm(
        "slow answers, runtime emulator", _slow, _expect_slow_within_timeout, timeout=EMULATOR_TIMEOUT
    )

    with Emulator(function, endpoint_url=aws_server.endpoint_url, env_overrides=overrides) as emulator:

        def handler(event: dict[str, Any], context: Any) -> tuple[Any, BaseException | None]:
            result = emulator.invoke(event)
            output.feed(
                "\n".join(line for line in result.logs.splitlines() if not line.startswith(RIE_LINES))
            )
            if result.failed:  # an exception, or the emulator's "Task timed out"
                return None, RuntimeError(str(result.payload)[:300])
            return result.payload, None

        # the invocation's HTTP round trip and the first one's cold start are not the function's time
        row, problems, invocations = run_storm(
            storm, aws_server, handler, output, drain_timeout=EMULATOR_TIMEOUT + 5
        )

    record_property(STORM_PROPERTY, row)
    print("\n" + format_table([row]))
    check_accounting(row, problems, invocations, output)
    assert row["retried"] > 0
    _expect_only_the_conflict_failed(row)


def test_a_redrive_after_the_fault_is_fixed_promotes_what_waited_in_the_dlq(
    aws_server: AwsEnv, function_env: Any
) -> None:
    """The Operations procedure: fix the cause, redrive the DLQ to the events queue, and the versions that
    waited there are promoted - pinned to the revision of their event, the conflict still refused."""
    # Given every version in the DLQ after an AccessDenied storm
    output = Output()
    storm = next(s for s in STORMS if s.inject is _access_denied)

    def handler(event: dict[str, Any], context: Any) -> tuple[Any, BaseException | None]:
        return invoke(event, context, output)

    row, _, _, pipeline, published = storm_and_pipeline(
        storm, aws_server, handler, output, drain_timeout=FUNCTION_TIMEOUT
    )
    assert row["dlq"] == len(published)

    # When the fault is gone (run_storm cleared it) and the DLQ is redriven
    assert redrive(pipeline) == len(published)
    after = Output()
    drain(pipeline, lambda event, context: invoke(event, context, after), timeout_seconds=FUNCTION_TIMEOUT)

    # Then everything is promoted with its own revision, the conflict fails for good, and nothing is left
    counts, problems = account(
        published, release_revisions(aws_server, published), pipeline.dead_letters(), after
    )
    assert problems == []
    assert counts == {"promoted": len(published) - 1, "failed": 1, "dlq": 0, "lost": 0}
    assert pipeline.depth() == 0
    assert after.metric("VersionsFailed", ("ErrorCode", "ALREADY_EXISTS")) == 1
