"""The rule in issue 3's schema, exactly as written there, through ``promoter rules check`` and ``explain``.

Its ``versions: ">=1.0.0,<2"`` is read per format: node-semver with a comma as AND for npm
(>=1.0.0 <2.0.0-0), PEP 440 for pypi.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from promoter.cli import EXIT_OK, load_rules, main

ROOT = Path(__file__).resolve().parents[2]

# Verbatim from `issues show 3` (the schema block), comments included.
ISSUE_SCHEMA = """\
rules:
  - name: stable-npm-to-release        # unique, used in logs
    domain: acme
    domainOwner: "111122223333"        # optional
    sourceRepository: staging
    destinationRepositories: [release]
    formats: [npm, pypi]               # optional: default all formats
    namespaces: ["acme"]               # optional globs; "" matches "no namespace"
    packages: ["*"]                    # optional globs, default "*"
    excludePackages: ["*-internal"]    # optional globs
    versions: ">=1.0.0,<2"             # optional, in the format's own range language
    includePrerelease: false           # default false
    states: [Published]                # default [Published]
    allowOverwrite: false              # default false
    includeFromUpstream: false         # default false
"""


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ALLOWED_SOURCE_REPOSITORIES", "ALLOWED_DESTINATION_REPOSITORIES"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "rules.yaml"
    path.write_text(ISSUE_SCHEMA)
    return path


def test_rules_check_accepts_the_issue_example(rules_file: Path) -> None:
    # Given the issue's schema example, When `promoter rules check` reads it, Then it loads as written,
    # with the one warning issue 17 asks for: its namespace filter can never match a pypi package
    code, out, err = run(["rules", "check", str(rules_file)])
    assert code == EXIT_OK
    assert err.splitlines() == [
        "promoter: warning: rule 'stable-npm-to-release', field 'namespaces': ['acme'] never matches a pypi "
        "package (pypi packages have no namespace), so every pypi version is rejected by namespace; drop the "
        "filter, list '' (no namespace), or give the formats separate rules"
    ]
    assert out.startswith("stable-npm-to-release: acme/staging -> release formats=npm,pypi ")
    assert 'versions=">=1.0.0,<2"' in out


@pytest.mark.parametrize(
    ("fmt", "version", "expected"),
    [
        ("npm", "1.5.0", True),
        ("npm", "1.0.0", True),
        ("npm", "2.0.0", False),
        ("npm", "2.0.0-rc.1", False),
        ("npm", "1.0.0-beta.1", False),
        ("pypi", "1.5", True),
        ("pypi", "1.0.0", True),
        ("pypi", "2.0", False),
        ("pypi", "1.0.0-beta.1", False),  # PEP 440 reads it as 1.0.0b1: below 1.0.0
    ],
)
def test_the_issue_example_range_is_read_in_each_formats_language(
    rules_file: Path, fmt: str, version: str, expected: bool
) -> None:
    # Given the rule the CLI loaded, Then its range for each format decides as that format's language says
    (rule,) = load_rules(str(rules_file)).rules
    assert rule.versions[fmt].contains(version) is expected


def npm_event(tmp_path: Path, version: str) -> Path:
    event = json.loads((ROOT / "events/npm-published.json").read_text())
    event["detail"].update(
        domainName="acme",
        domainOwner="111122223333",
        repositoryName="staging",
        packageNamespace="acme",
        packageName="widget",
        packageVersion=version,
    )
    path = tmp_path / f"npm-{version}.json"
    path.write_text(json.dumps(event))
    return path


@pytest.mark.parametrize(
    ("version", "verdict"),
    [
        ("1.5.0", "rule stable-npm-to-release: matches -> release"),
        ("2.0.0", "rule stable-npm-to-release: rejected by range"),
        ("1.0.0-beta.1", "rule stable-npm-to-release: rejected by range"),
    ],
)
def test_explain_of_npm_events_under_the_issue_example(
    rules_file: Path, tmp_path: Path, version: str, verdict: str
) -> None:
    # Given an npm @acme/widget publish in acme/staging, When explained, Then the range decides
    code, out, err = run(["explain", "--rules", str(rules_file), str(npm_event(tmp_path, version))])
    assert code == EXIT_OK, err
    assert verdict in out
    assert ("CopyPackageVersions staging -> release npm" in out) is verdict.endswith("-> release")
