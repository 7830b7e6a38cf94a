"""The operator CLI without AWS: rules check, explain of the sample events, usage and input errors.

Commands run in-process through ``main(argv)`` (fast); the ones that need AWS are in
tests/integration/test_cli.py. Errors must be one line on stderr with the documented exit code.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from promoter.cli import EXIT_ENVIRONMENT, EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from promoter_dev.sample_rules import NPM_TO_RELEASE

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
# The shared npm rule narrowed by package and version, and a pypi rule to two destinations.
RULES = (
    NPM_TO_RELEASE
    + """    excludePackages: ["*-internal"]
    versions: ">=1.0.0"
  - name: pypi-to-release
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release, mirror]
    formats: [pypi]
"""
)


def run(
    argv: list[str], *, client: Any = None, clock: Callable[[], datetime] | None = None
) -> tuple[int, str, str]:
    """``promoter ARGV`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, client=client, clock=clock)
    return code, out.getvalue(), err.getvalue()


def unreachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and a region, and an endpoint nothing listens on."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


def event_file(tmp_path: Path, **detail: object) -> Path:
    event = json.loads((EVENTS / "npm-published.json").read_text())
    event["detail"].update({"domainName": "acme", "repositoryName": "staging", **detail})
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return path


def test_rules_check_prints_one_line_per_rule(rules_file: Path) -> None:
    code, out, err = run(["rules", "check", str(rules_file)])
    assert code == EXIT_OK
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("npm-to-release: acme/staging -> release")
    assert lines[1].startswith("pypi-to-release: acme/staging -> release,mirror")


def test_rules_check_warns_of_a_filter_that_contradicts_the_format(tmp_path: Path) -> None:
    # Given a rule with an npm namespace written '@acme' and one whose namespace filter covers pypi
    path = tmp_path / "rules.yaml"
    path.write_text(
        RULES.replace("formats: [npm]", "formats: [npm]\n    namespaces: ['@acme']").replace(
            "formats: [pypi]", "formats: [pypi]\n    namespaces: [acme]"
        )
    )
    # When checked, Then it passes (exit 0) with one warning line for each contradiction
    code, out, err = run(["rules", "check", str(path)])
    assert code == EXIT_OK
    assert len(out.splitlines()) == 2
    warnings = err.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith("promoter: warning: rule 'npm-to-release', field 'namespaces': '@acme'")
    assert "never matches a pypi package" in warnings[1]


def test_rules_check_of_a_maven_rule_with_another_formats_range_fails(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("formats: [npm]", "formats: [maven]"))
    code, out, err = run(["rules", "check", str(path)])
    assert code == EXIT_FAILED
    assert out == ""
    assert err.count("\n") == 1
    assert "'>=1.0.0' is not a valid maven range" in err
    assert "expected Maven ranges such as '[1.0,2.0)'" in err


def test_rules_check_of_the_bundled_rules_passes() -> None:
    code, out, _ = run(["rules", "check", str(ROOT / "functions/promoter/promotion-rules.yaml")])
    assert code == EXIT_OK
    assert out.strip()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (RULES.replace("formats: [npm]", "formats: [npmm]"), "rule 'npm-to-release', field 'formats'"),
        (RULES.replace('versions: ">=1.0.0"', 'versions: ">>1"'), "rule 'npm-to-release', field 'versions'"),
        (RULES.replace("excludePackages", "excludePackage"), "field 'excludePackage'"),
        (RULES.replace("name: pypi-to-release", "name: npm-to-release"), "duplicate rule name"),
        (
            RULES + "  - {name: back, domain: acme, sourceRepository: release,"
            " destinationRepositories: [staging]}\n",
            "cycle",
        ),
        ("rules: [", "not valid YAML"),
    ],
)
def test_rules_check_names_the_rule_and_field_of_an_error(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = run(["rules", "check", str(path)])
    assert code == EXIT_FAILED
    assert out == ""
    assert err.startswith("promoter: error: invalid rules: ")
    assert expected in err
    assert err.count("\n") == 1  # one line, no traceback


def test_rules_check_of_a_missing_file_is_one_line(tmp_path: Path) -> None:
    code, _, err = run(["rules", "check", str(tmp_path / "nope.yaml")])
    assert code == EXIT_FAILED
    assert "cannot read rules file" in err
    assert err.count("\n") == 1


def test_rules_check_applies_the_functions_allowed_repositories(
    rules_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLOWED_DESTINATION_REPOSITORIES", "release")
    code, _, err = run(["rules", "check", str(rules_file)])
    assert code == EXIT_FAILED
    assert "'mirror' is not in ALLOWED_DESTINATION_REPOSITORIES" in err


def test_explain_a_matching_event_shows_the_copy_request(rules_file: Path, tmp_path: Path) -> None:
    path = event_file(tmp_path, packageName="left-pad", packageNamespace=None, packageVersion="1.2.0")
    code, out, err = run(["explain", "--rules", str(rules_file), str(path)])
    assert code == EXIT_OK, err
    assert "rule npm-to-release: matches -> release" in out
    assert "rule pypi-to-release: rejected by format" in out
    revision = json.loads(path.read_text())["detail"]["packageVersionRevision"]
    assert f'CopyPackageVersions staging -> release npm left-pad {{"1.2.0": "{revision}"}}' in out


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ({"packageName": "secret-internal"}, "exclude: 'secret-internal' matches ['*-internal']"),
        ({"packageVersion": "0.9.0"}, "range: 0.9.0 not in >=1.0.0 (npm)"),
        (
            {"packageVersion": "2.0.0-beta.1"},
            "prerelease: 2.0.0-beta.1 is a npm prerelease and includePrerelease is false",
        ),
        ({"packageVersionState": "Unfinished"}, "state: Unfinished not in ['Published']"),
        ({"repositoryName": "elsewhere"}, "domain: acme/elsewhere is not the rule's acme/staging"),
    ],
)
def test_explain_names_the_first_rejecting_filter(
    rules_file: Path, tmp_path: Path, detail: dict[str, object], reason: str
) -> None:
    path = event_file(tmp_path, **{"packageNamespace": None, "packageVersion": "1.0.0", **detail})
    code, out, _ = run(["explain", "--rules", str(rules_file), str(path)])
    assert code == EXIT_OK
    assert f"rule npm-to-release: rejected by {reason}" in out
    assert "copy requests: none" in out


def test_explain_an_sqs_batch_explains_every_record_and_flags_the_malformed(rules_file: Path) -> None:
    code, out, err = run(["explain", "--rules", str(rules_file), str(EVENTS / "sqs-batch.json")])
    batch = json.loads((EVENTS / "sqs-batch.json").read_text())
    bad = [r for r in batch["Records"] if not r["body"].startswith('{"')]
    explained = [line for line in out.splitlines() if line.startswith("event: ")]
    assert len(explained) == len(batch["Records"]) - len(bad)
    if bad:
        assert code == EXIT_FAILED
        assert "records are not CodeArtifact events" in err
    else:
        assert code == EXIT_OK


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "is not JSON"), ('{"source": "aws.s3", "detail-type": "x"}', "source 'aws.s3'")],
)
def test_explain_a_bad_event_file_is_one_line(
    rules_file: Path, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "event.json"
    path.write_text(content)
    code, _, err = run(["explain", "--rules", str(rules_file), str(path)])
    assert code == EXIT_FAILED
    assert message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [[], ["rules"], ["plan"], ["explain", "--rules", "x"], ["reconcile", "--rules"], ["frobnicate"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_USAGE
    assert "usage: promoter" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == EXIT_OK
    assert "rules" in capsys.readouterr().out


def test_plan_without_credentials_is_one_line(
    rules_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    code, _, err = run(["plan", "--rules", str(rules_file)])
    assert code == EXIT_ENVIRONMENT
    assert err == (
        "promoter: error: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and"
        " AWS_SECRET_ACCESS_KEY\n"
    )


def test_plan_with_an_unreachable_endpoint_is_one_line(
    rules_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable_endpoint(monkeypatch)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code, _, err = run(["plan", "--rules", str(rules_file)])
    assert code == EXIT_ENVIRONMENT
    assert err.startswith("promoter: error: AWS: Could not connect")
    assert err.count("\n") == 1


def test_explain_without_aws_still_explains_a_cooldown_rule(
    rules_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a cooldown rule and no way to read the version's publish time
    rules = tmp_path / "cooldown.yaml"
    rules.write_text(RULES.replace('versions: ">=1.0.0"', 'versions: ">=1.0.0"\n    minimumReleaseAge: 24h'))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    path = event_file(tmp_path, packageName="left-pad", packageNamespace=None, packageVersion="1.2.0")

    # When explain runs
    code, out, err = run(["explain", "--rules", str(rules), str(path)])

    # Then the rule is rejected by age, saying why the age is unknown, and nothing would be copied
    assert code == EXIT_OK, err
    assert "rule npm-to-release: rejected by age (publish time unknown: Unable to locate credentials)" in out
    assert "copy requests: none" in out


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "AWS_ENDPOINT_URL",
            "127.0.0.1:5000",
            "AWS_ENDPOINT_URL must be a URL such as http://127.0.0.1:5000",
        ),
        ("AWS_ENDPOINT_URL", "http://", "AWS_ENDPOINT_URL must be a URL"),
        ("AWS_MAX_ATTEMPTS", "three", "AWS_MAX_ATTEMPTS must be a whole number above 0, not 'three'"),
        ("AWS_MAX_ATTEMPTS", "0", "AWS_MAX_ATTEMPTS must be a whole number above 0"),
        ("AWS_RETRY_MODE", "fast", "AWS_RETRY_MODE must be legacy, standard or adaptive"),
        ("PROMOTER_CONNECT_TIMEOUT", "soon", "PROMOTER_CONNECT_TIMEOUT must be a number of seconds above 0"),
    ],
)
def test_an_invalid_aws_environment_value_is_one_line_and_exit_3(
    rules_file: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv(name, value)
    for argv in (
        ["plan", "--rules", str(rules_file)],
        ["explain", "--rules", str(rules_file), "npm/x@1.0.0"],
    ):
        code, out, err = run(argv)
        assert code == EXIT_ENVIRONMENT
        assert out == ""
        assert err.startswith(f"promoter: error: {expected}")
        assert err.count("\n") == 1


def test_an_unreachable_endpoint_fails_within_seconds(
    rules_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an endpoint nothing listens on and the CLI's default timeouts and attempts
    import time  # noqa: PLC0415

    unreachable_endpoint(monkeypatch)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    started = time.monotonic()
    code, _, err = run(["plan", "--rules", str(rules_file)])
    # Then it is one line, exit 3, in seconds (3 attempts with backoff), naming what sets the wait
    assert time.monotonic() - started < 15
    assert code == EXIT_ENVIRONMENT
    assert "Could not connect to the endpoint URL" in err
    assert "PROMOTER_CONNECT_TIMEOUT and AWS_MAX_ATTEMPTS" in err


def test_the_cli_defaults_are_short_timeouts_and_few_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    from promoter.cli import aws  # noqa: PLC0415

    for name in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "PROMOTER_CONNECT_TIMEOUT", "PROMOTER_READ_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    config = aws.config()
    assert (config.connect_timeout, config.read_timeout) == (2.0, 30.0)
    assert config.retries == {"mode": "standard", "max_attempts": 3}
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "8")
    monkeypatch.setenv("PROMOTER_CONNECT_TIMEOUT", "5")
    config = aws.config()
    assert (config.connect_timeout, config.retries["max_attempts"]) == (5.0, 8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pypi/requests@2.31.0", ("pypi", None, "requests", "2.31.0")),
        ("npm/@acme/widgets@1.2.0", ("npm", "acme", "widgets", "1.2.0")),
        ("npm/acme/widgets@1.2.0", ("npm", "acme", "widgets", "1.2.0")),
        ("maven/com.acme/lib@1.0-SNAPSHOT", ("maven", "com.acme", "lib", "1.0-SNAPSHOT")),
        ("generic/tools/cli@1.0.0", ("generic", "tools", "cli", "1.0.0")),
    ],
)
def test_explain_reads_a_version_coordinate(text: str, expected: tuple[object, ...]) -> None:
    from promoter.cli import parse_coordinate  # noqa: PLC0415

    c = parse_coordinate(text)
    assert (c.format, c.namespace, c.package, c.version) == expected


def test_explain_an_event_file_that_is_missing_is_one_line(rules_file: Path, tmp_path: Path) -> None:
    code, _, err = run(["explain", "--rules", str(rules_file), str(tmp_path / "nope.json")])
    assert code == EXIT_FAILED
    assert err.startswith("promoter: error: cannot read event file")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_stderr_shows_the_call_in_flight_then_clears_it() -> None:
    # Given a CodeArtifact client whose calls answer from a stub, watched for a terminal
    import boto3  # noqa: PLC0415
    from botocore.stub import Stubber  # noqa: PLC0415
    from promoter.cli.aws import Waiting  # noqa: PLC0415

    client = boto3.client(
        "codeartifact", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    terminal = _Terminal()
    Waiting(terminal).attach(client)
    plain = io.StringIO()
    Waiting(plain).attach(client)  # not a terminal: never written to
    with Stubber(client) as stub:
        stub.add_response("describe_domain", {"domain": {"name": "acme"}}, {"domain": "acme"})
        # When a call is made
        client.describe_domain(domain="acme")
    # Then the terminal showed what it waited for, and the line was cleared after the answer
    assert terminal.getvalue() == "\r\x1b[Kwaiting for CodeArtifact DescribeDomain ...\r\x1b[K"
    assert plain.getvalue() == ""
