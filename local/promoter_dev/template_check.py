"""`make template-check`: the template passes sam validate --lint, cfn-lint without warnings, and checkov.

checkov is not in the lock (it pins packaging<24), so it runs through ``uv tool run``; every check it
skips must carry a written reason in the resource's ``Metadata.checkov.skip[].comment``, which this
verifies before running it. Nothing here talks to AWS: SAM's telemetry and checkov's downloads are off.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from promoter_dev import cfn

VENV_BIN = Path(sys.executable).parent
CHECKOV = "checkov>=3.2"


def _tool(name: str) -> str:
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed (run `make setup`)")
    return found


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {"SAM_CLI_TELEMETRY": "0", "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    )
    return env


def skips_without_reason(template: Path) -> list[str]:
    """Checkov skips whose comment is missing or too short to be a reason."""
    data = cfn.load_template(template)
    problems = []
    for logical_id, resource in data["Resources"].items():
        skips = (resource.get("Metadata") or {}).get("checkov", {}).get("skip", [])
        for skip in skips:
            comment = str(skip.get("comment") or "").strip()
            if len(comment.split()) < 5:
                problems.append(f"{logical_id}: checkov skip {skip.get('id')} has no written reason")
    return problems


def commands(template: Path) -> list[tuple[str, list[str]]]:
    return [
        ("sam validate --lint", [_tool("sam"), "validate", "--lint", "--template-file", str(template)]),
        # cfn-lint exits non-zero on warnings (4) and informational findings (8) as well as errors.
        ("cfn-lint", [_tool("cfn-lint"), "--", str(template)]),
        (
            "checkov",
            [
                _tool("uv"),
                "tool",
                "run",
                "--quiet",
                "--from",
                CHECKOV,
                "checkov",
                "--file",
                str(template),
                "--framework",
                "cloudformation",
                "--compact",
                "--quiet",
                "--skip-download",
            ],
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m promoter_dev.template_check", description=__doc__)
    parser.add_argument("--template", type=Path, default=cfn.TEMPLATE)
    parser.add_argument("--skip-checkov", action="store_true", help="only SAM and cfn-lint (offline)")
    args = parser.parse_args(argv)
    template: Path = args.template.resolve()

    failed = []
    problems = skips_without_reason(template)
    for problem in problems:
        print(problem)
    if problems:
        failed.append("checkov skip reasons")
    # The three tools are independent and each spends seconds importing; run them side by side.
    running = []
    for name, command in commands(template):
        if name == "checkov" and args.skip_checkov:
            continue
        process = subprocess.Popen(  # noqa: S603 - fixed tools from the venv
            command,
            cwd=template.parent,
            env=_environment(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        running.append((name, process))
    for name, process in running:
        output, _ = process.communicate()
        print(f"== {name}")
        if output.strip():
            print(output.strip())
        if process.returncode != 0:
            failed.append(name)
    if failed:
        print(f"template check FAILED: {', '.join(failed)}")
        return 1
    print("template check passed: sam validate --lint, cfn-lint" + ("" if args.skip_checkov else ", checkov"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
