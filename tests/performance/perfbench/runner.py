"""Starting the benchmark's subprocesses with a Lambda-like environment."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from perfbench import workload
from perfbench.template import FUNCTION_DIR, ROOT, Settings

PERF_DIR = ROOT / "tests" / "performance"
Json = dict[str, Any]


class ChildFailed(RuntimeError):
    pass


def promoter_present() -> bool:
    return (FUNCTION_DIR / "app.py").exists()


def child_env(
    settings: Settings, *, rules_file: Path | None = None, endpoint: str | None = None, unpaced: bool = False
) -> dict[str, str]:
    """The template's environment plus what the Lambda runtime sets, with fake credentials.

    ``unpaced`` switches off the promoter's client-side pacing of copy calls (PROMOTER_COPY_RATE=0)
    for figures that use the in-memory fake, which has no quota: there the pacing would only add
    sleeping to a figure that measures CPU.

    Only variables that cannot change the measured code are inherited (PATH, HOME, locale), so a
    developer's AWS profile or Powertools settings never leak into a figure.
    """
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(settings.environment)
    env |= {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "codeartifact-promoter",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(settings.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/codeartifact-promoter",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/26/[$LATEST]0123456789abcdef",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "LAMBDA_TASK_ROOT": str(FUNCTION_DIR),
        "_HANDLER": settings.handler,
        "PYTHONPATH": os.pathsep.join([str(FUNCTION_DIR), str(PERF_DIR), str(ROOT / "local")]),
    }
    if rules_file is not None:
        # A generated workload names its own repositories: the allow-lists (the stack's guard) then
        # list exactly those, so the check still runs but does not reject the benchmark's rules.
        env["PROMOTION_RULES_FILE"] = str(rules_file)
        env.pop("PROMOTION_RULES_PARAMETER", None)
        env["ALLOWED_SOURCE_REPOSITORIES"] = workload.SOURCE
        env["ALLOWED_DESTINATION_REPOSITORIES"] = f"{workload.RELEASE},{workload.MIRROR}"
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    if unpaced:
        env["PROMOTER_COPY_RATE"] = "0"
    return env


def lambda_site() -> Path | None:
    """The function's packaged dependencies alone, compiled, as a Lambda execution environment holds them.

    Cold starts run on this (``python -S``: no site-packages at all) instead of the development venv,
    which also holds awscrt, pyOpenSSL and cryptography (SAM CLI's and moto's dependencies): botocore
    loads those when present, which added about 150 ms to both the floor and ours and flattered the
    ratio. Built once per requirements.txt with the project's uv (from its cache: no network when
    ``make setup`` ran); None when uv is not there (the figure then runs on the venv and says so).
    """
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        found = shutil.which("uv")
        if found is None:
            return None
        uv = Path(found)
    requirements = FUNCTION_DIR / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes() + sys.version.encode()).hexdigest()[:16]
    site = ROOT / ".venv" / "bench-lambda-site" / digest
    if (site / ".complete").exists():
        return site
    shutil.rmtree(site, ignore_errors=True)
    subprocess.run(
        [
            *(str(uv), "pip", "install", "--quiet", "--compile-bytecode", "--target", str(site)),
            *("--python", sys.executable, "-r", str(requirements)),
        ],
        check=True,
        timeout=600,
    )
    (site / ".complete").touch()
    return site


def lambda_task(into: Path) -> Path:
    """A compiled copy of the function's code (what /var/task holds), so that both the floor's boto3 and
    our modules are read from bytecode: whether the working tree's own ``__pycache__`` is current depends
    on the developer's machine (PYTHONDONTWRITEBYTECODE, edits since the last run), and compiling our
    modules at every start would be a cost of the checkout, not of the function."""
    task = into / "task"
    shutil.copytree(FUNCTION_DIR, task, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(task)], check=True, timeout=120)
    return task


def lambda_python() -> str:
    """The base interpreter of the venv (the same Python, without the venv's site-packages)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (Path(sys.base_prefix) / "bin" / version, Path(sys.base_prefix) / "bin" / "python3"):
        if candidate.exists():
            return str(candidate)
    return sys.executable


def on_lambda_site(env: dict[str, str], site: Path, task: Path) -> dict[str, str]:
    """``env`` for a child that sees the function's code (``task``), ``site``, the benchmark's own modules
    and the shared Lambda context (``local/promoter_dev``), nothing else."""
    return env | {
        "PYTHONPATH": os.pathsep.join([str(task), str(site), str(PERF_DIR), str(ROOT / "local")]),
        "LAMBDA_TASK_ROOT": str(task),
    }


def run_child(
    module: str,
    spec: Json,
    env: dict[str, str],
    *,
    timeout: float = 300.0,
    interpreter: list[str] | None = None,
    cwd: Path | None = None,
) -> Json:
    """Run ``python -m module SPEC RESULT`` in the code root (Lambda's working directory).

    The function's log lines go to /dev/null (in Lambda they go to a pipe); stderr is kept for
    the error message when the child fails.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        spec_file, result_file, err_file = (
            Path(tmp, "spec.json"),
            Path(tmp, "result.json"),
            Path(tmp, "stderr"),
        )
        spec_file.write_text(json.dumps(spec))
        with err_file.open("wb") as err:
            proc = subprocess.run(
                [*(interpreter or [sys.executable]), "-m", module, str(spec_file), str(result_file)],
                cwd=cwd or FUNCTION_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
                timeout=timeout,
                check=False,
            )
        if proc.returncode != 0 or not result_file.exists():
            tail = err_file.read_text(errors="replace")[-3000:]
            raise ChildFailed(
                f"{module} {spec.get('kind') or spec.get('mode')} exited {proc.returncode}:\n{tail}"
            )
        result: Json = json.loads(result_file.read_text())
        return result
