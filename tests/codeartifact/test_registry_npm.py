"""The npm endpoint with the real npm: publish, packuments, tarballs, scopes, tags, statuses, bad input."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from codeartifact_moto.real_clients import ClientFailed, Clients, npm_package_dir

from . import registry_http
from .registry_http import Registry, files_under
from .test_events import Inbox

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
# The shared fixtures (registry_http.py): the local registry with a token, and the real clients.
registry, clients = registry_http.registry_fixture, registry_http.clients_fixture

SOURCE = {"index.js": b"module.exports = 'vetted';\n"}


def publish(
    clients: Clients, registry: Registry, tmp_path: Path, name: str, version: str, **kw: Any
) -> bytes:
    """npm publish from a directory; returns the tarball npm packs for it (what it sends)."""
    directory = npm_package_dir(tmp_path / "src", name, version, SOURCE)
    packed = clients.npm_pack(registry.endpoint("npm"), directory, tmp_path / "packed")
    clients.npm_publish(registry.endpoint("npm"), directory, **kw)
    return packed.read_bytes()


def installed_entry(prefix: Path, name: str) -> dict[str, Any]:
    """What npm recorded of an installed package (its hidden lockfile: resolved URL, integrity)."""
    lock = json.loads((prefix / "node_modules" / ".package-lock.json").read_text())
    entry: dict[str, Any] = lock["packages"][f"node_modules/{name}"]
    return entry


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_npm_publish_of_a_scoped_package_stores_it_under_the_scope_as_namespace(
    registry: Registry, clients: Clients, tmp_path: Path
) -> None:
    inbox = Inbox(registry)  # type: ignore[arg-type]  # Inbox reads only .env

    tarball = publish(clients, registry, tmp_path, "@acme/widgets", "1.0.0")

    described = registry.version("staging", "npm", "widgets", "1.0.0", namespace="acme")
    assert described["origin"]["originType"] == "INTERNAL"
    assert described["summary"] == "a tiny test package"
    (asset,) = registry.assets("staging", "npm", "widgets", "1.0.0", namespace="acme")
    assert asset["name"] == "widgets-1.0.0.tgz"
    assert asset["size"] == len(tarball)
    assert asset["hashes"]["SHA-256"] == hashlib.sha256(tarball).hexdigest()
    (event,) = inbox.drain(1)
    assert (event["detail"]["packageNamespace"], event["detail"]["packageName"]) == ("acme", "widgets")
    assert event["detail"]["operationType"] == "Created"
    assert event["detail"]["packageVersionRevision"] == described["revision"]


def test_the_packument_serves_the_tarball_npm_published(
    registry: Registry, clients: Clients, tmp_path: Path
) -> None:
    tarball = publish(clients, registry, tmp_path, "@acme/widgets", "1.0.0")

    # Both spellings npm uses for a scoped name
    encoded = registry.request("GET", registry.endpoint("npm") + "@acme%2fwidgets", scheme="Bearer")
    plain = registry.request("GET", registry.endpoint("npm") + "@acme/widgets", scheme="Bearer")

    assert encoded.status == plain.status == 200
    document = encoded.json()
    assert document["name"] == "@acme/widgets"
    assert document["dist-tags"] == {"latest": "1.0.0"}
    dist = document["versions"]["1.0.0"]["dist"]
    assert dist["tarball"] == registry.endpoint("npm") + "@acme/widgets/-/widgets-1.0.0.tgz"
    assert dist["integrity"] == integrity(tarball)
    assert dist["shasum"] == hashlib.sha1(tarball).hexdigest()
    assert "1.0.0" in document["time"]
    assert registry.request("GET", dist["tarball"], scheme="Bearer").body == tarball


def test_npm_installs_the_published_bytes(registry: Registry, clients: Clients, tmp_path: Path) -> None:
    tarball = publish(clients, registry, tmp_path, "left-pad-acme", "1.2.0")

    clients.npm_install(registry.endpoint("npm"), "left-pad-acme@^1.0.0", tmp_path / "app")

    installed = tmp_path / "app" / "node_modules" / "left-pad-acme"
    assert (installed / "index.js").read_bytes() == SOURCE["index.js"]
    assert installed_entry(tmp_path / "app", "left-pad-acme")["integrity"] == integrity(tarball)


def test_a_version_is_published_once(registry: Registry, clients: Clients, tmp_path: Path) -> None:
    publish(clients, registry, tmp_path, "once", "1.0.0")
    before = registry.version("staging", "npm", "once", "1.0.0")["revision"]

    with pytest.raises(ClientFailed) as refused:
        clients.npm_publish(registry.endpoint("npm"), tmp_path / "src" / "once-1.0.0")

    assert "cannot publish over the previously published versions" in refused.value.output
    again = json.dumps(_document("once", "1.0.0", (tmp_path / "packed" / "once-1.0.0.tgz").read_bytes()))
    answer = registry.request("PUT", registry.endpoint("npm") + "once", again.encode(), scheme="Bearer")
    assert answer.status == 403
    assert registry.version("staging", "npm", "once", "1.0.0")["revision"] == before


def test_dist_tags_follow_what_was_published_with_them(
    registry: Registry, clients: Clients, tmp_path: Path
) -> None:
    publish(clients, registry, tmp_path, "tagged", "1.0.0")
    publish(clients, registry, tmp_path, "tagged", "2.0.0-beta.1", tag="beta")

    document = registry.request("GET", registry.endpoint("npm") + "tagged", scheme="Bearer").json()

    assert document["dist-tags"] == {"latest": "1.0.0", "beta": "2.0.0-beta.1"}
    assert set(document["versions"]) == {"1.0.0", "2.0.0-beta.1"}


def test_unlisted_is_hidden_but_installable_by_its_tarball_and_archived_is_neither(
    registry: Registry, clients: Clients, tmp_path: Path
) -> None:
    publish(clients, registry, tmp_path, "stat", "1.0.0")
    publish(clients, registry, tmp_path, "stat", "1.1.0")
    publish(clients, registry, tmp_path, "stat", "1.2.0")
    registry.set_status("npm", "stat", "1.1.0", "Unlisted")
    registry.set_status("npm", "stat", "1.2.0", "Archived")
    endpoint = registry.endpoint("npm")

    document = registry.request("GET", endpoint + "stat", scheme="Bearer").json()
    assert set(document["versions"]) == {"1.0.0"}
    assert document["dist-tags"]["latest"] == "1.0.0"
    with pytest.raises(ClientFailed):
        clients.npm_install(endpoint, "stat@1.1.0", tmp_path / "resolved")
    clients.npm_install(endpoint, f"{endpoint}stat/-/stat-1.1.0.tgz", tmp_path / "exact")
    installed = json.loads((tmp_path / "exact" / "node_modules" / "stat" / "package.json").read_text())
    assert installed["version"] == "1.1.0"
    archived = registry.request("GET", endpoint + "stat/-/stat-1.2.0.tgz", scheme="Bearer")
    assert archived.status == 404
    assert "Archived" in archived.json()["error"]


def test_a_copy_is_installable_from_the_destination_with_identical_bytes(
    registry: Registry, clients: Clients, tmp_path: Path
) -> None:
    tarball = publish(clients, registry, tmp_path, "@acme/widgets", "1.0.0")
    registry.copy("npm", "widgets", ["1.0.0"], namespace="acme")
    release = registry.endpoint("npm", "release")

    clients.npm_install(release, "@acme/widgets@1.0.0", tmp_path / "app")

    installed = tmp_path / "app" / "node_modules" / "@acme" / "widgets"
    assert files_under(installed)["index.js"] == SOURCE["index.js"]
    entry = installed_entry(tmp_path / "app", "@acme/widgets")
    assert entry["integrity"] == integrity(tarball)
    assert entry["resolved"].startswith(release)


# -- bad input ----------------------------------------------------------------------------------


def _tarball(name: str, version: str) -> bytes:
    manifest = json.dumps({"name": name, "version": version}).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(manifest)
        archive.addfile(info, io.BytesIO(manifest))
    return buffer.getvalue()


def _document(name: str, version: str, tarball: bytes, /, **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "_id": name,
        "name": name,
        "dist-tags": {"latest": version},
        "versions": {version: {"name": name, "version": version, "dist": {"integrity": integrity(tarball)}}},
        "_attachments": {
            f"{name}-{version}.tgz": {
                "content_type": "application/octet-stream",
                "data": base64.b64encode(tarball).decode(),
                "length": len(tarball),
            }
        },
    }
    document.update(overrides)
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            _document("pkg", "1.0.0", _tarball("pkg", "2.0.0")),
            "names pkg@2.0.0, but the manifest publishes pkg@1.0.0",
        ),
        (_document("pkg", "1.0.0", _tarball("other", "1.0.0")), "names other@1.0.0"),
        (_document("pkg", "1.0.0", _tarball("pkg", "1.0.0"), name="other"), "not 'pkg' as the URL does"),
        (_document("pkg", "1.0", _tarball("pkg", "1.0")), "npm versions are SemVer"),
        (_document("pkg", "1.0.0", b"not gzip"), "not a gzipped tarball"),
        (_document("pkg", "1.0.0", _tarball("pkg", "1.0.0"), _attachments={}), "exactly one tarball"),
        (
            _document("pkg", "1.0.0", _tarball("pkg", "1.0.0"), _attachments={"p.tgz": {"data": "!!"}}),
            "not base64",
        ),
    ],
    ids=[
        "tarball-version",
        "tarball-name",
        "url-name",
        "not-semver",
        "not-gzip",
        "no-attachment",
        "bad-base64",
    ],
)
def test_a_bad_publish_is_400_naming_the_problem_and_stores_nothing(
    registry: Registry, document: dict[str, Any], message: str
) -> None:
    answer = registry.request(
        "PUT",
        registry.endpoint("npm") + "pkg",
        json.dumps(document).encode(),
        {"Content-Type": "application/json"},
        scheme="Bearer",
    )

    assert answer.status == 400, answer.body
    assert message in answer.json()["error"]
    assert registry.packages() == []


def test_malformed_json_is_400_and_the_server_keeps_serving(registry: Registry) -> None:
    endpoint = registry.endpoint("npm")
    answer = registry.request("PUT", endpoint + "pkg", b'{"name": "pkg", ', scheme="Bearer")

    assert answer.status == 400
    assert "not valid JSON" in answer.json()["error"]
    assert registry.packages() == []
    assert registry.request("GET", endpoint + "-/ping", scheme="Bearer").status == 200
    assert registry.request("GET", endpoint + "pkg", scheme="Bearer").status == 404
