"""Every documented example runs, so the docs cannot drift from the code.

The examples are extracted from README.md, functions/promoter/README.md and docs/ (never listed by hand):

- every rules document (a ```yaml or ```json block with a ``rules`` key) passes ``promoter rules check``
  with no warning;
- every event (a ```json block that is an EventBridge event or an SQS batch, and every ``events/*.json``
  file the docs name) goes through ``promoter explain`` (bad-input samples fail as documented: one line);
- every ``promoter`` command (in shell blocks, and inline code that starts with ``promoter``) runs against
  the local AWS over HTTP, with placeholders (FILE, EVENT.json, TIME, ...) replaced by real values;
- a shell block marked ``<!-- doc-test: run -->`` runs in bash, line by line as a user would paste it,
  against the local AWS (it needs the AWS CLI on PATH, else that one test is skipped).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories
from promoter.cli import EXIT_FAILED, EXIT_OK, build_parser, main

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "README.md", ROOT / "functions/promoter/README.md", *sorted((ROOT / "docs").rglob("*.md")))
BUNDLED_RULES = ROOT / "functions/promoter/promotion-rules.yaml"
RUN_MARKER = "<!-- doc-test: run -->"
DOCUMENTED_LOCAL_AWS = "http://127.0.0.1:5000"


class Block(NamedTuple):
    doc: str
    line: int
    lang: str
    text: str
    run: bool

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"


def _blocks() -> list[Block]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        for match in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
            before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
            line = text.count("\n", 0, match.start()) + 1
            found.append(Block(name, line, match.group(1), match.group(2), before.strip() == RUN_MARKER))
    return found


BLOCKS = _blocks()


def _parsed(block: Block) -> Any:
    try:
        return yaml.safe_load(block.text) if block.lang in ("yaml", "yml", "json") else None
    except yaml.YAMLError:
        return None


RULES_BLOCKS = [b for b in BLOCKS if isinstance(_parsed(b), dict) and "rules" in _parsed(b)]
EVENT_BLOCKS = [
    b
    for b in BLOCKS
    if b.lang == "json" and isinstance(_parsed(b), dict) and ({"detail-type", "Records"} & set(_parsed(b)))
]
EVENT_FILES = sorted(
    {
        m.group(0)
        for path in DOCS
        for m in re.finditer(r"events/[\w./-]+\.json", path.read_text(encoding="utf-8"))
        if (ROOT / m.group(0)).is_file()
    }
)


def _command_lines(block: Block) -> Iterator[str]:
    """The block's commands, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block.text)
    for line in joined.splitlines():
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            continue
        if tokens:
            yield shlex.join(tokens)


def _promoter_argv(command: str) -> list[str] | None:
    """The arguments of a ``promoter`` command (after env assignments and a .venv/bin/ path), or None."""
    tokens = shlex.split(command)
    while tokens and re.match(r"^[A-Z_][A-Z0-9_]*=", tokens[0]):
        tokens = tokens[1:]
    if not tokens or Path(tokens[0]).name != "promoter":
        return None
    return tokens[1:]


def _commands() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for block in BLOCKS:
        if block.lang in ("sh", "bash", "console", "shell") and not block.run:
            found.extend((block.where, c) for c in _command_lines(block) if _promoter_argv(c) is not None)
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        for match in re.finditer(r"`(promoter [^`]+)`", text):
            if len(match.group(1).split()) >= 3:  # a command, not a mention of a verb (`promoter plan`)
                found.append((f"{name}:{text.count(chr(10), 0, match.start()) + 1}", match.group(1)))
    return found


COMMANDS = _commands()

SAMPLE_VERSION = ("generic", "tools", "hello", "1.0.0")


def _substitute(argv: list[str], tmp_path: Path) -> list[str]:
    """Placeholders and user files become real ones: the bundled rules, a sample event, a time."""
    my_rules = tmp_path / "my-rules.yaml"
    if not my_rules.exists():
        shutil.copy(BUNDLED_RULES, my_rules)
    text = " ".join(argv)
    text = re.sub(r"\[([^\[\]]*)\]", r"\1", text) if " [" in f" {text}" else text  # optional parts: use them
    values = {
        "FILE": str(BUNDLED_RULES),
        "my-rules.yaml": str(my_rules),
        "EVENT.json": str(ROOT / "events/generic-published.json"),
        "TIME": "2026-12-01T00:00:00Z",
        "SECONDS": "60",
        "NAME": "acme",
        "CURSOR.json": str(tmp_path / "cursor.json"),
        "FORMAT/NAMESPACE/PACKAGE@VERSION": "/".join(SAMPLE_VERSION[:3]) + "@" + SAMPLE_VERSION[3],
        "TEXT": "INC-42",
        "Unlisted|Archived": "Unlisted",
    }
    if argv and argv[0] == "revoke":  # --write edits its rules file: a copy, never the bundled one
        values["FILE"] = str(my_rules)
    out = []
    for token in text.split():
        value = values.get(token, token)
        out.append(str(ROOT / value) if value.startswith(("functions/", "events/")) else value)
    return out


def _prepare(env: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the documented commands expect: the sample domain (also as the stack's, DOMAIN_NAME, which the
    README tells a user to set for rules that name no domain), a version in staging, the SSM rules."""
    monkeypatch.setenv("DOMAIN_NAME", "acme")
    create_domain_with_repositories(env.client("codeartifact"), "acme", ["staging", "release"])
    fmt, namespace, package, version = SAMPLE_VERSION
    env.control.seed_package_version("acme", "staging", fmt, package, version, namespace=namespace)
    env.client("ssm").put_parameter(
        Name="/codeartifact-promoter/rules", Value=BUNDLED_RULES.read_text(), Type="String"
    )


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- the extraction finds them


def test_the_docs_have_examples_of_every_kind() -> None:
    # a guard against a broken extractor silently testing nothing
    assert len(RULES_BLOCKS) >= 2
    assert {b.doc for b in RULES_BLOCKS} >= {"README.md", "functions/promoter/README.md"}
    assert len(EVENT_FILES) >= 2
    assert len(COMMANDS) >= 8
    assert [b for b in BLOCKS if b.run]


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize("block", RULES_BLOCKS, ids=[b.where for b in RULES_BLOCKS])
def test_every_documented_rules_document_passes_rules_check(block: Block, tmp_path: Path) -> None:
    path = tmp_path / ("rules.json" if block.lang == "json" else "rules.yaml")
    path.write_text(block.text)
    code, out, err = run_cli(["rules", "check", str(path)])
    assert (code, err) == (EXIT_OK, ""), f"{block.where}: {err}"
    assert len(out.splitlines()) == len(_parsed(block)["rules"])


# --------------------------------------------------------------------------- events


EVENTS = [(b.where, b.text) for b in EVENT_BLOCKS] + [
    (name, (ROOT / name).read_text()) for name in EVENT_FILES
]


@pytest.mark.parametrize(("where", "text"), EVENTS, ids=[w for w, _ in EVENTS])
def test_every_documented_event_goes_through_explain(
    aws_server: AwsEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, text: str
) -> None:
    _prepare(aws_server, monkeypatch)
    path = tmp_path / "event.json"
    path.write_text(text)
    code, out, err = run_cli(["explain", "--rules", str(BUNDLED_RULES), str(path)])
    if "bad-input" in where or "malformed" in where:  # documented as bad input: one line, exit 1
        assert code == EXIT_FAILED
        assert err.count("\n") == 1
    else:
        assert code == EXIT_OK, f"{where}: {err}"
        assert out.startswith("event: ")


# --------------------------------------------------------------------------- commands


@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_every_documented_promoter_command_runs(
    aws_server: AwsEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, command: str
) -> None:
    # Given the local AWS with what the docs' commands name
    _prepare(aws_server, monkeypatch)
    argv = _promoter_argv(command)
    assert argv is not None
    argv = _substitute(argv, tmp_path)
    # Then the command line is valid and runs to success
    build_parser().parse_args(argv)
    code, _, err = run_cli(argv)
    assert code == EXIT_OK, f"{where}: promoter {' '.join(argv)}: {err}"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.run], ids=[b.where for b in BLOCKS if b.run])
def test_every_walkthrough_runs_in_a_shell(aws_server: AwsEnv, tmp_path: Path, block: Block) -> None:
    if shutil.which("aws") is None:
        pytest.skip("the walk-through uses the AWS CLI, which is not on PATH")
    assert aws_server.endpoint_url is not None
    for name in (".venv", "functions", "events"):
        (tmp_path / name).symlink_to(ROOT / name)
    script = "set -euo pipefail\n" + block.text.replace(DOCUMENTED_LOCAL_AWS, aws_server.endpoint_url)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{block.where}:\n{done.stdout}\n{done.stderr}"
