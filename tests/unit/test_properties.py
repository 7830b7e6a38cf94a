"""Property-based: arbitrary JSON never raises out of the handler and never fails other records;
planning keeps its invariants for any candidates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import app
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promoter.events import STATES, MalformedEvent, NotCodeArtifactEvent, parse_event
from promoter.outcomes import STATUSES
from promoter.planner import MAX_VERSIONS_PER_CALL, plan
from promoter.versions import FORMATS
from promoter_dev.lambda_context import LambdaContext as Context

from .conftest import NOW, bundled_rules_handler, candidate, load_event, rules, sqs_record
from .fake_codeartifact import FakeCodeArtifact

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
DETAIL_KEYS = list(load_event("pypi-published")["detail"])


@pytest.fixture(scope="module")
def handler() -> Iterator[FakeCodeArtifact]:
    with pytest.MonkeyPatch.context() as mp, bundled_rules_handler(mp) as fake:
        yield fake


def mutated_event(changes: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = load_event("pypi-published")
    event["detail"].update(changes)
    return event


PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(raw=json_values)
def test_any_json_as_an_event_never_raises(handler: FakeCodeArtifact, raw: Any) -> None:
    assert isinstance(app.lambda_handler(raw, Context()), dict)


@PROPERTY
@given(body=json_values | st.text(max_size=200))
def test_any_sqs_body_fails_nothing(handler: FakeCodeArtifact, body: Any) -> None:
    good = load_event("pypi-published")
    batch = {
        "Records": [
            sqs_record(body if isinstance(body, str) else json.dumps(body), "bad"),
            sqs_record(good, "ok"),
        ]
    }
    assert app.lambda_handler(batch, Context()) == {"batchItemFailures": []}


@PROPERTY
@given(changes=st.dictionaries(st.sampled_from(DETAIL_KEYS), json_values, max_size=4))
def test_damaged_details_never_raise(handler: FakeCodeArtifact, changes: dict[str, Any]) -> None:
    response = app.lambda_handler({"Records": [sqs_record(mutated_event(changes), "m")]}, Context())
    assert response == {"batchItemFailures": []}


@PROPERTY
@given(raw=json_values, changes=st.dictionaries(st.sampled_from(DETAIL_KEYS), json_values, max_size=4))
def test_the_parser_raises_only_its_own_errors(raw: Any, changes: dict[str, Any]) -> None:
    for value in (raw, mutated_event(changes)):
        try:
            candidate = parse_event(value)
        except (MalformedEvent, NotCodeArtifactEvent):
            continue
        assert candidate.format in FORMATS
        assert candidate.state in STATES


versions = st.from_regex(r"\A[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}(-rc\.[0-9])?\Z")
candidates = st.builds(
    lambda package, version, seq, state, namespace: candidate(
        package=package,
        version=version,
        sequence_number=seq,
        state=state,
        namespace=namespace,
        revision=f"r{seq}",
    ),
    st.sampled_from(["a", "b", "c-internal", "d"]),
    versions,
    st.integers(0, 5),
    st.sampled_from(["Published", "Unfinished", "Unlisted"]),
    st.sampled_from([None, "acme"]),
)
MULTI = """
rules:
  - name: one
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release, audit]
    excludePackages: ["*-internal"]
  - name: two
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    includePrerelease: true
    states: [Published, Unlisted]
"""


@settings(max_examples=150, deadline=None)
@given(cands=st.lists(candidates, max_size=300))
def test_planning_invariants(cands: list[Any]) -> None:
    ruleset = rules(MULTI)
    result = plan(cands, ruleset, now=NOW)
    decided: dict[tuple[Any, ...], set[str | None]] = {}
    for request in result.requests:
        kwargs = request.api_kwargs()
        assert ("versions" in kwargs) != ("versionRevisions" in kwargs)
        assert 0 < len(request.items) <= MAX_VERSIONS_PER_CALL
        for item in request.items:
            key = item.candidate.version_key
            assert request.destination_repository not in decided.get(key, set())
            decided.setdefault(key, set()).add(request.destination_repository)
            assert item.candidate.state in {"Published", "Unlisted"}
            assert not item.candidate.package.endswith("-internal") or item.rule == "two"
    for outcome in result.outcomes:
        assert outcome.status in STATUSES
        assert outcome.candidate is not None
        decided.setdefault(outcome.candidate.version_key, set()).add(outcome.destination)
    # every distinct version got a decision
    assert set(decided) == {c.version_key for c in cands}
