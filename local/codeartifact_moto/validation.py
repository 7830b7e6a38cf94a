"""Server-side input validation from botocore's model: lengths, patterns, enums, list sizes.

botocore checks only required members, types and minimums on the client, so the service's own
checks (a domain name's pattern, at most 100 versions, ...) must come from here, worded as the
service words them: "1 validation error detected: Value 'X' at 'domain' failed to satisfy
constraint: Member must satisfy regular expression pattern: ...".
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from .exceptions import ValidationException

# The model's patterns use Java's Unicode classes, which Python's re lacks: C ("other": here its
# control characters, Cc) and IsWhitespace. Each has a form for use inside [...] and one outside.
_JAVA_CLASSES = {
    r"\P{C}": (r"\x20-\x7e\xa0-\U0010ffff", r"[^\x00-\x1f\x7f-\x9f]"),
    r"\p{C}": (r"\x00-\x1f\x7f-\x9f", r"[\x00-\x1f\x7f-\x9f]"),
    r"\p{IsWhitespace}": (r"\s", r"\s"),
}


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """The model's (Java) pattern as a Python regular expression."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        java = next((name for name in _JAVA_CLASSES if pattern.startswith(name, i)), None)
        if java is not None:
            out.append(_JAVA_CLASSES[java][0 if in_class else 1])
            i += len(java)
            continue
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return re.compile("".join(out))


def _check_scalar(value: Any, shape: Shape, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    if shape.type_name == "string" and isinstance(value, str):
        if "min" in meta and len(value) < meta["min"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {meta['min']}"
            )
        if "max" in meta and len(value) > meta["max"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {meta['max']}"
            )
        if "pattern" in meta and not _compiled(meta["pattern"]).fullmatch(value):
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {meta['pattern']}"
            )
        enum: list[str] | None = meta.get("enum")
        if enum and value not in enum:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
    elif shape.type_name in ("integer", "long") and isinstance(value, int):
        if "min" in meta and value < meta["min"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {meta['max']}"
            )


def _walk(value: Any, shape: Shape, path: str, errors: list[str]) -> None:
    if value is None:
        return
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(
                    f"Value null at '{_join(path, name)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for name, member in shape.members.items():
            if name in value:
                _walk(value[name], member, _join(path, name), errors)
    elif isinstance(shape, ListShape) and isinstance(value, list):
        meta = shape.metadata
        if "max" in meta and len(value) > meta["max"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {meta['max']}"
            )
        for index, item in enumerate(value):
            _walk(item, shape.member, f"{path}.{index + 1}.member", errors)
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for key, item in value.items():
            _check_scalar(key, shape.key, f"{path}.key", errors)
            _walk(item, shape.value, f"{path}.value", errors)
    else:
        _check_scalar(value, shape, path, errors)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def validate_input(params: dict[str, Any], shape: StructureShape | None) -> None:
    """Raise ValidationException listing every constraint ``params`` break (as AWS does)."""
    if shape is None:
        return
    errors: list[str] = []
    _walk(params, shape, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise ValidationException(
            f"{count} validation {noun} detected: " + "; ".join(errors), "FIELD_VALIDATION_FAILED"
        )
