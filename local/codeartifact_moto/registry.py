"""The package managers' own protocols on the local server: pip/twine (pypi) and npm.

GetRepositoryEndpoint asked over HTTP of the local server answers
``http://<host>/<domain>-<owner>/<format>/<repository>/``; this WSGI layer serves those paths, as the
service serves its endpoints (user guide, "Configure and use twine/pip/npm with CodeArtifact"):

- twine's repository URL is the pypi endpoint itself; pip's index URL is the endpoint followed by
  ``simple/``; both authenticate as user ``aws`` with the authorization token as the password;
- npm's registry is the npm endpoint itself, with ``//host/path/:_authToken=TOKEN`` as
  ``aws codeartifact login --tool npm`` writes it (sent as ``Authorization: Bearer TOKEN``).

Every request needs a token from GetAuthorizationToken for the endpoint's domain and owner, not
expired; a missing or wrong one is 401 and nothing is read or stored. *Choice*: Basic credentials must
name user ``aws``, the user every page of the guide gives. The region is the token's (the path, like
the service's host name, names domain and owner; the region is in the service's host name only).

Bodies larger than :data:`MAX_BODY_BYTES` (100 MiB, *choice*: the default upload limit of PyPI, whose
protocol twine speaks) are refused with 413 and read no further than needed to answer; nothing is stored.
Requests that carry AWS Signature V4 are moto's (an S3 path-style bucket can look like a domain).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from . import registry_npm, registry_pypi
from .models import FORMATS
from .registry_store import (
    MAX_BODY_BYTES,
    RegistryError,
    Request,
    Response,
    Where,
    authorize,
    check_repository,
)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_CHUNK = 1024 * 1024
# The formats whose package managers' protocols are served here.
PROTOCOLS: dict[str, Callable[[Request], Response]] = {
    "npm": registry_npm.handle,
    "pypi": registry_pypi.handle,
}
_FORMATS = "|".join(FORMATS)
# /<domain>-<owner>/<format>/<repository>/<rest>: domain names are lowercase letters, digits and dashes.
_ENDPOINT_PATH = re.compile(
    rf"^/(?P<domain>[a-z][a-z0-9-]{{0,49}})-(?P<owner>\d{{12}})/(?P<fmt>{_FORMATS})/(?P<repository>[A-Za-z0-9._-]+)(?P<rest>/.*)?$"
)
_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Content Too Large",
    501: "Not Implemented",
}


def error_response(error: RegistryError, fmt: str) -> Response:
    if fmt == "npm":  # npm prints the registry's "error" member
        body = json.dumps({"error": error.message}).encode()
        return Response(error.status, body, "application/json")
    reason = " ".join(error.message.split())[:400].encode("latin-1", "replace").decode("latin-1")
    return Response(error.status, f"{error.message}\n".encode(), reason=reason)


class RegistryMiddleware:
    """Serves repository endpoint paths; hands everything else to ``app`` (moto and the control layer)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # The raw path keeps npm's %2f in "@scope%2fname" apart from a real "/".
        raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", ""))
        match = _ENDPOINT_PATH.match(raw.split("?", 1)[0])
        authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
        if match is None or authorization.startswith("AWS4-"):
            return self.app(environ, start_response)
        fmt = match["fmt"]
        try:
            response = self._serve(environ, match, authorization)
        except RegistryError as error:
            response = error_response(error, fmt)
        return _send(start_response, response)

    def _serve(self, environ: dict[str, Any], match: re.Match[str], authorization: str) -> Response:
        domain, owner, fmt = match["domain"], match["owner"], match["fmt"]
        backend = authorize(domain, owner, _token(authorization))
        if backend is None:
            _discard_body(environ)
            raise RegistryError(
                401,
                "Unauthorized: send an authorization token from GetAuthorizationToken for domain "
                f"{domain} (owner {owner}) as the password of user aws or as a Bearer token",
            )
        where = Where(backend, domain, owner, match["repository"], fmt)
        check_repository(where)
        host = str(environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}")
        base_url = (
            f"{environ.get('wsgi.url_scheme', 'http')}://{host}/{domain}-{owner}/{fmt}/{where.repository}/"
        )
        request = Request(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            where=where,
            base_url=base_url,
            path=unquote((match["rest"] or "/")[1:]),
            headers={
                key[5:].replace("_", "-").lower(): str(value)
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
            | {"content-type": str(environ.get("CONTENT_TYPE", ""))},
            body=_read_body(environ),
        )
        handler = PROTOCOLS.get(fmt)
        if handler is None:
            served = " and ".join(sorted(PROTOCOLS))
            raise RegistryError(501, f"The local CodeArtifact serves the {served} protocols, not {fmt}'s")
        return handler(request)


def _token(authorization: str) -> str | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return password if user == "aws" else None
    return None


def _read_body(environ: dict[str, Any]) -> bytes:
    """The whole body, or a 413 once it is larger than MAX_BODY_BYTES (the rest is read and dropped)."""
    stream = environ["wsgi.input"]
    length_header = environ.get("CONTENT_LENGTH") or ""
    length = int(length_header) if str(length_header).isdigit() else None
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""  # neither a length nor chunked: no body (reading would wait for the client)
    if length is not None and length > MAX_BODY_BYTES:
        _discard_body(environ)
        raise _too_large()
    limit = length if length is not None else MAX_BODY_BYTES + 1
    chunks, size = [], 0
    while size < limit:
        chunk = stream.read(min(_CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_BODY_BYTES:
        _discard_body(environ)
        raise _too_large()
    return b"".join(chunks)


def _too_large() -> RegistryError:
    return RegistryError(
        413, f"Request body is larger than the local CodeArtifact's limit of {MAX_BODY_BYTES} bytes"
    )


def _discard_body(environ: dict[str, Any]) -> None:
    """Read what the client sends and drop it, so that it gets the answer rather than a reset connection."""
    stream = environ["wsgi.input"]
    length_header = environ.get("CONTENT_LENGTH") or ""
    remaining = int(length_header) if str(length_header).isdigit() else None
    if remaining is None and not environ.get("wsgi.input_terminated"):
        return
    while remaining is None or remaining > 0:
        chunk = stream.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)


def _send(start_response: StartResponse, response: Response) -> list[bytes]:
    reason = response.reason or _REASONS.get(response.status, "Error")
    headers = {
        "Content-Type": response.content_type,
        "Content-Length": str(len(response.body)),
        **response.headers,
    }
    if response.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="codeartifact"'
    start_response(f"{response.status} {reason}", list(headers.items()))
    return [response.body]
