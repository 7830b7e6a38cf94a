"""Promotion rules, loaded: a rules document (a file, an SSM parameter's value, text) validated strictly and
compiled into a ``RuleSet`` within the stack's scope, with errors that name the rule and the field.

The stages, in order: ``promoter.rules_document`` (text -> document, safely), ``promoter.rules_fields`` (one
validator per kind of value), ``compile_rule`` and ``build_ruleset`` here (a rule and the whole document:
names, cycles, allowed repositories), ``promoter.version_entries`` (freeze, exceptions, denyVersions).
Matching is ``promoter.rule_filters`` (one rule) and ``promoter.matching`` (the indexed set).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, TypedDict, Unpack

from promoter.events import STATES
from promoter.matching import RuleSet
from promoter.rule_filters import ORIGIN_TYPES, Rule
from promoter.rules_document import RulesError, UnsafeDocument, parse_rules_text, quote
from promoter.rules_fields import (
    ACCOUNT_PATTERN,
    DOMAIN_PATTERN,
    boolean,
    choices,
    duration,
    glob_set,
    package_globs,
    repository_name,
    string_list,
    version_ranges,
)
from promoter.version_entries import parse_freeze, parse_version_entries
from promoter.versions import FORMATS

RULE_KEYS: frozenset[str] = frozenset(
    {
        "name",
        "domain",
        "domainOwner",
        "sourceRepository",
        "destinationRepositories",
        "formats",
        "namespaces",
        "packages",
        "excludePackages",
        "versions",
        "includePrerelease",
        "states",
        "allowOverwrite",
        "includeFromUpstream",
        "minimumReleaseAge",
        "minimumReleaseAgeFor",
        "origins",
        "freeze",
    }
)
REQUIRED_KEYS = ("name", "sourceRepository", "destinationRepositories")
"""``domain`` is required too unless the stack's domain is known (DOMAIN_NAME, ``--domain``): a rule without
``domain``/``domainOwner`` means the stack's."""
TOP_LEVEL_KEYS: frozenset[str] = frozenset({"rules", "exceptions", "freeze", "denyVersions"})


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class StackScope(NamedTuple):
    """What the stack fixes for every rule: its domain (DOMAIN_NAME) and the domain's owner (DOMAIN_OWNER).
    A rule without ``domain`` or ``domainOwner`` means the stack's; a rule naming another is refused."""

    domain: str | None = None
    owner: str | None = None
    """The domain owner's account; None: the function's own account (the stack's DomainOwner is empty)."""
    own_account: str | None = None
    """The function's own account when known (from its ARN): the owner a rule may name when ``owner`` is
    None."""
    require_domain: bool = True
    """False for ``promoter rules check`` without a domain: a rule without ``domain`` is checked as it is."""
    unset_hint: str = "DOMAIN_NAME (the stack's DomainName) is not set"
    """Says, in the error for a rule without ``domain``, where the stack's domain comes from."""


class Within(TypedDict, total=False):
    """Where rules may reach, as ``build_ruleset`` takes it: the stack's ``scope`` (its domain and owner)
    and the repositories it may read and write (``allowed_*``; empty: any)."""

    allowed_sources: Sequence[str]
    allowed_destinations: Sequence[str]
    scope: StackScope | None


class _StackField(NamedTuple):
    """``domain`` or ``domainOwner``: how a valid one is written, and what the stack calls its own."""

    key: str
    pattern: str
    valid: str
    what: str
    variable: str
    otherwise: str = ""

    def check(self, label: str, value: Any, stack_value: str | None) -> None:
        """Refuse ``value`` when it is not well formed, or not the stack's when the stack names one."""
        if not isinstance(value, str) or not re.fullmatch(self.pattern, value):
            raise RulesError(f"{quote(value)} is not {self.valid}", rule=label, field=self.key)
        if stack_value is not None and value != stack_value:
            raise RulesError(
                f"{quote(value)} is not the stack's {self.what} {quote(stack_value)} ({self.variable}): omit "
                f"{self.key!r} to mean the stack's{self.otherwise}",
                rule=label,
                field=self.key,
            )


_DOMAIN = _StackField(
    "domain",
    DOMAIN_PATTERN,
    "a valid CodeArtifact domain name",
    "domain",
    "DOMAIN_NAME",
    ", or deploy a stack for that domain",
)
_OWNER = _StackField(
    "domainOwner", ACCOUNT_PATTERN, "a 12-digit account id (quote it in YAML)", "domain owner", "DOMAIN_OWNER"
)


def _domain_and_owner(label: str, raw: Mapping[str, Any], scope: StackScope) -> tuple[str, str | None]:
    """The rule's domain and owner: its own, which must be the stack's, or the stack's when it names none."""
    domain = raw.get("domain")
    if domain is None:
        if scope.domain is not None:
            domain = scope.domain
        elif scope.require_domain:
            raise RulesError(f"is required: {scope.unset_hint}", rule=label, field="domain")
        else:
            domain = ""  # `promoter rules check` without a stack domain: whichever domain the stack names
    else:
        _DOMAIN.check(label, domain, scope.domain)
    owner = raw.get("domainOwner")
    if owner is None:
        return domain, scope.owner
    _OWNER.check(label, owner, scope.owner)
    if scope.owner is None and scope.own_account is not None and owner != scope.own_account:
        raise RulesError(
            f"{quote(owner)} is not the function's own account {quote(scope.own_account)}, whose domain "
            "the stack serves (its DomainOwner is empty): omit 'domainOwner', or deploy a stack with that "
            "DomainOwner",
            rule=label,
            field="domainOwner",
        )
    return domain, owner


def compile_rule(raw: Any, index: int, scope: StackScope | None = None) -> Rule:
    """Validate and compile one rule document; errors name the rule (or its position) and the field.
    ``scope`` is the stack's domain and owner (what a rule without ``domain``/``domainOwner`` means)."""
    scope = scope if scope is not None else StackScope()
    label = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        raise RulesError("must be a mapping", rule=label)
    name = raw.get("name")
    if isinstance(name, str) and name.strip() and len(name) <= 128 and name.isprintable():
        label = name
    else:
        raise RulesError(
            "must be a non-empty printable string of at most 128 characters", rule=label, field="name"
        )
    unknown = sorted(set(map(str, raw)) - RULE_KEYS)
    if unknown:
        raise RulesError(
            f"unknown key (allowed: {', '.join(sorted(RULE_KEYS))})", rule=label, field=unknown[0]
        )
    domain, owner = _domain_and_owner(label, raw, scope)  # first, as in the documented key order
    for key in REQUIRED_KEYS:
        if raw.get(key) is None:
            raise RulesError("is required", rule=label, field=key)
    source = repository_name(label, "sourceRepository", raw["sourceRepository"])
    destinations = string_list(label, "destinationRepositories", raw["destinationRepositories"])
    for destination in destinations:
        repository_name(label, "destinationRepositories", destination)
        if destination == source:
            raise RulesError(
                f"{quote(destination)} is the source repository: a rule cannot copy into its own source",
                rule=label,
                field="destinationRepositories",
            )
    formats = choices(label, "formats", raw.get("formats"), FORMATS, "a known format")
    namespaces = (
        glob_set(label, "namespaces", raw["namespaces"], allow_empty_item=True)
        if raw.get("namespaces") is not None
        else None
    )
    packages = package_globs(label, "packages", raw.get("packages", ["*"]))
    exclude = (
        package_globs(label, "excludePackages", raw["excludePackages"])
        if raw.get("excludePackages")
        else None
    )
    versions, versions_text = version_ranges(label, raw.get("versions"), formats)
    states = choices(label, "states", raw.get("states"), STATES, "a state") or frozenset({"Published"})
    age = duration(label, "minimumReleaseAge", raw.get("minimumReleaseAge"))
    age_for = _origins(label, "minimumReleaseAgeFor", raw.get("minimumReleaseAgeFor"))
    if age_for is not None and age is None:
        raise RulesError(
            "has no effect without minimumReleaseAge: give the rule a minimumReleaseAge, or drop this key",
            rule=label,
            field="minimumReleaseAgeFor",
        )
    freeze = (
        parse_freeze(raw["freeze"], f"rule {quote(label, 140)}, field 'freeze'", rule=label)
        if raw.get("freeze") is not None
        else None
    )
    return Rule(
        name=label,
        position=index,
        domain=domain,
        domain_owner=owner,
        source_repository=source,
        destination_repositories=tuple(destinations),
        formats=formats,
        namespaces=namespaces,
        packages=packages,
        exclude_packages=exclude,
        versions=versions,
        versions_text=versions_text,
        include_prerelease=boolean(label, "includePrerelease", raw.get("includePrerelease"), False),
        states=states,
        allow_overwrite=boolean(label, "allowOverwrite", raw.get("allowOverwrite"), False),
        include_from_upstream=boolean(label, "includeFromUpstream", raw.get("includeFromUpstream"), False),
        minimum_release_age=age,
        minimum_release_age_for=age_for,
        origins=_origins(label, "origins", raw.get("origins")),
        freeze=freeze,
    )


def _origins(rule: str, key: str, value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    listed = string_list(rule, key, value)
    for origin in listed:
        if origin not in ORIGIN_TYPES:
            hint = " (an unknown origin already counts as EXTERNAL)" if origin.upper() == "UNKNOWN" else ""
            raise RulesError(f"{quote(origin)} is not INTERNAL or EXTERNAL{hint}", rule=rule, field=key)
    return frozenset(listed)


def _check_cycles(rules: Sequence[Rule]) -> None:
    """Reject any cycle of copies (a -> b -> a) within a domain: it would promote forever."""
    edges: dict[tuple[str, str], list[tuple[str, Rule]]] = {}
    for rule in rules:
        for destination in rule.destination_repositories:
            edges.setdefault((rule.domain, rule.source_repository), []).append((destination, rule))
    white, grey, black = 0, 1, 2
    colour: dict[tuple[str, str], int] = {}

    def visit(node: tuple[str, str], path: list[tuple[tuple[str, str], Rule | None]]) -> None:
        colour[node] = grey
        for destination, rule in edges.get(node, []):
            nxt = (node[0], destination)
            state = colour.get(nxt, white)
            if state == grey:
                cycle_start = next(i for i, (n, _) in enumerate(path) if n == nxt)
                repos = [n[1] for n, _ in path[cycle_start:]] + [nxt[1]]
                names = [r.name for _, r in path[cycle_start + 1 :] if r is not None] + [rule.name]
                raise RulesError(
                    "rules form a cycle "
                    + " -> ".join(repos)
                    + f" in domain {quote(node[0])} (rules: {', '.join(dict.fromkeys(names))})",
                    rule=rule.name,
                    field="destinationRepositories",
                )
            if state == white:
                visit(nxt, [*path, (nxt, rule)])
        colour[node] = black

    for node in sorted(edges):
        if colour.get(node, white) == white:
            visit(node, [(node, None)])


def _check_allowed(rules: Sequence[Rule], sources: Sequence[str], destinations: Sequence[str]) -> None:
    """Defence in depth beside IAM: refuse rules that reach outside the stack's configured repositories."""

    def allowed(domain: str, repository: str, entries: Sequence[str]) -> bool:
        if not domain:  # `rules check` without the stack's domain: any domain's entry for the repository
            return not entries or any(entry.rpartition("/")[2] == repository for entry in entries)
        return not entries or repository in entries or f"{domain}/{repository}" in entries

    for rule in rules:
        if not allowed(rule.domain, rule.source_repository, sources):
            raise RulesError(
                f"{quote(rule.source_repository)} is not in ALLOWED_SOURCE_REPOSITORIES "
                f"({', '.join(sources)})",
                rule=rule.name,
                field="sourceRepository",
            )
        for destination in rule.destination_repositories:
            if not allowed(rule.domain, destination, destinations):
                raise RulesError(
                    f"{quote(destination)} is not in ALLOWED_DESTINATION_REPOSITORIES "
                    f"({', '.join(destinations)})",
                    rule=rule.name,
                    field="destinationRepositories",
                )


def build_ruleset(
    document: Any,
    *,
    allowed_sources: Sequence[str] = (),
    allowed_destinations: Sequence[str] = (),
    scope: StackScope | None = None,
) -> RuleSet:
    """Validate a parsed rules document (``{"rules": [...]}``) and compile it, within the stack's ``scope``
    (its domain and owner) and repositories (``allowed_*``)."""
    raw_rules = _rules_list(document)
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule = compile_rule(raw, index, scope)
        if rule.name in seen:
            raise RulesError("duplicate rule name", rule=rule.name, field="name")
        seen.add(rule.name)
        rules.append(rule)
    _check_cycles(rules)
    _check_allowed(rules, allowed_sources, allowed_destinations)
    return RuleSet(
        rules,
        exceptions=parse_version_entries(document, "exceptions"),
        deny=parse_version_entries(document, "denyVersions"),
        freeze=parse_freeze(document["freeze"], "field 'freeze'")
        if document.get("freeze") is not None
        else None,
    )


def _rules_list(document: Any) -> list[Any]:
    """The document's shape: a mapping whose one key, ``rules``, is a non-empty list."""
    if not isinstance(document, Mapping):
        raise RulesError("the rules document must be a mapping with a 'rules' list")
    unknown = sorted(set(map(str, document)) - TOP_LEVEL_KEYS)
    if unknown:
        raise RulesError(
            f"unknown top-level key {quote(unknown[0])} (allowed: {', '.join(sorted(TOP_LEVEL_KEYS))})"
        )
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RulesError("'rules' must be a non-empty list")
    return raw_rules


def load_rules_text(
    text: str,
    *,
    source: str = "rules",
    **within: Unpack[Within],
) -> RuleSet:
    return build_ruleset(parse_rules_text(text, source=source), **within)


def load_rules_parameter(
    text: str,
    *,
    name: str,
    **within: Unpack[Within],
) -> RuleSet:
    """Rules from the value of the SSM parameter ``name``.

    A value that is no rules document at all is nearly always the wrong parameter type: a SecureString
    arrives encrypted (moto: ``kms:alias/aws/ssm:<text>``, AWS: base64), which reads as an unknown
    top-level key or a bare string. The error says so, naming the parameter; errors inside a rule
    (those name the rule or field) are the rules' own and pass unchanged.
    """
    try:
        document = parse_rules_text(text, source=name)
        _rules_list(document)
    except RulesError as exc:
        if exc.rule is not None or exc.field is not None or isinstance(exc, UnsafeDocument):
            raise
        raise RulesError(
            f"SSM parameter {quote(name, 300)} does not hold a rules document ({exc}): it must be a String "
            "parameter (not SecureString, whose value arrives encrypted, nor StringList) whose value "
            "is the rules as YAML or JSON text"
        ) from None
    return build_ruleset(document, **within)


def load_rules_file(
    path: str,
    **within: Unpack[Within],
) -> RuleSet:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise RulesError(f"cannot read rules file {quote(path, 300)}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RulesError(f"rules file {quote(path, 300)} is not UTF-8 text") from None
    return load_rules_text(text, source=path, **within)
