"""`make demo` is the first thing a new user runs: it must work and tell the truth."""

from __future__ import annotations

import pytest
from promoter_dev import demo

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:Tried to parse AWS..SQS..QueuePolicy"),
]


def test_demo_promotes_skips_and_fails_as_the_example_rules_say(capsys: pytest.CaptureFixture[str]) -> None:
    # When
    status = demo.run()

    # Then every published version ended as expected, and the summary says what happened and why
    out = capsys.readouterr().out
    assert status == 0, out
    assert "UNEXPECTED" not in out
    assert "EventBridge routed 8 events into the queue" in out
    assert "ALREADY_EXISTS" in out
    assert "prerelease" in out
    assert "NO (another build)" in out
    assert "the local AWS and the emulator are stopped" in out
    # ... the pypi and npm versions went in with twine and npm, and the last step installs the promoted
    # ones from release with pip and npm, byte for byte what was published
    assert "(twine upload acme_utils-2.3.1-py3-none-any.whl)" in out
    assert "(npm publish --tag next)" in out
    last_step = out[out.index("7. installing the promoted pypi and npm versions from 'release'") :]
    assert "npm install --registry" in last_step
    assert "pip install --index-url" in last_step
    assert last_step.count("= the bytes published to staging") == 2


def test_unexpected_names_each_version_that_ended_otherwise() -> None:
    records = [
        {"outcome": "promoted", "format": "npm", "package": "acme-ui", "version": "2.1.0"},
        {"outcome": "promoted", "format": "npm", "package": "acme-ui", "version": "3.0.0-beta.1"},
    ]

    surprises = demo.unexpected(records)

    assert "npm acme-ui 3.0.0-beta.1: expected skipped, got promoted" in surprises
    assert "pypi acme-utils 2.3.1: expected promoted, got no outcome" in surprises
    assert not any(s.startswith("npm acme-ui 2.1.0") for s in surprises)
