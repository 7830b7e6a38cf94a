"""What one Lambda execution environment builds once and reuses: settings, clients, rules, the rate limiter.

Nothing is created at import: each is made on first use, so a test puts a fake client in ``state()``
instead of patching botocore, and a missing rules file fails the first invocation, not the import.

Clients come from one botocore session (``aws_client``): the function only makes client calls, and boto3's
import (its resource layer and s3transfer) would add about 18 ms of CPU to every cold start.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from promoter.copier import RetryPolicy, no_deadline
from promoter.matching import RuleSet
from promoter.observability import OutcomeLines, PowertoolsMetrics, logger, metrics
from promoter.outcome_events import OutcomeEventPublisher
from promoter.pacing import RateLimiter, copy_limiter
from promoter.pipeline import Dependencies
from promoter.report import Reporter
from promoter.rules import StackScope, load_rules_file, load_rules_parameter
from promoter.rules_document import RulesError
from promoter.settings import Settings

EMULATOR_ACCOUNT = "012345678912"
"""The account the Lambda runtime interface emulator (``sam local invoke``, promoter_dev.invoke) puts in
every function ARN: a placeholder, not the account whose domains the function works on."""


@dataclass(slots=True)
class State:
    """What survives between invocations of one execution environment."""

    settings: Settings | None = None
    session: Any = None
    """The botocore session every client is made from (they share its loaded service models)."""
    client: Any = None
    events_client: Any = None
    limiter: RateLimiter | None = None
    rules: RuleSet | None = None
    rules_text: str | None = None  # the SSM parameter's text the rules were compiled from


_state = State()


def state() -> State:
    """The environment's state: tests put a fake client here instead of patching boto3."""
    return _state


def reset_state() -> State:
    """Forget clients, rules and settings, as a new execution environment would (tests)."""
    for field in dataclasses.fields(_state):
        setattr(_state, field.name, None)
    return _state


def settings() -> Settings:
    if _state.settings is None:
        _state.settings = Settings.from_env()
    return _state.settings


def aws_client(service: str, config: Any = None) -> Any:
    """A client of the environment's botocore session, which is made on the first call (tests that bring a
    fake never load botocore's session)."""
    if _state.session is None:
        import botocore.session  # noqa: PLC0415

        _state.session = botocore.session.get_session()
    return _state.session.create_client(service, config=config)


def client() -> Any:
    if _state.client is None:
        from botocore.config import Config  # noqa: PLC0415

        config = settings()
        _state.client = aws_client(
            "codeartifact",
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},  # the copier retries, bounded by time
                connect_timeout=min(5.0, config.call_timeout),
                read_timeout=config.call_timeout,
                # Requests are built from events already checked field by field (promoter.events), and
                # the service checks them again.
                parameter_validation=False,
            ),
        )
    return _state.client


def events_client() -> Any:
    if _state.events_client is None:  # only when outcome events are on
        _state.events_client = aws_client("events")
    return _state.events_client


def rules(own_account: str | None = None) -> RuleSet:
    """Rules from SSM (cached by Parameters, recompiled only when the text changes) or from the file, within
    the stack's domain, owner (``own_account`` when DOMAIN_OWNER is empty) and repositories."""
    config = settings()
    scope = StackScope(config.domain_name, config.domain_owner, own_account)
    if config.rules_parameter:
        from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - only with an SSM parameter

        text = parameters.get_parameter(config.rules_parameter, max_age=int(config.rules_cache_seconds))
        if _state.rules is None or text != _state.rules_text:
            _state.rules = load_rules_parameter(
                str(text),
                name=config.rules_parameter,
                allowed_sources=config.allowed_sources,
                allowed_destinations=config.allowed_destinations,
                scope=scope,
            )
            _state.rules_text = text
        return _state.rules
    if _state.rules is None:
        assert config.rules_file is not None
        _state.rules = load_rules_file(
            config.rules_file,
            allowed_sources=config.allowed_sources,
            allowed_destinations=config.allowed_destinations,
            scope=scope,
        )
    return _state.rules


def limiter() -> RateLimiter:
    if _state.limiter is None:
        # One per execution environment, kept across invocations: what it learnt of the free quota stays.
        config = settings()
        _state.limiter = copy_limiter(config.copy_rate, config.copy_pacing)
    return _state.limiter


def account_of(context: Any) -> str | None:
    """The function's account, from its ARN (arn:aws:lambda:region:account:function:name), if known."""
    parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    account = parts[4] if len(parts) > 4 else ""
    if not (account.isdigit() and len(account) == 12) or account == EMULATOR_ACCOUNT:
        return None
    return account


def build_dependencies(context: Any) -> Dependencies:
    """This invocation's dependencies: the environment's client, rules and limiter, and its own deadline."""
    config = settings()
    account = account_of(context)
    try:
        ruleset = rules(account)
    except RulesError as exc:
        logger.error(
            "promotion rules are invalid; nothing is promoted until they are fixed", extra={"error": str(exc)}
        )
        raise
    events = (
        OutcomeEventPublisher(
            config.outcome_event_bus, client_factory=events_client, metrics=metrics, logger=logger
        )
        if config.outcome_event_bus
        else None
    )
    remaining: Callable[[], float] = no_deadline
    get_remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(get_remaining):

        def remaining() -> float:
            return float(get_remaining()) / 1000.0

    return Dependencies(
        client=client(),
        rules=ruleset,
        reporter=Reporter(OutcomeLines(logger), PowertoolsMetrics(), events),
        remaining=remaining,
        limiter=limiter(),
        policy=RetryPolicy(call_reserve=config.call_reserve, max_attempts=config.max_attempts),
        account_id=account,
        catch_up=config.catch_up,
        region=config.region,
    )
