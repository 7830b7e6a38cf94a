"""Property-based tests (hypothesis): whatever arrives, the function answers; whatever rules say, they load or
fail clearly; whatever the candidates, the plan keeps its invariants.

Example counts stay modest (``max_examples`` 200 or less, no deadline) so the suite stays fast. The
handler runs for real over a fake CodeArtifact client that copies whatever it is asked (so only the
handler's own code can fail); the planner and copier properties need no AWS at all.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import app
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from promoter.copier import Copier
from promoter.events import Candidate
from promoter.matching import RuleSet
from promoter.outcomes import DEFERRED, FAILED, IGNORED, STATUSES
from promoter.planner import MAX_VERSIONS_PER_CALL, coalesce, plan
from promoter.rules import build_ruleset, load_rules_text
from promoter.rules_document import RulesError
from promoter_dev.lambda_context import LambdaContext

from .harness import Output, invoke, version_event

PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

# --------------------------------------------------------------------------- a CodeArtifact copying anything


class CopyingClient:
    """Answers every copy with success and every lookup with an old publish time; records the calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def copy_package_versions(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        assert not ("versions" in kwargs and "versionRevisions" in kwargs)
        names = kwargs.get("versions") or list(kwargs.get("versionRevisions") or {})
        assert 0 < len(names) <= MAX_VERSIONS_PER_CALL
        revisions = kwargs.get("versionRevisions") or {}
        return {
            "successfulVersions": {
                v: {"revision": revisions.get(v, "r"), "status": "Published"} for v in names
            },
            "failedVersions": {},
        }

    def describe_package_version(self, **kwargs: Any) -> dict[str, Any]:
        return {"packageVersion": {"publishedTime": NOW - timedelta(days=30)}}

    def __getattr__(self, name: str) -> Any:
        """Any other call (a scheduled reconcile lists repositories) is denied, as IAM could deny it."""
        if name.startswith("_"):
            raise AttributeError(name)

        def denied(**kwargs: Any) -> Any:
            error = {"Error": {"Code": "AccessDeniedException", "Message": f"{name} denied"}}
            raise ClientError(error, name)  # type: ignore[arg-type]

        return denied


@pytest.fixture
def copying(function_env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[CopyingClient]:
    monkeypatch.setenv("PROMOTER_COPY_RATE", "0")  # no pacing: the fake has no quota to respect
    client = CopyingClient()
    app.reset_state().client = client
    yield client
    app.reset_state()


# --------------------------------------------------------------------------- strategies

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=16,
)
DETAIL_KEYS = list(version_event("p")["detail"])
ENVELOPE_KEYS = list(version_event("p"))


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    """A real-shaped event with some fields replaced by arbitrary JSON, or removed."""
    event = version_event("arbitrary-package")
    for key in draw(st.lists(st.sampled_from(DETAIL_KEYS), max_size=4, unique=True)):
        if draw(st.booleans()):
            del event["detail"][key]
        else:
            event["detail"][key] = draw(
                json_values | st.sampled_from(["", "x" * 300, "a#b", "1.0 0", "\u202e"])
            )
    for key in draw(st.lists(st.sampled_from(ENVELOPE_KEYS), max_size=2, unique=True)):
        event[key] = draw(json_values)
    return event


anything = json_values | mutated_events()

# --------------------------------------------------------------------------- the handler never raises


@PROPERTY
@given(event=anything)
@example(event={"Records": [None, 1, "x", {"messageId": 5}]})
@example(event={"Records": [{"messageId": "m", "body": "[" * 5000}]})
def test_arbitrary_json_as_an_event_never_raises(copying: CopyingClient, event: Any) -> None:
    result, error = invoke(event, LambdaContext(30.0), Output())
    assert error is None, f"{type(error).__name__}: {error}"
    assert isinstance(result, dict)


@PROPERTY
@given(
    body=st.one_of(
        anything.map(json.dumps),
        st.text(max_size=200),
        json_values,  # a body that is not even a string
    ),
    as_record=st.booleans(),
)
@example(body=json.dumps(version_event("arbitrary-package", version="x" * 256)), as_record=True)
@example(body="{" * 100_000, as_record=True)
@example(body="\x85 \u2028 \u2029", as_record=False)  # Unicode line breaks quoted in a log line
def test_an_arbitrary_sqs_body_never_fails_the_other_records(
    copying: CopyingClient, body: Any, as_record: bool
) -> None:
    # Given two good records around a record whose body (or the record itself) is arbitrary
    good = [
        version_event("good-neighbour-a", revision="rev-a"),
        version_event("good-neighbour-b", revision="rev-b"),
    ]
    bad: Any = {"messageId": "bad", "receiptHandle": "h", "body": body} if as_record else body
    records = [
        {"messageId": "good-a", "receiptHandle": "ha", "body": json.dumps(good[0])},
        bad,
        {"messageId": "good-b", "receiptHandle": "hb", "body": json.dumps(good[1])},
    ]
    copying.calls.clear()

    # When the handler runs
    output = Output()
    result, error = invoke({"Records": records}, LambdaContext(30.0), output)

    # Then it answered with a partial batch response in which neither good record fails,
    # and both good versions were copied pinned to their revisions
    assert error is None, f"{type(error).__name__}: {error}"
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert not failed & {"good-a", "good-b"}
    copied = {(c["package"], json.dumps(c.get("versionRevisions"))) for c in copying.calls}
    assert ("good-neighbour-a", json.dumps({"1.0.0": "rev-a"})) in copied
    assert ("good-neighbour-b", json.dumps({"1.0.0": "rev-b"})) in copied
    assert not output.other


# --------------------------------------------------------------------------- rules load or fail clearly

VALID_RULE: dict[str, Any] = {
    "name": "r0",
    "domain": "acme",
    "sourceRepository": "staging",
    "destinationRepositories": ["release"],
    "formats": ["npm", "pypi"],
    "packages": ["*"],
    "excludePackages": ["*-internal"],
    "versions": {"npm": ">=1.0.0 <2", "pypi": ">=1.0,<2"},
    "includePrerelease": False,
    "states": ["Published"],
    "allowOverwrite": False,
    "includeFromUpstream": False,
    "minimumReleaseAge": "3d",
}
RULE_KEYS = [*VALID_RULE, "domainOwner", "namespaces", "unknownKey"]
ODD_VALUES = st.sampled_from(
    [
        "",
        "*",
        "[",
        "[a-",
        "acme",
        "release",
        "staging",
        ">=1",
        "~1.2",
        "[1.0,2.0)",
        "1d12h",
        "0d",
        "bogus",
        "123456789012",
        "npm",
        "maven",
        "Published",
        "Unfinished",
        "a" * 300,
        "é",
        "\x00",
    ]
)


@st.composite
def rule_documents(draw: st.DrawFn) -> dict[str, Any]:
    """One to three rules, each the valid rule with a few keys replaced, removed or added."""
    rules = []
    for index in range(draw(st.integers(1, 3))):
        rule = copy.deepcopy(VALID_RULE)
        rule["name"] = f"r{index}"
        for key in draw(st.lists(st.sampled_from(RULE_KEYS), max_size=3, unique=True)):
            if key in rule and draw(st.booleans()):
                del rule[key]
            else:
                rule[key] = draw(ODD_VALUES | json_values | st.lists(ODD_VALUES, max_size=3))
        rules.append(rule)
    return {"rules": rules}


@PROPERTY
@given(document=rule_documents())
@example(
    document={
        "rules": [
            {**VALID_RULE, "sourceRepository": "release", "destinationRepositories": ["staging"]},
            {**VALID_RULE, "name": "back"},
        ]
    }
)
@example(document={"rules": [VALID_RULE, VALID_RULE]})
def test_rule_sets_load_or_fail_naming_rule_and_field(document: dict[str, Any]) -> None:
    for text in (json.dumps(document), _yaml(document)):
        ruleset = _load(text)
        if isinstance(ruleset, RulesError):
            assert isinstance(ruleset, ValueError)
            assert ruleset.rule is not None, f"no rule named in: {ruleset}"
            assert ruleset.field is not None, f"no field named in: {ruleset}"
            assert repr(ruleset.rule) in str(ruleset)
            assert repr(ruleset.field) in str(ruleset)
        else:
            assert [r.name for r in ruleset.rules] == [r["name"] for r in document["rules"]]


def _yaml(document: Any) -> str:
    import yaml  # noqa: PLC0415 - only this test needs it

    return yaml.safe_dump(document, allow_unicode=True)


@PROPERTY
@given(text=st.text(max_size=300) | json_values.map(json.dumps))
def test_any_rules_text_loads_or_fails_with_a_rules_error(text: str) -> None:
    result = _load(text)
    assert isinstance(result, RuleSet) or str(result)


def _load(text: str) -> RuleSet | RulesError:
    """The loaded rules, or the RulesError (anything else escapes and fails the test)."""
    try:
        return load_rules_text(text, source="rules.yaml")
    except RulesError as exc:
        return exc


@pytest.mark.parametrize("age", ["99999999999999d", "9" * 5000 + "s", "366d", "0s"])
def test_an_out_of_range_release_age_is_a_rules_error(age: str) -> None:
    rule = {**VALID_RULE, "minimumReleaseAge": age}
    with pytest.raises(RulesError, match="minimumReleaseAge"):
        build_ruleset({"rules": [rule]})


# --------------------------------------------------------------------------- planning invariants

PLAN_RULES = build_ruleset(
    {
        "rules": [
            {
                "name": "npm-stable",
                "domain": "acme",
                "sourceRepository": "staging",
                "destinationRepositories": ["release"],
                "formats": ["npm"],
                "versions": ">=1.0.0",
                "excludePackages": ["*-internal"],
            },
            {
                "name": "npm-mirror",
                "domain": "acme",
                "sourceRepository": "staging",
                "destinationRepositories": ["release", "mirror"],
                "formats": ["npm"],
                "packages": ["lib-*"],
                "allowOverwrite": True,
            },
            {
                "name": "pypi-aged",
                "domain": "acme",
                "sourceRepository": "staging",
                "destinationRepositories": ["release"],
                "formats": ["pypi"],
                "minimumReleaseAge": "1d",
            },
            {
                "name": "maven",
                "domain": "acme",
                "sourceRepository": "staging",
                "destinationRepositories": ["release"],
                "formats": ["maven"],
                "namespaces": ["com.acme*"],
                "states": ["Published", "Unlisted"],
            },
            {
                "name": "chain",
                "domain": "acme",
                "sourceRepository": "dev",
                "destinationRepositories": ["staging"],
            },
        ]
    }
)


@st.composite
def candidates(draw: st.DrawFn) -> Candidate:
    fmt = draw(st.sampled_from(["npm", "pypi", "maven", "generic"]))
    namespace = draw(st.sampled_from(["com.acme", "org.other"])) if fmt in ("maven", "generic") else None
    return Candidate(
        domain=draw(st.sampled_from(["acme", "acme", "other"])),
        domain_owner="123456789012",
        source_repository=draw(st.sampled_from(["staging", "staging", "dev", "release"])),
        format=fmt,
        namespace=namespace,
        package=draw(st.sampled_from(["lib-a", "lib-b", "app", "app-internal"])),
        version=draw(st.sampled_from(["0.9.0", "1.0.0", "1.2.3", "2.0.0-rc.1", "1.0", "3.1.4"])),
        revision=draw(st.sampled_from([None, "rev-1", "rev-2"])),
        state=draw(st.sampled_from(["Published", "Published", "Unfinished", "Unlisted"])),
        published_time=draw(st.sampled_from([None, NOW - timedelta(days=3), NOW - timedelta(hours=1)])),
        sequence_number=draw(st.integers(0, 5)),
        operation=draw(st.sampled_from(["Created", "Updated", "Deleted"])),
    )


def _published(candidate: Candidate) -> datetime:
    return NOW - timedelta(hours=2)


@PROPERTY
@given(batch=st.lists(candidates(), max_size=30), per_call=st.integers(1, 7))
def test_planning_invariants(batch: list[Candidate], per_call: int) -> None:
    result = plan(batch, PLAN_RULES, now=NOW, published_time=_published, max_versions_per_call=per_call)
    # Every request: one package, never both versions and versionRevisions, never more than allowed
    planned: dict[tuple[Any, ...], list[str]] = {}
    for request in result.requests:
        kwargs = request.api_kwargs()
        assert ("versions" in kwargs) != ("versionRevisions" in kwargs)
        assert 0 < len(request.items) <= per_call
        for item in request.items:
            c = item.candidate
            assert (c.format, c.namespace, c.package) == (request.format, request.namespace, request.package)
            # no copy without a rule that accepts the version and names this destination
            rule = next(r for r in PLAN_RULES.rules if r.name == item.rule)
            assert rule.rejection(c) is None
            assert request.destination_repository in rule.destination_repositories
            assert c.operation != "Deleted"
            planned.setdefault(c.version_key, []).append(request.destination_repository)

    # Every candidate version (coalesced to its newest event) gets exactly one outcome: "ignored", or one
    # per destination of the rules that accept it (copy, deferred or failed), each destination once
    for candidate in coalesce(batch):
        key = candidate.version_key
        outcomes = [o for o in result.outcomes if o.candidate is not None and o.candidate.version_key == key]
        accepted = [r for r in PLAN_RULES.rules_for(candidate) if r.rejection(candidate) is None]
        if candidate.operation == "Deleted" or not accepted:
            assert [o.status for o in outcomes] == [IGNORED]
            assert key not in planned
            continue
        reached = planned.get(key, []) + [
            str(o.destination) for o in outcomes if o.status in (DEFERRED, FAILED)
        ]
        assert all(o.status in (DEFERRED, FAILED) for o in outcomes)
        assert sorted(reached) == sorted({d for r in accepted for d in r.destination_repositories})
    assert {c.version_key for c in batch} == {c.version_key for c in coalesce(batch)}


@PROPERTY
@given(count=st.integers(1, 250))
def test_a_burst_of_one_package_is_chunked_at_100(count: int) -> None:
    batch = [
        Candidate("acme", "123456789012", "staging", "npm", None, "lib-a", f"1.{i}.0", f"r{i}", "Published")
        for i in range(count)
    ]
    result = plan(batch, PLAN_RULES, now=NOW)
    for request in result.requests:
        assert len(request.items) <= MAX_VERSIONS_PER_CALL
    assert sum(len(r.items) for r in result.requests) == 2 * count  # release and mirror, once each
    assert len(result.requests) == 2 * -(-count // MAX_VERSIONS_PER_CALL)


FAILURE_CODES = [
    "ALREADY_EXISTS",
    "MISMATCHED_REVISION",
    "MISMATCHED_STATUS",
    "NOT_ALLOWED",
    "NOT_FOUND",
    "SKIPPED",
]


class ScriptedClient:
    """Answers copies from a script: per version, success, absent (already present) or a failure code."""

    def __init__(self, script: dict[str, str]) -> None:
        self.script = script
        self.calls: list[dict[str, Any]] = []

    def copy_package_versions(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        names = kwargs.get("versions") or list(kwargs.get("versionRevisions") or {})
        failing = {v for v in names if self.script[v] not in ("ok", "present", "SKIPPED")}
        succeeded, failed = {}, {}
        for version in names:
            answer = self.script[version]
            if answer == "SKIPPED" and not failing:
                answer = "ok"  # SKIPPED only happens beside a real failure
            if failing and version not in failing:
                failed[version] = {"errorCode": "SKIPPED", "errorMessage": "skipped"}
            elif answer == "ok":
                succeeded[version] = {"revision": "r", "status": "Published"}
            elif answer != "present":
                failed[version] = {"errorCode": answer, "errorMessage": answer.lower()}
        return {"successfulVersions": succeeded, "failedVersions": failed}


@PROPERTY
@given(
    script=st.dictionaries(
        st.sampled_from([f"1.{i}.0" for i in range(12)]),
        st.sampled_from(["ok", "ok", "present", *FAILURE_CODES]),
        min_size=1,
    )
)
def test_the_copier_gives_every_version_exactly_one_outcome(script: dict[str, str]) -> None:
    batch = [
        Candidate("acme", "123456789012", "staging", "npm", None, "app", v, f"r-{v}", "Published")
        for v in script
    ]
    rules = build_ruleset(
        {
            "rules": [
                {
                    "name": "all",
                    "domain": "acme",
                    "sourceRepository": "staging",
                    "destinationRepositories": ["release"],
                    "includePrerelease": True,
                }
            ]
        }
    )
    result = plan(batch, rules, now=NOW)
    assume(result.requests)
    client = ScriptedClient(script)
    outcomes = Copier(client, sleep=lambda _: None).copy_all(result.requests)

    assert sorted(o.candidate.version for o in outcomes if o.candidate) == sorted(script)
    assert all(o.status in STATUSES for o in outcomes)
    # a follow-up after SKIPPED never repeats a version that failed for a reason of its own
    failed_for_real: set[str] = set()
    for call in client.calls:
        names = set(call.get("versions") or call.get("versionRevisions") or {})
        assert not names & failed_for_real
        assert not ("versions" in call and "versionRevisions" in call)
        failed_for_real |= {v for v in names if script[v] not in ("ok", "present", "SKIPPED")}
    assert len(client.calls) <= 2
