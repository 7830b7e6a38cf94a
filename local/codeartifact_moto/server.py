"""A local AWS: moto's server with this CodeArtifact backend and its control endpoints.

``python -m codeartifact_moto.server --port 5000`` serves every moto service (events, sqs, ssm,
iam, cloudwatch, logs, cloudformation, ...) plus CodeArtifact on http://127.0.0.1:5000 in the
foreground until interrupted; point boto3 at it with ``AWS_ENDPOINT_URL``. Tests use
:func:`start_server`, which runs the same application on a background thread.

The control endpoints (``/_codeartifact_moto/...``, see :mod:`codeartifact_moto.control`) are a
thin WSGI layer in front of moto's dispatcher, which would otherwise route unknown paths to S3; the
repository endpoints that twine, pip and npm use (:mod:`codeartifact_moto.registry`) another.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from . import install
from .control import CONTROL_PREFIX, INVALID_REQUEST, handle_control
from .exceptions import ERROR_STATUS, CodeArtifactError
from .models import DEFAULT_SERVICE_VARIANT, SERVICE_VARIANTS, set_process_default_service_variant
from .registry import RegistryMiddleware

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ControlMiddleware:
    """Serves ``/_codeartifact_moto/<action>`` and hands everything else to moto."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith(CONTROL_PREFIX + "/"):
            return self.app(environ, start_response)
        action = path[len(CONTROL_PREFIX) + 1 :].strip("/")
        if action == "health":
            return _json(start_response, 200, {"status": "ok"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            payload = json.loads(environ["wsgi.input"].read(length) or b"{}")
            payload.setdefault("account_id", "123456789012")
            payload.setdefault("region", "us-east-1")
            return _json(start_response, 200, handle_control(action, payload))
        except CodeArtifactError as error:
            status = ERROR_STATUS.get(error.code, 400)
            return _json(start_response, status, {"code": error.code, "message": error.message})
        except (ValueError, KeyError, TypeError) as error:
            return _json(start_response, 400, {"code": INVALID_REQUEST, "message": str(error)})


def _json(start_response: StartResponse, status: int, body: Any) -> list[bytes]:
    data = json.dumps(body).encode("utf-8")
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def make_app() -> RegistryMiddleware:
    """moto's dispatcher for all services, with CodeArtifact installed and the control layer."""
    install()
    return RegistryMiddleware(ControlMiddleware(DomainDispatcherApplication(create_backend_app)))


class QuietRequestHandler(MotoRequestHandler):
    """No access log: a test server would otherwise print a line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class CodeArtifactMotoServer(ThreadedMotoServer):
    """moto's ThreadedMotoServer serving :func:`make_app` instead of the bare dispatcher."""

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address,
            self._port,
            make_app(),
            True,
            request_handler=MotoRequestHandler if self._verbose else QuietRequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def start_server(port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """Start a server on 127.0.0.1 (a free port for 0) in a daemon thread; returns it and its URL."""
    server = CodeArtifactMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    return server, f"http://{host}:{bound_port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m codeartifact_moto.server",
        description="Local AWS: moto's services plus CodeArtifact, in the foreground.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=5000, help="port (default 5000; 0 = any)")
    parser.add_argument(
        "--service-variant",
        choices=sorted(SERVICE_VARIANTS),
        default=DEFAULT_SERVICE_VARIANT,
        help="how CopyPackageVersions answers a version the destination already holds, in every "
        f"account and region, also after a reset (default {DEFAULT_SERVICE_VARIANT}, as the API "
        "reference says; see local/codeartifact_moto/README.md)",
    )
    args = parser.parse_args(argv)
    set_process_default_service_variant(args.service_variant)

    server = make_server(args.host, args.port, make_app(), True, request_handler=MotoRequestHandler)
    host, port = server.server_address[:2]
    stop = threading.Event()

    def shutdown(signum: int, frame: Any) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    url = f"http://{host!s}:{port}"
    print(f"Local AWS (moto + CodeArtifact) listening on {url}", flush=True)
    print(f"  export AWS_ENDPOINT_URL={url}", flush=True)
    print(f"  control endpoints: {url}{CONTROL_PREFIX}/...   (Ctrl-C stops)", flush=True)
    print(
        f"  pypi and npm for twine, pip and npm: {url}/<domain>-<account>/<format>/<repository>/ "
        "(aws codeartifact get-repository-endpoint; token: get-authorization-token)",
        flush=True,
    )
    print(f"  service variant: {args.service_variant}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
