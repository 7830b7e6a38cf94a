"""What `sam build` packages (functions/promoter/requirements.txt) matches pyproject's runtime deps."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _normalise(requirement: str) -> str:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()  # type: ignore[union-attr]
    return f"{re.sub(r'[-_.]+', '-', name).lower()}{spec.replace(' ', '')}"


def test_requirements_match_pyproject_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = sorted(_normalise(d) for d in project["dependencies"])
    lines = (ROOT / "functions" / "promoter" / "requirements.txt").read_text().splitlines()
    packaged = sorted(
        _normalise(line) for line in lines if line.strip() and not line.lstrip().startswith("#")
    )
    assert packaged == wanted


def test_the_cli_extra_is_not_packaged() -> None:
    text = (ROOT / "functions" / "promoter" / "requirements.txt").read_text()
    assert "rich" not in text
