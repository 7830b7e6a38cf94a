"""``promoter explain EVENT.json``: each rule's answer for the versions of an event (or an SQS batch of
them), and the copy calls the function would make."""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from typing import Any, TextIO

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from promoter.cli.aws import codeartifact_client
from promoter.cli.errors import EXIT_OK, CliError, one_line
from promoter.cli.explain_version import explain_version, origin_of
from promoter.cli.inputs import Clock, load_rules, parse_coordinate
from promoter.cli.output import package_name, short
from promoter.events import (
    Candidate,
    MalformedEvent,
    NotCodeArtifactEvent,
    VersionKey,
    parse_event,
    parse_sqs_body,
)
from promoter.holds import VersionFacts
from promoter.listed import PackageAt
from promoter.matching import RuleSet
from promoter.outcomes import DEFERRED
from promoter.planner import plan
from promoter.reconcile.results import ORIGIN
from promoter.report import FREEZE
from promoter.rule_filters import AGE, DENIED, origin_text, rejection_detail


def event_candidates(path: str) -> tuple[list[Candidate], list[str]]:
    """Candidates of an EventBridge event file, or of every record of an SQS batch file, and what is not."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as error:
        raise CliError(f"cannot read event file {path!r}: {error.strerror or error}") from None
    except ValueError as error:
        raise CliError(f"event file {path!r} is not JSON: {error}") from None
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        candidates: list[Candidate] = []
        problems: list[str] = []
        for index, record in enumerate(document["Records"]):
            body = record.get("body") if isinstance(record, dict) else None
            name = record.get("messageId") if isinstance(record, dict) else None
            try:
                candidates.append(parse_sqs_body(body))
            except (MalformedEvent, NotCodeArtifactEvent) as error:
                problems.append(f"record {name or index}: {error}")
        return candidates, problems
    try:
        return [parse_event(document)], []
    except (MalformedEvent, NotCodeArtifactEvent) as error:
        raise CliError(f"event file {path!r}: {error}") from None


def cmd_explain(args: argparse.Namespace, out: TextIO, clock: Clock, client: Any) -> int:
    ruleset = load_rules(args.rules, args)
    target = args.event
    if not target.lower().endswith(".json") and not os.path.exists(target):
        coordinate = parse_coordinate(target)
        return explain_version(args, ruleset, coordinate, out, args.at or clock(), client)
    return explain_events(args, ruleset, out, clock, client)


def explain_events(args: argparse.Namespace, ruleset: RuleSet, out: TextIO, clock: Clock, client: Any) -> int:
    candidates, problems = event_candidates(args.event)
    now = args.at or clock()
    clients: list[Any] = [client]
    published: dict[VersionKey, VersionFacts] = {}
    notes: dict[VersionKey, str] = {}

    def describe(candidate: Candidate) -> VersionFacts:
        """The function's lookup (DescribePackageVersion in the source); a failure only annotates."""
        key = candidate.version_key
        if key in published:
            return published[key]
        published[key] = VersionFacts(None, None)
        try:
            if clients[0] is None:
                clients[0] = codeartifact_client(args)
            at = PackageAt.of(candidate, candidate.source_repository)
            described = clients[0].describe_package_version(**at.params(packageVersion=candidate.version))
        except (ClientError, BotoCoreError, CliError) as error:
            notes[key] = f"publish time unknown: {one_line(error)}"
            return published[key]
        value = described.get("packageVersion", {}).get("publishedTime")
        origin = origin_of(described.get("packageVersion", {}))
        published[key] = VersionFacts(value if isinstance(value, datetime) else None, origin)
        return published[key]

    for candidate in candidates:
        print(
            f"event: {candidate.format} {package_name(candidate)} {candidate.version} in "
            f"{candidate.domain}/{candidate.source_repository} "
            f"(revision {short(candidate.revision)}, {candidate.state}, {candidate.operation})",
            file=out,
        )
        # The matcher's own explain mode; the source is read only when a rule with a cooldown, a freeze or an
        # origin filter is reached.
        cooled = any(
            e.rejected_by is None
            and (e.rule.needs_origin or ruleset.needs_published_time(e.rule, candidate.origin_type, now))
            for e in ruleset.explain(candidate)
        )
        deleted = candidate.operation == "Deleted"  # never copied: the planner ignores it, age or not
        read = describe(candidate) if cooled and not deleted else VersionFacts(None, None)
        published_at = read.published_time
        origin_type = read.origin_type if cooled and not deleted else None
        explained = ruleset.explain(
            candidate, now=None if deleted else now, published_time=published_at, origin_type=origin_type
        )
        if origin_type is not None:
            print(f"  origin: {origin_text(origin_type)}", file=out)
        for explanation in explained:
            rule = explanation.rule
            if explanation.rejected_by in (AGE, FREEZE):
                held = ruleset.held_back(rule, published_at, origin_type, now)
                eligible = held[1] if held is not None else None
                when = (
                    f"eligible at {eligible.isoformat()}"
                    if eligible
                    else notes.get(candidate.version_key, "publish time unknown")
                    if published_at is None
                    else "until the freeze is lifted"
                )
                what = f" ({held[2].describe()})" if held is not None and held[2] is not None else ""
                print(f"  rule {rule.name}: rejected by {explanation.rejected_by}{what} ({when})", file=out)
            elif explanation.rejected_by == DENIED:
                entry = ruleset.deny.find(candidate)
                detail = f"denyVersions[{entry.position}] {entry.name}: {entry.reason}" if entry else ""
                print(f"  rule {rule.name}: rejected by {DENIED}: {detail}", file=out)
            elif explanation.rejected_by == ORIGIN:
                detail = rejection_detail(rule, candidate._replace(origin_type=origin_type), ORIGIN)
                print(f"  rule {rule.name}: rejected by {detail}", file=out)
            elif explanation.rejected_by is not None:
                detail = rejection_detail(rule, candidate, explanation.rejected_by)
                print(f"  rule {rule.name}: rejected by {detail}", file=out)
            else:
                print(f"  rule {rule.name}: matches -> {', '.join(rule.destination_repositories)}", file=out)
        decided = plan([candidate], ruleset, now=now, describe=describe)
        if decided.requests:
            print("  copy requests:", file=out)
            for request in decided.requests:
                print(f"    {_copy_call(request)}", file=out)
                used = decided.exceptions.get((candidate.version_key, request.destination_repository))
                if used is not None:
                    print(
                        f"      exception {used.name} ({used.reason}, expires {used.expires.isoformat()})",
                        file=out,
                    )
        else:
            print("  copy requests: none", file=out)
        for outcome in decided.outcomes:
            if outcome.status == DEFERRED and outcome.reason == FREEZE:
                until = outcome.eligible_at.isoformat() if outcome.eligible_at else "the freeze is lifted"
                print(f"  frozen for {outcome.destination} until {until} ({outcome.error_message})", file=out)
            elif outcome.status == DEFERRED:
                when = outcome.eligible_at.isoformat() if outcome.eligible_at else "its publish time is known"
                print(f"  deferred for {outcome.destination} until {when}", file=out)
            else:
                detail = outcome.reason or outcome.error_code or ""
                if outcome.reason in (DENIED, ORIGIN) and outcome.error_message:
                    detail = f"{outcome.reason}: {outcome.error_message}"
                rule_note = f" (first rule: {outcome.rule})" if outcome.rule else ""
                print(f"  {outcome.status}: {detail}{rule_note}", file=out)
    for problem in problems:
        print(f"not a CodeArtifact event: {problem}", file=out)
    if problems:
        raise CliError(
            f"{len(problems)} of {len(problems) + len(candidates)} records are not CodeArtifact events"
        )
    return EXIT_OK


def _copy_call(request: Any) -> str:
    """A planned CopyPackageVersions call, as ``explain`` shows it."""
    kwargs = request.api_kwargs()
    pinned = json.dumps(kwargs.get("versionRevisions") or kwargs.get("versions"), sort_keys=True)
    route = f"{request.source_repository} -> {request.destination_repository}"
    flags = (
        f"allowOverwrite={str(request.allow_overwrite).lower()} "
        f"includeFromUpstream={str(request.include_from_upstream).lower()}"
    )
    package = package_name(request.items[0].candidate)
    return f"CopyPackageVersions {route} {request.format} {package} {pinned} {flags}"
