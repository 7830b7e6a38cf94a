"""``promoter``: the function's own code, seen from a terminal.

    promoter rules check FILE
    promoter explain --rules FILE [--at TIME] FORMAT/[NAMESPACE/]PACKAGE@VERSION | EVENT.json
    promoter plan --rules FILE [--json] [--all] [--at TIME]
    promoter reconcile --rules FILE [--quiet] [--cursor FILE] [--time-limit SECONDS]
    promoter revoke --rules FILE FORMAT/[NAMESPACE/]PACKAGE@VERSION --reason TEXT [--status Unlisted|Archived]
        [--write]

``--rules`` takes a file or ``ssm:PARAMETER_NAME`` (read as the function reads PROMOTION_RULES_PARAMETER).

Every command uses the function's modules (the rules loader, the matcher's explanations, the planner, the
copier, the reporter, reconcile), so a rules file checked here is checked exactly as the function will
check it, and ``plan`` is ``reconcile`` without the copies. AWS access comes from the environment as for
any AWS tool (``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL`` for a local AWS). Reads fail fast: a
2 s connect timeout (``PROMOTER_CONNECT_TIMEOUT``), a 30 s read timeout (``PROMOTER_READ_TIMEOUT``) and 3
attempts (``AWS_MAX_ATTEMPTS``, ``AWS_RETRY_MODE``), so an unreachable endpoint is an error within seconds;
on a terminal, stderr shows which call it is waiting for.

``explain`` and ``plan`` read the destination's origin controls before a copy they would make (DescribePackage
for the package's, GetAssociatedPackageGroup for its package group's, INHERIT resolved up the group tree) and
say "would be refused: destination package blocks publish" (or upstream, or "package group '/npm/*' blocks
publish") where the copy would fail NOT_ALLOWED (promoter.origin_controls).

Exit codes (``plan`` and ``reconcile`` alike): 0 success; 1 a version failed (``plan``: would fail, such as
an ALREADY_EXISTS conflict or a NOT_ALLOWED refusal), or the rules or event file is invalid; 2 wrong usage;
3 AWS or environment trouble (no credentials, no region, unknown domain or repository, throttling that
outlasted the retries, an endpoint that cannot be reached). Errors are one line on stderr, never a
traceback (``PROMOTER_DEBUG=1`` shows it). ``reconcile`` goes on past a source or destination it cannot
read, like the scheduled run, and then exits 3 (the run is incomplete), else 1 if a version failed;
stopping at ``--time-limit`` is not an error (exit 0, with a line saying how to continue).

``reconcile --cursor FILE`` resumes after the package the file names (a missing file, or ``{}``, means
the beginning) and writes where it stopped back to the file (``{}`` once the walk reached its end), the
same cursor the scheduled run keeps in its SSM parameter; without ``--cursor`` it starts at the beginning
and keeps nothing.

``rich`` (the optional extra ``cli``) draws the progress bar and tables on a terminal; without it, or when
the output is not a terminal, the output is plain lines. The function itself never imports this module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from promoter.cli.aws import WAITING, Waiting
from promoter.cli.errors import EXIT_ENVIRONMENT, EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, explain_error
from promoter.cli.explain import cmd_explain
from promoter.cli.inputs import Clock, cmd_rules_check, load_rules, parse_coordinate, stack_scope, utc_now
from promoter.cli.parser import build_parser
from promoter.cli.plan import cmd_plan, cmd_reconcile
from promoter.cli.revoke import cmd_revoke

__all__ = [
    "EXIT_ENVIRONMENT",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliError",
    "build_parser",
    "load_rules",
    "main",
    "parse_coordinate",
    "stack_scope",
]


def main(
    argv: Sequence[str] | None = None,
    *,
    clock: Clock | None = None,
    client: Any = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command; returns the exit code. ``clock`` and ``client`` are for tests."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    now = clock or utc_now
    WAITING[:] = [Waiting(err)]
    try:
        if args.command == "rules":
            return cmd_rules_check(args, out, err)
        if args.command == "explain":
            return cmd_explain(args, out, now, client)
        if args.command == "plan":
            return cmd_plan(args, out, now, client)
        if args.command == "revoke":
            return cmd_revoke(args, out, err, now, client)
        return cmd_reconcile(args, out, err, now, client)
    except KeyboardInterrupt:
        print("promoter: interrupted", file=err)
        return 130
    except Exception as error:
        if os.environ.get("PROMOTER_DEBUG"):
            raise
        failure = explain_error(error)
        print(f"promoter: error: {' '.join(str(failure).split())}", file=err)
        return failure.code
