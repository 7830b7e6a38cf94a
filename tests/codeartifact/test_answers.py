"""Injected odd answers (Control.inject_answer): exactly these bytes on the wire, parsed by botocore.

Each kind departs from what the API reference, CopyPackageVersions, promises of a successful answer:
successfulVersions is "A list of the package versions that were successfully copied to your repository",
failedVersions "A map of package versions that failed to copy and their error codes. The possible error
codes are in the PackageVersionError data type" (ALREADY_EXISTS, MISMATCHED_REVISION, MISMATCHED_STATUS,
NOT_ALLOWED, NOT_FOUND, SKIPPED). A proxy, a gateway or a later API can still answer so; these tests pin
what the local CodeArtifact sends, so that the promoter's tests can rely on it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from codeartifact_moto.answers import ANSWER_KINDS, HTML_PAGE, UNKNOWN_ERROR_CODE

from .conftest import DOMAIN, World, error_of, rejected

COPY = "CopyPackageVersions"


class Wire:
    """What the client received: status, content type and body bytes of the last CopyPackageVersions."""

    def __init__(self, client: Any) -> None:
        self.answers: list[tuple[int, str, bytes]] = []
        client.meta.events.register(f"after-call.codeartifact.{COPY}", self._record)

    def _record(self, http_response: Any, **_: Any) -> None:
        self.answers.append(
            (http_response.status_code, http_response.headers.get("content-type", ""), http_response.content)
        )

    @property
    def last(self) -> tuple[int, str, bytes]:
        return self.answers[-1]


def copy(world: World, client: Any, package: str, revision: str) -> dict[str, Any]:
    result: dict[str, Any] = client.copy_package_versions(
        domain=DOMAIN,
        sourceRepository="staging",
        destinationRepository="release",
        format="npm",
        package=package,
        versionRevisions={"1.0.0": revision},
    )
    result.pop("ResponseMetadata")
    return result


def in_release(world: World, package: str) -> str | None:
    """The revision release holds of ``package`` 1.0.0, or None."""
    try:
        return str(world.describe("release", "npm", package, "1.0.0")["revision"])
    except ClientError:
        return None


MESSAGE = {"errorMessage": "Version 1.0.0 could not be copied"}
FIXED_BYTES = {
    "empty-body": (200, "application/json", b"", {}),
    "empty-object": (200, "application/json", b"{}", {}),
    "null-maps": (200, "application/json", b'{"successfulVersions": null, "failedVersions": null}', {}),
    "html": (200, "text/html; charset=utf-8", HTML_PAGE.encode(), {}),
    "unparseable": (200, "application/json", b'{"successfulVersions": {"', {}),
    "missing-error-code": (
        200,
        "application/json",
        b'{"successfulVersions": {}, "failedVersions": {"1.0.0": '
        b'{"errorMessage": "Version 1.0.0 could not be copied"}}}',
        {
            "successfulVersions": {},
            "failedVersions": {"1.0.0": {"errorMessage": "Version 1.0.0 could not be copied"}},
        },
    ),
    "null-error-code": (
        200,
        "application/json",
        b'{"successfulVersions": {}, "failedVersions": {"1.0.0": '
        b'{"errorCode": null, "errorMessage": "Version 1.0.0 could not be copied"}}}',
        # botocore reads a null member as a missing one
        {
            "successfulVersions": {},
            "failedVersions": {"1.0.0": {"errorMessage": "Version 1.0.0 could not be copied"}},
        },
    ),
    "unknown-error-code": (
        200,
        "application/json",
        b'{"successfulVersions": {}, "failedVersions": {"1.0.0": {"errorCode": "FUTURE_ERROR_CODE", '
        b'"errorMessage": "Version 1.0.0 could not be copied"}}}',
        {
            "successfulVersions": {},
            "failedVersions": {
                "1.0.0": {
                    "errorCode": UNKNOWN_ERROR_CODE,
                    "errorMessage": "Version 1.0.0 could not be copied",
                }
            },
        },
    ),
}


@pytest.mark.parametrize("kind", sorted(FIXED_BYTES))
def test_the_answer_is_exactly_these_bytes(world: World, kind: str) -> None:
    # Given a version in staging and an odd answer for the next copy (nothing is done)
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.control.inject_answer(COPY, kind)
    wire = Wire(world.client)

    # When it is copied, Then the client received exactly the kind's bytes and parsed them as from AWS
    parsed = copy(world, world.client, "ui", seeded["revision"])
    status, content_type, body, expected = FIXED_BYTES[kind]
    assert wire.last == (status, content_type, body)
    assert parsed == expected
    assert in_release(world, "ui") is None

    # And the next call is answered as usual
    assert (
        copy(world, world.client, "ui", seeded["revision"])["successfulVersions"]["1.0.0"]["revision"]
        == (seeded["revision"])
    )


def test_other_revision_names_the_version_with_another_revision(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.control.inject_answer(COPY, "other-revision")
    wire = Wire(world.client)
    parsed = copy(world, world.client, "ui", seeded["revision"])
    other = parsed["successfulVersions"]["1.0.0"]["revision"]
    assert other != seeded["revision"]
    assert parsed == {
        "successfulVersions": {"1.0.0": {"revision": other, "status": "Published"}},
        "failedVersions": {},
    }
    assert json.loads(wire.last[2]) == parsed
    assert in_release(world, "ui") is None


def test_unrequested_versions_name_only_versions_not_asked_for(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.control.inject_answer(COPY, "unrequested-versions")
    parsed = copy(world, world.client, "ui", seeded["revision"])
    assert list(parsed["successfulVersions"]) == ["0.0.0-not-requested"]
    assert list(parsed["failedVersions"]) == ["0.0.1-not-requested"]
    assert in_release(world, "ui") is None


def test_raw_answers_any_body_status_and_content_type(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.control.inject_answer(COPY, "raw", body="<ok/>", status=202, content_type="application/xml")
    wire = Wire(world.client)
    assert copy(world, world.client, "ui", seeded["revision"]) == {}
    assert wire.last == (202, "application/xml", b"<ok/>")


@pytest.mark.parametrize("perform", [False, True])
def test_perform_decides_whether_the_copy_happens(world: World, perform: bool) -> None:
    # Given an odd answer that names nothing, with or without the copy behind it
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.control.inject_answer(COPY, "empty-object", perform=perform)

    # When the version is copied, the answer says nothing either way
    assert copy(world, world.client, "ui", seeded["revision"]) == {}

    # Then only a read of the destination tells whether it landed
    assert in_release(world, "ui") == (seeded["revision"] if perform else None)


def test_perform_passes_the_calls_own_error_through(world: World) -> None:
    world.control.inject_answer(COPY, "html", perform=True)
    with rejected("ResourceNotFoundException", 404):
        copy(world, world.raw_client(), "missing", "cmV2aXNpb24=")


def test_an_answer_scoped_to_one_package_leaves_the_others_alone(world: World) -> None:
    odd = world.seed("staging", "npm", "odd", "1.0.0")
    ui = world.seed("staging", "npm", "ui", "1.0.0")
    world.control.inject_answer(COPY, "null-maps", package="odd", count=2)
    assert (
        copy(world, world.client, "ui", ui["revision"])["successfulVersions"]["1.0.0"]["revision"]
        == (ui["revision"])
    )
    assert copy(world, world.client, "odd", odd["revision"]) == {}
    assert copy(world, world.client, "odd", odd["revision"]) == {}
    assert "1.0.0" in copy(world, world.client, "odd", odd["revision"])["successfulVersions"]
    assert world.control.stats()[COPY] == {"calls": 4, "throttled": 0, "faults": 2}


def test_throttled_and_faulted_calls_do_not_use_an_answer(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.control.inject_answer(COPY, "empty-body")
    world.control.inject_fault(COPY, "InternalServerException", count=1)
    client = world.raw_client()
    with pytest.raises(ClientError) as excinfo:
        copy(world, client, "ui", seeded["revision"])
    assert error_of(excinfo)[0] == "InternalServerException"
    assert copy(world, client, "ui", seeded["revision"]) == {}  # the answer, now
    assert in_release(world, "ui") is None


def test_clear_faults_and_reset_drop_answers(world: World) -> None:
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.control.inject_answer(COPY, "empty-body", rate=1.0, count=None)
    world.control.clear_faults()
    assert "1.0.0" in copy(world, world.client, "ui", seeded["revision"])["successfulVersions"]
    world.control.inject_answer("ListDomains", "empty-body", rate=1.0, count=None)
    world.control.reset()
    assert world.client.list_domains()["domains"] == []


def test_map_kinds_fit_the_other_batch_operations(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    world.control.inject_answer("UpdatePackageVersionsStatus", "unknown-error-code")
    result = world.client.update_package_versions_status(
        **world.package("staging", "npm", "ui"), versions=["1.0.0"], targetStatus="Archived"
    )
    assert result["failedVersions"]["1.0.0"]["errorCode"] == UNKNOWN_ERROR_CODE
    assert world.describe("staging", "npm", "ui", "1.0.0")["status"] == "Published"


def test_bad_injections_are_refused(world: World) -> None:
    with pytest.raises(ValueError, match="unknown answer kind 'empty'"):
        world.control.inject_answer(COPY, "empty")
    with pytest.raises(ValueError, match="needs an operation that answers successfulVersions"):
        world.control.inject_answer("ListDomains", "other-revision")
    with pytest.raises(ValueError, match="ListDomains takes no package"):
        world.control.inject_answer("ListDomains", "html", package="ui")
    with pytest.raises(ValueError, match="body is given with kind 'raw' and only with it"):
        world.control.inject_answer(COPY, "raw")
    with pytest.raises(ValueError, match="unknown CodeArtifact operation"):
        world.control.inject_answer("CopyPackageVersion", "html")
    world.control.inject_answer("ListDomains", "html")  # a body kind fits any operation
    assert "domains" not in world.client.list_domains()


def test_every_kind_is_documented_and_tested() -> None:
    tested = set(FIXED_BYTES) | {"other-revision", "unrequested-versions", "raw"}
    assert tested == set(ANSWER_KINDS)
