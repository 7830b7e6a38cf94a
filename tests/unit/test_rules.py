"""Rules: strict validation with errors naming rule and field, cycles, allow-lists, matching and explain."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from promoter.rule_filters import AGE, DOMAIN, EXCLUDE, FORMAT, NAMESPACE, PACKAGE, PRERELEASE, RANGE, STATE
from promoter.rules import StackScope, build_ruleset, load_rules_file, load_rules_text
from promoter.rules_document import RulesError, parse_rules_text
from promoter.rules_fields import parse_duration

from .conftest import BASIC_RULES as BASIC
from .conftest import NOW, candidate, rules


def rule(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "r1",
        "domain": "acme",
        "sourceRepository": "staging",
        "destinationRepositories": ["release"],
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def error_of(document: Any, **allowed: Any) -> RulesError:
    with pytest.raises(RulesError) as info:
        build_ruleset(document, **allowed)
    return info.value


INVALID_RULES = [
    (rule(color="blue"), "r1", "color", "unknown key"),
    (rule(name=""), "rules[0]", "name", "non-empty"),
    (rule(name=5), "rules[0]", "name", "non-empty"),
    (rule(domain=None), "r1", "domain", "required"),
    (rule(domain="Acme_Corp"), "r1", "domain", "domain name"),
    (rule(domainOwner=111122223333), "r1", "domainOwner", "12-digit"),
    (rule(domainOwner="12345"), "r1", "domainOwner", "12-digit"),
    (rule(sourceRepository="bad repo!"), "r1", "sourceRepository", "repository name"),
    (rule(destinationRepositories=[]), "r1", "destinationRepositories", "non-empty"),
    (rule(destinationRepositories=["release", "release"]), "r1", "destinationRepositories", "twice"),
    (rule(destinationRepositories=["staging"]), "r1", "destinationRepositories", "own source"),
    (rule(formats=["npm", "rpm"]), "r1", "formats", "not a known format"),
    (rule(formats="npm,pypi"), "r1", "formats", "not a known format"),
    (rule(packages=["ok", 3]), "r1", "packages", "not a string"),
    (rule(packages=["acme-[abc"]), "r1", "packages", "unclosed"),
    (rule(packages=[""]), "r1", "packages", "empty"),
    (rule(excludePackages=["x\ny"]), "r1", "excludePackages", "not a valid glob"),
    (rule(namespaces=["com.[acme"]), "r1", "namespaces", "unclosed"),
    (rule(versions=">=1"), "r1", "versions", "list 'formats'"),
    (rule(formats=["npm"], versions="^^1"), "r1", "versions", "not a valid npm range"),
    (rule(formats=["pypi"], versions=">>1"), "r1", "versions", "not a valid pypi range"),
    (rule(formats=["maven"], versions="[2.0,1.0]"), "r1", "versions", "not a valid maven range"),
    (rule(formats=["nuget"], versions="[1.0"), "r1", "versions", "not a valid nuget range"),
    (rule(formats=["npm", "pypi"], versions="^1.2"), "r1", "versions", "not a valid pypi range"),
    (
        rule(formats=["maven"], versions=">=1.0"),
        "r1",
        "versions",
        "expected Maven ranges such as '[1.0,2.0)'",
    ),
    (rule(formats=["maven"], versions="^1.2"), "r1", "versions", "not a valid maven range"),
    (rule(formats=["maven"], versions="1.x"), "r1", "versions", "not a valid maven range"),
    (rule(formats=["maven"], versions="*"), "r1", "versions", "not a valid maven range"),
    (rule(formats=["maven"], versions={"maven": ">=1.0"}), "r1", "versions", "expected Maven ranges"),
    (rule(formats=["npm", "maven"], versions={"npm": "^1", "maven": "1.x"}), "r1", "versions", "maven"),
    (rule(formats=["pypi"], versions=">=1.0.0 <2"), "r1", "versions", "expected PEP 440 specifiers"),
    (rule(formats=["nuget"], versions="^1.2"), "r1", "versions", "expected NuGet ranges"),
    (rule(formats=["npm"], versions="[1.0,2.0)"), "r1", "versions", "expected node-semver ranges"),
    (rule(formats=["npm"], versions={"pypi": ">=1"}), "r1", "versions", "not in the rule's formats"),
    (rule(versions={"conda": ">=1"}), "r1", "versions", "not a known format"),
    (rule(versions=3), "r1", "versions", "range string or a mapping"),
    (rule(includePrerelease="yes"), "r1", "includePrerelease", "true or false"),
    (rule(allowOverwrite=1), "r1", "allowOverwrite", "true or false"),
    (rule(includeFromUpstream="false"), "r1", "includeFromUpstream", "true or false"),
    (rule(states=["Published", "Gone"]), "r1", "states", "not a state"),
    (rule(minimumReleaseAge="3 days"), "r1", "minimumReleaseAge", "duration"),
    (rule(minimumReleaseAge="0h"), "r1", "minimumReleaseAge", "longer than zero"),
    (rule(minimumReleaseAge="400d"), "r1", "minimumReleaseAge", "365d"),
    (rule(minimumReleaseAge="99999999999999d"), "r1", "minimumReleaseAge", "365d"),
    (rule(minimumReleaseAge=24), "r1", "minimumReleaseAge", "duration"),
    ("just a string", "rules[0]", None, "must be a mapping"),
]


@pytest.mark.parametrize(("raw", "rule_name", "field", "fragment"), INVALID_RULES)
def test_invalid_rule_names_rule_and_field(
    raw: Any, rule_name: str, field: str | None, fragment: str
) -> None:
    # Given a rules document with one bad rule, When it is loaded, Then the error names rule and field
    error = error_of({"rules": [raw]})
    assert error.rule == rule_name
    assert error.field == field
    assert fragment in str(error)
    assert f"rule {rule_name!r}" in str(error)
    if field:
        assert f"field {field!r}" in str(error)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (None, "mapping"),
        ([], "mapping"),
        ({}, "non-empty list"),
        ({"rules": []}, "non-empty list"),
        ({"rules": {}}, "non-empty list"),
        ({"rules": [rule()], "extra": 1}, "unknown top-level key"),
    ],
)
def test_invalid_documents(document: Any, fragment: str) -> None:
    assert fragment in str(error_of(document))


def test_duplicate_names_are_refused() -> None:
    error = error_of({"rules": [rule(), rule(sourceRepository="dev", destinationRepositories=["staging"])]})
    assert (error.rule, error.field) == ("r1", "name")
    assert "duplicate" in str(error)


def test_a_cycle_of_rules_is_refused() -> None:
    # Given a -> b and b -> a in one domain
    document = {
        "rules": [
            rule(name="up", sourceRepository="staging", destinationRepositories=["release"]),
            rule(name="down", sourceRepository="release", destinationRepositories=["staging"]),
        ]
    }
    # Then loading fails and names the rule that closes the cycle
    error = error_of(document)
    assert error.field == "destinationRepositories"
    assert error.rule in {"up", "down"}
    assert "cycle" in str(error)
    assert "staging -> release -> staging" in str(error) or "release -> staging -> release" in str(error)


def test_a_longer_cycle_is_refused_but_a_chain_is_fine() -> None:
    chain = [
        rule(name="a", sourceRepository="dev", destinationRepositories=["staging"]),
        rule(name="b", sourceRepository="staging", destinationRepositories=["release", "mirror"]),
    ]
    assert len(build_ruleset({"rules": chain}).rules) == 2
    cyclic = [*chain, rule(name="c", sourceRepository="release", destinationRepositories=["dev"])]
    assert "dev -> staging -> release -> dev" in str(error_of({"rules": cyclic}))


def test_same_repositories_in_another_domain_are_no_cycle() -> None:
    document = {
        "rules": [
            rule(name="a", domain="acme", sourceRepository="staging", destinationRepositories=["release"]),
            rule(name="b", domain="other", sourceRepository="release", destinationRepositories=["staging"]),
        ]
    }
    assert len(build_ruleset(document).rules) == 2


def test_repositories_outside_the_allow_lists_are_refused() -> None:
    document = {"rules": [rule(sourceRepository="dev", destinationRepositories=["release"])]}
    error = error_of(document, allowed_sources=["staging"])
    assert (error.rule, error.field) == ("r1", "sourceRepository")
    assert "ALLOWED_SOURCE_REPOSITORIES" in str(error)
    error = error_of(document, allowed_destinations=["acme/public"])
    assert (error.rule, error.field) == ("r1", "destinationRepositories")
    assert "ALLOWED_DESTINATION_REPOSITORIES" in str(error)
    # domain/repository entries and plain names both allow
    assert build_ruleset(document, allowed_sources=["acme/dev"], allowed_destinations=["release"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("24h", timedelta(hours=24)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(hours=36)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "3", "d3", "3x", "-3d", "3d junk", "1.5h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


FILTERS = """
rules:
  - name: npm-stable
    domain: acme
    domainOwner: "123456789012"
    sourceRepository: staging
    destinationRepositories: [release]
    formats: [npm, pypi, maven]
    namespaces: ["", "acme", "com.acme*"]
    packages: ["*"]
    excludePackages: ["*-internal"]
    versions: {npm: ">=1.0.0 <2", pypi: ">=1,<2"}
    states: [Published]
"""


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({}, None),
        ({"domain": "other"}, DOMAIN),
        ({"source_repository": "release"}, DOMAIN),
        ({"domain_owner": "999999999999"}, DOMAIN),
        ({"format": "nuget"}, FORMAT),
        ({"namespace": "evil"}, NAMESPACE),
        ({"namespace": "acme"}, None),
        ({"format": "maven", "namespace": "com.acme.tools", "version": "7.0"}, None),
        ({"package": "widgets-internal"}, EXCLUDE),
        ({"version": "2.0.0"}, RANGE),
        ({"version": "1.1.0-beta.1"}, PRERELEASE),
        ({"state": "Unfinished"}, STATE),
        ({"format": "pypi", "package": "Acme_Utils", "version": "1.4"}, None),
        ({"format": "pypi", "version": "2.0"}, RANGE),
    ],
)
def test_rejection_reasons(overrides: dict[str, Any], reason: str | None) -> None:
    ruleset = rules(FILTERS)
    c = candidate(**{"version": "1.2.0", **overrides})
    explained = ruleset.explain(c)
    assert [e.rejected_by for e in explained] == [reason]


def test_explain_checks_age_last_when_asked() -> None:
    ruleset = rules(
        "rules: [{name: cool, domain: acme, sourceRepository: staging, destinationRepositories: [release],"
        " minimumReleaseAge: 3d}]"
    )
    young = candidate(published_time=NOW - timedelta(days=1))
    old = candidate(published_time=NOW - timedelta(days=4))
    assert [e.rejected_by for e in ruleset.explain(young)] == [None]  # age needs a clock
    assert [e.rejected_by for e in ruleset.explain(young, now=NOW)] == [AGE]
    assert [e.rejected_by for e in ruleset.explain(old, now=NOW)] == [None]
    assert [e.rejected_by for e in ruleset.explain(candidate(), now=NOW)] == [AGE]
    assert [
        e.rejected_by for e in ruleset.explain(candidate(), now=NOW, published_time=NOW - timedelta(days=9))
    ] == [None]
    assert [e.rejected_by for e in ruleset.explain(candidate(version="9.9.9-rc.1"), now=NOW)] == [PRERELEASE]


def test_package_globs_fold_names_like_the_registry() -> None:
    text = """
rules:
  - name: only-these
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    packages: ["Acme.Utils*", "zope.interface"]
"""
    ruleset = rules(text)
    assert ruleset.rules[0].rejection(candidate(format="pypi", package="acme-utils-extra")) is None
    assert ruleset.rules[0].rejection(candidate(format="pypi", package="Zope_Interface")) is None
    assert ruleset.rules[0].rejection(candidate(format="nuget", package="ACME.UTILS.Core")) is None
    assert ruleset.rules[0].rejection(candidate(format="npm", package="acme.utils")) == PACKAGE


def test_swift_names_and_namespaces_fold_to_lower_case_like_codeartifact() -> None:
    # Given a swift rule written with the mixed case a Swift developer uses
    text = """
rules:
  - name: swift
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    formats: [swift]
    namespaces: ["MyScope"]
    packages: ["MyPackage*"]
"""
    ruleset = rules(text)
    # When CodeArtifact reports the package as it stores it (lower-cased), Then the rule still matches
    swift = candidate(format="swift", namespace="myscope", package="mypackagekit")
    assert ruleset.rules[0].rejection(swift) is None
    assert ruleset.candidate_rules(swift)[0] == [ruleset.rules[0]]
    other = candidate(format="swift", namespace="other", package="mypackage")
    assert ruleset.rules[0].rejection(other) == NAMESPACE


def test_rules_are_indexed_by_domain_and_source() -> None:
    text = "rules:\n" + "".join(
        f"""
  - name: r{i}
    domain: acme
    sourceRepository: src{i % 10}
    destinationRepositories: [dst{i}]
"""
        for i in range(100)
    )
    ruleset = rules(text)
    found = ruleset.rules_for(candidate(source_repository="src3"))
    assert len(found) == 10
    assert all(r.source_repository == "src3" for r in found)
    assert ruleset.rules_for(candidate(domain="zzz")) == ()


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"formats": ["npm"], "packages": ["@acme/*"]}, "packages", "no '/'"),
        ({"excludePackages": ["com.acme/internal-*"]}, "excludePackages", "no '/'"),
    ],
)
def test_globs_that_can_never_match_a_codeartifact_name_are_refused(
    fields: dict[str, Any], field: str, fragment: str
) -> None:
    # npm users write "@acme/widgets"; CodeArtifact calls the scope "acme" (namespace), the name "widgets"
    error = error_of({"rules": [rule(**fields)]})
    assert (error.rule, error.field) == ("r1", field)
    assert fragment in str(error)


@pytest.mark.parametrize(
    ("fields", "fragments"),
    [
        ({"formats": ["npm"], "namespaces": ["@acme"]}, ["'@acme' never matches an npm package", "'acme'"]),
        ({"namespaces": ["@acme*"]}, ["'@acme*' never matches an npm package"]),
        ({"formats": ["npm", "pypi"], "namespaces": ["acme"]}, ["never matches a pypi package"]),
        ({"formats": ["nuget", "ruby", "cargo"], "namespaces": ["x"]}, ["a cargo", "a nuget", "a ruby"]),
    ],
)
def test_filters_that_contradict_the_format_load_with_a_warning(
    fields: dict[str, Any], fragments: list[str]
) -> None:
    # Given a rule whose namespace filter can never match one of its formats, When loaded,
    # Then it loads (the rest of the rule works) and each contradiction is one warning naming rule and field
    warnings = build_ruleset({"rules": [rule(**fields)]}).warnings()
    text = "\n".join(warnings)
    assert warnings
    assert all(w.startswith("rule 'r1', field 'namespaces': ") for w in warnings)
    for fragment in fragments:
        assert fragment in text


@pytest.mark.parametrize(
    "fields",
    [
        {"formats": ["npm", "maven"], "namespaces": ["acme", "com.acme"]},
        {"formats": ["pypi", "npm"], "namespaces": ["", "acme"]},  # '' admits packages without a namespace
        {"formats": ["generic"], "namespaces": ["@tools"]},
        {"namespaces": ["acme"]},  # no formats: the filter itself says which formats it means
    ],
)
def test_filters_that_fit_the_format_give_no_warning(fields: dict[str, Any]) -> None:
    assert build_ruleset({"rules": [rule(**fields)]}).warnings() == []


def test_an_at_sign_stays_allowed_where_it_can_match() -> None:
    # a generic namespace may start with '@'; only npm stores its scope without one
    ruleset = build_ruleset({"rules": [rule(formats=["generic"], namespaces=["@tools"], packages=["a@b*"])]})
    assert ruleset.rules[0].namespaces is not None


def test_json_documents_and_files(tmp_path: Path) -> None:
    document = {"rules": [rule(formats=["npm"], versions="^1", minimumReleaseAge="3d")]}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(document))
    ruleset = load_rules_file(str(path))
    assert ruleset.rules[0].minimum_release_age == timedelta(days=3)
    assert "minimumReleaseAge=3d" in ruleset.rules[0].describe()


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("bad.json", "{nope", "not valid JSON"),
        ("bad.yaml", "rules: [\n  - name: x\n  - : :", "not valid YAML"),
    ],
)
def test_unreadable_documents(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(RulesError, match=fragment):
        load_rules_file(str(path))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "rules.yaml",
            "rules:\n  - name: r1\n    domain: acme\n    sourceRepository: staging\n"
            "    destinationRepositories: [release]\n    formats: [npm]\n"
            '    versions: "^1"\n    versions: "^2"\n',
        ),
        (
            "rules.json",
            '{"rules": [{"name": "r1", "domain": "acme", "sourceRepository": "staging", '
            '"destinationRepositories": ["release"], "formats": ["npm"], '
            '"versions": "^1", "versions": "^2"}]}',
        ),
    ],
)
def test_a_key_given_twice_is_refused_not_silently_overwritten(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(RulesError) as info:
        load_rules_file(str(path))
    assert (info.value.rule, info.value.field) == ("r1", "versions")
    assert "given twice" in str(info.value)


def test_a_key_given_twice_is_refused_after_another_library_replaced_safeloaders_map_constructor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given SafeLoader's map constructor replaced process-wide, as SAM CLI's yaml_parse does on import paths
    # the test suite takes (it builds plain dicts from construct_pairs, never calling construct_mapping)

    def pairs_only(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        loader.flatten_mapping(node)
        return dict(loader.construct_pairs(node))

    constructors = {**yaml.SafeLoader.yaml_constructors, "tag:yaml.org,2002:map": pairs_only}
    monkeypatch.setattr(yaml.SafeLoader, "yaml_constructors", constructors)
    text = (
        "rules:\n  - name: r1\n    domain: acme\n    sourceRepository: staging\n"
        '    destinationRepositories: [release]\n    versions: "^1"\n    versions: "^2"\n'
    )
    # Then the rules loader still refuses the repeated key
    with pytest.raises(RulesError, match="given twice"):
        parse_rules_text(text, source="rules.yaml")


def test_yaml_merge_keys_may_still_be_overridden(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "base: &base {domain: acme, sourceRepository: staging, destinationRepositories: [release]}\n"
        "rules:\n  - {<<: *base, name: a, sourceRepository: dev, destinationRepositories: [staging]}\n"
        "  - {<<: *base, name: b}\n"
    )
    with pytest.raises(RulesError, match="unknown top-level key 'base'"):
        load_rules_file(str(path))  # the anchor's holder is refused, but the merges themselves parsed
    document = parse_rules_text(path.read_text(), source=str(path))
    assert document["rules"][0]["sourceRepository"] == "dev"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read rules file"):
        load_rules_file(str(tmp_path / "absent.yaml"))


def test_bundled_example_rules_load_and_read_the_same_as_yaml() -> None:
    path = Path(__file__).resolve().parents[2] / "functions" / "promoter" / "promotion-rules.yaml"
    ruleset = load_rules_file(str(path), scope=StackScope("mycorp", "111122223333"))
    assert {r.name for r in ruleset.rules} >= {"stable-npm-pypi-to-release", "maven-to-release"}
    # they name no domain or owner: they mean the stack's, whichever it is
    assert {(r.domain, r.domain_owner) for r in ruleset.rules} == {("mycorp", "111122223333")}
    text = path.read_text()
    assert parse_rules_text(text, source=str(path)) == yaml.safe_load(text)


def test_json_syntax_with_comment_lines_is_read_as_json_and_block_yaml_as_yaml() -> None:
    commented = '# header\n{\n  # a comment line\n  "rules": [{"name": "a", "x": "#not a comment"}]\n}\n'
    assert parse_rules_text(commented, source="r.yaml") == yaml.safe_load(commented)
    block = "# header\nrules:\n  - name: a\n"
    assert parse_rules_text(block, source="r.yaml") == {"rules": [{"name": "a"}]}
    flow_but_not_json = "{rules: [{name: a}]}"
    assert parse_rules_text(flow_but_not_json, source="r.yaml") == {"rules": [{"name": "a"}]}


def test_defaults() -> None:
    only = load_rules_text(
        "rules: [{name: d, domain: acme, sourceRepository: staging, destinationRepositories: release}]"
    ).rules[0]
    assert only.states == frozenset({"Published"})
    assert (only.include_prerelease, only.allow_overwrite, only.include_from_upstream) == (
        False,
        False,
        False,
    )
    assert only.formats is None
    assert only.minimum_release_age is None
    assert only.packages.patterns == ("*",)


def test_candidate_rules_narrow_by_format_and_package_prefix_in_file_order() -> None:
    text = "rules:\n" + "".join(
        f"""
  - name: r{i}
    domain: acme
    domainOwner: "123456789012"
    sourceRepository: staging
    destinationRepositories: [release]
    formats: [{"npm" if i % 2 else "pypi"}]
    packages: ["team{i:03d}-*", "team{i:03d}-extra"]
"""
        for i in range(40)
    )
    text += """
  - name: catch-all
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    packages: ["*"]
  - name: pypi-folded
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    formats: [pypi]
    packages: ["Team002_*"]
"""
    ruleset = rules(text)
    found, reason = ruleset.candidate_rules(candidate(package="team003-core"))
    assert ([r.name for r in found], reason) == (["r3", "catch-all"], None)
    found, _ = ruleset.candidate_rules(candidate(format="pypi", package="TEAM002.Core"))
    assert [r.name for r in found] == ["r2", "catch-all", "pypi-folded"]
    assert ruleset.candidate_rules(candidate(domain="other")) == ([], "domain")
    assert ruleset.candidate_rules(candidate(source_repository="release")) == ([], "source")
    # every rule the index leaves out really rejects the candidate
    for package in ("team003-core", "team004-x", "other", "team0", "Team002_x"):
        for fmt in ("npm", "pypi", "maven"):
            c = candidate(format=fmt, package=package, namespace="ns" if fmt == "maven" else None)
            found, _ = ruleset.candidate_rules(c)
            accepting = [r.name for r in ruleset.rules if r.rejection(c) is None]
            assert [r.name for r in found if r.rejection(c) is None] == accepting


def test_candidate_rules_of_another_owner() -> None:
    ruleset = rules(FILTERS)
    assert ruleset.candidate_rules(candidate(domain_owner="999999999999")) == ([], DOMAIN)
    assert ruleset.candidate_rules(candidate(format="nuget")) == ([], FORMAT)


def test_a_rule_without_owner_means_the_functions_own_account() -> None:
    text = (
        BASIC
        + """
  - name: partner
    domain: acme
    domainOwner: "999999999999"
    sourceRepository: staging
    destinationRepositories: [release]
    packages: ["partner-*"]
"""
    )
    ruleset = rules(text)
    own = "123456789012"
    assert [r.name for r in ruleset.candidate_rules(candidate(), own)[0]] == ["to-release"]
    foreign = candidate(domain_owner="999999999999")
    assert ruleset.candidate_rules(foreign, own) == ([], DOMAIN)
    assert [r.name for r in ruleset.candidate_rules(foreign._replace(package="partner-x"), own)[0]] == [
        "partner"
    ]
    # without a known own account, an unnamed owner accepts any
    assert [r.name for r in ruleset.candidate_rules(foreign, None)[0]] == ["to-release"]
    assert ruleset.candidate_rules(candidate(domain_owner="555555555555"), own) == ([], DOMAIN)
