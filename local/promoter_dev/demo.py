"""`make demo`: the promoter end to end on this machine, with no AWS account and no Docker.

It starts a local AWS (moto with our CodeArtifact) on a free loopback port, creates the domain and
the staging and release repositories the template's defaults name, deploys the template's own
EventBridge rule, queue and dead-letter queue into it, publishes a handful of versions to staging
(some the bundled example rules promote, some they reject, one that conflicts with a different
build already in release; the pypi and npm ones with the real twine and npm, through the local
CodeArtifact's repository endpoints), lets EventBridge route their events into the queue, delivers
the queue to the function running under the Lambda runtime emulator as SQS batches, prints what was
promoted, skipped and failed, and why, and ends by installing the promoted pypi and npm versions
from release with pip and npm. Everything it started is stopped on the way out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeartifact_moto.real_clients import Clients, build_wheel, npm_package_dir

from promoter_dev import cfn, esm, stack
from promoter_dev.invoke import Emulator, Invocation, summary_table, table
from promoter_dev.invoke import outcome_records as outcome_lines
from promoter_dev.invoke import package_name as _name


@dataclass(frozen=True)
class Publish:
    """One version published to staging, and what the example rules should make of it."""

    format: str
    package: str
    version: str
    expect: str
    namespace: str | None = None
    status: str = "Published"
    content: bytes = b"built by CI"

    @property
    def payload(self) -> bytes:
        """The bytes the version carries: its build, and what it is (so no two packages share a digest)."""
        return self.content + f" {self.format}/{self.package}@{self.version}\n".encode()


PUBLISHES = (
    Publish("npm", "acme-ui", "2.1.0", "promoted: stable npm release"),
    Publish("pypi", "acme-utils", "2.3.1", "promoted: stable pypi release"),
    Publish("npm", "acme-ui", "3.0.0-beta.1", "skipped: prerelease"),
    Publish("npm", "acme-ui-test", "1.0.0", "skipped: excluded package"),
    Publish("maven", "app-core", "1.4.0", "skipped: Unfinished", namespace="com.acme", status="Unfinished"),
    Publish("maven", "app-core", "1.4.0", "promoted: now Published", namespace="com.acme"),
    Publish("maven", "commons", "9.0", "skipped: namespace not ours", namespace="org.example"),
    Publish("generic", "build-tools", "1.0.0", "failed: release has another build", namespace="acme"),
)
CONFLICT = Publish("generic", "build-tools", "1.0.0", "", namespace="acme", content=b"built on a laptop")
# Published with the package managers themselves; the other formats are put in place by Control.
REAL_CLIENT_FORMATS = ("pypi", "npm")


def _module(package: str) -> str:
    return package.replace("-", "_")


def _publish_with_client(clients: Clients, endpoints: dict[str, str], workdir: Path, item: Publish) -> str:
    """twine upload (a wheel built here) or npm publish (a directory); returns the command shown."""
    if item.format == "pypi":
        module = {f"{_module(item.package)}/__init__.py": item.payload}
        wheel = build_wheel(workdir, item.package, item.version, module)
        clients.twine_upload(endpoints["pypi"], wheel)
        return f"twine upload {wheel.name}"
    directory = npm_package_dir(workdir, item.package, item.version, {"index.js": item.payload})
    tag = "next" if "-" in item.version else None  # npm publishes a prerelease only with a tag
    clients.npm_publish(endpoints["npm"], directory, tag=tag)
    return "npm publish" + (f" --tag {tag}" if tag else "")


def _install_from(clients: Clients, endpoints: dict[str, str], workdir: Path) -> list[str]:
    """pip/npm install every promoted pypi/npm version from release; the installed bytes must be
    the published ones. Returns the surprises."""
    surprises = []
    for item in PUBLISHES:
        if item.format not in REAL_CLIENT_FORMATS or not item.expect.startswith("promoted"):
            continue
        if item.format == "pypi":
            command = f"pip install --index-url {endpoints['pypi']}simple/ {item.package}=={item.version}"
            clients.pip_install(endpoints["pypi"], f"{item.package}=={item.version}", workdir / "site")
            installed = workdir / "site" / _module(item.package) / "__init__.py"
        else:
            command = f"npm install --registry {endpoints['npm']} {item.package}@{item.version}"
            clients.npm_install(endpoints["npm"], f"{item.package}@{item.version}", workdir / "app")
            installed = workdir / "app" / "node_modules" / item.package / "index.js"
        digest = hashlib.sha256(installed.read_bytes()).hexdigest()
        same = digest == hashlib.sha256(item.payload).hexdigest()
        print(f"   $ {command}")
        print(
            f"     {installed.relative_to(workdir)} sha256 {digest[:16]}... "
            + ("= the bytes published to staging" if same else "DIFFERS from what was published")
        )
        if not same:
            surprises.append(f"{item.format} {item.package} {item.version}: installed bytes differ")
    return surprises


def _seed(control: Any, domain: str, repository: str, item: Publish) -> dict[str, Any]:
    result: dict[str, Any] = control.seed_package_version(
        domain,
        repository,
        item.format,
        item.package,
        item.version,
        namespace=item.namespace,
        assets={f"{item.package}-{item.version}.bin": item.payload},
        status=item.status,
    )
    return result


def release_contents(codeartifact: Any, domain: str, repository: str) -> list[tuple[str, str, str, str]]:
    """(format, package, version, revision) of every version in the repository."""
    rows = []
    for package in codeartifact.list_packages(domain=domain, repository=repository).get("packages", []):
        kwargs = {"domain": domain, "repository": repository, "format": package["format"]}
        kwargs["package"] = package["package"]
        if package.get("namespace"):
            kwargs["namespace"] = package["namespace"]
        for version in codeartifact.list_package_versions(**kwargs).get("versions", []):
            name = (
                f"{package['namespace']}/{package['package']}"
                if package.get("namespace")
                else package["package"]
            )
            rows.append((package["format"], name, version["version"], version.get("revision", "")))
    return sorted(rows)


def unexpected(records: Sequence[dict[str, Any]]) -> list[str]:
    """Versions whose final outcome differs from what the demo expects of the example rules."""
    actual = {(r.get("format"), _name(r), r.get("version")): str(r.get("outcome")) for r in records}
    wanted: dict[tuple[str, str, str], str] = {}
    for item in PUBLISHES:  # a later publish of the same version (Unfinished -> Published) decides
        name = f"{item.namespace}/{item.package}" if item.namespace else item.package
        wanted[(item.format, name, item.version)] = item.expect.split(":", 1)[0]
    surprises = []
    for key, expect in wanted.items():
        outcome = actual.get(key, "no outcome")
        if {"skipped": "ignored"}.get(expect, expect) != outcome:
            surprises.append(f"{' '.join(key)}: expected {expect}, got {outcome}")
    return surprises


def run(verbose: bool = False) -> int:
    from codeartifact_moto.control import Control  # noqa: PLC0415 - keep `--help` fast
    from codeartifact_moto.server import start_server  # noqa: PLC0415
    from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories  # noqa: PLC0415

    began = time.monotonic()
    # moto warns that it cannot create the queue policy (its SQS does not enforce one anyway).
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*not supported by moto's CloudFormation.*")
    resolver = cfn.Resolver(cfn.load_template())
    domain = str(resolver.parameters["DomainName"])
    source = str(resolver.parameters["SourceRepositories"]).split(",")[0]
    destination = str(resolver.parameters["DestinationRepositories"]).split(",")[0]

    print("1. starting a local AWS (moto + the CodeArtifact backend) ...", flush=True)
    server, url = start_server(port=0)
    workdir = Path(tempfile.mkdtemp(prefix="promoter-demo-"))
    clients: Clients | None = None
    try:
        aws = AwsEnv(endpoint_url=url, control=Control(endpoint_url=url))
        codeartifact, sqs = aws.client("codeartifact"), aws.client("sqs")
        print(f"   {url}; domain {domain!r} with repositories {source!r} and {destination!r}")
        create_domain_with_repositories(codeartifact, domain, [source, destination])
        clients = Clients.in_temporary_home(
            codeartifact.get_authorization_token(domain=domain)["authorizationToken"]
        )
        endpoints = {
            (fmt, repository): codeartifact.get_repository_endpoint(
                domain=domain, repository=repository, format=fmt
            )["repositoryEndpoint"]
            for fmt in REAL_CLIENT_FORMATS
            for repository in (source, destination)
        }
        staging_endpoints = {fmt: endpoints[(fmt, source)] for fmt in REAL_CLIENT_FORMATS}
        release_endpoints = {fmt: endpoints[(fmt, destination)] for fmt in REAL_CLIENT_FORMATS}
        print(f"   pypi: {staging_endpoints['pypi']}   npm: {staging_endpoints['npm']}")

        print(
            "2. deploying template.yaml's EventBridge rule, queue and dead-letter queue (moto CloudFormation)"
        )
        wiring = stack.deploy_event_wiring(aws.client("cloudformation"), sqs)
        rule = aws.client("events").describe_rule(Name=wiring.rule_name)
        print(f"   rule {wiring.rule_name}: {rule['EventPattern']}")

        print(f"3. another build of {CONFLICT.namespace}/{CONFLICT.package} {CONFLICT.version} is already in")
        print(f"   {destination!r}; publishing {len(PUBLISHES)} versions to {source!r}:")
        _seed(aws.control, domain, destination, CONFLICT)
        for item in PUBLISHES:
            if item.format in REAL_CLIENT_FORMATS:
                how = _publish_with_client(clients, staging_endpoints, workdir, item)
            else:
                _seed(aws.control, domain, source, item)
                how = "seeded"
            name = f"{item.namespace}/{item.package}" if item.namespace else item.package
            print(
                f"   - {item.format:8} {name:22} {item.version:14} {item.status:11} expect {item.expect}"
                f"  ({how})"
            )
        waiting = esm.queue_depth(sqs, wiring.queue_url)
        print(f"   EventBridge routed {waiting} events into the queue")

        print("4. delivering the queue to the function under the Lambda runtime emulator ...", flush=True)
        invocations: list[Invocation] = []
        with Emulator(endpoint_url=url) as emulator:
            while True:
                messages = esm.receive_batch(sqs, wiring, expected=waiting, timeout=3.0)
                if not messages:
                    break
                delivery = esm.deliver(sqs, wiring, emulator.invoke, messages)
                invocations.append(delivery.invocation)
                waiting -= len(messages)
                print(
                    f"   batch of {len(messages)}: {delivery.invocation.seconds:.2f} s, "
                    f"response {json.dumps(delivery.invocation.payload)}, "
                    f"{len(delivery.returned)} handed back to the queue"
                )
                if verbose:
                    print(delivery.invocation.logs)
        staging = {row[:3]: row[3] for row in release_contents(codeartifact, domain, source)}
        release = [
            (*row, "yes" if staging.get(row[:3]) == row[3] else "NO (another build)")
            for row in release_contents(codeartifact, domain, destination)
        ]
        _summary(invocations, release, destination, source)
        surprises = unexpected(outcome_lines(invocations))
        print(f"7. installing the promoted pypi and npm versions from {destination!r} with pip and npm:")
        surprises += _install_from(clients, release_endpoints, workdir)
        print()
        for surprise in surprises:
            print(f"UNEXPECTED: {surprise}")
        if not surprises:
            print("every version ended as the example rules say it should.")
        print(f"done in {time.monotonic() - began:.1f} s; the local AWS and the emulator are stopped.")
        return 1 if surprises else 0
    finally:
        if clients is not None:
            clients.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
        server.stop()


def _summary(
    invocations: Sequence[Invocation], release: Sequence[tuple[str, ...]], destination: str, source: str
) -> None:
    print(
        "\n5. what the promoter did (one log line per outcome; events of one version coalesce to its newest):"
    )
    print(summary_table(invocations))
    metrics: dict[str, float] = {}
    for invocation in invocations:
        for name, value in invocation.metrics().items():
            metrics[name] = metrics.get(name, 0.0) + value
    print("\n   metrics (EMF): " + ", ".join(f"{k}={v:g}" for k, v in sorted(metrics.items())))
    print(f"\n6. {destination!r} now holds:")
    print(table(("format", "package", "version", "revision", f"same revision as {source}"), release))
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m promoter_dev.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="also print the function's raw logs")
    args = parser.parse_args(argv)
    try:
        return run(verbose=args.verbose)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
