"""``promoter revoke`` against the fake CodeArtifact: pinned revision, expectedStatus, the deny entry."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from promoter.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from promoter.revoke import add_deny_entry, exact_range
from promoter.rules import RulesError, StackScope, load_rules_text
from promoter.versions import compile_range

from .fake_codeartifact import FakeCodeArtifact

RULES = """# the team's rules
rules:
  - name: npm-to-release
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release, mirror]
    formats: [npm]
  - name: release-to-public
    domain: acme
    sourceRepository: release
    destinationRepositories: [public]
  - name: pypi-only
    domain: acme
    sourceRepository: staging
    destinationRepositories: [pypi-release]
    formats: [pypi]
"""
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def run(argv: list[str], client: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, client=client, clock=lambda: NOW)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


def published(
    fake: FakeCodeArtifact, repository: str, revision: str = "rev-good", status: str = "Published"
) -> None:
    fake.publish(
        "acme", repository, "npm", "widgets", "1.2.3", namespace="acme", revision=revision, status=status
    )


def test_revoke_unlists_the_pinned_revision_everywhere_the_rules_send_it(rules_file: Path) -> None:
    fake = FakeCodeArtifact()
    for repository in ("staging", "release", "mirror", "public"):
        published(fake, repository)
    code, out, _ = run(
        ["revoke", "--rules", str(rules_file), "npm/@acme/widgets@1.2.3", "--reason", "INC-42 bad build"],
        fake,
    )
    assert code == EXIT_OK, out
    for repository in ("release", "mirror", "public"):
        stored = fake.get("acme", repository, "npm", "widgets", "1.2.3", "acme")
        assert stored is not None
        assert stored.status == "Unlisted", repository
    assert fake.get("acme", "staging", "npm", "widgets", "1.2.3", "acme").status == "Published"  # type: ignore[union-attr]
    updates = [c for c in fake.calls if c.get("operation") == "UpdatePackageVersionsStatus"]
    assert sorted(c["repository"] for c in updates) == ["mirror", "public", "release"]
    for call in updates:
        assert call["versionRevisions"] == {"1.2.3": "rev-good"}
        assert call["expectedStatus"] == "Published"
        assert call["targetStatus"] == "Unlisted"
        assert call["namespace"] == "acme"
    assert "denyVersions:" in out
    assert '- format: "npm"' in out
    assert '    namespace: "acme"' in out
    assert '"INC-42 bad build"' in out
    assert "pypi-release" not in out  # the pypi rule never sends an npm version there


def test_another_build_in_a_destination_is_left_alone_and_fails_the_run(rules_file: Path) -> None:
    fake = FakeCodeArtifact()
    published(fake, "staging")
    published(fake, "release")
    published(fake, "mirror", revision="rev-other")
    code, out, _ = run(
        ["revoke", "--rules", str(rules_file), "npm/acme/widgets@1.2.3", "--reason", "x"], fake
    )
    assert code == EXIT_FAILED
    assert fake.get("acme", "mirror", "npm", "widgets", "1.2.3", "acme").status == "Published"  # type: ignore[union-attr]
    assert "mirror: other-revision" in out
    assert "release: revoked" in out
    assert "public: absent" in out


def test_archived_status_and_already_revoked(rules_file: Path) -> None:
    fake = FakeCodeArtifact()
    published(fake, "staging")
    published(fake, "release", status="Archived")
    published(fake, "mirror", status="Unlisted")
    code, out, _ = run(
        [
            "revoke",
            "--rules",
            str(rules_file),
            "npm/acme/widgets@1.2.3",
            "--reason",
            "x",
            "--status",
            "Archived",
        ],
        fake,
    )
    assert code == EXIT_OK, out
    assert "release: already" in out
    mirror = fake.get("acme", "mirror", "npm", "widgets", "1.2.3", "acme")
    assert mirror is not None
    assert mirror.status == "Archived"
    (call,) = [c for c in fake.calls if c.get("operation") == "UpdatePackageVersionsStatus"]
    assert call["expectedStatus"] == "Unlisted"


def test_a_source_without_the_version_touches_nothing(rules_file: Path) -> None:
    fake = FakeCodeArtifact()
    published(fake, "release")
    code, out, _ = run(
        ["revoke", "--rules", str(rules_file), "npm/acme/widgets@1.2.3", "--reason", "x"], fake
    )
    assert code == EXIT_FAILED
    assert "pinned revision is unknown" in out
    assert not [c for c in fake.calls if c.get("operation") == "UpdatePackageVersionsStatus"]


def test_write_adds_the_entry_and_the_rules_then_deny_it(rules_file: Path) -> None:
    fake = FakeCodeArtifact()
    published(fake, "staging")
    published(fake, "release")
    code, out, _ = run(
        ["revoke", "--rules", str(rules_file), "npm/acme/widgets@1.2.3", "--reason", "INC-42", "--write"],
        fake,
    )
    assert code == EXIT_OK, out
    text = rules_file.read_text()
    assert text.startswith("# the team's rules\n")  # comments kept
    ruleset = load_rules_text(text)
    (entry,) = ruleset.deny.entries
    assert (entry.format, entry.namespace, entry.package, entry.versions_text) == (
        "npm",
        "acme",
        "widgets",
        "1.2.3",
    )
    # twice: recorded once
    assert (
        run(
            ["revoke", "--rules", str(rules_file), "npm/acme/widgets@1.2.3", "--reason", "again", "--write"],
            fake,
        )[0]
        == EXIT_OK
    )
    assert len(load_rules_text(rules_file.read_text()).deny.entries) == 1


@pytest.mark.parametrize(
    "existing",
    [
        "denyVersions:\n  - format: npm\n    package: old\n    versions: '1.0.0'\n    reason: r\n",
        "denyVersions:\n- format: npm\n  package: old\n  versions: '1.0.0'\n  reason: r\n",
        "denyVersions: []\n",
        "denyVersions:\n",
    ],
)
def test_write_joins_an_existing_deny_list(tmp_path: Path, existing: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES + existing + "# trailing comment\n")
    entry = {"format": "npm", "package": "widgets", "versions": "2.0.0", "reason": "bad"}
    add_deny_entry(str(path), entry, check=load_rules_text)
    packages = [e.package for e in load_rules_text(path.read_text()).deny.entries]
    assert "widgets" in packages
    assert ("old" in packages) == ("old" in existing)


def test_write_to_json_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(
        '{"rules": [{"name": "r", "domain": "acme", "sourceRepository": "staging", '
        '"destinationRepositories": ["release"]}]}'
    )
    add_deny_entry(
        str(path),
        {"format": "pypi", "package": "x", "versions": "==1.0", "reason": "bad"},
        check=load_rules_text,
    )
    assert load_rules_text(path.read_text(), source="rules.json").deny.entries[0].package == "x"


def test_usage_errors(rules_file: Path) -> None:
    fake = FakeCodeArtifact()
    assert run(["revoke", "--rules", str(rules_file), "npm/acme/widgets@1.2.3"], fake)[0] == EXIT_USAGE
    code, _, err = run(
        ["revoke", "--rules", str(rules_file), "npm/acme/widgets@1.2.3", "--reason", " "], fake
    )
    assert code == EXIT_USAGE
    assert "--reason" in err
    code, _, err = run(
        [
            "revoke",
            "--rules",
            str(rules_file),
            "npm/acme/widgets@1.2.3",
            "--reason",
            "x",
            "--status",
            "Disposed",
        ],
        fake,
    )
    assert code == EXIT_USAGE
    only_npm = rules_file.parent / "npm.yaml"
    only_npm.write_text(RULES.split("  - name: release-to-public", maxsplit=1)[0])
    code, _, err = run(["revoke", "--rules", str(only_npm), "cargo/serde@1.0.0", "--reason", "x"], fake)
    assert code == EXIT_FAILED
    assert "no rule sends cargo serde 1.0.0" in err
    assert not fake.calls


@pytest.mark.parametrize("fmt", ["npm", "pypi", "maven", "nuget", "cargo", "ruby", "swift", "generic"])
def test_exact_range_matches_only_that_version(fmt: str) -> None:
    compiled = compile_range(fmt, exact_range(fmt, "1.2.3"))
    assert compiled.contains("1.2.3")
    assert not compiled.contains("1.2.4")
    assert not compiled.contains("1.3.0")


def test_write_to_the_bundled_json_syntax_rules_keeps_their_comments(tmp_path: Path) -> None:
    bundled = Path(__file__).resolve().parents[2] / "functions/promoter/promotion-rules.yaml"
    path = tmp_path / "rules.yaml"
    path.write_text(bundled.read_text())
    entry = {"format": "generic", "namespace": "tools", "package": "hello", "versions": "1.0.0"}
    entry["reason"] = "r"

    def check(text: str) -> Any:
        return load_rules_text(text, scope=StackScope(domain="acme"))

    add_deny_entry(str(path), entry, check=check)
    add_deny_entry(str(path), entry | {"versions": "2.0.0"}, check=check)
    text = path.read_text()
    assert text.startswith(bundled.read_text().split("{", 1)[0])  # the comment header kept
    loaded = check(text)
    assert sorted(e.versions_text for e in loaded.deny.entries) == ["1.0.0", "2.0.0"]
    assert len(loaded.rules) == 3


def test_a_broken_write_leaves_the_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES + "denyVersions: [{format: npm, package: a, versions: '1', reason: r}]\n")
    before = path.read_text()
    with pytest.raises(RulesError, match="by hand"):
        add_deny_entry(
            str(path),
            {"format": "npm", "package": "b", "versions": "1", "reason": "r"},
            check=load_rules_text,
        )
    assert path.read_text() == before
