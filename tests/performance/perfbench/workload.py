"""Synthetic but real-shaped workloads: promotion rules, CodeArtifact events and what must come of them.

The generator knows the ground truth (which versions each rule set must promote where, and the
minimum number of CopyPackageVersions calls), so every figure can also check correctness: a fast
promoter that copies the wrong things is not fast.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
DOMAIN = "acme"
SOURCE = "staging"
RELEASE = "release"
MIRROR = "release-mirror"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:promoter-queue"
DETAIL_TYPE = "CodeArtifact Package Version State Change"

FORMATS = ("npm", "pypi", "maven", "generic")
# A range per format, in the format's own language, that every generated version (1.x.y) satisfies,
# so that the naive promoter (which ignores ranges, as public implementations do) and ours agree on
# what must be copied while ours still pays for parsing and checking its ranges.
RANGES = {"npm": ">=1.0.0 <100.0.0", "pypi": ">=1.0,<100", "maven": "[1.0,100.0)", "generic": None}

Json = dict[str, Any]


@dataclass(frozen=True)
class Package:
    format: str
    namespace: str | None
    name: str
    team: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.format, self.namespace or "", self.name)


@dataclass(frozen=True)
class Version:
    package: Package
    version: str
    multi_event: bool


@dataclass
class Plan:
    """Rules and versions; events are built later, once the final revisions are known."""

    rules: list[Json]
    versions: list[Version]
    destinations: dict[Version, tuple[str, ...]]
    seed: int

    @property
    def expected(self) -> set[tuple[str, str, str, str, str]]:
        """(format, namespace, package, version, destination) that must be in a destination."""
        return {(*v.package.key, v.version, d) for v, dests in self.destinations.items() for d in dests}

    @property
    def minimum_calls(self) -> int:
        """One CopyPackageVersions call per distinct (package, destination): the physical minimum."""
        return len({(*v.package.key, d) for v, dests in self.destinations.items() for d in dests})


@dataclass
class Burst:
    plan: Plan
    events: list[Json]
    revisions: dict[Version, str]
    naive_calls: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def team_format(team: int) -> str:
    return FORMATS[team % len(FORMATS)]


def make_rules(count: int) -> list[Json]:
    """``count`` rules, one per team, each with globs and excludes; every tenth also feeds a mirror."""
    rules: list[Json] = []
    for team in range(count):
        fmt = team_format(team)
        rule: Json = {
            "name": f"team{team:03d}-{fmt}",
            "domain": DOMAIN,
            "sourceRepository": SOURCE,
            "destinationRepositories": [RELEASE, MIRROR] if team % 10 == 0 else [RELEASE],
            "formats": [fmt],
            "packages": [f"team{team:03d}-*"],
            "excludePackages": [f"team{team:03d}-*-internal"],
        }
        version_range = RANGES[fmt]
        if version_range is not None and team % 2 == 0:
            rule["versions"] = version_range
        rules.append(rule)
    return rules


def rules_document(rules: list[Json]) -> str:
    """The rules as a JSON document (JSON is valid YAML too, and loads faster with PyYAML absent); with
    ``BENCH_SUPPLY_CHAIN=1``, carrying every supply-chain control (``with_supply_chain``)."""
    document: Json = {"rules": rules}
    if supply_chain_enabled():
        document = with_supply_chain(document)
    return json.dumps(document, indent=1)


def supply_chain_enabled() -> bool:
    return os.environ.get("BENCH_SUPPLY_CHAIN", "") == "1"


def with_supply_chain(document: Json) -> Json:
    """``document`` with every supply-chain control in force, none of them holding a version back: a
    cooldown for EXTERNAL versions (the fake's publish times are old enough), an ``origins`` filter
    accepting both, a freeze of versions published after 2099, ten exceptions and ten deny entries
    naming packages the workload does not have. What the figures then measure is their checks' cost
    (and the publish-time and origin lookups they need), not versions they stop."""
    rules = [
        dict(
            rule, minimumReleaseAge="1d", minimumReleaseAgeFor=["EXTERNAL"], origins=["INTERNAL", "EXTERNAL"]
        )
        for rule in document.get("rules") or []
    ]
    return dict(
        document,
        rules=rules,
        freeze={"publishedAfter": "2099-01-01T00:00:00Z"},
        exceptions=[
            {
                "format": "npm",
                "package": f"hotfix-{n}",
                "versions": "1.0.0",
                "reason": "benchmark",
                "expires": "2099-01-01T00:00:00Z",
            }
            for n in range(10)
        ],
        denyVersions=[
            {"format": "npm", "package": f"revoked-{n}", "versions": "1.0.0", "reason": "benchmark"}
            for n in range(10)
        ],
    )


def _namespace(fmt: str, team: int, index: int) -> str | None:
    if fmt == "maven":
        return f"com.acme.team{team:03d}"
    if fmt == "generic":
        return "acme"
    if fmt == "npm" and index % 2 == 0:
        return "acme"
    return None


def make_plan(
    *, packages: int, events: int, rules: int, seed: int = 5, maven_steps: int = 3, internal_every: int = 33
) -> Plan:
    """Enough versions over ``packages`` packages that their events number about ``events``.

    Maven versions take ``maven_steps`` Unfinished events before the Published one; every
    ``internal_every``-th package is excluded by its rule and must never be copied.
    """
    rng = random.Random(seed)
    rule_list = make_rules(rules)
    pkgs: list[Package] = []
    for index in range(packages):
        team = index % rules
        fmt = team_format(team)
        suffix = "-internal" if index % internal_every == internal_every - 1 else ""
        pkgs.append(
            Package(fmt, _namespace(fmt, team, index), f"team{team:03d}-lib{index:05d}{suffix}", team)
        )

    def events_per_version(pkg: Package) -> int:
        return (maven_steps + 1) if pkg.format == "maven" else 1

    versions: list[Version] = []
    per_package: dict[Package, int] = dict.fromkeys(pkgs, 0)
    total = 0
    # Round-robin so every package gets at least one version, then more until the budget is met;
    # about 10% of the budget is left for duplicates and echoes added when events are built.
    budget = max(len(pkgs), int(events * 0.9))
    while total < budget:
        for pkg in pkgs:
            if total >= budget and per_package[pkg] > 0:
                break
            n = per_package[pkg]
            per_package[pkg] = n + 1
            minor = n
            patch = rng.randrange(0, 10)
            versions.append(Version(pkg, f"1.{minor}.{patch}", pkg.format == "maven"))
            total += events_per_version(pkg)
    # Published package after package (a multi-module build, a monorepo release, a migration),
    # each package's versions in order: the order in which a burst reaches the queue.
    position = {pkg: i for i, pkg in enumerate(pkgs)}
    versions.sort(key=lambda v: position[v.package])

    destinations: dict[Version, tuple[str, ...]] = {}
    for v in versions:
        if v.package.name.endswith("-internal"):
            continue
        rule = rule_list[v.package.team]
        destinations[v] = tuple(rule["destinationRepositories"])
    return Plan(rules=rule_list, versions=versions, destinations=destinations, seed=seed)


def fake_revision(*parts: object) -> str:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return base64.b64encode(digest).decode()


def codeartifact_event(
    *,
    repository: str,
    pkg: Package,
    version: str,
    state: str,
    revision: str,
    operation: str,
    sequence: int,
    status_changed: bool,
    event_time: str = "2026-11-26T20:00:00Z",
) -> Json:
    """One EventBridge event in the shape of the AWS docs' sample."""
    ns = pkg.namespace or ""
    dedup = fake_revision("dedup", repository, pkg.key, version, sequence, revision)
    return {
        "version": "0",
        "id": str(uuid.UUID(bytes=hashlib.md5(dedup.encode()).digest())),
        "detail-type": DETAIL_TYPE,
        "source": "aws.codeartifact",
        "account": ACCOUNT,
        "time": event_time,
        "region": REGION,
        "resources": [
            f"arn:aws:codeartifact:{REGION}:{ACCOUNT}:package/{DOMAIN}/{repository}/{pkg.format}/{ns}/{pkg.name}"
        ],
        "detail": {
            "domainName": DOMAIN,
            "domainOwner": ACCOUNT,
            "repositoryName": repository,
            "repositoryAdministrator": ACCOUNT,
            "packageFormat": pkg.format,
            "packageNamespace": pkg.namespace,
            "packageName": pkg.name,
            "packageVersion": version,
            "packageVersionState": state,
            "packageVersionRevision": revision,
            "changes": {
                "assetsAdded": 1 if operation == "Created" or not status_changed else 0,
                "assetsRemoved": 0,
                "metadataUpdated": True,
                "assetsUpdated": 0,
                "statusChanged": status_changed,
            },
            "operationType": operation,
            "sequenceNumber": sequence,
            "eventDeduplicationId": dedup,
        },
    }


def version_events(v: Version, final_revision: str, *, maven_steps: int = 3) -> list[Json]:
    """A version's events: Maven-style assets one by one (Unfinished), then Published."""
    event = functools.partial(codeartifact_event, repository=SOURCE, pkg=v.package, version=v.version)
    if not v.multi_event:
        published = event(
            state="Published", revision=final_revision, operation="Created", sequence=1, status_changed=True
        )
        return [published]
    out = [
        event(
            state="Unfinished",
            revision=fake_revision("asset", v.package.key, v.version, step),
            operation="Created" if step == 1 else "Updated",
            sequence=step,
            status_changed=step == 1,
        )
        for step in range(1, maven_steps + 1)
    ]
    published = event(
        state="Published",
        revision=final_revision,
        operation="Updated",
        sequence=maven_steps + 1,
        status_changed=True,
    )
    return [*out, published]


def build_burst(
    plan: Plan,
    *,
    events: int,
    revisions: Mapping[Version, str] | None = None,
    jitter: int = 8,
    duplicate_share: float = 0.5,
) -> Burst:
    """The burst as delivered: versions in publish order (a release publishes package after package),
    reordered locally by up to ``jitter`` places, plus duplicate deliveries and the echoes of copies
    landing in the destination (which both promoters must ignore), to exactly ``events`` events.
    """
    rng = random.Random(plan.seed + 1)
    revs: dict[Version, str] = {v: fake_revision("final", v.package.key, v.version) for v in plan.versions}
    if revisions:
        revs.update(revisions)
    stream: list[Json] = []
    for v in plan.versions:
        stream.extend(version_events(v, revs[v]))
    published = [e for e in stream if e["detail"]["packageVersionState"] == "Published"]
    counts = {"version_events": len(stream), "duplicates": 0, "echoes": 0}
    while len(stream) < events:
        if rng.random() < duplicate_share:
            stream.insert(rng.randrange(len(stream) + 1), json.loads(json.dumps(rng.choice(published))))
            counts["duplicates"] += 1
        else:
            echo = json.loads(json.dumps(rng.choice(published)))
            echo["detail"]["repositoryName"] = RELEASE
            echo["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
            stream.insert(rng.randrange(len(stream) + 1), echo)
            counts["echoes"] += 1
    for i in range(len(stream)):
        j = min(len(stream) - 1, i + rng.randrange(jitter + 1))
        stream[i], stream[j] = stream[j], stream[i]
    naive_calls = 0
    for e in stream:
        d = e["detail"]
        if d["repositoryName"] == SOURCE and d["packageVersionState"] == "Published":
            if d["packageName"].endswith("-internal"):
                continue
            team = int(d["packageName"][4:7])
            naive_calls += len(plan.rules[team]["destinationRepositories"])
    return Burst(plan=plan, events=stream, revisions=revs, naive_calls=naive_calls, counts=counts)


def sqs_record(event: Json, index: int) -> Json:
    """The SQS record that carries an EventBridge event (what the event source mapping hands over)."""
    body = json.dumps(event)
    return {
        "messageId": str(uuid.UUID(int=index + 1)),
        "receiptHandle": f"AQEB{index:012d}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1796068800000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1796068800001",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": REGION,
    }


def sqs_batch(events: Iterable[Json], start: int = 0) -> Json:
    return {"Records": [sqs_record(e, start + i) for i, e in enumerate(events)]}
