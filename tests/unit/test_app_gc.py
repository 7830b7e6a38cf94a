"""The cyclic collector is held off during a Lambda initialisation and always running afterwards.

Run in fresh interpreters: the hold is taken when ``app`` is first imported, and only in a Lambda
execution environment (AWS_EXECUTION_ENV=AWS_Lambda_...).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "functions" / "promoter"

SCRIPT = """
import gc, json, sys
import app
held = not gc.isenabled()
from promoter_dev.lambda_context import LambdaContext as Context
try:
    app.lambda_handler({"Records": [{"messageId": "m1", "body": "not json"}]}, Context())
    error = None
except Exception as exc:
    error = type(exc).__name__
print(json.dumps({"held_at_import": held, "enabled_after": gc.isenabled(),
                  "frozen": gc.get_freeze_count(), "error": error}))
"""


def _run(tmp_path: Path, *, lambda_env: bool, rules: str) -> dict[str, object]:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(rules)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PROMOT"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(FUNCTION_DIR), str(FUNCTION_DIR.parents[1] / "local")]),
        PROMOTION_RULES_FILE=str(rules_file),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    if lambda_env:
        env["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.13"
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


VALID = (
    "rules:\n  - name: r\n    domain: acme\n    sourceRepository: staging\n"
    "    destinationRepositories: [release]\n"
)


def test_in_lambda_the_collector_is_held_during_init_then_frozen_and_running(tmp_path: Path) -> None:
    result = _run(tmp_path, lambda_env=True, rules=VALID)
    assert result["held_at_import"] is True
    assert result["enabled_after"] is True
    assert isinstance(result["frozen"], int)
    assert result["frozen"] > 0
    assert result["error"] is None


def test_invalid_rules_never_leave_the_collector_off(tmp_path: Path) -> None:
    result = _run(tmp_path, lambda_env=True, rules="rules:\n  - name: r\n")
    assert result["held_at_import"] is True
    assert result["error"] == "RulesError"
    assert result["enabled_after"] is True


@pytest.mark.parametrize("rules", [VALID])
def test_outside_lambda_nothing_changes(tmp_path: Path, rules: str) -> None:
    result = _run(tmp_path, lambda_env=False, rules=rules)
    assert result["held_at_import"] is False
    assert result["enabled_after"] is True
    assert result["frozen"] == 0
