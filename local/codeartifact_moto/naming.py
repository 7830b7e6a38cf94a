"""Name, namespace and version normalization, as CodeArtifact applies it per package format.

The service stores some formats' names and versions normalized, so the stored form may differ
from what the package manager sent (user guide, "Package name, package version, and asset name
normalization"):

* pypi: the name is lowercased and every run of ``.``, ``-`` and ``_`` becomes one ``-``
  (PEP 503). API requests are *not* normalized: the guide says the normalized name must be used
  in CLI and API requests, so ``Foo_Bar`` finds nothing once ``foo-bar`` is stored.
* nuget: the name is lowercased; the version loses leading zeros in its numeric parts, a fourth
  part of 0 and SemVer 2.0.0 build metadata (``1.00.0.0+abc`` is ``1.0.0``; no padding, so
  ``1.00`` is ``1.0``). API requests are normalized the same way (name and version inputs).
* swift: name and namespace are lowercased; versions are kept. API requests are normalized.
* every other format (npm, maven, generic, ruby, cargo) is stored and looked up as given.

Asset names are never normalized in requests.
"""

from __future__ import annotations

import re

_PYPI_SEPARATORS = re.compile(r"[-_.]+")
LOWERCASED_NAMES = frozenset({"nuget", "swift"})
LOWERCASED_NAMESPACES = frozenset({"swift"})
REQUESTS_NORMALIZED = frozenset({"nuget", "swift"})


def stored_name(fmt: str, name: str) -> str:
    """The name a package of ``fmt`` is stored under when a package manager brings it in."""
    if fmt == "pypi":
        return _PYPI_SEPARATORS.sub("-", name).lower()
    if fmt in LOWERCASED_NAMES:
        return name.lower()
    return name


def stored_namespace(fmt: str, namespace: str | None) -> str | None:
    if namespace is not None and fmt in LOWERCASED_NAMESPACES:
        return namespace.lower()
    return namespace


def stored_version(fmt: str, version: str) -> str:
    """NuGet's normalized version; every other format keeps the version as given."""
    if fmt != "nuget":
        return version
    release, plus, _build = version.partition("+")
    core, dash, prerelease = release.partition("-")
    parts = core.split(".")
    if not all(part.isdigit() for part in parts):
        return release if plus else version  # not a NuGet version number: only drop build metadata
    numbers = [str(int(part)) for part in parts]
    if len(numbers) == 4 and numbers[3] == "0":
        numbers.pop()
    return ".".join(numbers) + (dash + prerelease if dash else "")


def request_name(fmt: str, name: str) -> str:
    """The stored name an API request's ``package`` refers to."""
    return stored_name(fmt, name) if fmt in REQUESTS_NORMALIZED else name


def request_namespace(fmt: str, namespace: str | None) -> str | None:
    return stored_namespace(fmt, namespace) if fmt in REQUESTS_NORMALIZED else namespace


def request_version(fmt: str, version: str) -> str:
    return stored_version(fmt, version)
