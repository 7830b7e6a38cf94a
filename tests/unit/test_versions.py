"""Version ranges and prereleases, in each format's own language."""

from __future__ import annotations

import random

import pytest
from packaging.version import InvalidVersion, Version
from promoter.version_syntax import InvalidRange
from promoter.versions import compile_range, is_prerelease

RANGE_CASES = [
    # npm (node-semver)
    ("npm", "^1.2.3", "1.2.3", True),
    ("npm", "^1.2.3", "1.9.9", True),
    ("npm", "^1.2.3", "1.2.2", False),
    ("npm", "^1.2.3", "2.0.0", False),
    ("npm", "^1.2.3", "2.0.0-rc.1", False),
    ("npm", "^0.2.3", "0.2.9", True),
    ("npm", "^0.2.3", "0.3.0", False),
    ("npm", "^0.0.3", "0.0.3", True),
    ("npm", "^0.0.3", "0.0.4", False),
    ("npm", "^1.x", "1.5.0", True),
    ("npm", "^0.x", "0.9.0", True),
    ("npm", "^0.x", "1.0.0", False),
    ("npm", "~1.2.3", "1.2.9", True),
    ("npm", "~1.2.3", "1.3.0", False),
    ("npm", "~1.2", "1.2.0", True),
    ("npm", "~1", "1.9.0", True),
    ("npm", "~1", "2.0.0", False),
    ("npm", "1.x", "1.0.0", True),
    ("npm", "1.x", "2.0.0", False),
    ("npm", "1.2.x", "1.2.7", True),
    ("npm", "1.2.*", "1.3.0", False),
    ("npm", "*", "0.0.1", True),
    ("npm", "", "0.0.1", True),
    ("npm", ">=1.0.0 <2", "1.5.0", True),
    ("npm", ">= 1.0.0 < 2", "2.0.0", False),
    ("npm", ">1.2", "1.2.9", False),
    ("npm", ">1.2", "1.3.0", True),
    ("npm", "<1.2", "1.1.9", True),
    ("npm", "<1.2", "1.2.0-rc.1", False),
    ("npm", "<=1.2", "1.2.9", True),
    ("npm", "<=1.2", "1.3.0", False),
    ("npm", "=1.2.3", "1.2.3", True),
    ("npm", "v1.2.3", "1.2.3", True),
    ("npm", "1.0.0 - 2.0.0", "2.0.0", True),
    ("npm", "1.0.0 - 2.0.0", "2.0.1", False),
    ("npm", "1.2 - 2", "1.2.0", True),
    ("npm", "1.2 - 2", "2.9.9", True),
    ("npm", "1.2 - 2", "3.0.0", False),
    ("npm", "1.2.3 || ^3", "3.1.0", True),
    ("npm", "1.2.3 || ^3", "2.0.0", False),
    ("npm", ">=1.0.0-beta.2", "1.0.0-beta.10", True),
    ("npm", ">=1.0.0-beta.2", "1.0.0-alpha", False),
    ("npm", ">=1.0.0", "1.0.0+build.5", True),
    ("npm", ">=1.0.0", "banana", False),
    ("npm", ">=1.0.0", "1.0", False),
    # pypi (PEP 440)
    ("pypi", ">=1.0,<2", "1.5", True),
    ("pypi", ">=1.0,<2", "2.0", False),
    ("pypi", ">=1.0,<2", "1.5rc1", True),
    ("pypi", "~=1.4", "1.9", True),
    ("pypi", "~=1.4", "2.0", False),
    ("pypi", "==1.*", "1.2.3", True),
    ("pypi", "!=1.5", "1.5.0", False),
    ("pypi", ">=1", "1!0.5", True),
    ("pypi", ">=1", "not-a-version", False),
    # maven
    ("maven", "[1.0,2.0)", "1.5", True),
    ("maven", "[1.0,2.0)", "2.0", False),
    ("maven", "[1.0,2.0)", "1.0-rc1", False),
    ("maven", "[1.0,2.0)", "2.0-SNAPSHOT", True),
    ("maven", "[1.0,)", "27.1-jre", True),
    ("maven", "(,1.0]", "1.0", True),
    ("maven", "(,1.0)", "1.0", False),
    ("maven", "(,1.0],[1.2,)", "1.1", False),
    ("maven", "(,1.0],[1.2,)", "1.3", True),
    ("maven", "[1.2]", "1.2.0", True),
    ("maven", "1.2", "1.2", True),
    ("maven", "1.2", "1.3", False),
    ("maven", "[1.0-alpha,1.0-beta]", "1.0-alpha-2", True),
    # nuget
    ("nuget", "1.0", "5.0", True),
    ("nuget", "1.0", "0.9", False),
    ("nuget", "[1.0,2.0)", "1.0.0.1", True),
    ("nuget", "[1.0,2.0)", "2.0.0", False),
    ("nuget", "(1.0,)", "1.0.0.0", False),
    ("nuget", "(,2.0]", "2.0", True),
    ("nuget", "[1.0-beta,2.0)", "1.0.0-BETA", True),
    ("nuget", "[1.0.0]", "1.0", True),
    ("nuget", "[1.0,2.0)", "not-a-version", False),
    # the rest: node-semver ranges over lenient semver versions
    ("generic", ">=1.2", "1.10", True),
    ("generic", ">=1.2 <2", "2026.11.26", False),
    ("cargo", "^1", "1.99.0", True),
    ("swift", "~5.9", "5.9.2", True),
    ("ruby", ">=2.0", "2.1.0", True),
    # a comma is AND between comparators in the semver family (never valid node-semver otherwise)
    ("npm", ">=1.0.0,<2", "1.5.0", True),
    ("npm", ">=1.0.0,<2", "1.0.0", True),
    ("npm", ">=1.0.0,<2", "2.0.0", False),
    ("npm", ">=1.0.0,<2", "2.0.0-0", False),  # <2 is <2.0.0-0
    ("npm", ">=1.0.0,<2", "1.0.0-beta.1", False),
    ("npm", ">= 1.0.0 , < 2", "1.9.9", True),
    ("npm", ">=1.0.0,<2 || 3.x", "3.1.0", True),
    ("npm", "1.0.0 - 1.5.0, >1.2.0", "1.5.0", True),
    ("npm", "1.0.0 - 1.5.0, <1.2.0", "1.2.0", False),
    ("generic", ">=1.2,<2", "1.10", True),
    ("generic", ">=1.2,<2", "2.0", False),
    ("swift", ">=5.9, <6", "5.10.1", True),
    ("swift", ">=5.9, <6", "6.0.0", False),
    # ruby: RubyGems requirements (pessimistic ~>, comma = AND, Gem::Version order)
    ("ruby", "~> 1.2", "1.2", True),
    ("ruby", "~> 1.2", "1.3", True),
    ("ruby", "~> 1.2", "1.9.9", True),
    ("ruby", "~> 1.2", "2.0", False),
    ("ruby", "~> 1.2", "1.1.9", False),
    ("ruby", "~>1.2.3", "1.2.3", True),
    ("ruby", "~> 1.2.3", "1.2.10", True),
    ("ruby", "~> 1.2.3", "1.3", False),
    ("ruby", "~> 1.2.3", "1.2.2", False),
    ("ruby", "~> 1", "1.99", True),
    ("ruby", "~> 1", "2.0", False),
    ("ruby", "~> 1.2", "2.0.0.pre", False),  # its release (2.0) is not below the bump (2)
    ("ruby", "~> 1.0.0.a", "1.0.0.b", True),
    ("ruby", ">= 1.0, < 2", "1.5", True),
    ("ruby", ">= 1.0, < 2", "2.0", False),
    ("ruby", ">= 1.0, < 2", "2.0.0.rc1", True),  # Gem::Version: 2.0.0.rc1 < 2
    ("ruby", ">= 1.0.0", "1.0.0.pre", False),  # a letter segment sorts before numbers
    ("ruby", "< 1.0.0", "1.0.0.pre", True),
    ("ruby", "> 1.0.a9", "1.0.a10", True),  # letter/number boundaries split segments
    ("ruby", "< 1.0", "1.0-1", True),  # "-" is ".pre."
    ("ruby", "= 1.2", "1.2.0", True),
    ("ruby", "1.2", "1.2.0.0", True),  # bare: exactly (=)
    ("ruby", "1.2", "1.2.1", False),
    ("ruby", "!= 1.5", "1.5.0", False),
    ("ruby", "!= 1.5", "1.5.1", True),
    ("ruby", "<= 1.2, > 1.0", "1.2", True),
    ("ruby", ">= 3.0", "3.2.2.1", True),
    ("ruby", ">= 3.0", "not a version", False),
    ("ruby", "^1.2", "1.9.0", True),  # not a gem requirement: node-semver, as before
    ("ruby", "^1.2", "2.0.0", False),
    ("ruby", "1.x", "1.5.0", True),  # a literal Gem::Version "1.x", but everyone means the wildcard
    ("ruby", "1.2.X", "1.3.0", False),
    ("ruby", ">=1 <2", "1.5.0", True),
    # cargo: a bare version is a caret requirement; commas; ~, =, wildcards as Cargo
    ("cargo", "1.2.3", "1.9.0", True),
    ("cargo", "1.2.3", "1.2.2", False),
    ("cargo", "1.2.3", "2.0.0", False),
    ("cargo", "1.2", "1.3.0", True),
    ("cargo", "1.2", "1.1.9", False),
    ("cargo", "1", "1.9.9", True),
    ("cargo", "0.2.3", "0.2.9", True),
    ("cargo", "0.2.3", "0.3.0", False),
    ("cargo", "0.0.3", "0.0.4", False),
    ("cargo", "^0.2.3", "0.3.0", False),
    ("cargo", "^0.2.3", "0.2.3", True),
    ("cargo", "^0.0.3", "0.0.3", True),
    ("cargo", "^0.0.3", "0.0.4", False),
    ("cargo", "~1.2", "1.2.9", True),
    ("cargo", "~1.2", "1.3.0", False),
    ("cargo", "~1.2.3", "1.2.2", False),
    ("cargo", "=1.2.3", "1.2.3", True),
    ("cargo", "=1.2.3", "1.2.4", False),
    ("cargo", "*", "0.0.1", True),
    ("cargo", "1.*", "1.9.9", True),
    ("cargo", "1.*", "2.0.0", False),
    ("cargo", "1.2.*", "1.3.0", False),
    ("cargo", "1.2.x", "1.2.7", True),
    ("cargo", ">=1.2, <1.5", "1.4.9", True),
    ("cargo", ">=1.2, <1.5", "1.5.0", False),
    ("cargo", ">= 1.2.0, 1.3", "1.9.0", True),  # 1.3 is ^1.3 there too
    ("cargo", "1.2.3-alpha", "1.5.0", True),
]


@pytest.mark.parametrize(("fmt", "expression", "version", "expected"), RANGE_CASES)
def test_range_membership(fmt: str, expression: str, version: str, expected: bool) -> None:
    # Given a compiled range, When a version is checked, Then the format's own rules decide
    assert compile_range(fmt, expression or "*").contains(version) is expected


INVALID = [
    ("npm", "^^1"),
    ("npm", "1.2.3.4"),
    ("npm", ">=banana"),
    ("npm", "1.0.0 - "),
    ("pypi", ">>1"),
    ("pypi", "1.0 and 2.0"),
    ("maven", "[1.0"),
    ("maven", "[2.0,1.0]"),
    ("maven", "(1.0)"),
    ("maven", "[1.0,2.0),"),
    ("maven", "[,1.0]"),
    ("maven", "[1,2,3]"),
    # other formats' syntax, which univers would take as literal versions that no build has
    ("maven", ">=1.0"),
    ("maven", "^1.2"),
    ("maven", "1.x"),
    ("maven", "*"),
    ("maven", "1.0.*"),
    ("maven", "[1.x,2.0)"),
    ("maven", "~1.2"),
    ("maven", ">=1.0,<2.0"),
    ("maven", "latest"),
    ("nuget", "[1.0,2.0),[3.0,4.0)"),
    ("nuget", "abc"),
    ("nuget", "[1.0,2.0"),
    ("generic", "~>>1"),
    ("npm", "   "),
    ("npm", ">=1.0.0,"),
    ("npm", ",<2"),
    ("npm", ">=1,,<2"),
    ("npm", ">=1, || <3"),
    ("cargo", ">=1.2,"),
    ("ruby", "~> 1.2 || ~> 2.5"),  # ~> is never read as node-semver's ~ for ruby
    ("ruby", "~>"),
    ("ruby", "~> 1.x"),
    ("ruby", ">= 1.0,"),
    ("ruby", "= banana"),
]


@pytest.mark.parametrize(("fmt", "expression"), INVALID)
def test_invalid_ranges_are_refused(fmt: str, expression: str) -> None:
    with pytest.raises(InvalidRange):
        compile_range(fmt, expression)


PRERELEASES = [
    ("npm", "1.0.0-beta.1", True),
    ("npm", "1.0.0", False),
    ("npm", "1.0.0+build-7", False),
    ("pypi", "1.0rc1", True),
    ("pypi", "1.0a1", True),
    ("pypi", "1.0b2", True),
    ("pypi", "1.0.dev3", True),
    ("pypi", "1.0.post1", False),
    ("pypi", "1.0", False),
    ("pypi", "1.0+local.abc", False),
    ("maven", "1.0-SNAPSHOT", True),
    ("maven", "1.0-alpha-1", True),
    ("maven", "1.0-M1", True),
    ("maven", "1.0.RC2", True),
    ("maven", "1.0-cr1", True),
    ("maven", "27.1-jre", False),
    ("maven", "1.0.RELEASE", False),
    ("maven", "1.0-Final", False),
    ("maven", "1.0-sp1", False),
    ("nuget", "1.0.0-preview.3", True),
    ("nuget", "1.0.0.1", False),
    ("ruby", "1.0.0.pre", True),
    ("ruby", "1.0.0", False),
    ("ruby", "1.0-1", True),  # Gem::Version reads "-" as ".pre."
    ("generic", "2026.11.26", False),
    ("generic", "1.0.0-rc1", True),
    ("cargo", "0.1.0-alpha", True),
]


@pytest.mark.parametrize(("fmt", "version", "expected"), PRERELEASES)
def test_prerelease_detection(fmt: str, version: str, expected: bool) -> None:
    assert is_prerelease(fmt, version) is expected


@pytest.mark.parametrize(
    "version",
    ["1.0", "1.0a1", "1.0b2", "1.0rc1", "1.0.dev1", "1.0.post1", "2!1.0", "1.0c1", "1.0-preview", "1.0+abc"],
)
def test_pypi_prerelease_agrees_with_packaging(version: str) -> None:
    assert is_prerelease("pypi", version) is Version(version).is_prerelease


def test_unknown_format_is_refused() -> None:
    with pytest.raises(InvalidRange, match="unknown format"):
        compile_range("conda", ">=1")


def test_pypi_prereleases_agree_with_packaging_on_generated_versions() -> None:
    # Given PEP 440 versions in the spellings the spec allows (separators, case, implicit numbers, local)
    rng = random.Random(7)
    checked = 0
    for _ in range(20_000):
        release = ".".join(str(rng.randint(0, 20)) for _ in range(rng.randint(1, 4)))
        text = rng.choice(["", "", "1!"]) + release
        if rng.random() < 0.4:
            text += rng.choice(["a", "b", "c", "rc", "alpha", "beta", "pre", "preview", "-a", "_b", ".rc"])
            text += rng.choice(["", "1", "12"])
        if rng.random() < 0.3:
            text += rng.choice([".post", "-post", "post", "-", "_r", ".rev", "r"]) + rng.choice(["", "1"])
        if rng.random() < 0.3:
            text += rng.choice([".dev", "-dev", "dev", "_dev"]) + rng.choice(["", "5"])
        if rng.random() < 0.2:
            text += "+" + rng.choice(["local", "abc.1", "ubuntu-2", "dev5", "rc1"])
        text = rng.choice(["", "", "v"]) + (text.upper() if rng.random() < 0.1 else text)
        try:
            expected = Version(text).is_prerelease
        except InvalidVersion:
            continue
        checked += 1
        # Then our prerelease detection (no packaging import on the hot path) says what packaging says
        assert is_prerelease("pypi", text) is expected, text
    assert checked > 15_000
