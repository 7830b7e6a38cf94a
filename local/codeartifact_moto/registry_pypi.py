"""The pypi endpoint: twine's upload API, the Simple API (PEP 503 HTML, PEP 691 JSON), file downloads.

Paths under the endpoint: ``POST /`` (twine's multipart ``:action=file_upload``), ``GET simple/``,
``GET simple/<project>/`` and ``GET simple/<project>/<version>/<file>``. Project names are normalized
as PEP 503 says (and the service stores them): a page asked for by another spelling redirects to the
normalized one. Each link carries ``#sha256=`` and, when the distribution declared it,
``data-requires-python``; the JSON form (asked for with ``Accept: application/vnd.pypi.simple.v1+json``,
as pip does) carries the same. An upload is checked the way PyPI checks one: the form's name and version,
the file name, the digests and the metadata inside the file must agree; a file name is uploaded once
(a second upload is 400 "File already exists", as PyPI answers).
"""

from __future__ import annotations

import email.parser
import hashlib
import html
import io
import json
import re
import tarfile
import zipfile
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

from . import registry_store as store
from .registry_store import MAX_BODY_BYTES, RegistryError, Request, Response

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
# PEP 691's forms, the legacy one last: it wins ties and is what a client that asks nothing gets.
FORMS = (JSON_TYPE, HTML_TYPE, "text/html")
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_FILETYPES = {"sdist": (".tar.gz", ".zip"), "bdist_wheel": (".whl",)}


def handle(request: Request) -> Response:
    path = request.path
    if path == "":
        if request.method != "POST":
            raise RegistryError(
                405, "POST uploads here (twine); pip's index is the endpoint followed by simple/"
            )
        return upload(request)
    if request.method not in ("GET", "HEAD"):
        raise RegistryError(405, f"{request.method} is not allowed on {path}")
    if path == "simple":
        return _redirect(request.base_url + "simple/")
    parts = path.split("/")
    if parts[0] != "simple":
        raise RegistryError(404, f"Not found: {path}")
    if parts == ["simple", ""]:
        return _index(request)
    project = parts[1]
    if len(parts) == 2 or (len(parts) == 3 and parts[2] == ""):
        if canonicalize_name(project) != project or len(parts) == 2:
            return _redirect(f"{request.base_url}simple/{canonicalize_name(project)}/")
        return _project_page(request, project)
    if len(parts) == 4:
        content = store.download(request.where, None, project, parts[2], parts[3])
        return Response(200, content, _file_type(parts[3]))
    raise RegistryError(404, f"Not found: {path}")


# -- reading -----------------------------------------------------------------------------------


def _negotiate(request: Request) -> str:
    """PEP 691 content negotiation: the form the client's Accept header ranks highest."""
    ranks: dict[str, float] = {}
    for item in request.headers.get("accept", "").split(","):
        kind, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[kind.strip().lower()] = quality
    if not request.headers.get("accept", "").strip():
        return "text/html"
    scored = [(ranks.get(form, ranks.get("*/*", 0.0)), position) for position, form in enumerate(FORMS)]
    quality, position = max(scored)
    return FORMS[position] if quality > 0 else "text/html"


def _index(request: Request) -> Response:
    names = [name for _, name in store.package_names(request.where)]
    form = _negotiate(request)
    if form == JSON_TYPE:
        body = {"meta": {"api-version": "1.0"}, "projects": [{"name": n} for n in names]}
        return Response(200, json.dumps(body).encode(), JSON_TYPE)
    links = "".join(f'<a href="{html.escape(n)}/">{html.escape(n)}</a>\n' for n in names)
    head = "<!DOCTYPE html>\n<html><head><title>Simple index</title></head><body>\n"
    return Response(200, f"{head}{links}</body></html>\n".encode(), form)


def _project_page(request: Request, project: str) -> Response:
    listed = [v for v in store.versions(request.where, None, project) if v.status in store.LISTED]
    if not listed:
        raise RegistryError(404, f"Not found: no listed versions of {project} in {request.where.repository}")
    files = []
    for version in sorted(listed, key=lambda v: _sort_key(v.version)):
        requires_python = version.metadata.get("requiresPython")
        for asset in sorted(version.assets.values(), key=lambda a: a.name):
            files.append(
                {
                    "filename": asset.name,
                    "url": f"{version.version}/{asset.name}",
                    "hashes": {"sha256": asset.hashes["SHA-256"]},
                    **({"requires-python": requires_python} if requires_python else {}),
                }
            )
    form = _negotiate(request)
    if form == JSON_TYPE:
        body = {"meta": {"api-version": "1.0"}, "name": project, "files": files}
        return Response(200, json.dumps(body).encode(), JSON_TYPE)
    links = []
    for file in files:
        attribute = ""
        if "requires-python" in file:
            attribute = f' data-requires-python="{html.escape(file["requires-python"])}"'
        links.append(
            f'<a href="{html.escape(file["url"])}#sha256={file["hashes"]["sha256"]}"{attribute}>'
            f"{html.escape(file['filename'])}</a><br/>\n"
        )
    title = html.escape(project)
    page = (
        f"<!DOCTYPE html>\n<html><head><title>Links for {title}</title></head><body>\n"
        f"<h1>Links for {title}</h1>\n{''.join(links)}</body></html>\n"
    )
    return Response(200, page.encode(), form)


def _sort_key(version: str) -> tuple[int, Any]:
    try:
        return 0, Version(version)
    except InvalidVersion:
        return 1, version


def _redirect(location: str) -> Response:
    return Response(301, b"", headers={"Location": location})


def _file_type(name: str) -> str:
    if name.endswith(".whl") or name.endswith(".zip"):
        return "application/zip"
    return "application/x-tar" if name.endswith(".tar") else "application/octet-stream"


# -- uploading ---------------------------------------------------------------------------------


def _parse_form(request: Request) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
    mimetype, options = parse_options_header(request.headers.get("content-type", ""))
    if mimetype != "multipart/form-data" or not options.get("boundary"):
        raise RegistryError(400, "An upload must be multipart/form-data with a boundary (twine's upload API)")
    parser = FormDataParser(max_form_memory_size=MAX_BODY_BYTES, silent=False)
    try:
        _, form, files = parser.parse(io.BytesIO(request.body), mimetype, len(request.body), options)
    except Exception as error:  # werkzeug raises ValueError or an HTTPException for a broken body
        raise RegistryError(400, f"Malformed multipart/form-data body: {error}") from error
    if not form and not files:
        raise RegistryError(400, "Malformed multipart/form-data body: no parts could be read")
    return form, files


def _field(form: MultiDict[str, str], name: str, label: str) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise RegistryError(400, f"'{name}' is missing: the upload's metadata must give {label}")
    return value


def upload(request: Request) -> Response:
    form, files = _parse_form(request)
    action = form.get(":action", "")
    if action != "file_upload":
        raise RegistryError(400, f"Unknown :action {action!r}: only file_upload is supported")
    _field(form, "metadata_version", "the Metadata-Version")
    name = _field(form, "name", "the project's Name")
    if not _NAME.match(name):
        raise RegistryError(
            400, f"{name!r} is an invalid value for Name: use letters, digits, '.', '_' and '-'"
        )
    raw_version = _field(form, "version", "the Version")
    try:
        version = Version(raw_version)
    except InvalidVersion as error:
        raise RegistryError(400, f"{raw_version!r} is an invalid value for Version: {error}") from error
    filetype = _field(form, "filetype", "the filetype (sdist or bdist_wheel)")
    if filetype not in _FILETYPES:
        raise RegistryError(400, f"Unknown filetype {filetype!r}: upload sdist or bdist_wheel")
    upload_file = files.get("content")
    if upload_file is None or not upload_file.filename:
        raise RegistryError(400, "Upload payload does not have a file ('content' part with a filename)")
    filename = upload_file.filename.rsplit("/", 1)[-1]
    content = upload_file.read()
    _check_filename(filename, filetype, name, version)
    _check_digests(form, content)
    requires_python = (form.get("requires_python") or "").strip()
    if requires_python:
        try:
            SpecifierSet(requires_python)
        except InvalidSpecifier as error:
            message = f"{requires_python!r} is an invalid value for Requires-Python"
            raise RegistryError(400, message) from error
    _check_contents(filename, content, name, version)
    metadata: dict[str, Any] = {
        key: value
        for key, value in {
            "summary": (form.get("summary") or "").strip(),
            "homePage": (form.get("home_page") or "").strip(),
            "requiresPython": requires_python,
        }.items()
        if value
    }
    if form.get("license"):
        metadata["licenses"] = [{"name": form["license"].strip()}]
    stored = store.publish(
        request.where,
        store.Upload(
            None,
            name,
            raw_version,
            filename,
            content,
            metadata,
            dependencies=_dependencies(form.getlist("requires_dist")),
            readme=form.get("description") or None,
        ),
        new_version_only=False,
    )
    return Response(200, f"OK: {filename} is {stored['package']} {stored['version']}\n".encode())


def _check_filename(filename: str, filetype: str, name: str, version: Version) -> None:
    if not filename.endswith(_FILETYPES[filetype]):
        raise RegistryError(400, f"Invalid file name {filename!r} for filetype {filetype}")
    try:
        if filetype == "bdist_wheel":
            file_name, file_version, *_ = parse_wheel_filename(filename)
        else:
            file_name, file_version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename) as error:
        raise RegistryError(400, f"Invalid distribution file name {filename!r}: {error}") from error
    if file_name != canonicalize_name(name) or file_version != version:
        raise RegistryError(
            400,
            f"The file name {filename!r} does not match the project {name} version {version} "
            "it is uploaded as",
        )


def _check_digests(form: MultiDict[str, str], content: bytes) -> None:
    given = {
        "sha256_digest": hashlib.sha256(content).hexdigest(),
        "md5_digest": hashlib.md5(content).hexdigest(),  # noqa: S324 - twine sends it; checked as PyPI does
        "blake2_256_digest": hashlib.blake2b(content, digest_size=32).hexdigest(),
    }
    present = {key: (form.get(key) or "").strip().lower() for key in given if form.get(key)}
    if not present:
        raise RegistryError(400, "Include at least one message digest (sha256_digest) of the file")
    for key, value in present.items():
        if value != given[key]:
            raise RegistryError(
                400, f"The digest supplied ({key}) does not match a digest calculated from the uploaded file"
            )


def _check_contents(filename: str, content: bytes, name: str, version: Version) -> None:
    """The metadata inside the file must name the project and version the form names."""
    try:
        text = _packaged_metadata(filename, content)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as error:
        raise RegistryError(400, f"Invalid distribution file {filename!r}: {error}") from error
    if text is None:
        raise RegistryError(400, f"Invalid distribution file {filename!r}: it has no METADATA/PKG-INFO")
    metadata = email.parser.Parser().parsestr(text)
    inner_name, inner_version = metadata.get("Name", ""), metadata.get("Version", "")
    try:
        matches = (canonicalize_name(inner_name), Version(inner_version)) == (
            canonicalize_name(name),
            version,
        )
    except InvalidVersion:
        matches = False
    if not matches:
        raise RegistryError(
            400,
            f"The metadata inside {filename!r} names {inner_name or '?'} {inner_version or '?'}, "
            f"not {name} {version} as the upload says",
        )


def _packaged_metadata(filename: str, content: bytes) -> str | None:
    if filename.endswith((".whl", ".zip")):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            wanted = "PKG-INFO" if filename.endswith(".zip") else "METADATA"
            for member in archive.namelist():
                parts = member.split("/")
                top_ok = wanted == "PKG-INFO" or parts[0].endswith(".dist-info")
                if len(parts) == 2 and parts[1] == wanted and top_ok:
                    return archive.read(member).decode("utf-8", "replace")
        return None
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
        for info in archive.getmembers():
            parts = info.name.split("/")
            if len(parts) == 2 and parts[1] == "PKG-INFO" and info.isfile():
                extracted = archive.extractfile(info)
                return None if extracted is None else extracted.read().decode("utf-8", "replace")
    return None


def _dependencies(requires_dist: list[str]) -> tuple[dict[str, str], ...]:
    """Requires-Dist as PackageDependency entries (what ListPackageVersionDependencies answers)."""
    out = []
    for line in requires_dist:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        entry = {"package": canonicalize_name(requirement.name), "dependencyType": "install"}
        if str(requirement.specifier):
            entry["versionRequirement"] = str(requirement.specifier)
        out.append(entry)
    return tuple(out)
