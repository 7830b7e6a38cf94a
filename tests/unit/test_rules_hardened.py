"""Hardened configuration, through the one loader the function, the SSM parameter and `promoter rules check`
share: the stack's domain and owner (StackScope), hostile documents (alias bombs, deep nesting, huge
values) refused fast with short errors, and names matched whole."""

from __future__ import annotations

import io
import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from promoter.cli import main
from promoter.rules import StackScope, load_rules_file, load_rules_parameter, load_rules_text
from promoter.rules_document import MAX_ERROR, RulesError
from promoter.settings import Settings

from .conftest import candidate

RULE = "rules:\n  - name: r\n    sourceRepository: staging\n    destinationRepositories: [release]\n"
STACK = StackScope("corp", "111122223333")


def loaders(tmp_path: Path) -> dict[str, Callable[[str], object]]:
    """Every way a document reaches the loader: text, the SSM parameter, a file, `promoter rules check`."""

    def from_file(text: str) -> object:
        path = tmp_path / "rules.yaml"
        path.write_text(text)
        return load_rules_file(str(path))

    def from_cli(text: str) -> object:
        path = tmp_path / "rules.yaml"
        path.write_text(text)
        err = io.StringIO()
        code = main(["rules", "check", str(path)], stdout=io.StringIO(), stderr=err)
        if code != 0:
            raise RulesError(err.getvalue().strip())
        return None

    return {
        "text": lambda text: load_rules_text(text, source="rules.yaml"),
        "parameter": lambda text: load_rules_parameter(text, name="/promoter/rules"),
        "file": from_file,
        "cli": from_cli,
    }


LOADERS = ["text", "parameter", "file", "cli"]


# --------------------------------------------------------------------------- the stack's domain and owner


def test_a_rule_without_domain_or_owner_means_the_stacks() -> None:
    (rule,) = load_rules_text(RULE, scope=STACK).rules
    assert (rule.domain, rule.domain_owner) == ("corp", "111122223333")
    (rule,) = load_rules_text(RULE, scope=StackScope("corp")).rules
    assert (rule.domain, rule.domain_owner) == ("corp", None)  # None: the function's own account


def test_rules_of_a_cross_account_stack_match_the_owners_events() -> None:
    # Given a stack in account 123456789012 serving domain corp of 111122223333, and the bundled-style rule
    ruleset = load_rules_text(RULE, scope=StackScope("corp", "111122223333", "123456789012"))
    event = candidate(domain="corp", domain_owner="111122223333")

    # When an event of the owner's domain is matched, Then the rule applies (it used to be ignored: domain)
    found, reason = ruleset.candidate_rules(event, own_account="123456789012")
    assert ([r.name for r in found], reason) == (["r"], None)
    # and an event of a same-named domain of another account is not the stack's
    found, reason = ruleset.candidate_rules(candidate(domain="corp"), own_account="123456789012")
    assert (found, reason) == ([], "domain")


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("domain: acme", "domain", "'acme' is not the stack's domain 'corp' (DOMAIN_NAME)"),
        (
            "domainOwner: '222233334444'",
            "domainOwner",
            "'222233334444' is not the stack's domain owner '111122223333' (DOMAIN_OWNER)",
        ),
    ],
)
def test_a_rule_naming_another_domain_or_owner_is_refused(line: str, field: str, message: str) -> None:
    with pytest.raises(RulesError) as caught:
        load_rules_text(RULE + f"    {line}\n", scope=STACK)
    assert (caught.value.rule, caught.value.field) == ("r", field)
    assert str(caught.value).startswith(f"rule 'r', field '{field}': {message}")


def test_naming_the_stacks_own_domain_and_owner_is_fine() -> None:
    (rule,) = load_rules_text(RULE + "    domain: corp\n    domainOwner: '111122223333'\n", scope=STACK).rules
    assert (rule.domain, rule.domain_owner) == ("corp", "111122223333")


def test_without_domain_owner_a_rule_may_name_only_the_functions_account() -> None:
    scope = StackScope("corp", None, "123456789012")
    assert load_rules_text(RULE + "    domainOwner: '123456789012'\n", scope=scope).rules[0].domain_owner
    with pytest.raises(RulesError, match="is not the function's own account '123456789012'"):
        load_rules_text(RULE + "    domainOwner: '111122223333'\n", scope=scope)
    # unknown own account (the runtime emulator): the owner is taken as written
    assert load_rules_text(RULE + "    domainOwner: '111122223333'\n", scope=StackScope("corp")).rules


def test_a_rule_without_domain_needs_the_stacks() -> None:
    with pytest.raises(RulesError, match=r"field 'domain': is required: DOMAIN_NAME .* is not set"):
        load_rules_text(RULE)
    with pytest.raises(RulesError, match="field 'domain': is required: DOMAIN_NAME"):
        load_rules_parameter(RULE, name="/promoter/rules")


def test_the_functions_settings_read_the_stacks_domain_owner_and_region() -> None:
    env = {"PROMOTION_RULES_FILE": "/r.yaml", "DOMAIN_NAME": "corp", "DOMAIN_OWNER": "111122223333"}
    settings = Settings.from_env({**env, "AWS_REGION": "eu-west-1"})
    assert (settings.domain_name, settings.domain_owner, settings.region) == (
        "corp",
        "111122223333",
        "eu-west-1",
    )
    empty = Settings.from_env({"PROMOTION_RULES_FILE": "/r.yaml", "DOMAIN_NAME": "corp", "DOMAIN_OWNER": ""})
    assert (empty.domain_owner, empty.region) == (None, None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DOMAIN_NAME", "corp\n"),
        ("DOMAIN_NAME", "Corp"),
        ("DOMAIN_OWNER", "11112222333"),
        ("DOMAIN_OWNER", "1\n"),
    ],
)
def test_bad_stack_names_in_the_environment_are_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be"):
        Settings.from_env({"PROMOTION_RULES_FILE": "/r.yaml", name: value})


# --------------------------------------------------------------------------- names matched whole


@pytest.mark.parametrize(
    ("field", "yaml_value"),
    [
        ("domain", "|\n      corp"),
        ("domainOwner", "|\n      111122223333"),
        ("sourceRepository", "|\n      staging"),
        ("destinationRepositories", '["release\\n"]'),
        ("name", '"r\\n"'),
        ("formats", '["npm\\n"]'),
        ("states", '["Published\\n"]'),
        ("packages", '["widgets\\n"]'),
        ("namespaces", '["acme\\n"]'),
        ("excludePackages", '["widgets\\n"]'),
    ],
)
def test_a_trailing_newline_in_any_name_is_refused_at_load(field: str, yaml_value: str) -> None:
    base = {
        "name": "r",
        "domain": "corp",
        "domainOwner": "'111122223333'",
        "sourceRepository": "staging",
        "destinationRepositories": "[release]",
    }
    base[field] = yaml_value
    text = "rules:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in base.items()) + "\n"
    with pytest.raises(RulesError) as caught:
        load_rules_text(text, scope=STACK)
    assert caught.value.field == field
    if field != "name":  # (the name's error asks for printable text instead)
        assert "\\n" in str(caught.value)  # the value is quoted, its newline visible


# --------------------------------------------------------------------------- hostile documents


def alias_bomb(levels: int = 9) -> str:
    text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for level in range(1, levels + 1):
        text += f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]\n"
    return (
        text
        + f"rules:\n  - name: r\n    sourceRepository: staging\n    destinationRepositories: *a{levels}\n"
    )


def merge_bomb(levels: int = 9) -> str:
    text = "m0: &m0 {k: v}\n"
    for level in range(1, levels + 1):
        text += f"m{level}: &m{level} {{<<: [" + ", ".join([f"*m{level - 1}"] * 9) + "]}\n"
    return text + f"rules:\n  - <<: *m{levels}\n    name: r\n"


HOSTILE = {
    "alias bomb": (alias_bomb(), "YAML aliases expand the document"),
    "alias bomb in packages": (
        alias_bomb().replace(
            "destinationRepositories: *a9", "destinationRepositories: [release]\n    packages: *a9"
        ),
        "YAML aliases expand the document",
    ),
    "merge-key bomb": (merge_bomb(), "YAML aliases expand the document"),
    "self-referring alias": (
        "a: &a [*a]\nrules: *a\n",
        "an alias refers to a list or mapping that contains it",
    ),
    "100,000 nested YAML flow lists": (
        "rules: " + "[" * 100_000 + "]" * 100_000,
        "nested more than 64 levels",
    ),
    "100,000 nested YAML block lists": ("rules:\n" + "- " * 100_000 + "x\n", "nested more than 64 levels"),
    "100,000 nested JSON lists": (
        '{"rules": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "nested more than 64 levels",
    ),
    "100,000 nested JSON objects": ('{"rules": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001, "nested more"),
    "a 200 KB value": (
        "rules: [{name: r, domain: "
        + "a" * 200_000
        + ", sourceRepository: s, destinationRepositories: [x]}]",
        "is not a valid CodeArtifact domain name",
    ),
    "a 200 KB key": ('{"rules": [{"name": "r", "' + "k" * 200_000 + '": 1}]}', "unknown key"),
    "200 KB of broken YAML": ("rules: [" + "x" * 200_000 + " : : ]]", "not valid YAML"),
    "a huge list as a name": (
        "rules: [{name: r, domain: corp, destinationRepositories: [release], sourceRepository: "
        + json.dumps(list(range(10_000)))
        + "}]",
        "is not a valid repository name",
    ),
}


FAST = ["alias bomb", "alias bomb in packages", "merge-key bomb", "self-referring alias"]
FAST += [case for case in HOSTILE if case.startswith("100,000")]


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_documents_fail_with_one_short_error(tmp_path: Path, loader: str, case: str) -> None:
    text, expected = HOSTILE[case]
    began = time.process_time()  # CPU time: what the refusal costs, not how busy the machine is
    with pytest.raises(RulesError) as caught:  # never RecursionError, MemoryError or a hang
        loaders(tmp_path)[loader](text)
    elapsed = time.process_time() - began
    message = str(caught.value)
    assert expected in message
    assert len(message) <= MAX_ERROR + 100  # the CLI's "promoter: error: invalid rules: " prefix aside
    if case in FAST:  # (PyYAML scans a megabyte of text in about a second)
        assert elapsed < 1.0, f"{elapsed:.2f} s"


@pytest.mark.parametrize("case", FAST)
def test_bombs_and_deep_nesting_are_refused_in_bounded_memory(case: str) -> None:
    text, _ = HOSTILE[case]
    tracemalloc.start()
    try:
        with pytest.raises(RulesError):
            load_rules_text(text, source="rules.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024, f"{peak / 1e6:.0f} MB"


def test_a_reasonable_use_of_aliases_and_merge_keys_still_loads() -> None:
    text = (
        "rules:\n"
        "  - &base {name: r, sourceRepository: staging, destinationRepositories: [release], formats: [npm]}\n"
        + "".join(f"  - <<: *base\n    name: r{i}\n    packages: [team{i}-*]\n" for i in range(200))
    )
    assert len(load_rules_text(text, scope=STACK).rules) == 201


def test_every_error_is_at_most_a_kilobyte_whatever_the_values() -> None:
    long_name = "n" * 128
    text = json.dumps(
        {"rules": [{"name": long_name, "sourceRepository": "s" * 5000, "destinationRepositories": ["r"]}]}
    )
    with pytest.raises(RulesError) as caught:
        load_rules_text(text, scope=STACK)
    assert len(str(caught.value)) <= MAX_ERROR
    assert long_name in str(caught.value)  # the rule's name is never shortened: it says what to fix
    assert "…" in str(caught.value) or "..." in str(caught.value)
