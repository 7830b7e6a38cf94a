"""Fixtures for the promoter's unit tests: sample events, rules from text, a fake client, a log recorder."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import app
import pytest
from promoter.events import Candidate
from promoter.matching import RuleSet
from promoter.pipeline import Dependencies
from promoter.report import MemoryMetrics, Reporter
from promoter.rules import load_rules_text
from promoter_dev.recording_logger import RecordingLogger

from .fake_codeartifact import VARIANTS, FakeCodeArtifact

EVENTS = Path(__file__).resolve().parents[2] / "events"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

BASIC_RULES = """
rules:
  - name: to-release
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
"""


def load_event(name: str) -> Any:
    """A sample event from events/ (the same files `sam local invoke -e` uses)."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def rules(text: str = BASIC_RULES) -> RuleSet:
    return load_rules_text(text, source="test.yaml")


def candidate(**overrides: Any) -> Candidate:
    fields: dict[str, Any] = {
        "domain": "acme",
        "domain_owner": "123456789012",
        "source_repository": "staging",
        "format": "npm",
        "namespace": None,
        "package": "widgets",
        "version": "1.0.0",
        "revision": "rev-1",
        "state": "Published",
        "sequence_number": 1,
        "operation": "Created",
    }
    fields.update(overrides)
    return Candidate(**fields)


def event(**detail: Any) -> dict[str, Any]:
    """A real-shaped CodeArtifact event in acme/staging with ``detail`` overrides."""
    base: dict[str, Any] = load_event("pypi-published")
    base["detail"].update(detail)
    return base


def event_for(version: str, revision: str) -> dict[str, Any]:
    """An npm event of acme/staging widgets@version (the candidate of ``candidate(...)``, as a body)."""
    return event(
        packageFormat="npm",
        packageNamespace=None,
        packageName="widgets",
        packageVersion=version,
        packageVersionRevision=revision,
        packageVersionState="Published",
    )


def sqs_record(body: Any, message_id: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:promoter",
        "awsRegion": "us-east-1",
    }


class FakeClock:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@contextmanager
def bundled_rules_handler(mp: pytest.MonkeyPatch) -> Iterator[FakeCodeArtifact]:
    """The bundled rules, and a fake CodeArtifact in the container state (no boto3 client is made)."""
    mp.setenv("PROMOTION_RULES_FILE", "promotion-rules.yaml")
    mp.setenv("DOMAIN_NAME", "acme")  # as template.yaml sets it from DomainName
    mp.setenv("PROMOTER_COPY_RATE", "0")
    for name in (
        "PROMOTION_RULES_PARAMETER",
        "ALLOWED_SOURCE_REPOSITORIES",
        "ALLOWED_DESTINATION_REPOSITORIES",
    ):
        mp.delenv(name, raising=False)
    fake = FakeCodeArtifact()
    app.reset_state().client = fake
    try:
        yield fake
    finally:
        app.reset_state()


@pytest.fixture(params=VARIANTS)
def fake(request: pytest.FixtureRequest) -> FakeCodeArtifact:
    """The in-memory CodeArtifact, once as the API reference documents ALREADY_EXISTS and once in the
    variant that leaves an identical copy out of both maps: the promoter must be right under either."""
    return FakeCodeArtifact(variant=request.param)


@pytest.fixture
def log() -> RecordingLogger:
    return RecordingLogger()


@pytest.fixture
def memory_metrics() -> MemoryMetrics:
    return MemoryMetrics()


@pytest.fixture
def make_deps(
    fake: FakeCodeArtifact, log: RecordingLogger, memory_metrics: MemoryMetrics
) -> Callable[..., Dependencies]:
    def build(ruleset: RuleSet | None = None, **overrides: Any) -> Dependencies:
        clock = FakeClock()
        fields: dict[str, Any] = {
            "client": fake,
            "rules": ruleset or rules(),
            "reporter": Reporter(log, memory_metrics),
            "clock": lambda: NOW,
            "sleep": clock.sleep,
        }
        fields.update(overrides)
        return Dependencies(**fields)

    return build
