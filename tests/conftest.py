"""Shared fixtures: a local AWS with CodeArtifact, in-process (``aws``) or over HTTP (``aws_server``).

Both yield a :class:`codeartifact_moto.testing.AwsEnv` of the same shape, so a test can be
parametrized over the two (``any_aws`` does, with ``request.getfixturevalue``). Credentials are
fake and the region is us-east-1; nothing leaves 127.0.0.1.

A test that also asks for ``service_variant`` runs once per CodeArtifact service variant
(``documented``, the default, and ``identical-copy-omitted``; see
``codeartifact_moto.models.SERVICE_VARIANTS``): ``aws``, ``aws_server`` and ``any_aws`` answer as
that variant in the local account. For example::

    def test_duplicate_delivery_is_already_present(aws_server: AwsEnv, service_variant: str) -> None:
        ...  # runs twice: [documented] and [identical-copy-omitted]
"""

from __future__ import annotations

import importlib
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from codeartifact_moto import install
from codeartifact_moto.control import Control
from codeartifact_moto.models import SERVICE_VARIANTS
from codeartifact_moto.server import start_server
from codeartifact_moto.testing import AwsEnv
from moto import mock_aws
from moto.server import ThreadedMotoServer

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
UNSET_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")

# Registered once for the whole session, so that any mock_aws() (not only the fixtures') serves
# CodeArtifact.
install()


def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in UNSET_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)


def _apply_service_variant(request: pytest.FixtureRequest, env: AwsEnv) -> None:
    """Answer as the test's ``service_variant``, when it asks for one (else the default)."""
    if "service_variant" in request.fixturenames:
        env.control.set_service_variant(request.getfixturevalue("service_variant"))


@pytest.fixture(params=list(SERVICE_VARIANTS))
def service_variant(request: pytest.FixtureRequest) -> str:
    """Each CodeArtifact service variant in turn, applied by ``aws``, ``aws_server`` and ``any_aws``.

    ``documented`` answers as the API reference says (an existing version, identical or not, is
    ALREADY_EXISTS without allowOverwrite); ``identical-copy-omitted`` leaves an identical copy out
    of both maps. Code that promotes must be right under both.
    """
    if not {"aws", "aws_server", "any_aws"} & set(request.fixturenames):
        pytest.fail("service_variant applies through the aws, aws_server or any_aws fixture; ask for one")
    variant: str = request.param
    return variant


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[AwsEnv]:
    """In-process moto (``mock_aws``) with the CodeArtifact backend, fresh for each test."""
    _fake_credentials(monkeypatch)
    install()
    with mock_aws():
        env = AwsEnv(endpoint_url=None, control=Control())
        _apply_service_variant(request, env)
        yield env


@pytest.fixture(scope="session")
def moto_server() -> Iterator[tuple[ThreadedMotoServer, str]]:
    """One moto server with CodeArtifact on a free loopback port for the whole session."""
    server, url = start_server(port=0)
    yield server, url
    server.stop()


@pytest.fixture
def aws_server(
    moto_server: tuple[ThreadedMotoServer, str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[AwsEnv]:
    """moto over real HTTP; every service's state (and the service variant) is reset before and after
    each test.

    After too: the server shares this process's moto backends with any other local AWS started in
    it, so a later test starting its own server (the demo) would find this test's domain there.
    """
    _, url = moto_server
    _fake_credentials(monkeypatch)

    def reset() -> None:
        request = urllib.request.Request(f"{url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            json.loads(response.read() or b"{}")

    reset()
    control = Control(endpoint_url=url)  # moto's reset above also dropped CodeArtifact's state
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    env = AwsEnv(endpoint_url=url, control=control)
    _apply_service_variant(request, env)
    yield env
    reset()


@pytest.fixture(params=["in_process", "server"])
def any_aws(request: pytest.FixtureRequest) -> AwsEnv:
    """The same test once in-process and once over HTTP."""
    name = "aws" if request.param == "in_process" else "aws_server"
    env: AwsEnv = request.getfixturevalue(name)
    return env


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fault storms' table (tests/reliability), here because the xdist controller loads this file."""
    table: Any = importlib.import_module("reliability.storm_table")  # tests/ is on sys.path (rootdir)
    table.terminal_summary(terminalreporter)
