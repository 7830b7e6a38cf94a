"""Package globs: names folded per format, and the first bad glob in list order reported."""

from __future__ import annotations

from fnmatch import translate

import pytest
from promoter.globs import GlobSet
from promoter.rules import build_ruleset
from promoter.rules_document import RulesError


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
def test_globs_fold_names_per_format(fmt: str, name: str, expected: bool) -> None:
    globs = GlobSet.compile(["Foo.Bar_*", "other"])
    assert globs.matches(fmt, name) is expected
    assert globs.matches(fmt, name) is expected  # again, once its regexes are compiled


def test_the_first_bad_glob_in_list_order_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a regex fault in the first glob and a length fault in the second (the translation is forced to
    # fail for "[bad]": fnmatch itself always produces a valid regex)
    monkeypatch.setattr("promoter.globs.translate", lambda p: "(" if p == "[bad]" else translate(p))
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
