"""Fixtures for the reliability suite: the function configured like the stack configures it, with a fresh
container state per test. (The storm table is printed by tests/conftest.py through storm_table.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import app
import pytest

DOMAIN = "acme"
RULES = {
    "rules": [
        {
            "name": "staging-to-release",
            "domain": DOMAIN,
            "sourceRepository": "staging",
            "destinationRepositories": ["release"],
            "formats": ["npm", "pypi", "generic", "maven"],
            "includePrerelease": True,
        }
    ]
}


@pytest.fixture
def function_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The handler's environment: a rules file, the allow-lists the stack sets, a short call timeout
    (so a slow answer costs seconds, not minutes) and no container state from an earlier test."""
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(json.dumps(RULES))
    monkeypatch.setenv("PROMOTION_RULES_FILE", str(rules_file))
    monkeypatch.setenv("ALLOWED_SOURCE_REPOSITORIES", "staging")
    monkeypatch.setenv("ALLOWED_DESTINATION_REPOSITORIES", "release")
    monkeypatch.setenv("PROMOTER_CALL_TIMEOUT_SECONDS", "0.5")
    for name in ("PROMOTION_RULES_PARAMETER", "OUTCOME_EVENT_BUS", "PROMOTER_COPY_RATE"):
        monkeypatch.delenv(name, raising=False)
    app.reset_state()
    yield rules_file
    app.reset_state()
