"""The Lambda handler end to end over the fake client: SQS partial batch responses, raw and
scheduled events, bad input, timeouts, and what it imports."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import app
import pytest
from promoter.pipeline import PromotionIncomplete
from promoter.settings import Settings
from promoter_dev.lambda_context import LambdaContext as Context

from .conftest import EVENTS, bundled_rules_handler, event, load_event, sqs_record
from .fake_codeartifact import FakeCodeArtifact, client_error

FUNCTION_DIR = Path(app.__file__).resolve().parent


@pytest.fixture
def handler_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCodeArtifact]:
    with bundled_rules_handler(monkeypatch) as fake:
        yield fake


def seed(fake: FakeCodeArtifact, *names: str) -> None:
    for name in names:
        d = load_event(name)["detail"]
        fake.publish(
            d["domainName"],
            d["repositoryName"],
            d["packageFormat"],
            d["packageName"],
            d["packageVersion"],
            namespace=d["packageNamespace"],
            revision=d["packageVersionRevision"],
        )


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the function writes to its log (stdout in Lambda)."""
    stream = io.StringIO()
    monkeypatch.setattr(app.logger.registered_handler, "stream", stream)
    return stream


def outcome_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(raw) for raw in stream.getvalue().splitlines() if raw.startswith("{")]
    return [line for line in lines if "outcome" in line]


def test_sqs_sample_batch(handler_fake: FakeCodeArtifact, log_stream: io.StringIO) -> None:
    # Given the staging versions the sample batch talks about
    seed(handler_fake, "pypi-published", "maven-updated-published", "npm-scoped-published")
    # When the sample SQS batch arrives (duplicates, Unfinished->Published, the copy's own event, bad body)
    response = app.lambda_handler(load_event("sqs-batch"), Context())
    # Then nothing is retried, each package costs one call, and release holds the pinned revisions
    assert response == {"batchItemFailures": []}
    assert len(handler_fake.calls) == 3
    maven = handler_fake.get("acme", "release", "maven", "app-core", "1.4.0", namespace="com.acme")
    assert maven is not None
    assert maven.revision == load_event("maven-updated-published")["detail"]["packageVersionRevision"]
    lines = outcome_lines(log_stream)
    assert sorted(line["outcome"] for line in lines) == [
        "ignored",
        "ignored",
        "promoted",
        "promoted",
        "promoted",
    ]
    assert {line.get("reason") for line in lines if line["outcome"] == "ignored"} == {"malformed", "source"}
    promoted = next(line for line in lines if line["outcome"] == "promoted" and line["format"] == "maven")
    # the Powertools shape: level, timestamp, service, Lambda context, and the event id as correlation id
    assert promoted["level"] == "INFO"
    assert promoted["service"] == "codeartifact-promoter"
    assert promoted["function_request_id"] == "req-1"
    assert promoted["correlation_id"] == load_event("maven-updated-published")["id"]
    assert promoted["rule"] == "maven-to-release"
    assert promoted["destinationRepository"] == "release"


def test_transient_failures_become_batch_item_failures(handler_fake: FakeCodeArtifact) -> None:
    seed(handler_fake, "pypi-published", "npm-scoped-published")
    handler_fake.faults = [client_error("ServiceUnavailableException", 503) for _ in range(100)]
    batch = {
        "Records": [
            sqs_record(load_event("pypi-published"), "m-pypi"),
            sqs_record(load_event("npm-scoped-published"), "m-npm-1"),
            sqs_record(load_event("npm-scoped-published"), "m-npm-2"),
            sqs_record("garbage", "m-bad"),
        ]
    }
    deps = app.build_dependencies(Context())._replace(sleep=lambda seconds: None)  # no waiting
    response = app.handle_sqs(batch, deps)
    failed = sorted(item["itemIdentifier"] for item in response["batchItemFailures"])
    assert failed == ["m-npm-1", "m-npm-2", "m-pypi"]  # the malformed record is dropped, not retried


def test_final_failures_are_not_retried(handler_fake: FakeCodeArtifact) -> None:
    seed(handler_fake, "pypi-published")
    d = load_event("pypi-published")["detail"]
    handler_fake.publish(
        "acme", "release", "pypi", d["packageName"], d["packageVersion"], revision="other-build"
    )
    response = app.lambda_handler({"Records": [sqs_record(load_event("pypi-published"), "m1")]}, Context())
    assert response == {"batchItemFailures": []}


def test_records_not_reached_in_time_go_back_to_the_queue(handler_fake: FakeCodeArtifact) -> None:
    seed(handler_fake, "pypi-published")
    response = app.lambda_handler({"Records": [sqs_record(load_event("pypi-published"), "m1")]}, Context(3.0))
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert handler_fake.calls == []


def test_a_raw_eventbridge_event(handler_fake: FakeCodeArtifact) -> None:
    seed(handler_fake, "generic-published")
    assert app.lambda_handler(load_event("generic-published"), Context()) == {"outcomes": {"promoted": 1}}


def test_a_raw_event_whose_copy_must_be_retried_raises(handler_fake: FakeCodeArtifact) -> None:
    seed(handler_fake, "generic-published")
    handler_fake.faults = [client_error("AccessDeniedException", 403)]
    with pytest.raises(PromotionIncomplete):
        app.lambda_handler(load_event("generic-published"), Context())


@pytest.mark.parametrize(
    "name", ["npm-published", "npm-deleted", "npm-copied-into-release", "maven-unfinished", "malformed"]
)
def test_sample_events_that_copy_nothing(handler_fake: FakeCodeArtifact, name: str) -> None:
    result = app.lambda_handler(load_event(name), Context())
    assert result == {"outcomes": {"ignored": 1}}
    assert handler_fake.calls == []


@pytest.mark.parametrize(
    "raw",
    [
        None,
        0,
        "x",
        [],
        {},
        {"Records": []},
        {"Records": [1, None, {"body": 3}]},
        {"Records": "no"},
        [{"a": 1}],
    ],
)
def test_arbitrary_input_never_raises(handler_fake: FakeCodeArtifact, raw: Any) -> None:
    result = app.lambda_handler(raw, Context())
    assert isinstance(result, dict)
    assert handler_fake.calls == []


def test_scheduled_events_go_to_reconcile(
    handler_fake: FakeCodeArtifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    class Reconcile:
        @staticmethod
        def run(*, event: Any, context: Any, deps: Any) -> dict[str, Any]:
            seen.update(event=event, deps=deps)
            return {"reconciled": True}

    monkeypatch.setitem(sys.modules, "promoter.reconcile", Reconcile)
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "id": "s1", "detail": {}}
    assert app.lambda_handler(scheduled, Context()) == {"reconciled": True}
    assert seen["deps"].client is handler_fake


def test_invalid_rules_fail_the_invocation(handler_fake: FakeCodeArtifact, tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - name: x\n    domain: acme\n")
    state = app.reset_state()
    state.client = handler_fake
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PROMOTION_RULES_FILE", str(bad))
        with pytest.raises(ValueError, match="rule 'x', field 'sourceRepository'"):
            app.lambda_handler(load_event("sqs-batch"), Context())


def test_rules_outside_the_allow_list_are_refused(handler_fake: FakeCodeArtifact) -> None:
    state = app.reset_state()
    state.client = handler_fake
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALLOWED_DESTINATION_REPOSITORIES", "public")
        with pytest.raises(ValueError, match="ALLOWED_DESTINATION_REPOSITORIES"):
            app.lambda_handler(load_event("sqs-batch"), Context())


def test_rules_and_client_are_reused_across_invocations(handler_fake: FakeCodeArtifact) -> None:
    app.lambda_handler(load_event("npm-deleted"), Context())
    rules = app.state().rules
    app.lambda_handler(load_event("npm-deleted"), Context())
    assert app.state().rules is rules
    assert app.state().client is handler_fake


def test_import_does_no_work_and_loads_no_heavy_modules(tmp_path: Path) -> None:
    # Given a fresh interpreter, When app is imported and the bundled rules are compiled,
    # Then neither the X-Ray SDK, pydantic, univers nor packaging's specifiers are loaded,
    # and no rules file is read at import (a missing file only fails the first invocation).
    code = """
import sys, json
import app
heavy = ("yaml", "aws_xray_sdk", "pydantic", "univers", "packaging.specifiers")
at_import = {m: m in sys.modules for m in heavy}
from promoter import container
container.state().client = object()
container.rules()
after_rules = {m: m in sys.modules for m in heavy}
print(json.dumps([at_import, after_rules]))
"""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(FUNCTION_DIR),
        "AWS_DEFAULT_REGION": "us-east-1",
        "PROMOTION_RULES_FILE": "promotion-rules.yaml",
        "DOMAIN_NAME": "acme",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    ).stdout
    at_import, after_rules = json.loads(out.strip().splitlines()[-1])
    assert not any(at_import.values()), at_import
    assert not any(after_rules.values()), after_rules


def test_relative_rules_path_resolves_against_the_task_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMOTION_RULES_PARAMETER", raising=False)
    settings = Settings.from_env(
        {"PROMOTION_RULES_FILE": "promotion-rules.yaml", "LAMBDA_TASK_ROOT": "/var/task"}
    )
    assert settings.rules_file == "/var/task/promotion-rules.yaml"
    settings = Settings.from_env({"PROMOTION_RULES_FILE": "promotion-rules.yaml"})
    assert settings.rules_file == str(FUNCTION_DIR / "promotion-rules.yaml")


def test_sample_event_files_exist() -> None:
    for name in (
        "npm-published",
        "pypi-published",
        "maven-unfinished",
        "maven-updated-published",
        "generic-published",
        "npm-deleted",
        "npm-copied-into-release",
        "sqs-batch",
        "malformed",
    ):
        assert (EVENTS / f"{name}.json").exists(), name


def test_event_helper_overrides() -> None:
    assert event(packageName="x")["detail"]["packageName"] == "x"


@pytest.mark.parametrize("body", ["\x85", "a\u2028b", "a\u2029b", "é\x85\u2028"])
def test_a_log_line_quoting_unicode_line_breaks_stays_one_json_line(
    handler_fake: FakeCodeArtifact, log_stream: io.StringIO, body: str
) -> None:
    # Given a record whose body holds characters that Unicode counts as line breaks
    batch = {"Records": [{"messageId": "m-1", "body": body}, body]}
    # When the handler logs the malformed input
    app.lambda_handler(batch, Context())
    # Then every line of the log, split at every Unicode line boundary, is one JSON document, and the
    # quoted input reads back as it was
    lines = [json.loads(raw) for raw in log_stream.getvalue().splitlines() if raw.strip()]
    inputs = [line["input"] for line in lines if line.get("reason") == "malformed"]
    assert len(inputs) == 2
    assert body in inputs[0]
