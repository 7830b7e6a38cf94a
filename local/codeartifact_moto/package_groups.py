"""Package group patterns: parsing, matching packages, specificity and the group tree.

User guide, "Package group definition syntax and matching behavior": "A package path is created from a
package's coordinate components (format, namespace, and name) by adding a forward slash to the start and
separating each of the components with a forward slash" and a pattern "is terminated with a suffix":

* ``$`` "will match the full package coordinate": ``/maven/org.apache.logging.log4j/log4j-core$``;
* ``~`` "will match a prefix": ``/maven/com.anycompany~`` (namespace prefix),
  ``/npm/space/anycompany-ui~`` (name prefix);
* ``*`` "will match all values of the previously defined component": ``/*``, ``/npm/*``, ``/npm/space/*``.

Formats without namespaces (pypi, nuget, ruby, cargo) have a blank namespace component
(``/pypi//requests$``); for maven, generic and swift a pattern naming a package must name its namespace.
Names of pypi, nuget and swift packages (and swift namespaces) are matched in their normalized form, so a
pattern naming them must use that form (*Choice*: a pattern with another spelling is accepted and matches
nothing, or only WEAK where case alone differs).

"The packages that are 'in' or 'associated with' a package group are packages with a package path that
matches the group's pattern but doesn't match a more specific group's pattern" and "each package is only
associated with a single group, the most specific match". *Choice* (the guide explains specificity by
example: ``/npm/space/*`` is more specific than ``/npm/*`` because it matches a proper subset): patterns rank
``/*`` < ``/f/*`` < ``/f/ns~`` (longer prefix higher) < ``/f/ns/*`` < ``/f/ns/name~`` (longer prefix
higher) < ``/f/ns/name$``, which orders every pair where one matches a subset of the other.

Prefix matching (*Choice*, after the guide's "Words, word boundaries, and prefix matching"): ``x~`` matches
a component equal to ``x`` or starting with ``x`` at a word boundary, that is followed by a character that
is not a letter, digit or mark (``anycompany-ui~`` matches ``anycompany-ui`` and ``anycompany-ui-core``,
not ``anycompany-uicore``). Association strength (API reference, AssociatedPackage ``associationType``: "A
strong match can be thought of as an exact match, and a weak match can be thought of as a variation match,
for example, the package name matches a variation of the package group pattern"): *Choice*: a match that
holds only when letter case is ignored is WEAK, every other match STRONG; a package goes to the most
specific group it matches either way (STRONG first between equally specific ones), and its association
type is how it matches that group.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from .exceptions import ValidationException

ROOT_PATTERN = "/*"
FORMATS = ("npm", "pypi", "maven", "nuget", "generic", "ruby", "swift", "cargo")
NAMESPACE_FORBIDDEN = frozenset({"pypi", "nuget", "ruby", "cargo"})
NAMESPACE_REQUIRED = frozenset({"maven", "swift", "generic"})
STRONG = "STRONG"
WEAK = "WEAK"

# Levels of specificity, lowest first.
ALL, FORMAT, NAMESPACE_PREFIX, NAMESPACE, NAME_PREFIX, NAME = range(6)


@dataclass(frozen=True)
class Pattern:
    """A parsed package group pattern; ``namespace``/``name`` hold the prefix for the ``~`` levels."""

    text: str
    level: int
    format: str | None = None
    namespace: str | None = None
    name: str | None = None

    @property
    def specificity(self) -> tuple[int, int]:
        prefix = {NAMESPACE_PREFIX: self.namespace, NAME_PREFIX: self.name}.get(self.level)
        return self.level, len(prefix or "")

    def match(self, fmt: str, namespace: str | None, name: str) -> str | None:
        """STRONG, WEAK or None: how the package ``fmt``/``namespace``/``name`` matches this pattern."""
        strong = self._matches(fmt, namespace or "", name, fold=False)
        if strong:
            return STRONG
        return WEAK if self._matches(fmt, namespace or "", name, fold=True) else None

    def _matches(self, fmt: str, namespace: str, name: str, *, fold: bool) -> bool:
        if self.level == ALL:
            return True
        if fmt != self.format:
            return False
        if self.level == FORMAT:
            return True
        if self.level == NAMESPACE_PREFIX:
            return _prefix_match(self.namespace or "", namespace, fold=fold)
        if not _equal(self.namespace or "", namespace, fold=fold):
            return False
        if self.level == NAMESPACE:
            return True
        if self.level == NAME_PREFIX:
            return _prefix_match(self.name or "", name, fold=fold)
        return _equal(self.name or "", name, fold=fold)

    def covers(self, other: Pattern) -> bool:
        """Whether every package ``other`` matches is matched by this pattern (``self`` is an ancestor)."""
        if self.level == ALL:
            return True
        if other.level < self.level or other.format != self.format:
            return False
        if self.level == FORMAT:
            return True
        if self.level == NAMESPACE_PREFIX:
            return _prefix_match(self.namespace or "", other.namespace or "", fold=False)
        if other.level == NAMESPACE_PREFIX or other.namespace != self.namespace:
            return False
        if self.level == NAMESPACE:
            return True
        if self.level == NAME_PREFIX:
            return _prefix_match(self.name or "", other.name or "", fold=False)
        return other.level == NAME and other.name == self.name


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in ("L", "N", "M")


def _equal(wanted: str, actual: str, *, fold: bool) -> bool:
    return wanted.casefold() == actual.casefold() if fold else wanted == actual


def _prefix_match(prefix: str, actual: str, *, fold: bool) -> bool:
    """``actual`` starts with ``prefix`` at a word boundary (or equals it)."""
    if fold:
        prefix, actual = prefix.casefold(), actual.casefold()
    if not actual.startswith(prefix):
        return False
    if len(actual) == len(prefix) or not prefix:
        return True
    return not _is_word_char(prefix[-1]) or not _is_word_char(actual[len(prefix)])


def invalid(pattern: str, why: str) -> ValidationException:
    return ValidationException(f"Invalid package group pattern {pattern!r}: {why}", "FIELD_VALIDATION_FAILED")


def parse(text: str) -> Pattern:
    """The pattern ``text`` stands for; ValidationException naming what is wrong with it."""
    if text == ROOT_PATTERN:
        return Pattern(text, ALL)
    if not text.startswith("/"):
        raise invalid(text, "a pattern starts with '/'")
    suffix = text[-1]
    if suffix not in "*~$":
        raise invalid(text, "a pattern ends with '*', '~' or '$'")
    parts = text[1:].split("/")
    fmt = parts[0]
    if fmt not in FORMATS:
        raise invalid(text, f"unknown package format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not _only_suffix(parts[-1], suffix) or any(c in p for p in parts[:-1] for c in "*~$"):
        raise invalid(text, "'*', '~' and '$' may only end a pattern")
    shape = (len(parts), suffix)
    if shape == (2, "*") and parts[1] == "*":
        return Pattern(text, FORMAT, fmt)
    if shape == (2, "~"):
        namespace = parts[1][:-1]
        _check_namespace(text, fmt, namespace, named=False)
        if not namespace:
            raise invalid(text, "a namespace prefix must not be empty")
        return Pattern(text, NAMESPACE_PREFIX, fmt, namespace)
    if shape == (3, "*") and parts[2] == "*":
        _check_namespace(text, fmt, parts[1], named=False)
        return Pattern(text, NAMESPACE, fmt, parts[1])
    if len(parts) == 3 and suffix in "~$":
        name = parts[2][:-1]
        if not name:
            raise invalid(text, "a package name must not be empty")
        _check_namespace(text, fmt, parts[1], named=True)
        return Pattern(text, NAME_PREFIX if suffix == "~" else NAME, fmt, parts[1], name)
    raise invalid(
        text,
        "expected one of /*, /format/*, /format/namespace~, /format/namespace/*, "
        "/format/namespace/name~ or /format/namespace/name$",
    )


def _only_suffix(last: str, suffix: str) -> bool:
    return last.endswith(suffix) and not any(c in last[:-1] for c in "*~$")


def _check_namespace(text: str, fmt: str, namespace: str, *, named: bool) -> None:
    if fmt in NAMESPACE_FORBIDDEN and namespace:
        raise invalid(text, f"{fmt} packages have no namespace; leave it blank (/{fmt}//name$)")
    if named and fmt in NAMESPACE_REQUIRED and not namespace:
        raise invalid(text, f"a {fmt} pattern that names a package must name its namespace")


def arn(region: str, account: str, domain: str, pattern: str) -> str:
    """``arn:...:package-group/<domain><encoded pattern>`` (the service authorization reference's form)."""
    return f"arn:aws:codeartifact:{region}:{account}:package-group/{domain}{quote(pattern, safe='/*~$')}"
