"""The promotion rules files that the CLI and handler tests start from, written once.

Most tests need one rule from ``staging`` to ``release`` in the ``acme`` domain, for every format or for npm
only, and add a key or two to it; keeping the text here means the tests differ only in what they add.
"""

from __future__ import annotations

from pathlib import Path

DOMAIN = "acme"

# One rule, every format: what the scheduled reconcile and the resume tests promote.
STAGING_TO_RELEASE = """
rules:
  - name: staging-to-release
    domain: acme
    sourceRepository: staging
    destinationRepositories: [release]
"""

# The same rule for npm only, under the name the CLI tests print and match.
NPM_TO_RELEASE = STAGING_TO_RELEASE.replace("staging-to-release", "npm-to-release") + "    formats: [npm]\n"


def write_rules(directory: Path, text: str = NPM_TO_RELEASE, name: str = "rules.yaml") -> Path:
    """``text`` as a rules file in ``directory`` (a test's tmp_path); its path, for ``--rules``."""
    path = directory / name
    path.write_text(text)
    return path
