"""promoter.reader without AWS: paging through botocore's own paginator, counting, retrying and the
deadline, what a not-found answer means, and the one comparison with a destination."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from promoter.listed import PackageAt, PackageRef
from promoter.reader import (
    IDENTICAL,
    MISSING,
    OTHER_REVISION,
    OutOfTime,
    Reader,
    compare,
    read_versions,
)

from .fake_codeartifact import client_error, paginator

WIDGETS = PackageAt("acme", None, "release", "npm", None, "widgets")


class PagedVersions:
    """ListPackageVersions of one package, ``size`` versions a page; ``faults`` maps a call's number
    (1 for the first) to what it raises."""

    def __init__(self, versions: int, size: int, faults: dict[int, Exception] | None = None) -> None:
        self.rows = [
            {"version": f"1.0.{n}", "revision": f"r{n}", "status": "Published"} for n in range(versions)
        ]
        self.size = size
        self.faults = dict(faults or {})
        self.calls: list[dict[str, Any]] = []

    def get_paginator(self, operation: str) -> Any:
        return paginator(self, operation)

    def list_package_versions(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        fault = self.faults.pop(len(self.calls), None)
        if fault is not None:
            raise fault
        start = int(kwargs.get("nextToken") or 0)
        page: dict[str, Any] = {"versions": self.rows[start : start + self.size]}
        if start + self.size < len(self.rows):
            page["nextToken"] = str(start + self.size)
        return page


def not_found(resource: str) -> ClientError:
    error = client_error("ResourceNotFoundException", 404, operation="ListPackageVersions")
    error.response["resourceType"] = resource  # type: ignore[typeddict-unknown-key]
    return error


def test_every_page_is_read_once_with_the_largest_page_size() -> None:
    # Given 5 versions that the service returns 2 a page
    client = PagedVersions(5, 2)
    counted: list[None] = []
    # When they are read
    listed = read_versions(client, WIDGETS, on_page=lambda: counted.append(None))
    # Then three calls were made (each counted once), following nextToken, asking for 1,000 a page
    assert list(listed) == [f"1.0.{n}" for n in range(5)]
    assert [c.get("nextToken") for c in client.calls] == [None, "2", "4"]
    assert {c["maxResults"] for c in client.calls} == {1000}
    assert len(counted) == 3
    assert "domainOwner" not in client.calls[0]
    assert "namespace" not in client.calls[0]


def test_a_repository_that_lacks_the_package_holds_nothing_but_a_missing_repository_is_an_error() -> None:
    assert read_versions(PagedVersions(1, 1, {1: not_found("package")}), WIDGETS) == {}
    with pytest.raises(ClientError):
        read_versions(PagedVersions(1, 1, {1: not_found("repository")}), WIDGETS)


def test_a_throttled_page_is_read_again_from_its_own_token_and_every_attempt_is_counted() -> None:
    # Given the second page throttled once, and a reader allowed 3 attempts
    throttled = client_error("ThrottlingException", 400, operation="ListPackageVersions")
    client = PagedVersions(4, 2, {2: throttled})
    reader = Reader(client, "acme", attempts=3, sleep=lambda _: None)
    # When the package is read
    versions = reader.versions("release", PackageRef("npm", None, "widgets"))
    # Then it holds all 4 versions, the retry asked for the same page, and 3 calls were counted
    assert [v.version for v in versions] == ["1.0.0", "1.0.1", "1.0.2", "1.0.3"]
    assert [c.get("nextToken") for c in client.calls] == [None, "2", "2"]
    assert reader.stats.calls["ListPackageVersions"] == 3


def test_a_refused_read_is_not_retried() -> None:
    denied = client_error("AccessDeniedException", 403, operation="ListPackageVersions")
    client = PagedVersions(1, 1, {1: denied})
    reader = Reader(client, "acme", attempts=5, sleep=lambda _: None)
    with pytest.raises(ClientError):
        reader.versions("release", PackageRef("npm", None, "widgets"))
    assert len(client.calls) == 1


def test_no_call_starts_once_the_deadline_says_so() -> None:
    client = PagedVersions(3, 1)
    pages_left = iter([True, False])

    def deadline() -> None:
        if not next(pages_left):
            raise OutOfTime

    reader = Reader(client, "acme", deadline=deadline)
    with pytest.raises(OutOfTime):
        reader.versions("release", PackageRef("npm", None, "widgets"))
    assert len(client.calls) == 1
    assert reader.stats.total() == 1


@pytest.mark.parametrize(
    ("held", "pinned", "expected"),
    [
        ({}, "r1", MISSING),
        ({"1.0.0": "r1"}, "r1", IDENTICAL),
        ({"1.0.0": "r2"}, "r1", OTHER_REVISION),
        ({"1.0.0": "r2"}, None, IDENTICAL),  # an unpinned version has no revision to compare
    ],
)
def test_compare_says_what_a_destination_holds_of_a_pinned_version(
    held: dict[str, str], pinned: str | None, expected: str
) -> None:
    assert compare(held, "1.0.0", pinned) == expected
