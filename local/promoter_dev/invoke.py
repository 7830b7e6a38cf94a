"""Run the promoter under the AWS Lambda Runtime Interface Emulator, as `sam local invoke` does, minus Docker.

SAM's container runs ``/var/rapid/aws-lambda-rie --log-level error <runtime bootstrap>``; the RIE
serves the Invoke API on one port, the Runtime API on another, and execs the runtime, here
``python -m awslambdaric app.lambda_handler`` with the code directory as working directory. The
binary is the one inside the ``aws-sam-cli`` package, the environment is SAM's (see
samcli/local/lambdafn/env_vars.py) plus template.yaml's Globals and function variables, so a handler
that works here meets the same bootstrap, context and timeouts as in Lambda.

Use :class:`Emulator` from Python (start once, invoke many times, read each invocation's logs), or
``python -m promoter_dev.invoke --event events/npm-published.json`` (``make invoke EVENT=...``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from promoter_dev import cfn

LOCAL_AWS = "http://127.0.0.1:5000"
"""Where `make local-aws` serves moto with CodeArtifact (its PORT: `make invoke` passes the same one)."""
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
INVOKE_PATH = "/2015-03-31/functions/function/invocations"


def rie_binary() -> Path:
    """The RIE shipped in aws-sam-cli for this machine's architecture."""
    spec = importlib.util.find_spec("samcli")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("aws-sam-cli is not installed (run `make setup`)")
    machine = platform.machine().lower()
    arch = "arm64" if machine in ("aarch64", "arm64") else "x86_64"
    path = Path(next(iter(spec.submodule_search_locations))) / "local" / "rapid" / f"aws-lambda-rie-{arch}"
    if not path.is_file():
        raise RuntimeError(f"the Lambda runtime interface emulator is missing: {path}")
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def reachable(url: str, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections at the URL's host and port."""
    parsed = urllib.parse.urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Invocation:
    """One invocation: what the handler returned and what it printed."""

    payload: Any
    raw: bytes
    logs: str
    request_id: str | None
    seconds: float
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """The handler raised, timed out or crashed (Lambda's error payload or the RIE's timeout text)."""
        if self.status >= 400 or any(k.lower() == "x-amz-function-error" for k in self.headers):
            return True
        if isinstance(self.payload, str) and self.payload.startswith("Task timed out"):
            return True
        return (
            isinstance(self.payload, dict) and "errorType" in self.payload and "errorMessage" in self.payload
        )

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON lines of the logs (Powertools log lines and EMF metric blobs)."""
        records = []
        for line in self.logs.splitlines():
            start = line.find("{")
            if start < 0:
                continue
            try:
                value = json.loads(line[start:])
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                records.append(value)
        return records

    def metrics(self) -> dict[str, float]:
        """EMF metric values summed by name (dimensioned and total metrics both counted once each)."""
        totals: dict[str, float] = {}
        for record in self.log_records():
            for name, value in emf_values(record, with_dimension=False):
                totals[name] = totals.get(name, 0.0) + value
        return totals

    def dimensioned_metrics(self) -> dict[tuple[str, str, str], float]:
        """EMF values of metrics with a dimension besides ``service``: (metric, dimension, value) -> sum."""
        totals: dict[tuple[str, str, str], float] = {}
        for record in self.log_records():
            aws = record.get("_aws")
            if not isinstance(aws, dict):
                continue
            for directive in aws.get("CloudWatchMetrics", []):
                dims = [d for group in directive.get("Dimensions", []) for d in group if d != "service"]
                if not dims:
                    continue
                for metric in directive.get("Metrics", []):
                    name = metric.get("Name")
                    for dim in dims:
                        key = (str(name), str(dim), str(record.get(dim)))
                        totals[key] = totals.get(key, 0.0) + _number(record.get(name))
        return totals


def _number(value: Any) -> float:
    if isinstance(value, list):
        return float(sum(value))
    return float(value) if isinstance(value, (int, float)) else 0.0


def emf_values(record: Mapping[str, Any], *, with_dimension: bool) -> list[tuple[str, float]]:
    """(name, value) of an EMF blob's metrics; ``with_dimension`` picks blobs with extra dimensions."""
    aws = record.get("_aws")
    if not isinstance(aws, dict):
        return []
    values = []
    for directive in aws.get("CloudWatchMetrics", []):
        extra = any(d != "service" for group in directive.get("Dimensions", []) for d in group)
        if extra != with_dimension:
            continue
        for metric in directive.get("Metrics", []):
            name = metric.get("Name")
            if isinstance(name, str):
                values.append((name, _number(record.get(name))))
    return values


def lambda_environment(
    function: cfn.FunctionConfig,
    *,
    endpoint_url: str | None,
    overrides: Mapping[str, str] | None = None,
    host_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The process environment Lambda (and SAM's container) gives the runtime, for this host."""
    host = os.environ if host_env is None else host_env
    region = host.get("AWS_REGION") or host.get("AWS_DEFAULT_REGION") or cfn.REGION
    env: dict[str, str] = {
        "PATH": host.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": str(function.code_dir),
        "PYTHONUNBUFFERED": "1",
        "LAMBDA_TASK_ROOT": str(function.code_dir),
        "AWS_SAM_LOCAL": "true",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
        "AWS_LAMBDA_FUNCTION_HANDLER": function.handler,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"aws/lambda/{function.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_ACCOUNT_ID": cfn.ACCOUNT_ID,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    if host.get("AWS_ACCESS_KEY_ID") and host.get("AWS_SECRET_ACCESS_KEY"):
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            if host.get(name):
                env[name] = host[name]
    else:
        env.update(FAKE_CREDENTIALS)
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    env.update(function.environment)
    env.update(overrides or {})
    return env


def read_env_vars_file(path: Path, logical_id: str) -> dict[str, str]:
    """SAM's --env-vars JSON: {"Parameters": {...}} for every function, {"<LogicalId>": {...}} for one."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    merged: dict[str, str] = {}
    for key in ("Parameters", logical_id):
        section = data.get(key) or {}
        merged.update({str(k): cfn._env_text(v) for k, v in section.items()})
    return merged


class Emulator:
    """The function under the RIE: ``with Emulator(...) as emu: emu.invoke(event)``.

    The RIE initialises the runtime on the first invocation (a cold start) and keeps it for the
    next ones, exactly like one Lambda execution environment; it serves one invocation at a time.
    """

    def __init__(
        self,
        function: cfn.FunctionConfig | None = None,
        *,
        endpoint_url: str | None = None,
        env_overrides: Mapping[str, str] | None = None,
        parameter_overrides: Mapping[str, str] | None = None,
        python: str = sys.executable,
        code_dir: Path | None = None,
        start_timeout: float = 30.0,
        log_level: str | None = None,
    ) -> None:
        if function is None:
            resolver = cfn.Resolver(cfn.load_template(), parameter_overrides or {})
            function = cfn.function_config(resolver)
        if code_dir is not None:
            function = cfn.FunctionConfig(**{**function.__dict__, "code_dir": code_dir.resolve()})
        self.function = function
        self.env = lambda_environment(function, endpoint_url=endpoint_url, overrides=env_overrides)
        self.python = python
        self.start_timeout = start_timeout
        self.rie_log_level = log_level or ("debug" if os.environ.get("SAM_CLI_RIE_DEV") == "1" else "error")
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._output: list[str] = []
        self._output_lock = threading.Condition()
        self._invoke_lock = threading.Lock()
        self._reader: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Emulator:
        if self._process is not None:
            return self
        self.port = free_port()
        command = [
            str(rie_binary()),
            "--log-level",
            self.rie_log_level,
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{self.port}",
            "--runtime-api-address",
            f"127.0.0.1:{free_port()}",
            self.python,
            "-m",
            "awslambdaric",
            self.function.handler,
        ]
        self._process = subprocess.Popen(  # noqa: S603 - our own binary and interpreter
            command,
            cwd=self.function.code_dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_output, name="rie-output", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout
        while not reachable(f"http://127.0.0.1:{self.port}", timeout=0.2):
            if self._process.poll() is not None:
                raise RuntimeError(f"the runtime emulator exited at start:\n{self.output()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the runtime emulator did not listen within {self.start_timeout} s")
            with self._output_lock:
                self._output_lock.wait(timeout=0.05)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ output

    def _read_output(self) -> None:
        process = self._process
        assert process is not None
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            with self._output_lock:
                self._output.append(raw.decode("utf-8", errors="replace"))
                self._output_lock.notify_all()
        with self._output_lock:
            self._output_lock.notify_all()

    def output(self) -> str:
        """Everything the RIE and the runtime printed so far."""
        with self._output_lock:
            return "".join(self._output)

    def _wait_for_report(self, start: int, request_id: str | None, deadline: float) -> str:
        """The lines of one invocation: the RIE prints ``REPORT RequestId`` after the runtime's output."""
        marker = f"REPORT RequestId: {request_id}" if request_id else "REPORT RequestId:"
        with self._output_lock:
            while True:
                lines = self._output[start:]
                if any(marker in line for line in lines):
                    return "".join(lines)
                if time.monotonic() > deadline or self._process is None or self._process.poll() is not None:
                    return "".join(lines)
                self._output_lock.wait(timeout=0.05)

    def runtime_peak_rss_mb(self) -> float | None:
        """Peak resident memory of the runtime process (the RIE's child: ``VmHWM`` in /proc), or None where
        /proc cannot say (not Linux, or the process is gone)."""
        process = self._process
        if process is None:
            return None
        try:
            children = [  # a Go program: any of its threads may have started the runtime
                child
                for task in Path(f"/proc/{process.pid}/task").iterdir()
                for child in (task / "children").read_text().split()
            ]
            peaks = []
            for child in children:
                status = Path(f"/proc/{child}/status").read_text()
                found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
                if found:
                    peaks.append(int(found.group(1)) / 1024)
        except OSError:
            return None
        return max(peaks) if peaks else None

    # ------------------------------------------------------------------ invoke

    def invoke(self, event: Any, *, timeout: float | None = None) -> Invocation:
        """Invoke once with ``event`` (any JSON value) and wait for the result and its logs."""
        if self._process is None:
            raise RuntimeError("the emulator is not running (use start() or a with block)")
        body = json.dumps(event).encode("utf-8")
        limit = timeout if timeout is not None else self.function.timeout + 30.0
        with self._invoke_lock:
            with self._output_lock:
                start = len(self._output)
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}{INVOKE_PATH}",
                data=body,
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            began = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=limit) as response:  # noqa: S310 - loopback
                    raw = response.read()
                    status, headers = response.status, dict(response.headers.items())
                    request_id = response.headers.get("X-Amzn-Requestid") or response.headers.get(
                        "Lambda-Runtime-Aws-Request-Id"
                    )
            except urllib.error.HTTPError as error:
                raw = error.read()
                status, headers = error.code, dict(error.headers.items())
                request_id = None
            seconds = time.monotonic() - began
            logs = self._wait_for_report(start, request_id, time.monotonic() + 10.0)
            logs = real_report(logs, self.runtime_peak_rss_mb())
        if request_id is None:
            request_id = _request_id_from(logs)
        try:
            payload: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            payload = raw.decode("utf-8", errors="replace")
        return Invocation(
            payload=payload,
            raw=raw,
            logs=logs,
            request_id=request_id,
            seconds=seconds,
            status=status,
            headers=headers,
        )


_REPORT = re.compile(r"^(?P<head>.*REPORT RequestId: \S+)(?P<rest>.*)$", re.MULTILINE)


def real_report(logs: str, peak_rss_mb: float | None) -> str:
    """The RIE's REPORT line with real figures only.

    The emulator measures the duration (and bills it the way Lambda does) but prints its configured memory
    size as "Max Memory Used" and a near-zero "Init Duration", which are not measurements. Those two are
    replaced by the runtime process's measured peak memory, or dropped when it could not be read.
    """

    def rewrite(match: re.Match[str]) -> str:
        fields = [f.strip() for f in match.group("rest").split("\t") if f.strip()]
        kept = [f for f in fields if not f.startswith(("Init Duration:", "Max Memory Used:"))]
        if peak_rss_mb is not None:
            kept.append(f"Max Memory Used: {peak_rss_mb:.0f} MB (peak RSS of the runtime process)")
        return "\t".join([match.group("head"), *kept])

    return _REPORT.sub(rewrite, logs)


def _request_id_from(logs: str) -> str | None:
    """The id the runtime saw (the RIE's START line may carry a different one; REPORT does not)."""
    for marker in ("REPORT RequestId:", "START RequestId:"):
        for line in logs.splitlines():
            if marker in line:
                return line.split(marker, 1)[1].split()[0]
    return None


# ---------------------------------------------------------------------- CLI


def _parameter_overrides(values: Sequence[str]) -> dict[str, str]:
    result = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--parameter-overrides expects Name=Value, not {item!r}")
        result[name] = value
    return result


def _endpoint(explicit: str | None, stack: contextlib.ExitStack, local_aws: str = LOCAL_AWS) -> str | None:
    """The endpoint to hand the function; never real AWS by accident.

    An endpoint the user named must answer. Without one, `make local-aws`'s is used when it runs (on
    ``local_aws``: PORT, as `make local-aws` reads it), else an empty local AWS is started for this one
    invocation (calls then fail as they would against an account without the domain, quickly, instead of
    the function retrying a dead port).
    """
    if explicit:
        if not reachable(explicit):
            print(f"error: nothing listens at {explicit} (start `make local-aws` or fix AWS_ENDPOINT_URL)")
            return None
        return explicit
    if reachable(local_aws):
        return local_aws
    from codeartifact_moto.server import start_server  # noqa: PLC0415 - only without a running local AWS

    server, url = start_server(port=0)
    stack.callback(server.stop)
    print(f"note: no local AWS at {local_aws} (`make local-aws`); using an empty one at {url} for this run")
    return url


class EventFileError(ValueError):
    """An event file that cannot be invoked with: one line naming the file and the problem."""


def read_event(path: Path) -> Any:
    """The event file's JSON, or EventFileError naming the file and what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EventFileError(f"event file {str(path)!r} does not exist (see events/*.json)") from None
    except IsADirectoryError:
        raise EventFileError(f"event file {str(path)!r} is a directory, not a JSON file") from None
    except OSError as error:
        raise EventFileError(f"cannot read event file {str(path)!r}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise EventFileError(f"event file {str(path)!r} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise EventFileError(
            f"event file {str(path)!r} is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None


def package_name(record: Mapping[str, Any]) -> str:
    namespace = record.get("namespace")
    return f"{namespace}/{record.get('package')}" if namespace else str(record.get("package"))


def outcome_records(invocations: Sequence[Invocation]) -> list[dict[str, Any]]:
    """The function's one-log-line-per-outcome records."""
    return [r for i in invocations for r in i.log_records() if "outcome" in r and "_aws" not in r]


def why(record: Mapping[str, Any]) -> str:
    if record.get("errorCode"):
        return f"{record['errorCode']}: {record.get('errorMessage') or ''}".strip()
    return "; ".join(str(record[key]) for key in ("reason", "rule") if record.get(key))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(("  " + line).rstrip() for line in lines)


def summary_table(invocations: Sequence[Invocation]) -> str:
    """One row per outcome (outcome, format, package, version, state, to, why), as the demo prints."""
    rows = [
        (
            str(r.get("outcome")),
            str(r.get("format")),
            package_name(r),
            str(r.get("version")),
            str(r.get("state")),
            str(r.get("destinationRepository") or "-"),
            why(r),
        )
        for r in outcome_records(invocations)
    ]
    if not rows:
        return "  no outcome: the function logged no version (see the logs and response above)"
    return table(("outcome", "format", "package", "version", "state", "to", "why"), rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m promoter_dev.invoke",
        description="Invoke the promoter once under the Lambda runtime emulator (no Docker needed).",
    )
    parser.add_argument("--event", "-e", type=Path, required=True, help="event JSON file (events/*.json)")
    parser.add_argument("--template", "-t", type=Path, default=cfn.TEMPLATE)
    parser.add_argument("--function", default=cfn.FUNCTION_ID, help="logical id of the function")
    parser.add_argument("--env-vars", "-n", type=Path, help="SAM-style JSON of environment overrides")
    parser.add_argument(
        "--parameter-overrides", nargs="*", default=[], metavar="NAME=VALUE", help="template parameters"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT") or 5000),
        help="the port of `make local-aws` (default: $PORT, else 5000)",
    )
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="AWS endpoint the function calls (default: $AWS_ENDPOINT_URL, else `make local-aws` on --port, "
        "else a throwaway empty local AWS)",
    )
    parser.add_argument(
        "--code-dir", type=Path, help="run this code instead (for example .aws-sam/build/...)"
    )
    args = parser.parse_args(argv)

    try:
        event = read_event(args.event)
    except EventFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    resolver = cfn.Resolver(cfn.load_template(args.template), _parameter_overrides(args.parameter_overrides))
    function = cfn.function_config(resolver, args.function, root=args.template.resolve().parent)
    overrides = read_env_vars_file(args.env_vars, args.function) if args.env_vars else {}
    with contextlib.ExitStack() as stack:
        endpoint = _endpoint(args.endpoint_url, stack, f"http://127.0.0.1:{args.port}")
        if endpoint is None:
            return 2
        with Emulator(
            function, endpoint_url=endpoint, env_overrides=overrides, code_dir=args.code_dir
        ) as emu:
            result = emu.invoke(event)
    print(f"--- logs ({function.logical_id}, {function.runtime} handler {function.handler}) ---")
    print(result.logs.rstrip())
    print("--- response ---")
    print(json.dumps(result.payload, indent=2) if not isinstance(result.payload, str) else result.payload)
    print("--- summary ---")
    print(summary_table([result]))
    return 1 if result.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
