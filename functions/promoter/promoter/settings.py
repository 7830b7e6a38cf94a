"""The function's configuration, read from the environment when first needed (never at import)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from promoter.rules_fields import ACCOUNT_PATTERN, DOMAIN_PATTERN

DEFAULT_RULES_FILE = "promotion-rules.yaml"
_MODULE_FILE = os.path.abspath(__file__)  # absolute now (the working directory may change), resolved later


def function_root() -> Path:
    """The directory of app.py (the Lambda task root once deployed), resolved when asked, not at import:
    in Lambda ``LAMBDA_TASK_ROOT`` answers instead."""
    return Path(_MODULE_FILE).resolve().parent.parent


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _float(environ: Mapping[str, str], key: str, default: float) -> float:
    raw = environ.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"{key} must not be negative")
    return value


def _name(environ: Mapping[str, str], key: str, pattern: str, what: str) -> str | None:
    """An optional name, matched whole (a trailing newline is refused, not stripped into another name)."""
    raw = environ.get(key, "")
    if not raw.strip():
        return None
    if not re.fullmatch(pattern, raw):
        raise ValueError(f"{key} must be {what}, not {raw[:80]!r}")
    return raw


def _bool(environ: Mapping[str, str], key: str, *, default: bool) -> bool:
    raw = environ.get(key, "").strip().lower()
    if not raw:
        return default
    if raw in ("true", "1", "yes", "on"):
        return True
    if raw in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"{key} must be true or false, not {raw!r}")


def _choice(environ: Mapping[str, str], key: str, allowed: tuple[str, ...], default: str) -> str:
    raw = environ.get(key, "").strip().lower()
    if not raw:
        return default
    if raw not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}, not {raw[:40]!r}")
    return raw


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class Settings(NamedTuple):
    """What the environment configures; ``from_env`` reads and checks it."""

    rules_file: str | None
    rules_parameter: str | None
    allowed_sources: tuple[str, ...]
    allowed_destinations: tuple[str, ...]
    outcome_event_bus: str | None
    tracing: bool
    # PROMOTER_COPY_RATE, copy calls per second at most (0: unpaced): the ceiling adaptive pacing
    # recovers toward, the constant rate of fixed pacing.
    copy_rate: float
    # Read timeout of one API call; a call starts only when this plus a margin remains.
    call_timeout: float
    # How long rules read from SSM are cached before Parameters reads them again.
    rules_cache_seconds: float
    # Attempts per API call on throttling and 5xx (each wait also bounded by the time left).
    max_attempts: int = 20
    # PROMOTER_CATCH_UP: fill copy calls with the package's other accepted versions (promoter.catchup).
    catch_up: bool = True
    # DOMAIN_NAME: what a rule without ``domain`` means, and the only domain a rule may name.
    domain_name: str | None = None
    # DOMAIN_OWNER; None: the function's own account.
    domain_owner: str | None = None
    # AWS_REGION: events of other regions are ignored (reason ``region``).
    region: str | None = None
    # PROMOTER_COPY_PACING: ``adaptive`` (backs off on the throttles the service answers, up to
    # ``copy_rate``) or ``fixed`` (``copy_rate`` whatever the service answers).
    copy_pacing: str = "adaptive"

    @property
    def call_reserve(self) -> float:
        return self.call_timeout + 2.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        parameter = env.get("PROMOTION_RULES_PARAMETER", "").strip() or None
        rules_file = env.get("PROMOTION_RULES_FILE", "").strip() or None
        if rules_file is None and parameter is None:
            rules_file = DEFAULT_RULES_FILE
        if rules_file is not None:
            rules_file = resolve_rules_path(rules_file, env)
        return cls(
            rules_file=rules_file if parameter is None else None,
            rules_parameter=parameter,
            allowed_sources=_list(env.get("ALLOWED_SOURCE_REPOSITORIES")),
            allowed_destinations=_list(env.get("ALLOWED_DESTINATION_REPOSITORIES")),
            outcome_event_bus=env.get("OUTCOME_EVENT_BUS", "").strip() or None,
            tracing=env.get("PROMOTER_TRACING", "").strip().lower() == "true",
            copy_rate=_float(env, "PROMOTER_COPY_RATE", 5.0),
            call_timeout=_float(env, "PROMOTER_CALL_TIMEOUT_SECONDS", 10.0),
            rules_cache_seconds=_float(env, "PROMOTION_RULES_CACHE_SECONDS", 60.0),
            max_attempts=max(1, int(_float(env, "PROMOTER_MAX_ATTEMPTS", 20))),
            catch_up=_bool(env, "PROMOTER_CATCH_UP", default=True),
            domain_name=_name(env, "DOMAIN_NAME", DOMAIN_PATTERN, "a CodeArtifact domain name"),
            domain_owner=_name(env, "DOMAIN_OWNER", ACCOUNT_PATTERN, "a 12-digit account id"),
            region=env.get("AWS_REGION", "").strip() or None,
            copy_pacing=_choice(env, "PROMOTER_COPY_PACING", ("adaptive", "fixed"), "adaptive"),
        )


def resolve_rules_path(path: str, environ: Mapping[str, str]) -> str:
    """A relative path is relative to the function's code (LAMBDA_TASK_ROOT), not the working directory."""
    candidate = Path(path)
    if candidate.is_absolute():
        return str(candidate)
    root = environ.get("LAMBDA_TASK_ROOT") or str(function_root())
    return str(Path(root) / candidate)
