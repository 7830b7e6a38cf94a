"""A loopback HTTP endpoint that answers CopyPackageVersions at once with success.

The cold-start figure's first invocation makes a real copy call through botocore; answering it
from a canned stub keeps a server's own latency out of the figure. ListPackageVersions answers as
a CodeArtifact holding the first invocation's versions in their source (``published``; origin
INTERNAL, as a direct publish is) and nothing in any other repository.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    server: StubServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        url = urlsplit(self.path)
        if url.path == "/v1/package/versions":
            self.server.requests.append(self.path)
            self._answer({"versions": self.server.listing(parse_qs(url.query))})
            return
        try:
            body: dict[str, Any] = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        self.server.requests.append(self.path)
        wanted = body.get("versionRevisions") or dict.fromkeys(body.get("versions") or [], "AAAA")
        self._answer(
            {
                "successfulVersions": {v: {"revision": r, "status": "Published"} for v, r in wanted.items()},
                "failedVersions": {},
            }
        )

    def do_GET(self) -> None:
        """DescribePackageVersion, which supply-chain rules read (``BENCH_SUPPLY_CHAIN``): an old publish
        time, origin INTERNAL."""
        self.server.requests.append(self.path)
        self._answer(
            {
                "packageVersion": {
                    "version": "0",
                    "revision": "AAAA",
                    "status": "Published",
                    "publishedTime": 1767225600,
                    "origin": {"originType": "INTERNAL"},
                }
            }
        )

    def _answer(self, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the benchmark prints its own table."""


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, published: Sequence[Mapping[str, Any]] = ()) -> None:
        """``published``: the ``detail`` of each event the first invocation gets."""
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[str] = []
        self.published = list(published)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def listing(self, query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        """ListPackageVersions' ``versions`` for the package and repository ``query`` names."""

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        return [
            {
                "version": d["packageVersion"],
                "revision": d["packageVersionRevision"],
                "status": "Published",
                "origin": {"originType": "INTERNAL"},
            }
            for d in self.published
            if (d["repositoryName"], d["packageFormat"], d.get("packageNamespace") or None, d["packageName"])
            == (one("repository"), one("format"), one("namespace"), one("package"))
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
