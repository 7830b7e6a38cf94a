"""The garbage-collector helper in a Lambda-like process: held while the function loads, running again
once the first invocation has built its dependencies, even when that invocation fails on invalid rules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = ROOT / "functions" / "promoter"

SCRIPT = """
import gc, sys
import app
from promoter_dev.lambda_context import LambdaContext
held_after_import = not gc.isenabled()
try:
    app.lambda_handler({"Records": []}, LambdaContext())
except Exception as error:  # the invalid rules
    failed = type(error).__name__
else:
    failed = None
print(held_after_import, gc.isenabled(), gc.get_freeze_count() > 0, failed)
"""


@pytest.mark.parametrize(
    ("tuning", "expected"), [("", "True True True RulesError"), ("off", "False True False RulesError")]
)
def test_the_collector_runs_again_after_a_first_invocation_with_invalid_rules(
    tmp_path: Path, tuning: str, expected: str
) -> None:
    # Given a Lambda-like environment whose rules file is invalid
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: [{name: broken}]\n")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PROMOTION_RULES_FILE": str(rules),
        "DOMAIN_NAME": "acme",
        "PROMOTER_GC_TUNING": tuning,
        "PYTHONPATH": os.pathsep.join([str(FUNCTION), str(ROOT / "local")]),
    }
    # When the function is imported and invoked once
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=FUNCTION,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then the collector was held through the import (unless switched off) and runs again afterwards
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == expected
