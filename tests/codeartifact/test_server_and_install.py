"""Plugging into moto, the HTTP server (module and CLI), and the wire format of errors."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from codeartifact_moto import SERVICE, install
from codeartifact_moto.control import Control
from codeartifact_moto.testing import AwsEnv
from moto import backend_index

ROOT = Path(__file__).resolve().parents[2]


def test_install_is_idempotent_and_keeps_the_list_object() -> None:
    patterns = backend_index.backend_url_patterns
    install()
    install()
    assert backend_index.backend_url_patterns is patterns
    assert [name for name, _ in patterns].count(SERVICE) == 1
    assert sys.modules["moto.codeartifact"].__name__ == "codeartifact_moto"


def test_health_endpoint(aws_server: AwsEnv) -> None:
    with urllib.request.urlopen(
        f"{aws_server.endpoint_url}/_codeartifact_moto/health", timeout=5
    ) as response:
        assert json.loads(response.read()) == {"status": "ok"}


def test_errors_on_the_wire_are_rest_json(aws_server: AwsEnv) -> None:
    # An unsigned request is enough for the backend to answer; botocore parses this format.
    request = urllib.request.Request(
        f"{aws_server.endpoint_url}/v1/domain?domain=nowhere",
        headers={
            "Authorization": "AWS4-HMAC-SHA256 "
            "Credential=testing/20240101/us-east-1/codeartifact/aws4_request, SignedHeaders=host, Signature=0"
        },
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=5)
    error = excinfo.value
    assert error.code == 404
    assert error.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    body = json.loads(error.read())
    assert body["message"].startswith("Domain not found")
    assert body["resourceId"] == "nowhere"


def test_every_moto_service_is_served_next_to_codeartifact(aws_server: AwsEnv) -> None:
    aws_server.client("codeartifact").create_domain(domain="acme")
    assert aws_server.client("sqs").create_queue(QueueName="q")["QueueUrl"]
    assert aws_server.client("events").list_rules()["Rules"] == []
    aws_server.client("ssm").put_parameter(Name="/rules", Value="{}", Type="String")
    assert aws_server.client("iam").list_roles()["Roles"] == []
    aws_server.client("cloudwatch").put_metric_data(
        Namespace="Test", MetricData=[{"MetricName": "M", "Value": 1.0}]
    )
    aws_server.client("logs").create_log_group(logGroupName="g")
    assert aws_server.client("sts").get_caller_identity()["Account"] == aws_server.account_id


def test_aws_endpoint_url_is_set_for_plain_boto3_clients(aws_server: AwsEnv) -> None:
    assert os.environ["AWS_ENDPOINT_URL"] == aws_server.endpoint_url
    boto3.client("codeartifact").create_domain(domain="plain")
    assert [d["name"] for d in aws_server.client("codeartifact").list_domains()["domains"]] == ["plain"]


def test_aws_fixture_is_in_process(aws: AwsEnv) -> None:
    assert aws.endpoint_url is None
    assert "AWS_ENDPOINT_URL" not in os.environ
    aws.client("codeartifact").create_domain(domain="local")
    assert aws.client("codeartifact").describe_domain(domain="local")["domain"]["name"] == "local"


def server_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'local'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


@contextlib.contextmanager
def command_line_server(*options: str) -> Iterator[str]:
    """`python -m codeartifact_moto.server --port 0 OPTIONS` (what `make local-aws` runs): its URL, then
    SIGTERM, which must stop it cleanly."""
    process = subprocess.Popen(
        [sys.executable, "-m", "codeartifact_moto.server", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=server_env(),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        yield match.group(0)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0


def test_command_line_server_runs_in_the_foreground_until_stopped() -> None:
    # Given the server started from the command line, When a client uses it (Then SIGTERM stops it cleanly)
    with command_line_server() as url:
        client = boto3.client(
            "codeartifact",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_domain(domain="cli")
        assert client.list_domains()["domains"][0]["name"] == "cli"


def test_command_line_server_answers_as_the_service_variant_it_was_given() -> None:
    # Given the server started in the other variant (for a whole `make local-aws` session)
    with command_line_server("--service-variant", "identical-copy-omitted") as url:
        control = Control(url)
        # Then every account answers so, also after a reset
        assert control.service_variant() == "identical-copy-omitted"
        assert Control(url, account_id="210987654321").service_variant() == "identical-copy-omitted"
        control.set_service_variant("documented")
        control.reset()
        assert control.service_variant() == "identical-copy-omitted"


def test_command_line_server_refuses_an_unknown_variant() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "codeartifact_moto.server", "--port", "0", "--service-variant", "bogus"],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid choice: 'bogus'" in result.stderr
