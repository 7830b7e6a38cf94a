"""``promoter revoke`` against the fake CodeArtifact (pinned revision, expectedStatus, the deny entry), and
``promoter explain`` / ``rules check`` on the supply-chain keys."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from promoter.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from promoter.revoke import add_deny_entry, exact_range
from promoter.rules import StackScope, load_rules_text
from promoter.rules_document import RulesError
from promoter.versions import compile_range
from promoter_dev.sample_rules import write_rules

from .fake_codeartifact import FakeCodeArtifact, client_error
from .test_cli import run as run_cli

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
    return run_cli(argv, client=client, clock=lambda: NOW)


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    return write_rules(tmp_path, RULES)


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
    argv = ["revoke", "--rules", str(rules_file), "npm/acme/widgets@1.2.3", "--reason", "x"]
    code, out, _ = run([*argv, "--status", "Archived"], fake)
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
    argv = ["revoke", "--rules", str(rules_file), "npm/acme/widgets@1.2.3", "--reason", "x"]
    code, _, err = run([*argv, "--status", "Disposed"], fake)
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


# --------------------------------------------------------------------------- explain and rules check


SUPPLY_RULES = """
freeze:
  publishedAfter: 2026-11-20T00:00:00Z
exceptions:
  - format: npm
    namespace: acme
    package: fixed
    versions: "1.2.3"
    reason: SEC-1 fix
    expires: 2026-12-31T00:00:00Z
  - format: npm
    package: old
    versions: "1.0.0"
    reason: long gone
    expires: 2026-01-01T00:00:00Z
denyVersions:
  - format: npm
    namespace: acme
    package: bad
    versions: "1.2.3"
    reason: INC-42
rules:
  - name: npm-release
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
    formats: [npm]
    minimumReleaseAge: 3d
    minimumReleaseAgeFor: [EXTERNAL]
"""


class NoOriginControls(FakeCodeArtifact):
    """Answers the origin-control reads as a repository without package groups or the package does."""

    def describe_package(self, **kwargs: Any) -> Any:
        raise client_error("ResourceNotFoundException", 404, operation="DescribePackage")

    def get_associated_package_group(self, **kwargs: Any) -> Any:
        raise client_error("ResourceNotFoundException", 404, operation="GetAssociatedPackageGroup")


def explain_version(tmp_path: Path, fake: FakeCodeArtifact, package: str) -> str:
    rules = tmp_path / "supply.yaml"
    rules.write_text(SUPPLY_RULES)
    code, out, err = run(["explain", "--rules", str(rules), f"npm/acme/{package}@1.2.3"], fake)
    assert code == EXIT_OK, err
    return out


def test_explain_shows_freeze_exception_denial_and_origin(tmp_path: Path) -> None:
    fake = NoOriginControls()
    young = datetime(2026, 11, 25, tzinfo=UTC)
    for package in ("frozen", "fixed", "bad"):
        fake.publish(
            "acme",
            "staging",
            "npm",
            package,
            "1.2.3",
            namespace="acme",
            published_time=young,
            origin_type="INTERNAL",
        )
    frozen = explain_version(tmp_path, fake, "frozen")
    assert "origin INTERNAL" in frozen
    assert "rejected by freeze: field 'freeze': publishedAfter 2026-11-20T00:00:00+00:00" in frozen
    fixed = explain_version(tmp_path, fake, "fixed")
    assert "freeze passed by exception npm/acme/fixed@1.2.3 (SEC-1 fix" in fixed
    assert "rule npm-release: accepted -> release" in fixed
    bad = explain_version(tmp_path, fake, "bad")
    assert "rejected by denied: denyVersions[0] npm/acme/bad@1.2.3: INC-42" in bad


def test_explain_an_event_reads_the_origin_and_names_the_unknown(tmp_path: Path) -> None:
    # Given a version whose origin CodeArtifact does not report, old enough for the cooldown
    fake = FakeCodeArtifact()
    fake.publish("acme", "staging", "npm", "pad", "2.0.0", published_time=datetime(2026, 11, 1, tzinfo=UTC))
    rules = tmp_path / "supply.yaml"
    rules.write_text(SUPPLY_RULES.replace("freeze:\n  publishedAfter: 2026-11-20T00:00:00Z\n", ""))
    document = json.loads((Path(__file__).resolve().parents[2] / "events/npm-published.json").read_text())
    document["detail"].update(
        {
            "domainName": "acme",
            "repositoryName": "staging",
            "packageName": "pad",
            "packageNamespace": None,
            "packageVersion": "2.0.0",
        }
    )
    event = tmp_path / "event.json"
    event.write_text(json.dumps(document))

    # When explain runs on its event
    code, out, err = run(["explain", "--rules", str(rules), str(event)], fake)

    # Then it names the origin as unknown, counted EXTERNAL, and the version is old enough to copy
    assert code == EXIT_OK, err
    assert "origin: UNKNOWN (unknown origin counted as EXTERNAL (fail closed))" in out
    assert "rule npm-release: matches -> release" in out
    assert "CopyPackageVersions staging -> release npm pad" in out


def test_rules_check_warns_about_an_expired_exception(tmp_path: Path) -> None:
    rules = tmp_path / "supply.yaml"
    rules.write_text(SUPPLY_RULES)
    out, err = io.StringIO(), io.StringIO()
    code = main(["rules", "check", str(rules)], stdout=out, stderr=err)
    assert code == EXIT_OK
    assert "field 'exceptions[1]': npm/old@1.0.0 expired at 2026-01-01T00:00:00+00:00" in err.getvalue()
    assert "minimumReleaseAgeFor=EXTERNAL" in out.getvalue()
    rules.write_text(SUPPLY_RULES.replace("    expires: 2026-01-01T00:00:00Z\n", ""))
    err = io.StringIO()
    assert main(["rules", "check", str(rules)], stdout=io.StringIO(), stderr=err) == EXIT_FAILED
    assert "field 'exceptions[1].expires': is required" in err.getvalue()
