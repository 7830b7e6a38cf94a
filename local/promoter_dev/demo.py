"""`make demo`: the promoter end to end on this machine, with no AWS account and no Docker.

It starts a local AWS (moto with our CodeArtifact) on a free loopback port, creates the domain and
the staging and release repositories the template's defaults name, deploys the template's own
EventBridge rule, queue and dead-letter queue into it, publishes a handful of versions to staging
(some the bundled example rules promote, some they reject, one that conflicts with a different
build already in release), lets EventBridge route their events into the queue, delivers the queue
to the function running under the Lambda runtime emulator as SQS batches, and prints what was
promoted, skipped and failed, and why. Everything it started is stopped on the way out.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


def _seed(control: Any, domain: str, repository: str, item: Publish) -> dict[str, Any]:
    result: dict[str, Any] = control.seed_package_version(
        domain,
        repository,
        item.format,
        item.package,
        item.version,
        namespace=item.namespace,
        assets={f"{item.package}-{item.version}.bin": item.content},
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
    try:
        aws = AwsEnv(endpoint_url=url, control=Control(endpoint_url=url))
        codeartifact, sqs = aws.client("codeartifact"), aws.client("sqs")
        print(f"   {url}; domain {domain!r} with repositories {source!r} and {destination!r}")
        create_domain_with_repositories(codeartifact, domain, [source, destination])

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
            _seed(aws.control, domain, source, item)
            name = f"{item.namespace}/{item.package}" if item.namespace else item.package
            print(f"   - {item.format:8} {name:22} {item.version:14} {item.status:11} expect {item.expect}")
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
        for surprise in surprises:
            print(f"UNEXPECTED: {surprise}")
        if not surprises:
            print("every version ended as the example rules say it should.")
        print(f"done in {time.monotonic() - began:.1f} s; the local AWS and the emulator are stopped.")
        return 1 if surprises else 0
    finally:
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
