"""The pypi endpoint with the real twine and pip: upload, Simple API, downloads, statuses, copies,
bad input."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from codeartifact_moto.real_clients import ClientFailed, Clients, build_sdist, build_wheel

from . import registry_http
from .registry_http import Registry, multipart
from .test_events import Inbox

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
# The shared fixtures (registry_http.py): the local registry with a token, and the real clients.
registry, clients = registry_http.registry_fixture, registry_http.clients_fixture

MODULE = {"acme_utils/__init__.py": b"VALUE = 'vetted'\n"}


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return build_wheel(tmp_path, "Acme_Utils", "2.3.1", MODULE, requires_python=">=3.9")


def test_twine_upload_creates_the_version_with_its_assets_and_one_event_per_file(
    registry: Registry, clients: Clients, wheel: Path, tmp_path: Path
) -> None:
    # Given a rule routing CodeArtifact events to a queue
    inbox = Inbox(registry)  # type: ignore[arg-type]  # Inbox reads only .env
    sdist = build_sdist(tmp_path, "Acme_Utils", "2.3.1", MODULE)

    # When twine uploads a wheel and an sdist of one version
    clients.twine_upload(registry.endpoint("pypi"), wheel, sdist)

    # Then the version is stored under its PEP 503 name, with both files as they were uploaded
    described = registry.version("staging", "pypi", "acme-utils", "2.3.1")
    assert described["status"] == "Published"
    assert described["origin"] == {
        "domainEntryPoint": {"repositoryName": "staging"},
        "originType": "INTERNAL",
    }
    assert described["publishedTime"]
    assert described["revision"]
    assets = {a["name"]: a for a in registry.assets("staging", "pypi", "acme-utils", "2.3.1")}
    assert set(assets) == {wheel.name, sdist.name}
    for path in (wheel, sdist):
        assert assets[path.name]["size"] == path.stat().st_size
        assert assets[path.name]["hashes"]["SHA-256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    # ... and the events are the API path's: Created for the first file, Updated for the second
    events = inbox.drain(2)
    assert [e["detail"]["operationType"] for e in events] == ["Created", "Updated"]
    assert {e["detail"]["packageName"] for e in events} == {"acme-utils"}
    assert events[-1]["detail"]["packageVersionRevision"] == described["revision"]


def test_the_simple_api_lists_files_with_hashes_and_requires_python(
    registry: Registry, clients: Clients, wheel: Path
) -> None:
    clients.twine_upload(registry.endpoint("pypi"), wheel)
    page_url = registry.endpoint("pypi") + "simple/acme-utils/"
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()

    html_page = registry.request("GET", page_url, headers={"Accept": "text/html"})
    json_page = registry.request("GET", page_url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    index = registry.request("GET", registry.endpoint("pypi") + "simple/", headers={"Accept": "text/html"})

    # PEP 503: an anchor per file, the hash in the fragment, Requires-Python HTML-escaped
    assert html_page.status == 200
    anchor = re.search(r'<a href="([^"]+)"([^>]*)>([^<]+)</a>', html_page.body.decode())
    assert anchor is not None
    assert anchor[1] == f"2.3.1/{wheel.name}#sha256={sha256}"
    assert 'data-requires-python="&gt;=3.9"' in anchor[2]
    assert anchor[3] == wheel.name
    # PEP 691: the same in JSON, chosen by the Accept header
    assert json_page.headers["content-type"] == "application/vnd.pypi.simple.v1+json"
    files = json_page.json()["files"]
    assert files == [
        {
            "filename": wheel.name,
            "url": f"2.3.1/{wheel.name}",
            "hashes": {"sha256": sha256},
            "requires-python": ">=3.9",
        }
    ]
    assert json_page.json()["meta"] == {"api-version": "1.0"}
    assert '<a href="acme-utils/">acme-utils</a>' in index.body.decode()
    # The file itself, byte for byte
    download = registry.request("GET", page_url + files[0]["url"])
    assert hashlib.sha256(download.body).hexdigest() == sha256


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "text/html"),
        ("*/*", "text/html"),
        ("text/html", "text/html"),
        ("application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.v1+html"),
        (
            "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
            "text/html; q=0.01",
            "application/vnd.pypi.simple.v1+json",
        ),
        ("application/vnd.pypi.simple.v1+json; q=0.2, text/html", "text/html"),
    ],
    ids=["none", "any", "legacy", "v1-html", "pip", "html-preferred"],
)
def test_the_form_follows_the_accept_header(
    registry: Registry, accept: str | None, content_type: str
) -> None:
    """PEP 691: the server answers the form the client ranks highest, HTML when it asks nothing."""
    headers = {} if accept is None else {"Accept": accept}
    answer = registry.request("GET", registry.endpoint("pypi") + "simple/", headers=headers)
    assert answer.status == 200
    assert answer.headers["content-type"] == content_type
    if content_type.endswith("json"):
        assert answer.json() == {"meta": {"api-version": "1.0"}, "projects": []}


def test_other_spellings_of_a_project_redirect_to_its_normalized_page(
    registry: Registry, clients: Clients, wheel: Path
) -> None:
    clients.twine_upload(registry.endpoint("pypi"), wheel)
    answer = registry.request("GET", registry.endpoint("pypi") + "simple/Acme.Utils/")
    assert answer.status == 301
    assert answer.headers["location"] == registry.endpoint("pypi") + "simple/acme-utils/"
    assert registry.request("GET", registry.endpoint("pypi") + "simple/missing/").status == 404


def test_a_file_name_is_uploaded_once(registry: Registry, clients: Clients, wheel: Path) -> None:
    clients.twine_upload(registry.endpoint("pypi"), wheel)
    before = registry.version("staging", "pypi", "acme-utils", "2.3.1")["revision"]

    with pytest.raises(ClientFailed) as refused:
        clients.twine_upload(registry.endpoint("pypi"), wheel)

    assert "400" in refused.value.output
    assert "File already exists" in refused.value.output
    assert registry.version("staging", "pypi", "acme-utils", "2.3.1")["revision"] == before


def test_pip_installs_the_uploaded_bytes(
    registry: Registry, clients: Clients, wheel: Path, tmp_path: Path
) -> None:
    clients.twine_upload(registry.endpoint("pypi"), wheel)

    clients.pip_install(registry.endpoint("pypi"), "acme-utils==2.3.1", tmp_path / "site")

    installed = (tmp_path / "site" / "acme_utils" / "__init__.py").read_bytes()
    assert installed == MODULE["acme_utils/__init__.py"]


def test_unlisted_is_hidden_but_downloadable_and_archived_is_neither(
    registry: Registry, clients: Clients, tmp_path: Path
) -> None:
    # Given two versions, one Unlisted and one Archived
    endpoint = registry.endpoint("pypi")
    unlisted = build_wheel(tmp_path, "acme-utils", "1.0.0", MODULE)
    archived = build_wheel(tmp_path, "acme-utils", "1.1.0", MODULE)
    clients.twine_upload(endpoint, unlisted, archived)
    registry.set_status("pypi", "acme-utils", "1.0.0", "Unlisted")
    registry.set_status("pypi", "acme-utils", "1.1.0", "Archived")

    # Then neither is on the project page (nothing listed: 404), and pip cannot resolve either
    assert registry.request("GET", endpoint + "simple/acme-utils/").status == 404
    with pytest.raises(ClientFailed):
        clients.pip_install(endpoint, "acme-utils==1.0.0", tmp_path / "resolved")
    # ... the Unlisted file downloads by its exact URL, and pip installs it from there
    unlisted_url = f"{endpoint}simple/acme-utils/1.0.0/{unlisted.name}"
    assert registry.request("GET", unlisted_url).body == unlisted.read_bytes()
    clients.pip_install(
        endpoint, unlisted_url.replace("http://", f"http://aws:{registry.token}@"), tmp_path / "s"
    )
    assert (tmp_path / "s" / "acme_utils" / "__init__.py").exists()
    # ... and the Archived one does not download at all
    answer = registry.request("GET", f"{endpoint}simple/acme-utils/1.1.0/{archived.name}")
    assert answer.status == 404
    assert "Archived" in answer.body.decode()


def test_a_copy_is_installable_from_the_destination_with_identical_bytes(
    registry: Registry, clients: Clients, wheel: Path, tmp_path: Path
) -> None:
    clients.twine_upload(registry.endpoint("pypi"), wheel)
    registry.copy("pypi", "acme-utils", ["2.3.1"])

    release = registry.endpoint("pypi", "release")
    files = registry.request(
        "GET", release + "simple/acme-utils/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    ).json()["files"]
    clients.pip_install(release, "acme-utils==2.3.1", tmp_path / "site")

    assert files[0]["hashes"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert (
        registry.request("GET", release + "simple/acme-utils/" + files[0]["url"]).body == wheel.read_bytes()
    )
    assert (tmp_path / "site" / "acme_utils" / "__init__.py").read_bytes() == MODULE["acme_utils/__init__.py"]


# -- bad input ----------------------------------------------------------------------------------


def _form(wheel: Path, **overrides: str | None) -> dict[str, str]:
    content = wheel.read_bytes()
    form = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "name": "acme-utils",
        "version": "2.3.1",
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "sha256_digest": hashlib.sha256(content).hexdigest(),
    }
    for key, value in overrides.items():
        if value is None:
            form.pop(key.replace("__", ":"), None)
        else:
            form[key.replace("__", ":")] = value
    return form


@pytest.mark.parametrize(
    ("overrides", "file_bytes", "message"),
    [
        ({"name": None}, None, "'name' is missing"),
        ({"version": None}, None, "'version' is missing"),
        ({"metadata_version": None}, None, "'metadata_version' is missing"),
        ({"__action": "submit"}, None, "only file_upload"),
        ({"version": "2.3.2"}, None, "does not match the project"),
        ({"sha256_digest": "0" * 64}, None, "does not match a digest"),
        ({}, b"not a zip", "Invalid distribution file"),
        ({"requires_python": ">=>3"}, None, "Requires-Python"),
    ],
    ids=[
        "no-name",
        "no-version",
        "no-metadata-version",
        "action",
        "file-name",
        "digest",
        "not-a-zip",
        "python",
    ],
)
def test_a_bad_upload_is_400_naming_the_problem_and_stores_nothing(
    registry: Registry, wheel: Path, overrides: dict[str, str | None], file_bytes: bytes | None, message: str
) -> None:
    content = wheel.read_bytes() if file_bytes is None else file_bytes
    form = _form(wheel, **overrides)
    if file_bytes is not None:
        form["sha256_digest"] = hashlib.sha256(content).hexdigest()
    body, content_type = multipart(form, {"content": (wheel.name, content)})

    answer = registry.request("POST", registry.endpoint("pypi"), body, {"Content-Type": content_type})

    assert answer.status == 400, answer.body
    assert message in answer.body.decode()
    assert message[:40] in answer.reason  # twine prints the status line, as PyPI fills it
    assert registry.packages() == []


def test_a_wheel_whose_metadata_names_another_version_is_refused(registry: Registry, tmp_path: Path) -> None:
    other = build_wheel(tmp_path, "acme-utils", "9.9.9", MODULE)
    renamed = other.read_bytes()
    body, content_type = multipart(
        {**_form(other), "sha256_digest": hashlib.sha256(renamed).hexdigest()},
        {"content": ("acme_utils-2.3.1-py3-none-any.whl", renamed)},
    )

    answer = registry.request("POST", registry.endpoint("pypi"), body, {"Content-Type": content_type})

    assert answer.status == 400
    assert "names acme-utils 9.9.9, not acme-utils 2.3.1" in answer.body.decode()
    assert registry.packages() == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nacme',
            "multipart/form-data; boundary=x",
        ),
        (b"garbage", "multipart/form-data; boundary=x"),
        (json.dumps({"name": "acme-utils"}).encode(), "application/json"),
    ],
    ids=["truncated", "no-parts", "not-multipart"],
)
def test_malformed_multipart_is_400_and_the_server_keeps_serving(
    registry: Registry, body: bytes, content_type: str
) -> None:
    answer = registry.request("POST", registry.endpoint("pypi"), body, {"Content-Type": content_type})

    assert answer.status == 400
    assert "multipart" in answer.body.decode()
    assert registry.packages() == []
    assert registry.request("GET", registry.endpoint("pypi") + "simple/").status == 200
