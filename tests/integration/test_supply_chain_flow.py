"""Supply-chain controls end to end over HTTP: publish -> EventBridge -> SQS -> handler -> copy, the scheduled
reconcile, and ``promoter revoke`` (the console script) against the local AWS server.

Origins come from the local CodeArtifact as the service reports them: a direct publish is INTERNAL, a version
seeded as ingested from an upstream EXTERNAL, one from before origin tracking UNKNOWN.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import app
import pytest
from codeartifact_moto.testing import AwsEnv
from promoter.cli import EXIT_OK, main
from promoter_dev.console import run_promoter
from promoter_dev.lambda_context import LambdaContext

from .flow import (
    DOMAIN,
    SCHEDULED,
    Pipeline,
    build_pipeline,
    capture_log,
    configure_function,
    json_lines,
    poll_events,
    subscribe_queue,
)

ORIGIN_COOLDOWN = """
rules:
  - name: cooled-external
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    minimumReleaseAge: 3d
    minimumReleaseAgeFor: [EXTERNAL]
"""


@pytest.fixture
def rules_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield configure_function(monkeypatch, tmp_path, ORIGIN_COOLDOWN)
    app.reset_state()


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    return capture_log(monkeypatch)


def lines(log: io.StringIO, printed: str = "") -> list[dict[str, Any]]:
    return json_lines(log.getvalue() + printed)


def outcomes(log: io.StringIO, package: str) -> list[dict[str, Any]]:
    return [line for line in lines(log) if line.get("package") == package and "outcome" in line]


def connect_npmjs(flow: Pipeline) -> None:
    """staging ingests from npmjs: what the EXTERNAL versions came through."""
    flow.codeartifact.associate_external_connection(
        domain=DOMAIN, repository="staging", externalConnection="public:npmjs"
    )


def test_origin_aware_cooldown_over_http(
    aws_server: AwsEnv, rules_path: Path, log: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a three-day cooldown for EXTERNAL versions only, and three fresh versions in staging
    flow = build_pipeline(aws_server, ["staging"])
    connect_npmjs(flow)
    now = datetime.now(UTC)
    flow.publish("staging", "npm", "built-here", "1.0.0", published_time=now)
    flow.publish("staging", "npm", "from-upstream", "1.0.0", published_time=now, origin_type="EXTERNAL")
    flow.publish("staging", "npm", "from-before", "1.0.0", published_time=now, origin_type="UNKNOWN")

    # When the events reach the function
    flow.drain()
    described = flow.env.control.stats().get("DescribePackageVersion", {}).get("calls", 0)

    # Then the organisation's own build is promoted at once; the external and the unknown one wait
    # (the origins came with the source's listing, so only those two were described, for their publish time)
    assert described == 2
    assert flow.version("release", "npm", "built-here", "1.0.0") is not None
    assert flow.version("release", "npm", "from-upstream", "1.0.0") is None
    assert flow.version("release", "npm", "from-before", "1.0.0") is None
    [promoted] = outcomes(log, "built-here")
    assert (promoted["outcome"], promoted["originType"]) == ("promoted", "INTERNAL")
    [external] = outcomes(log, "from-upstream")
    assert (external["outcome"], external["reason"], external["originType"]) == (
        "deferred",
        "age",
        "EXTERNAL",
    )
    assert abs(datetime.fromisoformat(external["eligibleAt"]) - (now + timedelta(days=3))) < timedelta(
        seconds=5
    )
    assert "originNote" not in external
    [unknown] = outcomes(log, "from-before")
    assert (unknown["outcome"], unknown["originType"]) == ("deferred", "UNKNOWN")
    assert unknown["originNote"] == "unknown origin counted as EXTERNAL (fail closed)"

    # When the scheduled reconcile runs (origins from ListPackageVersions)
    result = app.lambda_handler(dict(SCHEDULED), LambdaContext())["reconcile"]

    # Then it promotes nothing more: the cooldown still holds for the two
    assert result["complete"] is True, result
    assert result["outcomes"] == {"deferred": 2}
    assert result["describeCalls"] == 2  # the publish times; the origins came with the listing
    assert flow.version("release", "npm", "from-upstream", "1.0.0") is None
    capsys.readouterr()


def test_an_old_external_version_is_promoted_by_reconcile(
    aws_server: AwsEnv, rules_path: Path, log: io.StringIO
) -> None:
    flow = build_pipeline(aws_server, ["staging"])
    connect_npmjs(flow)
    old = datetime.now(UTC) - timedelta(days=4)
    flow.publish("staging", "npm", "aged-upstream", "2.0.0", published_time=old, origin_type="EXTERNAL")
    flow.receive()  # the event is lost (say, it outlived the dead-letter queue)
    app.lambda_handler(dict(SCHEDULED), LambdaContext())
    held = flow.version("release", "npm", "aged-upstream", "2.0.0")
    assert held is not None
    assert held["origin"]["originType"] == "EXTERNAL"


def test_a_freeze_holds_then_an_exception_passes_then_lifting_promotes(
    aws_server: AwsEnv, rules_path: Path, log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a freeze on everything published in the last day
    now = datetime.now(UTC)
    after = (now - timedelta(days=1)).isoformat()
    rules = f"""
freeze:
  publishedAfter: "{after}"
rules:
  - name: all
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
"""
    rules_path.write_text(rules)
    app.reset_state()
    flow = build_pipeline(aws_server, ["staging"])
    flow.publish("staging", "pypi", "worm-target", "1.0", published_time=now)
    flow.publish("staging", "pypi", "security-fix", "2.0.1", published_time=now)
    flow.publish("staging", "pypi", "before", "1.0", published_time=now - timedelta(days=2))
    flow.drain()
    assert flow.version("release", "pypi", "before", "1.0") is not None
    assert flow.version("release", "pypi", "worm-target", "1.0") is None
    [frozen] = outcomes(log, "worm-target")
    assert (frozen["outcome"], frozen["reason"]) == ("deferred", "freeze")

    # When security adds an exception for the fix, and reconcile runs
    expires = (now + timedelta(days=7)).isoformat()
    rules_path.write_text(
        rules
        + f"""exceptions:
  - format: pypi
    package: security-fix
    versions: "==2.0.1"
    reason: CVE-2026-0001 fix
    expires: "{expires}"
"""
    )
    app.reset_state()
    app.lambda_handler(dict(SCHEDULED), LambdaContext())

    # Then only the excepted version passes the freeze, and its line names the exception
    assert flow.version("release", "pypi", "security-fix", "2.0.1") is not None
    assert flow.version("release", "pypi", "worm-target", "1.0") is None
    [passed] = [o for o in outcomes(log, "security-fix") if o["outcome"] == "promoted"]
    assert passed["exception"] == "pypi/security-fix@==2.0.1"
    assert passed["exceptionReason"] == "CVE-2026-0001 fix"

    # When the freeze is lifted (removed from the rules), the next reconcile promotes the rest
    rules_path.write_text(rules.split("rules:", 1)[1].join(["rules:", ""]))
    app.reset_state()
    app.lambda_handler(dict(SCHEDULED), LambdaContext())
    assert flow.version("release", "pypi", "worm-target", "1.0") is not None


REVOKE_RULES = """# promotion rules
rules:
  - {name: npm-release, domain: acme, formats: [npm],
     sourceRepository: staging, destinationRepositories: [release]}
"""
BUS = "promotion-outcomes"


def test_revoke_over_http_unlists_records_and_keeps_it_out(
    aws_server: AwsEnv, rules_path: Path, log: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a version promoted from staging to release by its event
    rules_path.write_text(REVOKE_RULES)
    app.reset_state()
    flow: Pipeline = build_pipeline(aws_server, ["staging"])
    revision = flow.publish("staging", "npm", "widgets", "1.2.3", namespace="acme")
    flow.drain()
    assert flow.version("release", "npm", "widgets", "1.2.3", "acme")["status"] == "Published"
    queue_url = subscribe_queue(aws_server, BUS, {"source": ["codeartifact-promoter"]}, "revocations")

    # When an operator revokes it with the console script (--write records it in the rules file)
    done = run_promoter(
        *("revoke", "--rules", str(rules_path), "npm/@acme/widgets@1.2.3", "--write"),
        *("--reason", "INC-42: compromised maintainer token"),
        endpoint_url=str(aws_server.endpoint_url),
        OUTCOME_EVENT_BUS=BUS,
    )

    # Then release holds it Unlisted (staging untouched), and the run says so
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    assert f"acme/release: revoked: Published -> Unlisted (revision {revision}" in done.stdout
    revoked = flow.version("release", "npm", "widgets", "1.2.3", "acme")
    assert revoked["status"] == "Unlisted"
    assert flow.version("staging", "npm", "widgets", "1.2.3", "acme")["status"] == "Published"
    # and a Revoked outcome event reached the outcome bus
    [event] = poll_events(aws_server, queue_url, expected=1)
    assert event["detail"]["outcome"] == "Revoked"
    assert event["detail"]["destinationRepository"] == "release"
    assert event["detail"]["revision"] == revision
    assert event["detail"]["destinationRevision"] == revoked["revision"]
    assert event["detail"]["reason"] == "INC-42: compromised maintainer token"
    # and the rules file now denies the version, its comment kept
    text = rules_path.read_text()
    assert text.startswith("# promotion rules\n")
    assert "denyVersions:" in text

    # When a new build of the version is published in staging, and its event reaches the function
    app.reset_state()
    new_revision = flow.publish(
        "staging", "npm", "widgets", "1.2.3", namespace="acme", assets={"b.tgz": b"x"}
    )
    assert new_revision != revision
    flow.drain()

    # Then it is ignored as denied, and release keeps the revoked build, unlisted
    denied = [o for o in outcomes(log, "widgets") if o.get("revision") == new_revision]
    assert [(o["outcome"], o["reason"]) for o in denied] == [("ignored", "denied")]
    assert "INC-42" in denied[0]["errorMessage"]
    held = flow.version("release", "npm", "widgets", "1.2.3", "acme")
    assert (held["revision"], held["status"]) == (revoked["revision"], "Unlisted")

    # And plan (reconcile without copies) shows it denied, and the scheduled reconcile copies nothing
    out, err = io.StringIO(), io.StringIO()
    assert main(["plan", "--rules", str(rules_path), "--json"], stdout=out, stderr=err) == EXIT_OK, (
        err.getvalue()
    )
    [item] = [i for i in json.loads(out.getvalue()) if i["package"] == "widgets"]
    assert (item["action"], item["reason"]) == ("skip", "denied")
    before = flow.copy_calls()
    app.lambda_handler(dict(SCHEDULED), LambdaContext())
    assert flow.copy_calls() == before
    capsys.readouterr()
