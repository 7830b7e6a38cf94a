"""A rules document from text, safely: JSON or YAML, no key written twice, no nesting deeper than
``MAX_DEPTH``, no YAML alias bomb; and ``RulesError``, the one error every stage of loading raises."""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Callable
from typing import Any

MAX_ERROR = 1000
"""Longest error message, in characters: a hostile or careless document (a huge value, an alias bomb) still
gets a short one-line error; values in messages are quoted shortened (``quote``)."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings a rules document may have (a rule needs four levels)."""
MAX_ALIAS_EXPANSION = 100_000
"""Nodes YAML aliases may add to a document once expanded: a merge key or a shared list is fine, an
alias-expansion bomb ("billion laughs", 10**9 nodes from a few hundred bytes) is refused before it is
read."""

_QUOTE = reprlib.Repr()
_QUOTE.maxlevel, _QUOTE.maxstring, _QUOTE.maxother = 3, 60, 60
_QUOTE.maxlist = _QUOTE.maxtuple = _QUOTE.maxdict = _QUOTE.maxset = 5


def quote(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for an error message, shortened (nested and long values elided, at most ``limit``
    characters): never the whole of a value that may be megabytes, or a structure aliases make huge."""
    text = repr(value) if isinstance(value, str) and len(value) <= limit else _QUOTE.repr(value)
    return shorten(text, limit)


class RulesError(ValueError):
    """An invalid rules document. The message names the rule and the field, in at most ``MAX_ERROR``
    characters."""

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None) -> None:
        where = []
        if rule is not None:
            where.append(f"rule {quote(rule, 140)}")
        if field is not None:
            where.append(f"field {quote(field)}")
        text = f"{', '.join(where)}: {message}" if where else message
        super().__init__(shorten(text, MAX_ERROR))
        self.rule = rule
        self.field = field
        self.reason = message


class UnsafeDocument(RulesError):
    """A document refused before it is read: nested too deeply, or YAML aliases that expand it too far."""


def parse_rules_text(text: str, *, source: str = "rules") -> Any:
    """Parse a JSON or YAML rules document.

    JSON is tried first, also for YAML files written in JSON's syntax with ``#`` comment lines
    (JSON is YAML, and no JSON string spans lines, so dropping whole comment lines is safe), so that
    such a file is read without importing a YAML parser. Anything else goes to PyYAML's safe loader.
    """
    is_json_file = source.endswith(".json")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    if body.lstrip().startswith("{") or is_json_file:
        too_deep = _json_too_deep(body if not is_json_file else text)
        try:
            if too_deep:
                raise UnsafeDocument(f"{source}: {_TOO_DEEP}")
            return json.loads(body if not is_json_file else text, object_pairs_hook=_unique_keys)
        except RecursionError:  # never expected after the depth check; still a RulesError, not a crash
            raise UnsafeDocument(f"{source}: {_TOO_DEEP}") from None
        except ValueError as exc:
            if isinstance(exc, RulesError):
                raise
            if is_json_file:
                raise RulesError(f"{source}: not valid JSON: {exc}") from None
    import yaml  # noqa: PLC0415 - lazy: only YAML documents pay for the import

    class UniqueKeyLoader(yaml.SafeLoader):
        """SafeLoader that refuses a key written twice in one mapping (PyYAML keeps the last silently).
        Keys brought in by a merge (``<<: *base``) may still be overridden, as YAML intends.

        It also refuses, before anything is constructed, nesting deeper than ``MAX_DEPTH`` (PyYAML's
        composer recurses once per level: 100,000 levels would end in RecursionError) and aliases that
        expand the document by more than ``MAX_ALIAS_EXPANSION`` nodes (an alias-expansion bomb)."""

        depth = 0

        def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise UnsafeDocument(f"{source}: {_TOO_DEEP}")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_document(self, node: yaml.Node) -> Any:
            _refuse_alias_bomb(node, source)
            return super().construct_document(node)

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            pairs = [
                (self.construct_object(k, deep=True), v)
                for k, v in node.value
                if k.tag != "tag:yaml.org,2002:merge"
            ]
            _check_unique_keys(
                [k for k, _ in pairs],
                lambda: next(
                    (
                        self.construct_object(v)
                        for k, v in pairs
                        if k == "name" and isinstance(v, yaml.ScalarNode)
                    ),
                    None,
                ),
            )
            return super().construct_mapping(node, deep=deep)

    # Mappings through construct_mapping above even when a library in the process has replaced SafeLoader's
    # own map constructor (SAM CLI's yaml_parse does, with one that never calls construct_mapping).
    def construct_map(loader: UniqueKeyLoader, node: yaml.MappingNode) -> Any:
        return loader.construct_yaml_map(node)  # a generator, as PyYAML's own map constructor is

    UniqueKeyLoader.add_constructor("tag:yaml.org,2002:map", construct_map)
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {shorten(str(exc), 600)}") from None
    except RecursionError:  # never expected after the depth check; still a RulesError, not a crash
        raise UnsafeDocument(f"{source}: {_TOO_DEEP}") from None


def shorten(text: str, limit: int) -> str:
    """``text``, cut to at most ``limit`` characters (a parser's message quotes the offending line, which
    may be huge)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TOO_DEEP = f"lists and mappings are nested more than {MAX_DEPTH} levels deep (a rules document needs four)"


def _json_too_deep(text: str) -> bool:
    """Whether JSON text nests more than ``MAX_DEPTH`` levels: counted over the brackets outside strings
    before parsing (json's parser recurses once per level, up to RecursionError)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    # Strings (with their escapes) are skipped whole: brackets inside them do not nest anything.
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        ch = token.group()
        if ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _refuse_alias_bomb(root: Any, source: str) -> None:
    """Refuse a composed YAML document whose aliases expand it by more than ``MAX_ALIAS_EXPANSION`` nodes,
    or refer to themselves. Sizes are counted once per distinct node (aliases share the node they name), so
    this costs the written document's size however large its expansion would be."""
    import yaml  # noqa: PLC0415 - only YAML documents get here

    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    distinct = 0

    def size(node: Any) -> int:
        nonlocal distinct
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise UnsafeDocument(f"{source}: an alias refers to a list or mapping that contains it")
        distinct += 1
        total = 1
        if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            in_progress.add(key)
            children = (
                node.value
                if isinstance(node, yaml.SequenceNode)
                else [child for pair in node.value for child in pair]
            )
            for child in children:
                total += size(child)
                if total > MAX_ALIAS_EXPANSION + distinct:
                    break
            in_progress.discard(key)
        sizes[key] = total
        return total

    expanded = size(root)
    if expanded > MAX_ALIAS_EXPANSION + distinct:
        raise UnsafeDocument(
            f"{source}: YAML aliases expand the document to more than {MAX_ALIAS_EXPANSION:,} more nodes "
            "than it is written with (an alias-expansion bomb?); write the rules out"
        )


def _check_unique_keys(keys: list[Any], rule_name: Callable[[], Any]) -> None:
    """Refuse a repeated key: a rule with two ``versions:`` lines must not keep whichever came last
    without a word (what json and PyYAML do)."""
    seen: set[Any] = set()
    for key in keys:
        try:
            repeated = key in seen
        except TypeError:  # an unhashable key: the loader reports it
            continue
        if repeated:
            name = rule_name()
            raise RulesError(
                "is given twice in one mapping", rule=name if isinstance(name, str) else None, field=str(key)
            )
        seen.add(key)


def _unique_keys(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """json's object_pairs_hook: a dict, after refusing repeated keys."""
    _check_unique_keys([k for k, _ in pairs], lambda: next((v for k, v in pairs if k == "name"), None))
    return dict(pairs)
