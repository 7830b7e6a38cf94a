"""Differential test: our npm ranges against node-semver itself (the copy npm bundles), with
``includePrerelease`` as a rule with ``includePrerelease: true`` asks; skipped where node is absent."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from promoter.version_syntax import InvalidRange
from promoter.versions import compile_range

NODE = shutil.which("node")
SEMVER = next(
    (
        p
        for p in (
            Path("/usr/lib/node_modules/npm/node_modules/semver"),
            Path("/usr/local/lib/node_modules/npm/node_modules/semver"),
        )
        if (p / "index.js").exists()
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    NODE is None or SEMVER is None, reason="node and npm's bundled semver not found"
)

CHECK = """
const semver = require(process.argv[1]);
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(cases.map(([r, v]) => {
  try { return new semver.Range(r, {includePrerelease: true}).test(v) ? 1 : 0 } catch (e) { return -1 }
})));
"""


def generate(seed: int, count: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)

    def part() -> str:
        return str(rng.choice([0, 0, 1, 1, 2, 3, 10]))

    def xr() -> str:
        return rng.choice([part(), part(), part(), "x", "*", "X"])

    def pre() -> str:
        return rng.choice(["", "", "", "-alpha", "-beta.2", "-rc.1", "-0", "-alpha.1"])

    def partial() -> str:
        n = rng.choice([1, 2, 3, 3, 3])
        if n == 1:
            return xr()
        if n == 2:
            return f"{part()}.{xr()}"
        return f"{part()}.{part()}.{xr()}" if rng.random() < 0.3 else f"{part()}.{part()}.{part()}{pre()}"

    def simple() -> str:
        return rng.choice(["", "^", "~", ">=", "<=", ">", "<", "=", "~>"]) + partial()

    def expression() -> str:
        if rng.random() < 0.15:
            return f"{partial()} - {partial()}"
        text = " ".join(simple() for _ in range(rng.choice([1, 1, 2, 2, 3])))
        return text + (" || " + simple() if rng.random() < 0.2 else "")

    return [(expression(), f"{part()}.{part()}.{part()}{pre()}") for _ in range(count)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_npm_ranges_agree_with_node_semver(seed: int) -> None:
    cases = generate(seed, 3000)
    expected = node_semver(cases)
    mismatches = []
    for (expression, version), want in zip(cases, expected, strict=True):
        got = verdict(expression, version)
        if got != want:
            mismatches.append((expression, version, got, want))
    assert mismatches == []


def verdict(expression: str, version: str) -> int:
    """1 or 0: whether the npm range holds the version; -1: the range is refused (node-semver's CHECK)."""
    try:
        return 1 if compile_range("npm", expression).contains(version) else 0
    except InvalidRange:
        return -1


def node_semver(cases: list[tuple[str, str]]) -> list[int]:
    assert NODE is not None
    result: list[int] = json.loads(
        subprocess.run(
            [NODE, "-e", CHECK, str(SEMVER)],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    return result


def test_a_comma_is_and_exactly_as_a_space_is_in_node_semver() -> None:
    # Given node-semver's verdicts on space-separated comparator sets
    cases = [(e, v) for e, v in generate(4, 3000) if " - " not in e]
    expected = node_semver(cases)
    mismatches = []
    for (expression, version), want in zip(cases, expected, strict=True):
        # When the same ranges are written with commas between the comparators (", " and ",")
        for sep in (",", ", "):
            comma = " || ".join(sep.join(alt.split()) for alt in expression.split(" || "))
            got = verdict(comma, version)
            # Then they mean what node-semver says of the space-separated form
            if got != want:
                mismatches.append((comma, version, got, want))
    assert mismatches == []
    assert sum(len(e.split(" || ")[0].split()) > 1 for e, _ in cases) > 1000  # commas really were used
