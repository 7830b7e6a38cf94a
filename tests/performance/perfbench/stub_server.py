"""A loopback HTTP endpoint that answers CopyPackageVersions at once with success.

The cold-start figure's first invocation makes a real copy call through botocore; answering it
from a canned stub keeps a server's own latency out of the figure.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: StubServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
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

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
