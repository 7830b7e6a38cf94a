"""How the CLI ends: its exit codes, and one clear line for every error an operator can run into."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from promoter.reconcile import ReconcileError
from promoter.rules_document import RulesError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3

Clock = Callable[[], datetime]


class CliError(Exception):
    """Ends the command with one line on stderr and ``code``."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def one_line(error: BaseException) -> str:
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        return f"{detail.get('Code') or 'ClientError'}: {detail.get('Message') or error}"
    return " ".join(str(error).split()) or type(error).__name__


def explain_error(error: BaseException) -> CliError:
    """One clear line for everything an operator can run into."""
    if isinstance(error, CliError):
        return error
    if isinstance(error, RulesError):
        return CliError(f"invalid rules: {error}", EXIT_FAILED)
    if isinstance(error, NoCredentialsError):
        return CliError(
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            EXIT_ENVIRONMENT,
        )
    if isinstance(error, NoRegionError):
        return CliError(
            "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) or pass --region", EXIT_ENVIRONMENT
        )
    if isinstance(error, ReconcileError):
        return CliError(str(error), EXIT_ENVIRONMENT)
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code") or "")
        if "Throttl" in code or code == "TooManyRequestsException":
            return CliError(
                f"CodeArtifact kept throttling after every retry ({one_line(error)}); try again later",
                EXIT_ENVIRONMENT,
            )
        return CliError(one_line(error), EXIT_ENVIRONMENT)
    if isinstance(error, BotoCoreError):
        hint = ""
        if isinstance(error, (EndpointConnectionError, ConnectTimeoutError)):
            hint = " (PROMOTER_CONNECT_TIMEOUT and AWS_MAX_ATTEMPTS set how long to try)"
        return CliError(f"AWS: {one_line(error)}{hint}", EXIT_ENVIRONMENT)
    if isinstance(error, ValueError) and str(error).startswith("Invalid endpoint"):
        return CliError(f"AWS_ENDPOINT_URL: {error}", EXIT_ENVIRONMENT)
    return CliError(f"unexpected {type(error).__name__}: {one_line(error)}", EXIT_FAILED)
