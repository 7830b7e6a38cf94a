"""What the handler's dependencies and settings default to when nothing overrides them."""

from __future__ import annotations

from promoter.copier import RetryPolicy
from promoter.pipeline import Dependencies
from promoter.settings import Settings

from .conftest import rules


def test_dependencies_default_to_catch_up_and_the_standard_retry_policy() -> None:
    deps = Dependencies("client", rules(), None)  # type: ignore[arg-type]
    assert deps.policy == RetryPolicy()
    assert deps.catch_up is True
    assert deps.account_id is None
    assert deps.limiter is None


def test_settings_from_a_rules_file_alone() -> None:
    settings = Settings.from_env({"PROMOTION_RULES_FILE": "/rules.yaml"})
    assert (settings.rules_file, settings.max_attempts, settings.catch_up) == ("/rules.yaml", 20, True)
