"""The CLI's AWS clients: short timeouts and few attempts (an operator waits at a terminal), environment
values checked up front, and on a terminal a status line naming the call in flight."""

from __future__ import annotations

import argparse
import os
import re
from typing import Any, TextIO

from promoter.cli.errors import EXIT_ENVIRONMENT, CliError

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 30.0
READ_ATTEMPTS = 3
"""The CLI's defaults for reads: an operator waits at a terminal, so an endpoint that does not answer is an
error within seconds (3 attempts of at most 2 s to connect), not the minute botocore's defaults take."""


def env_number(name: str, default: float, *, whole: bool = False) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = 0
    if value <= 0:
        kind = "a whole number" if whole else "a number of seconds"
        raise CliError(f"{name} must be {kind} above 0, not {raw!r}", EXIT_ENVIRONMENT)
    return value


def _check_environment() -> None:
    """Environment values botocore would take apart with a traceback (or ignore): one line, exit 3."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if endpoint and re.match(r"^https?://[^/\s:]+(:[0-9]{1,5})?(/\S*)?$", endpoint) is None:
        raise CliError(
            f"AWS_ENDPOINT_URL must be a URL such as http://127.0.0.1:5000, not {endpoint!r}",
            EXIT_ENVIRONMENT,
        )
    mode = os.environ.get("AWS_RETRY_MODE", "").strip()
    if mode and mode not in ("legacy", "standard", "adaptive"):
        raise CliError(f"AWS_RETRY_MODE must be legacy, standard or adaptive, not {mode!r}", EXIT_ENVIRONMENT)
    env_number("AWS_MAX_ATTEMPTS", READ_ATTEMPTS, whole=True)


def config(*, single_attempt: bool = False) -> Any:
    from botocore.config import Config  # noqa: PLC0415

    retries: Any = {
        "mode": os.environ.get("AWS_RETRY_MODE", "").strip() or "standard",
        "max_attempts": int(env_number("AWS_MAX_ATTEMPTS", READ_ATTEMPTS, whole=True)),
    }
    if single_attempt:
        retries = {"mode": "standard", "total_max_attempts": 1}
    return Config(
        retries=retries,
        connect_timeout=env_number("PROMOTER_CONNECT_TIMEOUT", CONNECT_TIMEOUT),
        read_timeout=env_number("PROMOTER_READ_TIMEOUT", READ_TIMEOUT),
    )


def session(args: argparse.Namespace) -> Any:
    import boto3  # noqa: PLC0415 - `promoter rules check` needs no AWS at all

    _check_environment()
    region = args.region or os.environ.get("AWS_REGION") or None
    return boto3.Session(profile_name=args.profile, region_name=region)


class Waiting:
    """On a terminal, one status line on stderr naming the call in flight, cleared when it answers."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def attach(self, client: Any) -> Any:
        if self.stream.isatty():
            client.meta.events.register("before-parameter-build", self._before)
            client.meta.events.register("after-call", self._after)
        return client

    def _before(self, model: Any = None, **_: Any) -> None:
        name = getattr(model, "name", "a call")
        self.stream.write(f"\r\x1b[Kwaiting for CodeArtifact {name} ...")
        self.stream.flush()

    def _after(self, **_: Any) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


WAITING: list[Waiting] = []
"""The run's status line (set by ``main`` for its stderr)."""


def codeartifact_client(args: argparse.Namespace, *, single_attempt: bool = False) -> Any:
    """A client for read calls (botocore retries them, see ``config``), or with ``single_attempt`` for the
    copier, which retries copies and publish-time lookups itself: botocore's retries inside its attempts
    would multiply them."""
    client = session(args).client("codeartifact", config=config(single_attempt=single_attempt))
    for waiting in WAITING:
        waiting.attach(client)
    return client


def list_client(args: argparse.Namespace, client: Any) -> Any:
    """Reads go through botocore's retries (a test's client is used as it is)."""
    return client if client is not None else codeartifact_client(args)
