"""Differential test: our RubyGems ordering and requirements against ``univers.gem``, a line-by-line
port of rubygems' version.rb and requirement.rb (too slow for the hot path, ~70 µs a check, but a
faithful reference)."""

from __future__ import annotations

import random

from promoter.gem_ranges import gem_version
from promoter.versions import compile_range
from univers.gem import GemRequirement, GemVersion

PARTS = ["0", "0", "1", "2", "10", "a", "b", "pre", "rc1", "a10", "a9", "alpha2", "0a", "1b2", "Z"]


def generate_version(rng: random.Random) -> str:
    text = str(rng.choice([0, 1, 1, 2, 10]))
    for _ in range(rng.choice([0, 1, 2, 2, 3, 4])):
        text += "." + rng.choice(PARTS)
    if rng.random() < 0.1:
        text += "-" + rng.choice(["1", "pre", "rc.1", "0"])
    return text


def test_gem_version_order_agrees_with_rubygems() -> None:
    # Given random Gem::Version strings with letter/number boundaries, zeros and "-" parts
    rng = random.Random(11)
    versions = [generate_version(rng) for _ in range(400)]
    mismatches = []
    for _ in range(20_000):
        a, b = rng.choice(versions), rng.choice(versions)
        ka, kb = gem_version(a), gem_version(b)
        assert ka is not None, a
        assert kb is not None, b
        # When both are ordered, Then our tuple keys say what Gem::Version#<=> says
        want = GemVersion(a).__cmp__(GemVersion(b))  # type: ignore[no-untyped-call]
        got = (ka.order > kb.order) - (ka.order < kb.order)
        if got != want:
            mismatches.append((a, b, got, want))
    assert mismatches == []


def test_gem_requirements_agree_with_rubygems() -> None:
    rng = random.Random(12)
    mismatches = []
    checked = 0
    for _ in range(6_000):
        constraints = [
            f"{rng.choice(['', '=', '!=', '>', '<', '>=', '<=', '~>', '~>'])} {generate_version(rng)}"
            for _ in range(rng.choice([1, 1, 2]))
        ]
        expression = ", ".join(constraints)
        reference = GemRequirement(*constraints)  # type: ignore[no-untyped-call]
        ours = compile_range("ruby", expression)
        for _ in range(5):
            version = generate_version(rng)
            checked += 1
            want = reference.satisfied_by(version)  # type: ignore[no-untyped-call]
            if ours.contains(version) is not want:
                mismatches.append((expression, version, want))
    assert checked > 25_000
    assert mismatches == []


def test_refused_versions_are_outside_every_requirement() -> None:
    for version in ["", " ", "v1.0", "1..0", "1.0_1", "banana"]:
        if version.strip() == "":
            # Gem::Version reads an empty string as "0"
            assert compile_range("ruby", "= 0").contains(version)
            continue
        assert gem_version(version) is None
        assert not compile_range("ruby", ">= 0").contains(version)
