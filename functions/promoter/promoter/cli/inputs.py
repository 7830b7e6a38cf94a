"""What the commands read: the rules (a file or an SSM parameter, checked by the function's own loader),
the stack's domain, times, and version coordinates."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from botocore.exceptions import (
    ClientError,
)

from promoter.cli.aws import config, session
from promoter.cli.errors import EXIT_ENVIRONMENT, EXIT_OK, EXIT_USAGE, CliError
from promoter.listed import Coordinate
from promoter.matching import RuleSet
from promoter.rules import StackScope, load_rules_file, load_rules_parameter
from promoter.rules_fields import ACCOUNT_PATTERN, DOMAIN_PATTERN
from promoter.versions import FORMATS

SSM_PREFIX = "ssm:"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text!r}")
    return value


def parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time such as 2026-12-01T09:00Z"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def allowed(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def stack_scope(args: argparse.Namespace | None = None, *, require_domain: bool = True) -> StackScope:
    """The stack's domain and owner, as the function gets them: ``--domain``/``--domain-owner``, else the
    function's own DOMAIN_NAME/DOMAIN_OWNER from the environment. A rule without ``domain`` needs one
    (except in ``rules check``, which then checks it as written); a rule naming another is refused."""
    domain = getattr(args, "domain", None) or os.environ.get("DOMAIN_NAME", "") or None
    owner = getattr(args, "domain_owner", None) or os.environ.get("DOMAIN_OWNER", "") or None
    if domain is not None and not re.fullmatch(DOMAIN_PATTERN, domain):
        raise CliError(
            f"--domain / DOMAIN_NAME {domain[:80]!r} is not a CodeArtifact domain name", EXIT_USAGE
        )
    if owner is not None and not re.fullmatch(ACCOUNT_PATTERN, owner):
        raise CliError(
            f"--domain-owner / DOMAIN_OWNER {owner[:80]!r} is not a 12-digit account id", EXIT_USAGE
        )
    return StackScope(
        domain,
        owner,
        require_domain=require_domain,
        unset_hint="pass --domain (or set DOMAIN_NAME) to the stack's domain, which a rule without one means",
    )


def load_rules(path: str, args: argparse.Namespace | None = None, *, require_domain: bool = True) -> RuleSet:
    """The function's loader, with the function's ALLOWED_* restrictions when the environment sets them and
    the stack's domain and owner (``stack_scope``); ``ssm:NAME`` reads the parameter as the function reads
    PROMOTION_RULES_PARAMETER (GetParameter, no decryption: a String parameter holding the rules as YAML or
    JSON)."""
    allowed_sources = allowed("ALLOWED_SOURCE_REPOSITORIES")
    allowed_destinations = allowed("ALLOWED_DESTINATION_REPOSITORIES")
    scope = stack_scope(args, require_domain=require_domain)
    if not path.startswith(SSM_PREFIX):
        return load_rules_file(
            path, allowed_sources=allowed_sources, allowed_destinations=allowed_destinations, scope=scope
        )
    name = path[len(SSM_PREFIX) :].strip()
    if not name:
        raise CliError("--rules ssm: needs a parameter name, as in ssm:/promoter/rules", EXIT_USAGE)
    client = session(args or argparse.Namespace(region=None, profile=None)).client("ssm", config=config())
    try:
        value = client.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            raise CliError(
                f"SSM parameter {name!r} not found in {client.meta.region_name}", EXIT_ENVIRONMENT
            ) from None
        raise
    return load_rules_parameter(
        str(value),
        name=name,
        allowed_sources=allowed_sources,
        allowed_destinations=allowed_destinations,
        scope=scope,
    )


def parse_coordinate(text: str) -> Coordinate:
    """``npm/@acme/widgets@1.2.0``, ``pypi/requests@2.0.0``, ``maven/com.acme/lib@1.0``: the version after
    the last ``@``, the format before the first ``/``, the package after the last ``/``; between them the
    namespace (an npm scope's ``@`` is dropped, as CodeArtifact stores it)."""
    usage = (
        f"{text!r} is neither an event file nor FORMAT/[NAMESPACE/]PACKAGE@VERSION "
        "(for example npm/@acme/widgets@1.2.0 or pypi/requests@2.31.0)"
    )
    name, at, version = text.rpartition("@")
    fmt, slash, rest = name.partition("/")
    if not at or not slash or not version or not rest or not fmt:
        raise CliError(usage, EXIT_USAGE)
    if fmt not in FORMATS:
        raise CliError(f"{fmt!r} is not a format ({', '.join(sorted(FORMATS))}): {usage}", EXIT_USAGE)
    namespace, _, package = rest.rpartition("/")
    if fmt == "npm" and namespace.startswith("@"):
        namespace = namespace[1:]
    if not package or "@" in package or (namespace == "" and rest.startswith("/")):
        raise CliError(usage, EXIT_USAGE)
    return Coordinate(fmt, namespace or None, package, version)


def cmd_rules_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Valid rules exit 0, also with warnings (filters that contradict a rule's formats), one line each."""
    ruleset = load_rules(args.file, args, require_domain=False)
    for rule in ruleset.rules:
        print(rule.describe(), file=out)
    for warning in ruleset.warnings():
        print(f"promoter: warning: {warning}", file=err)
    return EXIT_OK
