"""The bad-input catalogue (events/bad-input/*.json): each file gets its own log line and metric, no crash.

Every file is sent twice through the real handler against the local CodeArtifact (in-process moto):
as a raw EventBridge event (``sam local invoke -e events/bad-input/<file>.json``), and as one SQS record
in a batch beside a good record, which must still be promoted. Bad input is never retried: retrying
cannot repair it, it would only cycle to the dead-letter queue.

Each file must have an expectation below, and each expectation a file: adding a case means saying what
the function must answer to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from codeartifact_moto.answers import ANSWER_KINDS
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter_dev.lambda_context import LambdaContext

from .conftest import DOMAIN
from .harness import Output, invoke

CATALOGUE = Path(__file__).resolve().parents[2] / "events" / "bad-input"
MALFORMED, OTHER_KIND = "malformed", "not-codeartifact"


@dataclass(frozen=True)
class Expect:
    outcome: str
    """The ``outcome`` field of the one log line the input gets."""
    reason: str
    """``reason`` for ignored input (also the ``Reason`` dimension of ``VersionsIgnored``)."""
    says: str = ""
    """A fragment of ``errorMessage``: the log line names what was wrong."""
    seed: bool = False
    """A valid but unusual version: it exists in staging and is promoted."""


EXPECTED: dict[str, Expect] = {
    "wrong-detail-type": Expect("ignored", OTHER_KIND, "CodeArtifact Repository Change"),
    "wrong-source": Expect("ignored", OTHER_KIND, "aws.s3"),
    "spoofed-source": Expect("ignored", OTHER_KIND, "custom.aws.codeartifact"),
    "missing-detail": Expect("ignored", MALFORMED, "detail must be a JSON object"),
    "missing-source-and-detail-type": Expect("ignored", MALFORMED, "source and detail-type"),
    "missing-package-name": Expect("ignored", MALFORMED, "detail.packageName is missing"),
    "missing-package-version": Expect("ignored", MALFORMED, "detail.packageVersion is missing"),
    "missing-revision": Expect("ignored", MALFORMED, "detail.packageVersionRevision is missing"),
    "missing-domain-owner": Expect("ignored", MALFORMED, "detail.domainOwner is missing"),
    "missing-namespace-maven": Expect("ignored", MALFORMED, "packageNamespace is required for maven"),
    "wrong-type-detail-list": Expect("ignored", MALFORMED, "detail must be a JSON object"),
    "wrong-type-version-number": Expect("ignored", MALFORMED, "detail.packageVersion must be a string"),
    "wrong-type-name-object": Expect("ignored", MALFORMED, "detail.packageName must be a string"),
    "wrong-type-sequence-string": Expect(
        "ignored", MALFORMED, "sequenceNumber must be a non-negative integer"
    ),
    "wrong-type-sequence-negative": Expect(
        "ignored", MALFORMED, "sequenceNumber must be a non-negative integer"
    ),
    "wrong-type-state-bool": Expect("ignored", MALFORMED, "detail.packageVersionState must be a string"),
    "empty-package-name": Expect("ignored", MALFORMED, "detail.packageName is empty"),
    "huge-package-name": Expect("ignored", MALFORMED, "detail.packageName is longer than 255"),
    "huge-version": Expect("ignored", MALFORMED, "detail.packageVersion is longer than 255"),
    "non-ascii-package-name": Expect("promoted", "", seed=True),
    "bidi-override-package-name": Expect(
        "ignored", MALFORMED, "detail.packageName contains control characters"
    ),
    "control-character-version": Expect(
        "ignored", MALFORMED, "detail.packageVersion contains control characters"
    ),
    "version-with-space": Expect("ignored", MALFORMED, "detail.packageVersion"),
    "version-with-slash": Expect("ignored", MALFORMED, "detail.packageVersion"),
    "version-with-hash": Expect("ignored", MALFORMED, "detail.packageVersion"),
    "unknown-format": Expect("ignored", MALFORMED, "'conda' is not a known format"),
    "unknown-state": Expect("ignored", MALFORMED, "'Quarantined' is not a known state"),
    "unknown-operation": Expect("ignored", MALFORMED, "'Moved' is not a known operation"),
    "deleted": Expect("ignored", "deleted"),
    "unfinished": Expect("ignored", "state"),
    "unlisted": Expect("ignored", "state"),
    "other-domain": Expect("ignored", "domain"),
    "other-account": Expect("ignored", "domain"),
    "other-repository": Expect("ignored", "source"),
    "copy-event-in-destination": Expect("ignored", "source"),
}
FILES = sorted(p.stem for p in CATALOGUE.glob("*.json"))
KNOWN_GAPS: dict[str, str] = {}
"""Catalogue entries the function does not handle yet (strict xfail, with the reason)."""
CASES = [
    pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_GAPS[n], strict=True)) if n in KNOWN_GAPS else n
    for n in FILES
]
GOOD = ("npm", "good-neighbour", "1.0.0")


def test_every_catalogue_file_has_an_expectation_and_vice_versa() -> None:
    assert sorted(EXPECTED) == FILES


def load(name: str) -> Any:
    return json.loads((CATALOGUE / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def env(aws: AwsEnv, function_env: Any) -> AwsEnv:
    create_domain_with_repositories(aws.client("codeartifact"), DOMAIN, ["staging", "release"])
    return aws


def catalogue_event(env: AwsEnv, name: str) -> Any:
    """The catalogue's event ``name``, seeded in staging when its expectation says the version exists."""
    event = load(name)
    return seeded_event(env, event) if EXPECTED[name].seed else event


def seeded_event(env: AwsEnv, event: dict[str, Any]) -> dict[str, Any]:
    """Put the event's version into staging and pin the event to the revision it really has."""
    detail = event["detail"]
    seeded = env.control.seed_package_version(
        detail["domainName"],
        detail["repositoryName"],
        detail["packageFormat"],
        detail["packageName"],
        detail["packageVersion"],
        namespace=detail["packageNamespace"],
        assets={"a.bin": b"odd but valid"},
    )
    detail["packageVersionRevision"] = seeded["revision"]
    return event


def good_event(env: AwsEnv) -> dict[str, Any]:
    event = load("wrong-source")
    event.update(source="aws.codeartifact", id="good-0000")
    fmt, package, version = GOOD
    event["detail"].update(
        packageFormat=fmt, packageName=package, packageVersion=version, packageNamespace=None
    )
    return seeded_event(env, event)


def copy_calls(env: AwsEnv) -> int:
    return int(env.control.stats().get("CopyPackageVersions", {}).get("calls", 0))


def in_release(env: AwsEnv, fmt: str, package: str, version: str) -> bool:
    client = env.client("codeartifact")
    try:
        found = client.list_package_versions(domain=DOMAIN, repository="release", format=fmt, package=package)
    except client.exceptions.ResourceNotFoundException:
        return False
    return version in {v["version"] for v in found["versions"]}


def check_line(output: Output, expect: Expect) -> dict[str, Any]:
    """Exactly one outcome line for the input, saying what the catalogue says, and its metric."""
    (line,) = output.outcomes()
    assert line["outcome"] == expect.outcome
    if expect.outcome == "ignored":
        assert line["reason"] == expect.reason
        assert output.metric("VersionsIgnored", ("Reason", expect.reason)) == 1
        assert output.metric("VersionsIgnored") == 1
    else:
        assert output.metric("VersionsPromoted") == 1
    assert expect.says in str(line.get("errorMessage") or "")
    assert len(json.dumps(line)) < 4096, "a log line must stay short, however huge the input"
    return line


@pytest.mark.parametrize("name", CASES)
def test_as_a_raw_event(env: AwsEnv, name: str) -> None:
    # Given one catalogue entry, sent as `sam local invoke -e` would send it
    expect, event = EXPECTED[name], catalogue_event(env, name)
    output = Output()

    # When the handler runs
    result, error = invoke(event, LambdaContext(30.0), output)

    # Then it answers, logs one specific line with its metric, and copies only what is valid
    assert error is None, f"{name}: the handler raised {error!r}"
    assert result == {"outcomes": {expect.outcome: 1}}
    check_line(output, expect)
    assert copy_calls(env) == (1 if expect.seed else 0)
    assert not output.other


@pytest.mark.parametrize("name", CASES)
def test_as_an_sqs_record_beside_a_good_one(env: AwsEnv, name: str) -> None:
    # Given a batch of a good record and the catalogue entry
    expect, event = EXPECTED[name], catalogue_event(env, name)
    batch = {
        "Records": [
            {
                "messageId": "good",
                "body": json.dumps(good_event(env)),
                "receiptHandle": "h1",
                "attributes": {},
            },
            {"messageId": "bad", "body": json.dumps(event), "receiptHandle": "h2", "attributes": {}},
        ]
    }
    output = Output()

    # When the handler runs
    result, error = invoke(batch, LambdaContext(30.0), output)

    # Then nothing is retried, the good version is promoted, and the bad one has its own line and metric
    assert error is None
    assert result == {"batchItemFailures": []}
    assert in_release(env, *GOOD)
    lines = [line for line in output.outcomes() if line.get("package") != GOOD[1]]
    bad_only = Output(logs=lines, emf=[])
    assert len(lines) == 1
    assert lines[0]["outcome"] == expect.outcome
    assert lines[0].get("reason", "") == expect.reason
    assert expect.says in str(lines[0].get("errorMessage") or "")
    if expect.outcome == "ignored":
        assert output.metric("VersionsIgnored", ("Reason", expect.reason)) == 1
    assert output.metric("VersionsPromoted") == (2 if expect.seed else 1)
    assert not bad_only.emf


# --------------------------------------------------------------------------- bad answers from the service

ANSWERS = sorted(kind for kind in ANSWER_KINDS if kind != "raw")


@pytest.mark.parametrize("perform", [False, True], ids=["copy-not-made", "copy-made"])
@pytest.mark.parametrize("kind", ANSWERS)
def test_a_bad_answer_never_loses_the_version(env: AwsEnv, kind: str, perform: bool) -> None:
    # Given a batch of one version whose copy is answered with ``kind`` (after the copy, or instead of it)
    env.control.inject_answer("CopyPackageVersions", kind, count=1, perform=perform)
    batch = {
        "Records": [
            {"messageId": "m", "body": json.dumps(good_event(env)), "receiptHandle": "h", "attributes": {}}
        ]
    }
    # When it is delivered until it is acknowledged (at most three times, as the queue's redrive allows)
    lines: list[dict[str, Any]] = []
    for _ in range(3):
        output = Output()
        result, error = invoke(batch, LambdaContext(30.0), output)
        assert error is None
        lines += output.outcomes()
        if result == {"batchItemFailures": []}:
            break
        # Then every delivery that is not acknowledged says why, as a retryable failure
        assert result == {"batchItemFailures": [{"itemIdentifier": "m"}]}
        assert [(line["outcome"], line["retryable"]) for line in output.outcomes()] == [("failed", True)]
        assert output.outcomes()[0]["errorCode"]
    # and it ends in release with the published build: never acknowledged before it landed
    assert result == {"batchItemFailures": []}
    assert in_release(env, *GOOD)
    assert lines[-1]["outcome"] in ("promoted", "already_present")
