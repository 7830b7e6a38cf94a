"""End to end with the real package managers: twine and npm publish to staging, the promoter copies, pip
and npm install from release.

The local AWS serves CodeArtifact's registry protocols on the endpoints GetRepositoryEndpoint names; the
template's rule, queue and dead-letter queue route the publish events; the function runs under the Lambda
runtime emulator with the bundled example rules (stable npm and pypi releases go to release, prereleases
and ``*-internal`` packages do not). What is installed from release must be byte for byte what was
published.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from codeartifact_moto.real_clients import ClientFailed, Clients, build_wheel, npm_package_dir
from codeartifact_moto.testing import AwsEnv
from promoter_dev import esm, stack
from promoter_dev.invoke import Emulator

from . import test_promotion_flow as flow

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:Tried to parse AWS..SQS..QueuePolicy"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

DOMAIN, STAGING, RELEASE = "acme", "staging", "release"  # the template's parameter defaults
MODULE = b"VALUE = 'built by CI'\n"
SCRIPT = b"module.exports = 'built by CI';\n"


# The template's wiring in the local AWS and the promoter under the emulator, as the promotion-flow tests use.
wiring, promoter = flow.wiring, flow.promoter


@pytest.fixture
def clients(aws_server: AwsEnv) -> Iterator[Clients]:
    token = aws_server.client("codeartifact").get_authorization_token(domain=DOMAIN)["authorizationToken"]
    clients = Clients.in_temporary_home(token)
    yield clients
    clients.cleanup()


def endpoint(aws: AwsEnv, fmt: str, repository: str) -> str:
    answer = aws.client("codeartifact").get_repository_endpoint(
        domain=DOMAIN, repository=repository, format=fmt
    )
    return str(answer["repositoryEndpoint"])


def promote_everything_published(
    aws: AwsEnv, wiring: stack.EventWiring, promoter: Emulator, expected: int
) -> Any:
    """Deliver the queue to the function until it is empty; returns the outcome log records."""
    sqs = aws.client("sqs")
    records: list[dict[str, Any]] = []
    received = 0
    while received < expected:
        messages = esm.receive_batch(sqs, wiring, expected=expected - received)
        assert messages, f"only {received} of {expected} events reached the queue"
        received += len(messages)
        delivery = esm.deliver(sqs, wiring, promoter.invoke, messages)
        assert not delivery.invocation.failed, delivery.invocation.payload
        assert delivery.returned == []
        records.extend(r for r in delivery.invocation.log_records() if r.get("outcome"))
    assert esm.queue_depth(sqs, wiring.queue_url) == 0
    return records


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_pypi_twine_upload_is_promoted_and_pip_installs_the_same_bytes_from_release(
    aws_server: AwsEnv, wiring: stack.EventWiring, promoter: Emulator, clients: Clients, tmp_path: Path
) -> None:
    # Given a stable release and a prerelease uploaded to staging with twine
    stable = build_wheel(tmp_path, "acme-utils", "2.3.1", {"acme_utils/__init__.py": MODULE})
    prerelease = build_wheel(tmp_path, "acme-utils", "3.0.0rc1", {"acme_utils/__init__.py": MODULE})
    clients.twine_upload(endpoint(aws_server, "pypi", STAGING), stable, prerelease)

    # When the publish events reach the promoter
    records = promote_everything_published(aws_server, wiring, promoter, expected=2)

    # Then the stable release was promoted and the prerelease was not
    outcomes = {(r["package"], r["version"]): r["outcome"] for r in records}
    assert outcomes == {("acme-utils", "2.3.1"): "promoted", ("acme-utils", "3.0.0rc1"): "ignored"}
    release = endpoint(aws_server, "pypi", RELEASE)
    # ... pip installs it from release, and the installed module is the uploaded one
    clients.pip_install(release, "acme-utils==2.3.1", tmp_path / "site")
    assert sha256((tmp_path / "site" / "acme_utils" / "__init__.py").read_bytes()) == sha256(MODULE)
    # ... the wheel release serves is the uploaded wheel, byte for byte
    asset = (
        aws_server.client("codeartifact")
        .get_package_version_asset(
            domain=DOMAIN,
            repository=RELEASE,
            format="pypi",
            package="acme-utils",
            packageVersion="2.3.1",
            asset=stable.name,
        )["asset"]
        .read()
    )
    assert sha256(asset) == sha256(stable.read_bytes())
    # ... and the prerelease cannot be installed from release
    with pytest.raises(ClientFailed):
        clients.pip_install(release, "acme-utils==3.0.0rc1", tmp_path / "pre")


def test_npm_publish_is_promoted_and_npm_installs_the_same_bytes_from_release(
    aws_server: AwsEnv, wiring: stack.EventWiring, promoter: Emulator, clients: Clients, tmp_path: Path
) -> None:
    # Given npm publishes a scoped stable release, a prerelease and a scoped internal package to staging
    staging = endpoint(aws_server, "npm", STAGING)
    published: dict[str, bytes] = {}
    for name, version, tag in [
        ("@acme/widgets", "2.1.0", None),
        ("acme-ui", "3.0.0-beta.1", "beta"),
        ("@acme/tools-internal", "1.0.0", None),
    ]:
        directory = npm_package_dir(tmp_path / "src", name, version, {"index.js": SCRIPT})
        published[name] = clients.npm_pack(staging, directory, tmp_path / "packed").read_bytes()
        clients.npm_publish(staging, directory, tag=tag)

    # When the publish events reach the promoter
    records = promote_everything_published(aws_server, wiring, promoter, expected=3)

    # Then only the scoped stable release was promoted (namespace = the scope without "@")
    outcomes = {(r.get("namespace"), r["package"], r["version"]): r["outcome"] for r in records}
    assert outcomes == {
        ("acme", "widgets", "2.1.0"): "promoted",
        (None, "acme-ui", "3.0.0-beta.1"): "ignored",
        ("acme", "tools-internal", "1.0.0"): "ignored",
    }
    release = endpoint(aws_server, "npm", RELEASE)
    # ... npm installs it from release: the files are the published ones, and the tarball npm fetched
    # from release (its integrity, recorded by npm) is the tarball npm published
    clients.npm_install(release, "@acme/widgets@2.1.0", tmp_path / "app")
    installed = tmp_path / "app" / "node_modules" / "@acme" / "widgets"
    assert sha256((installed / "index.js").read_bytes()) == sha256(SCRIPT)
    lock = json.loads((tmp_path / "app" / "node_modules" / ".package-lock.json").read_text())
    entry = lock["packages"]["node_modules/@acme/widgets"]
    assert entry["resolved"].startswith(release)
    assert (
        entry["integrity"]
        == "sha512-" + base64.b64encode(hashlib.sha512(published["@acme/widgets"]).digest()).decode()
    )
    # ... and neither the prerelease nor the internal package can be installed from release
    for spec in ("acme-ui@3.0.0-beta.1", "@acme/tools-internal@1.0.0"):
        with pytest.raises(ClientFailed):
            clients.npm_install(release, spec, tmp_path / "refused")
