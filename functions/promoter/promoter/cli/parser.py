"""The command line: every verb and option of ``promoter``."""

from __future__ import annotations

import argparse

from promoter.cli.inputs import parse_time, seconds
from promoter.revoke import TARGET_STATUSES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promoter",
        description="Check promotion rules, explain decisions, and plan or run a reconcile of CodeArtifact "
        "repositories with the promoter function's own code.",
        epilog="Exit codes: 0 ok, 1 failed versions or invalid input, 2 usage, 3 AWS or environment error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def stack_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--domain",
            help="the stack's domain (its DomainName), which rules without 'domain' mean and the only one a "
            "rule may name (default: DOMAIN_NAME)",
        )
        sub.add_argument(
            "--domain-owner",
            metavar="ACCOUNT",
            help="the stack's domain owner (its DomainOwner) for rules without 'domainOwner' (default: "
            "DOMAIN_OWNER, else the caller's account)",
        )

    def aws_options(sub: argparse.ArgumentParser) -> None:
        stack_options(sub)
        sub.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's)")
        sub.add_argument("--profile", help="AWS profile (default: AWS_PROFILE)")

    rules = commands.add_parser("rules", help="work with a rules file")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True, metavar="SUBCOMMAND")
    check = rules_commands.add_parser("check", help="validate a rules file with the function's loader")
    check.add_argument("file", metavar="FILE", help="a rules file, or ssm:PARAMETER_NAME")
    aws_options(check)

    def rules_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--rules",
            required=True,
            metavar="FILE",
            help="a rules file, or ssm:PARAMETER_NAME (read as the function reads it)",
        )

    def at_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--at", type=parse_time, metavar="TIME", help="evaluate release ages at TIME")

    explain = commands.add_parser(
        "explain", help="why a version is (not) promoted: each rule's answer, and the copies it would make"
    )
    rules_option(explain)
    explain.add_argument(
        "event",
        metavar="VERSION|EVENT.json",
        help="FORMAT/[NAMESPACE/]PACKAGE@VERSION (read from each rule's source), or an EventBridge event "
        "file, or an SQS batch of them",
    )
    at_option(explain)
    aws_options(explain)

    plan_parser = commands.add_parser("plan", help="dry run of reconcile: what would be copied, and why not")
    rules_option(plan_parser)
    plan_parser.add_argument("--json", action="store_true", help="one JSON array of plan items")
    plan_parser.add_argument(
        "--all",
        action="store_true",
        help="also list versions already present and those rejected by range, prerelease, exclude or state",
    )
    at_option(plan_parser)
    aws_options(plan_parser)

    run = commands.add_parser("reconcile", help="copy what the rules accept and a destination lacks")
    rules_option(run)
    run.add_argument("--quiet", action="store_true", help="no progress, only failures and the summary")
    run.add_argument(
        "--cursor",
        metavar="FILE",
        help="resume after the package FILE names, and write where this run stopped back to FILE",
    )
    run.add_argument(
        "--time-limit",
        type=seconds,
        metavar="SECONDS",
        help="stop starting calls after SECONDS (with --cursor, the next run continues there)",
    )
    aws_options(run)

    revoke_parser = commands.add_parser(
        "revoke",
        help="take a promoted version back: set its status in every destination the rules send it to, "
        "and record it in denyVersions",
    )
    rules_option(revoke_parser)
    revoke_parser.add_argument("version", metavar="FORMAT/[NAMESPACE/]PACKAGE@VERSION")
    revoke_parser.add_argument("--reason", required=True, help="why (kept in the denyVersions entry)")
    revoke_parser.add_argument(
        "--status",
        choices=TARGET_STATUSES,
        default="Unlisted",
        help="Unlisted (default: exact-version installs keep working, resolution skips it) or Archived "
        "(downloads blocked)",
    )
    revoke_parser.add_argument(
        "--write", action="store_true", help="also add the denyVersions entry to the rules FILE"
    )
    aws_options(revoke_parser)
    return parser
