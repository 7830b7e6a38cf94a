"""The runtime-emulator invoker itself, with a throwaway handler: what a function sees and gets back."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from codeartifact_moto.testing import AwsEnv
from promoter_dev import cfn
from promoter_dev.invoke import Emulator, lambda_environment, read_env_vars_file

pytestmark = pytest.mark.e2e

ECHO = Path(__file__).parent / "fixtures" / "echo"


def echo_function(timeout: int = 30) -> cfn.FunctionConfig:
    """The template's function settings, with the echo handler's code instead of the promoter's."""
    function = cfn.function_config(cfn.Resolver(cfn.load_template()))
    return dataclasses.replace(function, code_dir=ECHO, timeout=timeout)


@pytest.fixture(scope="module")
def echo() -> Iterator[Emulator]:
    with Emulator(echo_function(), endpoint_url="http://127.0.0.1:9") as emulator:
        yield emulator


def test_handler_gets_the_event_the_context_and_the_template_environment(echo: Emulator) -> None:
    # When
    result = echo.invoke({"hello": "world"})

    # Then
    assert not result.failed
    assert result.payload["event"] == {"hello": "world"}
    assert result.payload["function_name"] == cfn.FUNCTION_ID
    assert int(result.payload["memory_limit_in_mb"]) == 512
    assert 0 < result.payload["remaining_ms"] <= 30_000
    assert result.payload["cwd"] == str(ECHO)
    env = result.payload["env"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "codeartifact-promoter"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "CodeArtifactPromoter"
    assert env["PROMOTION_RULES_FILE"] == "promotion-rules.yaml"
    assert env["ALLOWED_SOURCE_REPOSITORIES"] == "staging"
    assert env["ALLOWED_DESTINATION_REPOSITORIES"] == "release"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["AWS_LAMBDA_FUNCTION_HANDLER"] == "app.lambda_handler"
    assert env["LAMBDA_TASK_ROOT"] == str(ECHO)
    assert "echo handler saw {'hello': 'world'}" in result.logs
    assert result.request_id


def test_one_environment_serves_many_invocations_with_their_own_logs(echo: Emulator) -> None:
    first = echo.invoke({"n": 1})
    second = echo.invoke({"n": 2})

    assert "saw {'n': 1}" in first.logs
    assert "saw {'n': 2}" not in first.logs
    assert "saw {'n': 2}" in second.logs
    assert "saw {'n': 1}" not in second.logs
    assert first.request_id != second.request_id


def test_an_exception_comes_back_as_lambdas_error_payload(echo: Emulator) -> None:
    result = echo.invoke({"raise": "boom"})

    assert result.failed
    assert result.payload["errorType"] == "ValueError"
    assert result.payload["errorMessage"] == "boom"
    # The environment recovers for the next invocation.
    assert not echo.invoke({"after": "error"}).failed


def test_the_template_timeout_is_enforced() -> None:
    with Emulator(echo_function(timeout=1), endpoint_url="http://127.0.0.1:9") as emulator:
        result = emulator.invoke({"sleep": 3})

    assert result.failed
    assert result.seconds < 3


def test_local_credentials_are_fake_unless_the_host_has_some() -> None:
    function = echo_function()
    fake = lambda_environment(function, endpoint_url=None, host_env={"PATH": "/bin"})
    real = lambda_environment(
        function, endpoint_url=None, host_env={"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s"}
    )

    assert fake["AWS_ACCESS_KEY_ID"] == "testing"
    assert "AWS_ENDPOINT_URL" not in fake
    assert real["AWS_ACCESS_KEY_ID"] == "AKIA1"


def test_sam_style_env_vars_file_overrides_per_function(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text(json.dumps({"Parameters": {"A": "1", "B": "1"}, cfn.FUNCTION_ID: {"B": 2, "C": True}}))

    assert read_env_vars_file(path, cfn.FUNCTION_ID) == {"A": "1", "B": "2", "C": "true"}


def test_make_invoke_cli_prints_logs_and_response(aws_server: AwsEnv) -> None:
    # Given the sample event of the AWS docs (a domain the stack does not serve), in the event's region (else
    # it is ignored for its region, us-west-2, before its domain is looked at)
    event = cfn.PROJECT_ROOT / "events" / "npm-published.json"

    # When
    done = subprocess.run(
        [sys.executable, "-m", "promoter_dev.invoke", "--event", str(event)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cfn.PROJECT_ROOT,
        env=os.environ | {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-west-2"},
    )

    # Then the promoter ran under the emulator against the local AWS and ignored it, saying why
    assert done.returncode == 0, done.stderr + done.stdout
    logs, _, rest = done.stdout.partition("--- response ---")
    response, _, summary = rest.partition("--- summary ---")
    assert '"outcome":"ignored"' in logs.replace(" ", "")
    assert json.loads(response) == {"outcomes": {"ignored": 1}}

    # And the REPORT line has only measured figures (the emulator's memory size as "used" is not one)
    [report] = [line for line in logs.splitlines() if "REPORT RequestId" in line]
    assert "Init Duration" not in report
    assert re.search(r"\tDuration: [0-9.]+ ms", report)
    used = re.search(r"Max Memory Used: ([0-9]+) MB \(peak RSS of the runtime process\)", report)
    assert used is None or 10 < int(used.group(1)) < 512

    # And it ends with the summary table: outcome, package, version and why
    rows = summary.strip().splitlines()
    assert rows[0].split() == ["outcome", "format", "package", "version", "state", "to", "why"]
    assert rows[2].split() == ["ignored", "npm", "mypackage", "1.0.0", "Published", "-", "domain"]


def invoke_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "promoter_dev.invoke", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cfn.PROJECT_ROOT,
        env=env,
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "does not exist"),
        ("{nope", "is not JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        ("", "is not JSON"),
    ],
)
def test_make_invoke_with_a_bad_event_file_is_one_line(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "event.json"
    if content is not None:
        path.write_text(content)
    done = invoke_cli("--event", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: event file {str(path)!r} {problem}")
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_make_invoke_honours_port_as_make_local_aws_does(aws_server: AwsEnv) -> None:
    # Given the local AWS on its own port and no AWS_ENDPOINT_URL, When invoked with PORT set to that port
    assert aws_server.endpoint_url is not None
    port = aws_server.endpoint_url.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"} | {"PORT": port}
    done = invoke_cli("--event", str(cfn.PROJECT_ROOT / "events" / "npm-published.json"), env=env)
    # Then it used that local AWS instead of starting an empty one
    assert done.returncode == 0, done.stderr + done.stdout
    assert "note: no local AWS" not in done.stdout
