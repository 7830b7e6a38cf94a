"""Reconcile's walk through a fake CodeArtifact and a fake clock: the deadline, the cursor, and errors.

Every call of the fake costs ``call_seconds`` of a fake clock, and the function's remaining time is the
run's length minus that clock, so "the run ends before its deadline" is a plain comparison. A release
repository of 60,000 packages is simulated by name: listing it would cost its pages (and the fake counts
every call per repository), reading one of its packages costs one call.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from promoter.copier import RetryPolicy
from promoter.listed import PackageRef
from promoter.matching import RuleSet
from promoter.outcomes import FAILED, PROMOTED
from promoter.pipeline import Dependencies
from promoter.reconcile import (
    COPY,
    METRIC_ERRORS,
    PRESENT,
    SKIP,
    Cursor,
    FileCursorStore,
    handle_scheduled,
    reconcile,
)
from promoter.report import MemoryMetrics, Reporter
from promoter.rules import build_ruleset

from .fake_codeartifact import FakeCodeArtifact, client_error

DOMAIN = "acme"
ACCOUNT = "123456789012"
RESERVE = 5.0 + 12.0  # reconcile's own reserve + the copier's call reserve (RetryPolicy's default)


class FakeClock:
    """Seconds since the run started; advanced by the fake's calls and by sleeps (thread-safe)."""

    def __init__(self, run_seconds: float) -> None:
        self.run_seconds = run_seconds
        self.now = 0.0
        self._lock = threading.Lock()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def remaining(self) -> float:
        return self.run_seconds - self.now


def not_found(resource_type: str, operation: str) -> ClientError:
    error = client_error("ResourceNotFoundException", 404, f"{resource_type} not found", operation)
    error.response["resourceType"] = resource_type  # type: ignore[typeddict-unknown-key]
    return error


@dataclass
class ListingFake(FakeCodeArtifact):
    """FakeCodeArtifact plus DescribeDomain, ListPackages (offset tokens, like the service's opaque ones)
    and synthetic packages: ``synthetic[repo] = n`` adds packages ``lib-00000``.. with one version each."""

    clock: FakeClock = field(default_factory=lambda: FakeClock(900.0))
    call_seconds: float = 1.0
    repositories: set[str] = field(default_factory=lambda: {"staging", "release"})
    synthetic: dict[str, int] = field(default_factory=dict)
    refuse_tokens: bool = False
    denied: set[str] = field(default_factory=set)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    remaining_at_call: list[tuple[str, float]] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    """Held while the stored versions are read or written (reconcile lists on threads while it copies)."""

    def _tick(self, operation: str, repository: str) -> None:
        with self._lock:
            self.counts[(operation, repository)] += 1
            self.remaining_at_call.append((operation, self.clock.remaining()))
        self.clock.advance(self.call_seconds)
        if repository in self.denied:
            raise client_error("AccessDeniedException", 403, "denied", operation)
        if repository and repository not in self.repositories:
            raise not_found("repository", operation)

    def describe_domain(self, **kwargs: Any) -> dict[str, Any]:
        self._tick("DescribeDomain", "")
        return {"domain": {"name": kwargs["domain"], "owner": ACCOUNT}}

    def _names(self, repository: str) -> list[tuple[str, str, str]]:
        with self._lock:
            keys = list(self.versions)
        stored = {(k[2], k[3], k[4]) for k in keys if k[0] == DOMAIN and k[1] == repository}
        stored |= {("npm", "", f"lib-{i:05d}") for i in range(self.synthetic.get(repository, 0))}
        return sorted(stored)

    def list_packages(self, **kwargs: Any) -> dict[str, Any]:
        self._tick("ListPackages", kwargs["repository"])
        token = kwargs.get("nextToken")
        if token and self.refuse_tokens:
            raise client_error("ValidationException", 400, "Invalid pagination token", "ListPackages")
        names = [n for n in self._names(kwargs["repository"]) if kwargs.get("format") in (None, n[0])]
        start = int(token) if token else 0
        size = kwargs.get("maxResults", 100)
        page: dict[str, Any] = {
            "packages": [
                {"format": f, "namespace": ns or None, "package": p}
                for f, ns, p in names[start : start + size]
            ]
        }
        if start + size < len(names):
            page["nextToken"] = str(start + size)
        return page

    def list_package_versions(self, **kwargs: Any) -> dict[str, Any]:
        self._tick("ListPackageVersions", kwargs["repository"])
        package = kwargs["package"]
        if package.startswith("lib-") and int(package[4:]) < self.synthetic.get(kwargs["repository"], 0):
            return {"versions": [{"version": "1.0.0", "revision": f"r-{package}", "status": "Published"}]}
        try:
            with self._lock:
                return super().list_package_versions(**kwargs)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            raise not_found("package", "ListPackageVersions") from None

    def copy_package_versions(self, **kwargs: Any) -> dict[str, Any]:
        self._tick("CopyPackageVersions", kwargs["destinationRepository"])
        with self._lock:
            return super().copy_package_versions(**kwargs)


def ruleset(*destinations: str, **extra: Any) -> RuleSet:
    rule = {
        "name": "staging-to-release",
        "domain": DOMAIN,
        "sourceRepository": "staging",
        "destinationRepositories": list(destinations or ["release"]),
    }
    rule.update(extra)
    return build_ruleset({"rules": [rule]})


def deps_for(fake: ListingFake, rules: RuleSet) -> Dependencies:
    return Dependencies(
        client=fake,
        rules=rules,
        reporter=Reporter(_Log(), MemoryMetrics()),
        remaining=fake.clock.remaining,
        policy=RetryPolicy(),
        sleep=fake.clock.advance,
    )


class _Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.lines.append(("info", str(msg), kwargs.get("extra") or {}))

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.lines.append(("warning", str(msg), kwargs.get("extra") or {}))

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.lines.append(("error", str(msg), kwargs.get("extra") or {}))


class MemoryStore:
    def __init__(self, cursor: Cursor | None = None) -> None:
        self.cursor = cursor
        self.saved: list[Cursor | None] = []

    def load(self) -> Cursor | None:
        return self.cursor

    def save(self, cursor: Cursor | None) -> None:
        self.cursor = cursor
        self.saved.append(cursor)


def seed_staging(fake: ListingFake, count: int, *, in_release: bool = True) -> None:
    """``count`` packages in staging (``app-00000``..), each version 1.0.0, and the same in release."""
    for i in range(count):
        revision = fake.publish(DOMAIN, "staging", "npm", f"app-{i:05d}", "1.0.0")
        if in_release:
            fake.publish(DOMAIN, "release", "npm", f"app-{i:05d}", "1.0.0", revision=revision)


# --------------------------------------------------------------------------- the example


def test_one_missing_version_beside_a_release_of_60000_packages_is_promoted_in_time() -> None:
    # Given a run of 120 s, calls of 3 s each, a release of 60,000 packages whose listing alone (60 pages)
    # takes longer than the run, and staging holding three packages, one version of which release lacks
    run_seconds, call_seconds = 120.0, 3.0
    fake = ListingFake(clock=FakeClock(run_seconds), call_seconds=call_seconds, synthetic={"release": 60_000})
    assert 60_000 / 1000 * call_seconds > run_seconds
    seed_staging(fake, 3)
    missing = fake.publish(DOMAIN, "staging", "npm", "app-00001", "1.1.0")

    # When the scheduled reconcile runs
    store = MemoryStore()
    summary = handle_scheduled({}, deps_for(fake, ruleset()), store)["reconcile"]

    # Then the missing version is promoted, pinned to its revision, and the run ended before its deadline
    assert summary["outcomes"] == {PROMOTED: 1}
    held = fake.get(DOMAIN, "release", "npm", "app-00001", "1.1.0")
    assert held is not None
    assert held.revision == missing
    assert summary["complete"] is True
    assert fake.clock.remaining() > 0
    # and release was never enumerated: one read of each of staging's packages there
    assert fake.counts[("ListPackages", "release")] == 0
    assert fake.counts[("ListPackageVersions", "release")] == 3
    assert summary["listCalls"] == {"DescribeDomain": 1, "ListPackages": 1, "ListPackageVersions": 6}
    # and a complete run leaves the cursor reset
    assert store.saved == [None]


# --------------------------------------------------------------------------- the deadline and the cursor


def test_a_large_source_is_covered_over_several_runs_each_ending_before_its_deadline() -> None:
    # Given 1,500 packages in staging (2 pages), 41 of them lacking a version in release, and runs of
    # 300 s in which every call costs 0.25 s: one run cannot read them all
    fake = ListingFake(call_seconds=0.25)
    seed_staging(fake, 1_500)
    lacking = {f"app-{i:05d}" for i in range(0, 1_500, 37)}
    for name in lacking:
        fake.publish(DOMAIN, "staging", "npm", name, "2.0.0")
    store = MemoryStore()
    runs: list[dict[str, Any]] = []

    # When scheduled runs follow each other until one completes
    while not runs or not runs[-1]["complete"]:
        assert len(runs) < 10, "the runs never finish the walk"
        fake.clock = FakeClock(300.0)
        runs.append(handle_scheduled({}, deps_for(fake, ruleset()), store)["reconcile"])
        # Then every run ended before its deadline: no read started inside reconcile's reserve (less the
        # calls the other four threads started at the same moment: this clock adds up their time), and
        # no copy inside the copier's own call reserve
        assert fake.clock.remaining() > 0
        reads = [left for operation, left in fake.remaining_at_call if operation != "CopyPackageVersions"]
        copies = [left for operation, left in fake.remaining_at_call if operation == "CopyPackageVersions"]
        assert min(reads) >= RESERVE - 4 * fake.call_seconds
        assert min(copies, default=12.0) >= 12.0
        fake.remaining_at_call.clear()

    # Then it took more than one run, the unfinished ones said so and saved where they stopped
    assert len(runs) > 1
    assert [r["complete"] for r in runs[:-1]] == [False] * (len(runs) - 1)
    assert all(r["outOfTime"] for r in runs[:-1])
    assert [r["resumedFrom"] is None for r in runs] == [True] + [False] * (len(runs) - 1)
    # and every package of staging was processed exactly once, every lacking version promoted once (a
    # stopped run may have read up to 8 packages ahead, on 4 threads, that the next run reads again)
    assert sum(r["packagesDone"] for r in runs) == 1_500
    assert 1_500 <= fake.counts[("ListPackageVersions", "staging")] <= 1_500 + 8 * (len(runs) - 1)
    assert sum(r["outcomes"].get(PROMOTED, 0) for r in runs) == len(lacking)
    assert all(fake.get(DOMAIN, "release", "npm", name, "2.0.0") for name in lacking)
    # and release was never enumerated; the completing run reset the cursor
    assert fake.counts[("ListPackages", "release")] == 0
    assert store.cursor is None


def test_a_resumed_run_starts_at_the_cursors_page_and_after_its_package() -> None:
    # Given a cursor after app-01200, on the page fetched with token "1000"
    fake = ListingFake(call_seconds=0.0)
    seed_staging(fake, 1_500)
    cursor = Cursor(DOMAIN, ACCOUNT, "staging", 0, PackageRef("npm", None, "app-01200"), "1000")

    # When reconcile runs from it
    result = reconcile(deps_for(fake, ruleset()), dry_run=True, start=cursor, concurrency=1)

    # Then it listed one page (the cursor's, the last) and read only the packages after the cursor
    assert fake.counts[("ListPackages", "staging")] == 1
    assert [i.candidate.package for i in result.items][:2] == ["app-01201", "app-01202"]
    assert result.packages_done == 299
    assert result.complete is True
    assert result.cursor is None


def test_a_refused_token_falls_back_to_the_first_page_and_skips_up_to_the_cursor() -> None:
    # Given a cursor whose token the service refuses
    fake = ListingFake(call_seconds=0.0)
    seed_staging(fake, 1_500)
    cursor = Cursor(DOMAIN, ACCOUNT, "staging", 0, PackageRef("npm", None, "app-01200"), "stale-token")

    # When reconcile runs from it
    # (the stale token alone is refused; fresh ones work)
    original = fake.list_packages

    def refuse_stale(**kwargs: Any) -> dict[str, Any]:
        if kwargs.get("nextToken") == "stale-token":
            fake._tick("ListPackages", kwargs["repository"])
            raise client_error("ValidationException", 400, "Invalid pagination token", "ListPackages")
        return original(**kwargs)

    fake.list_packages = refuse_stale  # type: ignore[method-assign]
    result = reconcile(deps_for(fake, ruleset()), dry_run=True, start=cursor, concurrency=1)

    # Then it listed from the first page, skipped up to app-01200 without reading those packages
    assert fake.counts[("ListPackages", "staging")] == 1 + 2  # the refused call, then both pages
    assert fake.counts[("ListPackageVersions", "staging")] == 299
    assert result.items[0].candidate.package == "app-01201"
    assert result.complete is True


def test_a_cursor_whose_package_is_gone_walks_the_source_again_rather_than_skip_it() -> None:
    # Given a cursor naming a package that was deleted, and a token the service refuses
    fake = ListingFake(call_seconds=0.0, refuse_tokens=True)
    seed_staging(fake, 30)
    cursor = Cursor(DOMAIN, ACCOUNT, "staging", 0, PackageRef("npm", None, "app-00010x"), "stale")

    # When reconcile runs from it
    result = reconcile(deps_for(fake, ruleset()), dry_run=True, start=cursor, concurrency=1)

    # Then no package was skipped: the walk began again at the first one
    assert result.packages_done == 30
    assert result.complete is True


def test_a_cursor_for_a_source_the_rules_no_longer_read_starts_a_new_walk() -> None:
    fake = ListingFake(call_seconds=0.0)
    seed_staging(fake, 5)
    cursor = Cursor(DOMAIN, ACCOUNT, "old-staging", 0, PackageRef("npm", None, "x"), None)
    result = reconcile(deps_for(fake, ruleset()), dry_run=True, start=cursor)
    assert result.resumed_from is None
    assert result.packages_done == 5


def test_parallel_listing_stops_in_order_and_the_cursor_is_the_last_package_processed() -> None:
    # Given more packages than one run has time for, listed four at a time
    fake = ListingFake(clock=FakeClock(60.0), call_seconds=0.1)
    seed_staging(fake, 2_000)

    # When reconcile runs
    result = reconcile(deps_for(fake, ruleset()), dry_run=True, concurrency=4)

    # Then it stopped before the deadline, and the cursor names the last package it processed
    assert result.complete is False
    assert result.out_of_time is True
    assert fake.clock.remaining() > 0
    assert result.cursor is not None
    assert result.cursor.after == PackageRef("npm", None, f"app-{result.packages_done - 1:05d}")
    assert {i.candidate.package for i in result.items} == {
        f"app-{i:05d}" for i in range(result.packages_done)
    }


# --------------------------------------------------------------------------- what a destination holds


def test_present_identical_and_other_revision_in_the_destination() -> None:
    # Given one version identical in release, one missing, one another build
    fake = ListingFake(call_seconds=0.0)
    same = fake.publish(DOMAIN, "staging", "npm", "app", "1.0.0")
    fake.publish(DOMAIN, "release", "npm", "app", "1.0.0", revision=same)
    fake.publish(DOMAIN, "staging", "npm", "app", "1.1.0")
    fake.publish(DOMAIN, "staging", "npm", "app", "1.2.0", revision="vetted")
    fake.publish(DOMAIN, "release", "npm", "app", "1.2.0", revision="other-build")

    # When reconcile runs
    result = reconcile(deps_for(fake, ruleset()))

    # Then the identical one is present, the missing one copied, the other build a final ALREADY_EXISTS
    actions = {i.candidate.version: (i.action, i.reason) for i in result.items}
    assert actions["1.0.0"] == (SKIP, PRESENT)
    assert actions["1.1.0"] == (COPY, None)
    assert actions["1.2.0"][0] == SKIP
    assert [(o.candidate.version, o.status) for o in result.outcomes if o.candidate] == [
        ("1.2.0", FAILED),
        ("1.1.0", PROMOTED),
    ]
    assert result.failed[0].error_code == "ALREADY_EXISTS"
    held = fake.get(DOMAIN, "release", "npm", "app", "1.2.0")
    assert held is not None
    assert held.revision == "other-build"


# --------------------------------------------------------------------------- a failing reconcile


@pytest.mark.parametrize(
    ("broken", "code"),
    [("denied", "AccessDeniedException"), ("missing", "ResourceNotFoundException")],
)
def test_a_source_that_cannot_be_listed_is_an_error_metric_and_the_run_is_incomplete(
    broken: str, code: str
) -> None:
    # Given two rules: a good source and one that cannot be listed
    fake = ListingFake(call_seconds=0.0, denied={"denied"})
    seed_staging(fake, 1, in_release=False)
    rules = build_ruleset(
        {
            "rules": [
                {
                    "name": "bad",
                    "domain": DOMAIN,
                    "sourceRepository": broken,
                    "destinationRepositories": ["release"],
                },
                {
                    "name": "good",
                    "domain": DOMAIN,
                    "sourceRepository": "staging",
                    "destinationRepositories": ["release"],
                },
            ]
        }
    )
    deps = deps_for(fake, rules)

    # When the schedule fires
    summary = handle_scheduled({}, deps, MemoryStore())["reconcile"]
    deps.reporter.flush()

    # Then the good source is promoted, the run is incomplete, and ReconcileErrors counts the code
    assert summary["outcomes"] == {PROMOTED: 1}
    assert summary["complete"] is False
    assert summary["errorCodes"] == {code: 1}
    assert len(summary["errors"]) == 1
    assert repr(broken) in summary["errors"][0]
    metrics = deps.reporter.metrics
    assert isinstance(metrics, MemoryMetrics)
    assert metrics.values[(METRIC_ERRORS, ("ErrorCode", code))] == 1
    # and the error is logged as an error
    assert any(level == "error" for level, _, _ in deps.reporter.logger.lines)  # type: ignore[attr-defined]


def test_a_destination_that_cannot_be_read_is_an_error_once_and_gets_no_copy() -> None:
    # Given a rule into release (fine) and archive (does not exist), and three packages to promote
    fake = ListingFake(call_seconds=0.0)
    seed_staging(fake, 3, in_release=False)
    deps = deps_for(fake, ruleset("release", "archive"))

    # When the schedule fires
    summary = handle_scheduled({}, deps, MemoryStore())["reconcile"]
    deps.reporter.flush()

    # Then release got every version; archive is one error with its code, no copy, and no more reads
    # than the packages listed ahead on the threads when its first answer came back
    assert summary["outcomes"] == {PROMOTED: 3}
    assert 1 <= fake.counts[("ListPackageVersions", "archive")] <= 3
    assert fake.counts[("CopyPackageVersions", "archive")] == 0
    assert summary["errorCodes"] == {"ResourceNotFoundException": 1}
    assert "'archive'" in summary["errors"][0]
    assert summary["complete"] is False
    metrics = deps.reporter.metrics
    assert isinstance(metrics, MemoryMetrics)
    assert metrics.values[(METRIC_ERRORS, ("ErrorCode", "ResourceNotFoundException"))] == 1


def test_a_clean_run_emits_a_zero_so_the_alarm_follows_the_last_run() -> None:
    fake = ListingFake(call_seconds=0.0)
    seed_staging(fake, 2)
    deps = deps_for(fake, ruleset())
    summary = handle_scheduled({}, deps, MemoryStore())["reconcile"]
    deps.reporter.flush()
    assert summary["complete"] is True
    metrics = deps.reporter.metrics
    assert isinstance(metrics, MemoryMetrics)
    assert metrics.values[(METRIC_ERRORS, None)] == 0
    assert (METRIC_ERRORS, None) in metrics.values


def test_throttling_of_a_listing_is_retried_within_the_time_left() -> None:
    fake = ListingFake(call_seconds=0.0)
    seed_staging(fake, 2, in_release=False)
    fake.list_faults.extend([client_error("ThrottlingException", 429, operation="ListPackageVersions")] * 2)
    summary = handle_scheduled({}, deps_for(fake, ruleset()), MemoryStore())["reconcile"]
    assert summary["outcomes"] == {PROMOTED: 2}
    assert summary["complete"] is True


# --------------------------------------------------------------------------- the cursor's text


def test_cursor_round_trips_through_its_json() -> None:
    cursor = Cursor(DOMAIN, ACCOUNT, "staging", 1, PackageRef("maven", "com.acme", "core"), "tok")
    assert Cursor.from_json(cursor.text()) == cursor
    assert Cursor.from_json("{}") is None
    assert Cursor.from_json("  ") is None


@pytest.mark.parametrize("text", ["not json", "[]", '{"domain": "acme"}', '{"query": -1}'])
def test_a_cursor_that_is_not_one_is_refused_with_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="reconcile cursor"):
        Cursor.from_json(text)


def test_a_hand_edited_cursor_is_ignored_with_a_warning_and_overwritten() -> None:
    class Broken(MemoryStore):
        def load(self) -> Cursor | None:
            return Cursor.from_json("garbage")

    fake = ListingFake(call_seconds=0.0)
    seed_staging(fake, 2)
    store = Broken()
    deps = deps_for(fake, ruleset())
    summary = handle_scheduled({}, deps, store)["reconcile"]
    assert summary["complete"] is True
    assert summary["packagesDone"] == 2
    assert store.saved == [None]
    assert any("cursor ignored" in msg for _, msg, _ in deps.reporter.logger.lines)  # type: ignore[attr-defined]


def test_file_cursor_store(tmp_path: Path) -> None:
    store = FileCursorStore(tmp_path / "cursor.json")
    assert store.load() is None
    cursor = Cursor(DOMAIN, ACCOUNT, "staging", 0, PackageRef("npm", None, "left-pad"), None)
    store.save(cursor)
    assert store.load() == cursor
    store.save(None)
    assert (tmp_path / "cursor.json").read_text() == "{}\n"
    assert store.load() is None


def test_a_package_whose_copy_ran_out_of_time_is_redone_by_the_next_run() -> None:
    # Given three packages lacking a version in release, and copies throttled until the run is over (a run
    # with time for the listings and one copy attempt beyond the reserve)
    fake = ListingFake(clock=FakeClock(RESERVE + 5.0), call_seconds=1.0)
    seed_staging(fake, 3, in_release=False)
    fake.faults.extend([client_error("ThrottlingException", 429)] * 100)
    store = MemoryStore()

    # When the scheduled reconcile runs
    first = handle_scheduled({}, deps_for(fake, ruleset()), store)["reconcile"]

    # Then it stopped without passing the package it could not copy: the cursor stays before it
    assert first["complete"] is False
    assert first["outOfTime"] is True
    assert first["outcomes"].get(PROMOTED, 0) == 0
    assert store.cursor is None or store.cursor.after != PackageRef("npm", None, "app-00000")
    assert first["packagesDone"] == 0

    # When the next run has no throttling
    fake.faults.clear()
    fake.clock = FakeClock(60.0)
    second = handle_scheduled({}, deps_for(fake, ruleset()), store)["reconcile"]

    # Then every version is promoted
    assert second["outcomes"] == {PROMOTED: 3}
    assert second["complete"] is True
    assert all(fake.get(DOMAIN, "release", "npm", f"app-{i:05d}", "1.0.0") for i in range(3))


# --------------------------------------------------------------------------- one stuck package


@dataclass
class StuckCopies(ListingFake):
    """Every CopyPackageVersions call for ``stuck`` is throttled (after costing its call time)."""

    stuck: str = "app-00000"

    def copy_package_versions(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs["package"] == self.stuck:
            self._tick("CopyPackageVersions", kwargs["destinationRepository"])
            raise client_error("ThrottlingException", 400, "slow down", "CopyPackageVersions")
        return super().copy_package_versions(**kwargs)


def test_a_package_whose_copies_keep_failing_does_not_spend_the_run() -> None:
    # Given three packages release lacks, the first of which can never be copied, and a run of 60 s
    fake = StuckCopies(clock=FakeClock(60.0), call_seconds=1.0)
    seed_staging(fake, 3, in_release=False)

    # When the scheduled reconcile runs
    summary = handle_scheduled({}, deps_for(fake, ruleset()), MemoryStore())["reconcile"]

    # Then the stuck package costs a few attempts, the others are promoted, and the run ends in time
    assert summary["outcomes"] == {FAILED: 1, PROMOTED: 2}
    assert fake.counts[("CopyPackageVersions", "release")] == 3 + 2  # stuck: 1 + 2 retry rounds
    for package in ("app-00001", "app-00002"):
        assert fake.get(DOMAIN, "release", "npm", package, "1.0.0") is not None
    assert fake.clock.remaining() > 0
