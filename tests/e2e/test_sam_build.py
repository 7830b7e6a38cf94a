"""`sam build` of template.yaml on this machine, no container: the zip Lambda would get, file by file.

The runtime and architecture come from the template, so a change to either is checked against
what SAM CLI really builds here. uv installs wheels for the target Python and platform, so the
artifact is checked for the target's tags and machine code, not the host's.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging import tags
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from promoter_dev import cfn

pytestmark = pytest.mark.e2e

VENV_BIN = Path(sys.executable).parent
# ELF e_machine values.
ELF_MACHINES = {"arm64": 183, "x86_64": 62}
UNAME_MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
# Dev-only: in the dev group (or local/), never in the function's package.
DEV_DISTRIBUTIONS = {
    "moto",
    "pytest",
    "hypothesis",
    "mypy",
    "rich",
    "aws-sam-cli",
    "cfn-lint",
    "awslambdaric",
    "boto3-stubs",
    "codeartifact-promoter",
}
DEV_MODULES = {
    "moto",
    "pytest",
    "_pytest",
    "hypothesis",
    "mypy",
    "rich",
    "samcli",
    "cfnlint",
    "awslambdaric",
    "codeartifact_moto",
    "promoter_dev",
    "tests",
}


@dataclass(frozen=True)
class Build:
    """One `sam build` of the template: where the function landed and what it was built for."""

    function_dir: Path
    python: tuple[int, int]
    architecture: str
    output: str


def _target() -> tuple[cfn.FunctionConfig, str]:
    """The function's settings and its single architecture, Globals merged as SAM merges them."""
    resolver = cfn.Resolver(cfn.load_template())
    function = cfn.function_config(resolver)
    spec = resolver.template["Resources"][cfn.FUNCTION_ID]
    glob = resolver.template.get("Globals", {}).get("Function", {})
    architectures = resolver.resolve(
        spec.get("Properties", {}).get("Architectures", glob.get("Architectures", ["x86_64"]))
    )
    assert len(architectures) == 1, architectures
    return function, str(architectures[0])


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    function, architecture = _target()
    match = re.fullmatch(r"python(\d+)\.(\d+)", function.runtime)
    assert match, function.runtime
    work = tmp_path_factory.mktemp("sam-build")
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        # The python-uv build method is a SAM CLI beta; this opts in to it alone, without a prompt.
        "SAM_CLI_BETA_UV_PACKAGE_MANAGER": "1",
        # SAM CLI runs the `uv` it finds on PATH: the project's own, from the lock.
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    # cwd is the temp dir, so nothing is written into the work tree (.aws-sam, build.toml).
    completed = subprocess.run(
        [
            str(VENV_BIN / "sam"),
            "build",
            "--template-file",
            str(cfn.PROJECT_ROOT / "template.yaml"),
            "--build-dir",
            str(work / "build"),
            "--cache-dir",
            str(work / "cache"),
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    return Build(
        function_dir=work / "build" / function.logical_id,
        python=(int(match[1]), int(match[2])),
        architecture=architecture,
        output=output,
    )


def _installed(function_dir: Path) -> dict[str, Path]:
    """Distribution name -> its .dist-info directory in the artifact."""
    found: dict[str, Path] = {}
    for info in function_dir.glob("*.dist-info"):
        name = (info / "METADATA").read_text(encoding="utf-8").split("\nName: ", 1)[1].split("\n", 1)[0]
        found[canonicalize_name(name)] = info
    return found


def _dist_version(info: Path) -> Version:
    text = (info / "METADATA").read_text(encoding="utf-8")
    return Version(text.split("\nVersion: ", 1)[1].split("\n", 1)[0])


def _lambda_tags(build: Build) -> set[tags.Tag]:
    """Every wheel tag the Lambda runtime accepts, as pip on that runtime would list them."""
    machine = UNAME_MACHINES[build.architecture]
    # python3.12 and later run on Amazon Linux 2023 (glibc 2.34), earlier ones on Amazon Linux 2 (2.26).
    glibc = 34 if build.python >= (3, 12) else 26
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(glibc, 16, -1)]
    platforms += [f"manylinux2014_{machine}", "linux_" + machine]
    cp = f"cp{build.python[0]}{build.python[1]}"
    return set(tags.cpython_tags(build.python, abis=[cp, "abi3", "none"], platforms=platforms)) | set(
        tags.compatible_tags(build.python, cp, platforms)
    )


def test_the_function_code_and_its_bundled_rules_are_in_the_artifact(build: Build) -> None:
    source = cfn.function_config(cfn.Resolver(cfn.load_template())).code_dir
    root = build.function_dir

    assert (root / "app.py").read_bytes() == (source / "app.py").read_bytes()
    assert (root / "promotion-rules.yaml").read_bytes() == (source / "promotion-rules.yaml").read_bytes()
    modules = sorted(path.name for path in (source / "promoter").glob("*.py"))
    assert "__init__.py" in modules
    assert sorted(path.name for path in (root / "promoter").glob("*.py")) == modules
    assert not list(root.rglob("__pycache__")), "bytecode of the host's Python was packaged"


def test_every_runtime_dependency_is_installed_within_its_bounds(build: Build) -> None:
    source = cfn.function_config(cfn.Resolver(cfn.load_template())).code_dir
    lines = (source / "requirements.txt").read_text(encoding="utf-8").splitlines()
    wanted = [Requirement(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    installed = _installed(build.function_dir)

    assert wanted
    for requirement in wanted:
        info = installed.get(canonicalize_name(requirement.name))
        assert info is not None, f"{requirement.name} is not in the artifact"
        assert requirement.specifier.contains(_dist_version(info), prereleases=True), (requirement, info)


def test_wheels_are_for_the_templates_python_and_architecture(build: Build) -> None:
    accepted = _lambda_tags(build)

    for name, info in _installed(build.function_dir).items():
        wheel = (info / "WHEEL").read_text(encoding="utf-8")
        wheel_tags = {tag for line in re.findall(r"^Tag: (.+)$", wheel, re.M) for tag in tags.parse_tag(line)}
        assert wheel_tags & accepted, f"{name} was installed as {sorted(map(str, wheel_tags))}"


def test_compiled_extensions_are_machine_code_for_the_target(build: Build) -> None:
    extensions = list(build.function_dir.rglob("*.so"))
    cp = f"cpython-{build.python[0]}{build.python[1]}-{UNAME_MACHINES[build.architecture]}-linux-gnu"

    # pyyaml's libyaml binding is the one compiled runtime dependency: it must be there, built for the target.
    assert (build.function_dir / "yaml" / f"_yaml.{cp}.so").is_file(), sorted(map(str, extensions))
    for extension in extensions:
        assert cp in extension.name or ".abi3." in extension.name, extension
        header = extension.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", extension
        assert header[4] == 2, f"{extension} is not 64-bit"
        (machine,) = struct.unpack_from("<H", header, 18)
        assert machine == ELF_MACHINES[build.architecture], f"{extension}: e_machine {machine}"


def test_nothing_dev_only_is_packaged(build: Build) -> None:
    top_level = {path.name for path in build.function_dir.iterdir()}

    assert not top_level & DEV_MODULES
    assert not set(_installed(build.function_dir)) & DEV_DISTRIBUTIONS
