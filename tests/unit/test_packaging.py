"""What `sam build` packages (functions/promoter/requirements.txt) is uv.lock's runtime closure, pinned.

The tests run on the locked versions; a requirements.txt with ranges let `sam build` resolve newer ones
than any test ever saw. The file is generated (`make requirements`), so a lock change without
regenerating it fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "functions" / "promoter" / "requirements.txt"
# The same arguments as the Makefile's REQUIREMENTS_EXPORT (the file's header names them too).
EXPORT_ARGS = ("export", "--frozen", "--no-default-groups", "--no-emit-project", "--no-hashes", "--no-header")


def _uv() -> str:
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    assert found, "uv is in the dev group: run `make setup`"
    return found


def _header_and_body(text: str) -> tuple[list[str], str]:
    lines = text.splitlines(keepends=True)
    header = []
    while lines and lines[0].startswith("#"):
        header.append(lines.pop(0).rstrip("\n"))
    return header, "".join(lines)


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in REQUIREMENTS.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            requirement = Requirement(line)
            [spec] = requirement.specifier
            assert spec.operator == "==", line
            pins[canonicalize_name(requirement.name)] = Version(spec.version)
    return pins


def test_requirements_are_the_locked_runtime_closure_as_uv_exports_it() -> None:
    # Given the lock, exported the way `make requirements` does
    exported = subprocess.run(
        [_uv(), *EXPORT_ARGS], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout

    # Then requirements.txt is a header saying how to regenerate it, followed by exactly that export
    header, body = _header_and_body(REQUIREMENTS.read_text())
    assert any("make requirements" in line for line in header), header
    assert f"#   uv {' '.join(EXPORT_ARGS)}" in header
    assert body == exported, "requirements.txt is out of date with uv.lock: run `make requirements`"


def test_every_pyproject_dependency_is_pinned_within_its_bounds() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins()
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not packaged"
        assert requirement.specifier.contains(pinned, prereleases=True), (dependency, pinned)


def test_the_cli_extra_and_dev_tools_are_not_packaged() -> None:
    pins = _pins()
    for name in ("rich", "moto", "pytest", "mypy", "aws-sam-cli", "uv", "codeartifact-promoter"):
        assert name not in pins, name
    assert not re.search(r"^-e|file:|^\.", REQUIREMENTS.read_text(), re.M)
