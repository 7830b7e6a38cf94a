"""The plain classes that replaced dataclasses and NamedTuples (cold start) keep what those gave."""

from __future__ import annotations

import dataclasses
import pickle
from fnmatch import translate

import pytest
from promoter.copier import RetryPolicy
from promoter.pipeline import Dependencies
from promoter.planner import CopyRequest, PlannedVersion
from promoter.rules import GlobSet, Rule, RulesError, build_ruleset
from promoter.settings import Settings
from promoter.versions import SemverRange, compile_range

from .conftest import candidate, rules


def request(**overrides: object) -> CopyRequest:
    fields: dict[str, object] = {
        "domain": "acme",
        "domain_owner": "123456789012",
        "source_repository": "staging",
        "destination_repository": "release",
        "format": "npm",
        "namespace": None,
        "package": "widgets",
        "allow_overwrite": False,
        "include_from_upstream": True,
        "items": (
            PlannedVersion(candidate(version="1.0.0"), "r1"),
            PlannedVersion(candidate(version="2.0.0"), "r1"),
        ),
    }
    fields.update(overrides)
    return CopyRequest(**fields)  # type: ignore[arg-type]


def test_copy_request_is_immutable_and_compared_by_its_fields() -> None:
    a, b = request(), request()
    assert a == b
    assert hash(a) == hash(b)
    assert a != request(package="gadgets")
    assert a.__eq__(object()) is NotImplemented
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.package = "gadgets"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del a.package
    assert repr(a).startswith(
        "CopyRequest(domain='acme', domain_owner='123456789012', source_repository='staging',"
    )


def test_copy_request_with_items_and_only_keep_everything_but_the_items() -> None:
    a = request()
    only = a.only(["2.0.0"])
    assert [i.candidate.version for i in only.items] == ["2.0.0"]
    assert only == request(items=a.items[1:])
    assert a.with_items(()) == request(items=())


def test_dependencies_keep_the_dataclass_constructor_defaults_and_equality() -> None:
    deps = Dependencies("client", rules(), None)  # type: ignore[arg-type]
    assert deps.policy == RetryPolicy()
    assert deps.policy is not Dependencies("client", deps.rules, None).policy  # type: ignore[arg-type]
    assert deps.catch_up is True
    assert deps.account_id is None
    assert deps.limiter is None
    same = Dependencies(client="client", rules=deps.rules, reporter=None, policy=deps.policy)  # type: ignore[arg-type]
    assert deps == same
    assert deps != Dependencies(client="other", rules=deps.rules, reporter=None, policy=deps.policy)  # type: ignore[arg-type]
    assert repr(deps).startswith("Dependencies(client='client', rules=RuleSet(")


def test_records_print_compare_and_hash_by_their_fields() -> None:
    policy = RetryPolicy(max_attempts=4)
    assert repr(policy) == "RetryPolicy(max_attempts=4, base_delay=0.2, max_delay=2.0, call_reserve=12.0)"
    assert policy == RetryPolicy(4, 0.2, 2.0, 12.0)
    assert hash(policy) == hash(RetryPolicy(max_attempts=4))
    assert policy != RetryPolicy()
    settings = Settings.from_env({"PROMOTION_RULES_FILE": "/rules.yaml"})
    assert settings == Settings.from_env({"PROMOTION_RULES_FILE": "/rules.yaml"})
    assert (settings.rules_file, settings.max_attempts, settings.catch_up) == ("/rules.yaml", 20, True)
    assert repr(settings).startswith("Settings(rules_file='/rules.yaml', rules_parameter=None,")


def test_compiled_ranges_keep_their_fields_and_repr() -> None:
    compiled = compile_range("npm", "^1.2.3")
    inner = compiled.inner  # type: ignore[attr-defined]
    assert isinstance(inner, SemverRange)
    assert inner.expression == "^1.2.3"
    assert inner.loose is False
    assert (
        repr(compiled)
        == f"MemoRange(SemverRange(expression='^1.2.3', alternatives={inner.alternatives!r}, loose=False))"
    )
    assert inner == SemverRange("^1.2.3", inner.alternatives)
    assert compile_range("maven", "[1.0,2.0)").contains("1.5")


def test_rule_is_the_named_tuple_its_type_declares() -> None:
    # Given the fields Rule declares
    declared = tuple(Rule.__annotations__)
    # Then a Rule is a tuple of them, in that order
    assert Rule._fields == declared
    rule = rules().rules[0]
    assert isinstance(rule, tuple)
    assert rule[: len(declared)] == tuple(getattr(rule, name) for name in declared)
    assert rule._replace(name="other").name == "other"
    assert repr(rule).startswith(f"Rule(name={rule.name!r}, position=0,")
    assert not hasattr(rule, "__dict__")
    assert pickle.loads(pickle.dumps(rule)) == rule


@pytest.mark.parametrize(
    ("fmt", "name", "expected"),
    [
        ("npm", "Foo.Bar_baz", True),
        ("npm", "foo-bar-baz", False),
        ("pypi", "Foo.Bar__baz", True),
        ("pypi", "foo-baz-qux", False),
        ("nuget", "FOO.BAR_BAZ", True),
        ("swift", "foo.bar_baz", True),
        ("nuget", "foo-bar-baz", False),
    ],
)
def test_globs_fold_names_per_format_with_regexes_compiled_on_first_use(
    fmt: str, name: str, expected: bool
) -> None:
    globs = GlobSet.compile(["Foo.Bar_*", "other"])
    assert globs.pypi is None
    assert globs.lower is None
    assert globs.matches(fmt, name) is expected
    assert globs.matches(fmt, name) is expected  # again, through the regex now compiled
    assert globs == GlobSet.compile(["Foo.Bar_*", "other"])
    assert repr(globs) == "GlobSet(patterns=('Foo.Bar_*', 'other'))"


def test_the_first_bad_glob_in_list_order_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a regex fault in the first glob and a length fault in the second (the translation is forced to
    # fail for "[bad]": fnmatch itself always produces a valid regex)
    monkeypatch.setattr("promoter.rules.translate", lambda p: "(" if p == "[bad]" else translate(p))
    doc = {
        "rules": [
            {
                "name": "r1",
                "domain": "acme",
                "sourceRepository": "staging",
                "destinationRepositories": ["release"],
                "packages": ["ok-*", "[bad]", "x" * 300],
            }
        ]
    }
    # Then the earlier glob's fault is the one reported, as when each glob was checked in turn
    with pytest.raises(RulesError, match=r"'\[bad\]' is not a valid glob: missing \)"):
        build_ruleset(doc)
    doc["rules"][0]["packages"] = ["ok-*", "[bad]"]
    with pytest.raises(RulesError, match=r"'\[bad\]' is not a valid glob: missing \)"):
        build_ruleset(doc)
    doc["rules"][0]["packages"] = ["ok-*", "x" * 300, "[bad]"]
    with pytest.raises(RulesError, match=r"is not a valid glob \(printable, at most 255 characters\)"):
        build_ruleset(doc)
