"""Reconcile's pure parts: which ListPackages walks a set of rules needs, plan items."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from promoter.events import Candidate
from promoter.globs import literal_prefix
from promoter.listed import ListQuery
from promoter.reconcile import COPY, JSON_KEYS, SKIP, PlanItem
from promoter.reconcile.walk import list_queries

from .conftest import candidate as event_candidate

LISTED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("glob", "prefix"),
    [("acme-*", "acme-"), ("left-pad", "left-pad"), ("*", ""), ("lib?", "lib"), ("[ab]*", "")],
)
def test_literal_prefix_stops_at_the_first_wildcard(glob: str, prefix: str) -> None:
    assert literal_prefix(glob) == prefix


def test_a_rule_without_restrictions_lists_everything_once() -> None:
    assert list_queries([None], [None], [["*"]]) == [ListQuery()]


def test_one_walk_per_named_format() -> None:
    queries = list_queries([["npm"], ["maven", "npm"]], [None, None], [["*"], ["*"]])
    assert queries == [ListQuery(format="maven"), ListQuery(format="npm")]


def test_any_rule_without_formats_means_one_unfiltered_walk() -> None:
    assert list_queries([["npm"], None], [None, None], [["*"], ["*"]]) == [ListQuery()]


def test_a_single_literal_namespace_shared_by_all_rules_is_pushed_to_the_server() -> None:
    assert list_queries([["npm"]], [["acme"]], [["*"]]) == [ListQuery(format="npm", namespace="acme")]


@pytest.mark.parametrize(
    "namespaces",
    [[["acme*"]], [["acme", "other"]], [[""]], [["acme"], None]],
    ids=["glob", "two", "no-namespace", "one-rule-unrestricted"],
)
def test_namespaces_that_the_server_cannot_filter_exactly_are_not_pushed(
    namespaces: list[list[str] | None],
) -> None:
    formats: list[list[str] | None] = [["npm"]] * len(namespaces)
    packages: list[list[str] | None] = [["*"]] * len(namespaces)
    assert {q.namespace for q in list_queries(formats, namespaces, packages)} == {None}


def test_the_common_literal_prefix_of_all_package_globs_is_pushed() -> None:
    queries = list_queries([["npm"], ["npm"]], [None, None], [["acme-*", "acme-lib"], ["acme-tools-*"]])
    assert queries == [ListQuery(format="npm", prefix="acme-")]


@pytest.mark.parametrize("formats", [[["pypi"]], [["nuget", "npm"]], [None]])
def test_no_prefix_where_names_are_compared_folded(formats: list[list[str] | None]) -> None:
    assert {q.prefix for q in list_queries(formats, [None], [["Acme_*"]])} == {None}


def candidate(**overrides: Any) -> Candidate:
    """A candidate as a listing yields it: namespaced, with a publish time, without an event's fields."""
    listed = event_candidate(namespace="acme", version="1.2.3", revision="REV", published_time=LISTED_AT)
    return listed._replace(sequence_number=None, operation=None, **overrides)


def test_plan_item_json_has_exactly_the_documented_keys_in_order() -> None:
    item = PlanItem(candidate(), "release", SKIP, "present in destination", rule="r", code="already_present")
    assert tuple(item.as_json()) == JSON_KEYS
    assert item.as_json() == {
        "domain": "acme",
        "sourceRepository": "staging",
        "destinationRepository": "release",
        "format": "npm",
        "namespace": "acme",
        "package": "widgets",
        "version": "1.2.3",
        "revision": "REV",
        "action": "skip",
        "reason": "already_present",
        "detail": "present in destination",
        "rule": "r",
    }
    assert PlanItem(candidate(namespace=None), "release", COPY).as_json()["reason"] is None
