"""The ``promoter`` console script run as an operator runs it: a child process against an AWS endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def promoter_command() -> list[str]:
    """The installed console script beside this interpreter, or the module it runs when not installed."""
    script = Path(sys.executable).with_name("promoter")
    return [str(script)] if script.exists() else [sys.executable, "-m", "promoter.cli"]


def run_promoter(*args: str, endpoint_url: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """``promoter ARGS`` with AWS_ENDPOINT_URL (and ``environment``) added to this process's environment."""
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint_url, **environment)
    return subprocess.run(  # noqa: S603 - our own console script, arguments from the caller
        [*promoter_command(), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
