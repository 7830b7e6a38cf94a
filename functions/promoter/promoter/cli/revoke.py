"""``promoter revoke``: take a promoted version back in every destination (``promoter.revoke``) and record
it in denyVersions."""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from typing import Any, TextIO

from promoter.cli.aws import codeartifact_client, session
from promoter.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError
from promoter.cli.inputs import SSM_PREFIX, Clock, allowed, load_rules, parse_coordinate, stack_scope
from promoter.cli.output import WarningsTo, package_name
from promoter.outcome_events import ENV_BUS, OutcomeEventPublisher
from promoter.revoke import OUTCOME as REVOKED_OUTCOME
from promoter.revoke import REVOKED, add_deny_entry, deny_entry, entry_yaml, revoke, routes
from promoter.rules import load_rules_text


def cmd_revoke(args: argparse.Namespace, out: TextIO, err: TextIO, clock: Clock, client: Any) -> int:
    """Exit 0 when every destination holds the version revoked (or not at all), 1 when one could not be
    revoked (another build there, a refused or unverified call); the denyVersions entry is printed (and
    with ``--write`` added to the file) either way."""
    reason = " ".join(str(args.reason).split())
    if not reason or len(reason) > 1000:
        raise CliError("--reason must be a non-empty text of at most 1000 characters", EXIT_USAGE)
    if args.write and args.rules.startswith(SSM_PREFIX):
        raise CliError(
            "--write edits a rules file; for ssm: rules, add the printed entry to the parameter", EXIT_USAGE
        )
    if args.write and not os.access(args.rules, os.W_OK):
        raise CliError(f"--write: cannot write the rules file {args.rules!r}", EXIT_USAGE)
    ruleset = load_rules(args.rules, args)
    target = parse_coordinate(args.version)
    name = f"{target.format} {package_name(target)} {target.version}"
    if not routes(ruleset, target):
        raise CliError(f"no rule sends {name} to any destination: nothing to revoke", EXIT_FAILED)
    steps = revoke(
        client if client is not None else codeartifact_client(args), ruleset, target, status=args.status
    )
    print(f"revoke: {name} -> {args.status}", file=out)
    for step in steps:
        pinned = f" (revision {step.revision})" if step.revision else ""
        if step.new_revision:
            pinned = f" (revision {step.revision}, now {step.new_revision})"
        print(
            f"  {step.domain}/{step.destination}: {step.action}: {step.detail}{pinned} [rule {step.rule}]",
            file=out,
        )
    publish_revocations(args, err, steps, target, reason, clock())
    entry = deny_entry(target, reason)
    if args.write:
        path = args.rules
        add_deny_entry(
            path,
            entry,
            check=lambda text: load_rules_text(
                text,
                source=path,
                allowed_sources=allowed("ALLOWED_SOURCE_REPOSITORIES"),
                allowed_destinations=allowed("ALLOWED_DESTINATION_REPOSITORIES"),
                scope=stack_scope(args),
            ),
        )
        print(f"recorded in {path} (denyVersions); deploy the rules so the function honours it", file=out)
    else:
        print(
            "add to the rules (top level), so that neither events nor reconcile promote it again:", file=out
        )
        print("denyVersions:", file=out)
        print(entry_yaml(entry), end="", file=out)
    return EXIT_OK if all(step.ok for step in steps) else EXIT_FAILED


def publish_revocations(  # noqa: PLR0917 - the command's pieces
    args: argparse.Namespace, err: TextIO, steps: list[Any], target: Any, reason: str, now: datetime
) -> None:
    """One ``Revoked`` outcome event per destination revoked, on OUTCOME_EVENT_BUS when it is set."""
    bus = os.environ.get(ENV_BUS, "").strip()
    revoked = [step for step in steps if step.action == REVOKED]
    if not bus or not revoked:
        return
    publisher = OutcomeEventPublisher(
        bus, client_factory=lambda: session(args).client("events"), logger=WarningsTo(err)
    )
    for step in revoked:
        publisher.publish(
            {
                "outcome": REVOKED_OUTCOME,
                "domain": step.domain,
                "domainOwner": step.domain_owner,
                "sourceRepository": step.source,
                "destinationRepository": step.destination,
                "format": target.format,
                "namespace": target.namespace,
                "package": target.package,
                "version": target.version,
                "revision": step.revision,
                "destinationRevision": step.new_revision or step.revision,
                "previousStatus": step.previous_status,
                "status": step.status,
                "rule": step.rule,
                "reason": reason,
                "revokedAt": now.isoformat(),
            }
        )
    publisher.flush()
