"""The npm endpoint: packuments, tarballs and ``npm publish``.

Paths under the endpoint: ``GET <name>`` and ``GET @scope%2fname`` (the packument: every listed version's
manifest with ``dist.tarball``, ``dist.shasum`` and ``dist.integrity``, ``dist-tags`` and ``time``),
``GET <name>/-/<file>.tgz`` (the tarball) and ``PUT <name>`` (``npm publish``: one version with its
tarball as a base64 ``_attachments`` entry and its ``dist-tags``). A scope is the package's namespace
without the ``@``, as the service stores it. A version is published once ("You cannot publish over the
previously published versions", 403 as the npm registry answers, *choice*: the service's status is not
documented); the tarball's own ``package/package.json`` must name the manifest's package and version.

``dist-tags`` are kept with the versions they were published with (copies keep them): each tag names the
newest listed version published with it; without a listed ``latest`` it names the highest listed
release (a prerelease only when there is nothing else; *choice*: the guide does not say how tags move).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import io
import json
import re
import tarfile
from typing import Any

from . import registry_store as store
from .models import PackageVersion
from .registry_store import RegistryError, Request, Response

_NAME = re.compile(r"^(?:@(?P<scope>[a-z0-9][a-z0-9._~-]*)/)?(?P<name>[a-z0-9~-][a-z0-9._~-]*)$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_DEPENDENCY_TYPES = {
    "dependencies": "regular",
    "devDependencies": "dev",
    "peerDependencies": "peer",
    "optionalDependencies": "optional",
}


def _json(body: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(body).encode(), "application/json")


def handle(request: Request) -> Response:
    path = request.path
    if path == "-/ping":
        return _json({})
    if path == "-/whoami":
        return _json({"username": "aws"})
    segments = path.split("/")
    size = 2 if path.startswith("@") else 1
    full_name = "/".join(segments[:size])
    match = _NAME.match(full_name)
    if match is None:
        raise RegistryError(404, f"Not found: {path}")
    namespace, name = match["scope"], match["name"]
    rest = segments[size:]
    if not rest:
        if request.method == "PUT":
            return publish(request, full_name, namespace, name)
        if request.method in ("GET", "HEAD"):
            return _json(packument(request, full_name, namespace, name))
        raise RegistryError(405, f"{request.method} is not supported for {full_name}")
    if len(rest) == 2 and rest[0] == "-" and rest[1].endswith(".tgz") and request.method in ("GET", "HEAD"):
        return _tarball(request, namespace, name, rest[1])
    raise RegistryError(404, f"Not found: {path}")


# -- reading -----------------------------------------------------------------------------------


def _semver_key(version: str) -> tuple[int, int, int, int, str]:
    found = _SEMVER.match(version)
    if found is None:
        return (-1, -1, -1, 0, version)
    major, minor, patch = (int(found.group(i)) for i in (1, 2, 3))
    return (major, minor, patch, 0 if found["pre"] else 1, found["pre"] or "")


def _tarball_asset(version: PackageVersion, name: str) -> str | None:
    wanted = f"{name}-{version.version}.tgz"
    if wanted in version.assets:
        return wanted
    tgz = [asset for asset in version.assets if asset.endswith(".tgz")]
    return tgz[0] if len(tgz) == 1 else None


def _dist_tags(listed: list[PackageVersion]) -> dict[str, str]:
    tags: dict[str, PackageVersion] = {}
    for version in sorted(listed, key=lambda v: v.published_time):
        for tag in version.metadata.get("npm", {}).get("distTags", []):
            tags[tag] = version
    answer = {tag: version.version for tag, version in tags.items()}
    if "latest" not in answer and listed:
        releases = [v.version for v in listed if _semver_key(v.version)[3] == 1]
        answer["latest"] = max(releases or [v.version for v in listed], key=_semver_key)
    return answer


def packument(request: Request, full_name: str, namespace: str | None, name: str) -> dict[str, Any]:
    listed = [v for v in store.versions(request.where, namespace, name) if v.status in store.LISTED]
    if not listed:
        raise RegistryError(
            404, f"Not found: {full_name} has no listed versions in {request.where.repository}"
        )
    versions: dict[str, Any] = {}
    times: dict[str, str] = {}
    for version in sorted(listed, key=lambda v: _semver_key(v.version)):
        asset_name = _tarball_asset(version, name)
        manifest = dict(version.metadata.get("npm", {}).get("manifest") or {})
        manifest.update({"name": full_name, "version": version.version})
        if asset_name is not None:
            asset = version.assets[asset_name]
            manifest["dist"] = {
                "tarball": f"{request.base_url}{full_name}/-/{name}-{version.version}.tgz",
                "shasum": asset.hashes["SHA-1"],
                "integrity": "sha512-" + base64.b64encode(bytes.fromhex(asset.hashes["SHA-512"])).decode(),
            }
        versions[version.version] = manifest
        times[version.version] = version.published_time.isoformat().replace("+00:00", "Z")
    published = sorted(times.values())
    return {
        "_id": full_name,
        "name": full_name,
        "dist-tags": _dist_tags(listed),
        "versions": versions,
        "time": {"created": published[0], "modified": published[-1], **times},
    }


def _tarball(request: Request, namespace: str | None, name: str, filename: str) -> Response:
    prefix = f"{name}-"
    if not filename.startswith(prefix):
        raise RegistryError(404, f"Not found: {filename}")
    version_text = filename[len(prefix) : -len(".tgz")]
    candidates = store.versions(request.where, namespace, name)
    found = next((v for v in candidates if v.version == version_text), None)
    asset = None if found is None else _tarball_asset(found, name)
    if asset is None:
        raise RegistryError(404, f"Not found: {filename}")
    content = store.download(request.where, namespace, name, version_text, asset)
    return Response(200, content, "application/octet-stream")


# -- publishing --------------------------------------------------------------------------------


def _document(request: Request) -> dict[str, Any]:
    try:
        document = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        raise RegistryError(400, f"The publish body is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise RegistryError(400, "The publish body must be a JSON object (npm publish's document)")
    return document


def _single(document: dict[str, Any], key: str, what: str) -> tuple[str, Any]:
    entries = document.get(key)
    if not isinstance(entries, dict) or len(entries) != 1:
        raise RegistryError(400, f"The publish must carry exactly one {what} in '{key}'")
    ((name, value),) = entries.items()
    return str(name), value


def _tarball_manifest(tarball: bytes) -> dict[str, Any]:
    try:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(tarball)), mode="r:") as archive:
            member = archive.extractfile("package/package.json")
            if member is None:
                raise KeyError("package/package.json")
            manifest = json.loads(member.read())
    except KeyError as error:
        raise RegistryError(400, "The tarball has no package/package.json") from error
    except (OSError, EOFError, tarfile.TarError, ValueError) as error:
        raise RegistryError(
            400, f"The attachment is not a gzipped tarball with a package.json: {error}"
        ) from error
    if not isinstance(manifest, dict):
        raise RegistryError(400, "The tarball's package/package.json is not a JSON object")
    return manifest


def _check_integrity(manifest: dict[str, Any], tarball: bytes) -> None:
    dist: dict[str, Any] = manifest["dist"] if isinstance(manifest.get("dist"), dict) else {}
    shasum = dist.get("shasum")
    if shasum and shasum != hashlib.sha1(tarball).hexdigest():  # noqa: S324 - npm's own shasum
        raise RegistryError(400, "dist.shasum does not match the attached tarball")
    integrity = dist.get("integrity")
    expected = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if isinstance(integrity, str) and integrity.startswith("sha512-") and integrity != expected:
        raise RegistryError(400, "dist.integrity does not match the attached tarball")


def _dependencies(manifest: dict[str, Any]) -> tuple[dict[str, str], ...]:
    out = []
    for key, kind in _DEPENDENCY_TYPES.items():
        declared = manifest.get(key)
        if not isinstance(declared, dict):
            continue
        for dependency, requirement in declared.items():
            parsed = _NAME.match(str(dependency))
            entry = {
                "package": parsed["name"] if parsed else str(dependency),
                "dependencyType": kind,
                "versionRequirement": str(requirement),
            }
            if parsed and parsed["scope"]:
                entry["namespace"] = parsed["scope"]
            out.append(entry)
    return tuple(out)


def publish(request: Request, full_name: str, namespace: str | None, name: str) -> Response:
    document = _document(request)
    if document.get("name") != full_name:
        raise RegistryError(
            400, f"The document names {document.get('name')!r}, not {full_name!r} as the URL does"
        )
    version, manifest = _single(document, "versions", "version")
    if not isinstance(manifest, dict) or (manifest.get("name"), manifest.get("version")) != (
        full_name,
        version,
    ):
        raise RegistryError(400, f"The manifest of version {version} must name {full_name} and {version}")
    if _SEMVER.match(version) is None:
        raise RegistryError(
            400, f"Invalid version {version!r}: npm versions are SemVer (1.2.3, 1.2.3-beta.1)"
        )
    _, attachment = _single(document, "_attachments", "tarball")
    if not isinstance(attachment, dict) or not isinstance(attachment.get("data"), str):
        raise RegistryError(400, "The attachment must carry its tarball as base64 'data'")
    try:
        tarball = base64.b64decode(attachment["data"], validate=True)
    except (binascii.Error, ValueError) as error:
        raise RegistryError(400, f"The attachment's data is not base64: {error}") from error
    if attachment.get("length") is not None and attachment.get("length") != len(tarball):
        raise RegistryError(
            400, f"The attachment's length {attachment.get('length')} is not its size {len(tarball)}"
        )
    inner = _tarball_manifest(tarball)
    if inner.get("name") != full_name or inner.get("version") != version:
        raise RegistryError(
            400,
            f"The tarball's package.json names {inner.get('name')}@{inner.get('version')}, "
            f"but the manifest publishes {full_name}@{version}",
        )
    _check_integrity(manifest, tarball)
    tags: dict[str, Any] = document["dist-tags"] if isinstance(document.get("dist-tags"), dict) else {}
    stored_manifest = {k: v for k, v in manifest.items() if k not in ("dist", "readme", "_attachments")}
    own_tags = sorted(tag for tag, tagged in tags.items() if tagged == version)
    metadata: dict[str, Any] = {"npm": {"manifest": stored_manifest, "distTags": own_tags}}
    if isinstance(manifest.get("description"), str) and manifest["description"]:
        metadata["summary"] = manifest["description"]
    if isinstance(manifest.get("homepage"), str) and manifest["homepage"]:
        metadata["homePage"] = manifest["homepage"]
    if isinstance(manifest.get("license"), str) and manifest["license"]:
        metadata["licenses"] = [{"name": manifest["license"]}]
    readme = document.get("readme") or manifest.get("readme")
    store.publish(
        request.where,
        store.Upload(
            namespace,
            name,
            version,
            f"{name}-{version}.tgz",
            tarball,
            metadata,
            dependencies=_dependencies(manifest),
            readme=readme if isinstance(readme, str) and readme else None,
        ),
        new_version_only=True,
    )
    return _json({"ok": True, "id": full_name, "rev": version})
