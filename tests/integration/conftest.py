"""Fixtures the CLI tests share: the ``acme`` domain over HTTP and the one-rule npm rules file."""

from __future__ import annotations

from pathlib import Path

import pytest
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter_dev.sample_rules import DOMAIN, write_rules


@pytest.fixture
def env(aws_server: AwsEnv) -> AwsEnv:
    """The ``acme`` domain with ``staging`` and ``release``, over HTTP (a module may override it)."""
    create_domain_with_repositories(aws_server.client("codeartifact"), DOMAIN, ["staging", "release"])
    return aws_server


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    return write_rules(tmp_path)
