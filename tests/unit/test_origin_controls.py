"""promoter.origin_controls without AWS: which control a copy meets, INHERIT resolved up the tree when an
answer leaves it unresolved, and reads that fail are named, never raised. (Against the local AWS:
tests/integration/test_origin_controls.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from promoter.listed import PackageAt
from promoter.origin_controls import Controls, GroupRestriction, not_allowed_note, read_controls, refusal


def controls(publish: str = "ALLOW", upstream: str = "ALLOW", **group: GroupRestriction) -> Controls:
    return Controls({"publish": publish, "upstream": upstream}, "/npm/*", group)


@pytest.mark.parametrize(
    ("given", "origin", "expected"),
    [
        (controls(publish="BLOCK"), "INTERNAL", "destination package blocks publish"),
        (controls(publish="BLOCK"), "EXTERNAL", None),
        (controls(upstream="BLOCK"), "EXTERNAL", "destination package blocks upstream"),
        (controls(publish="BLOCK"), "UNKNOWN", None),  # refused only when both ways are closed
        (
            controls(publish="BLOCK", upstream="BLOCK"),
            "UNKNOWN",
            "destination package blocks publish and destination package blocks upstream",
        ),
        (
            controls(PUBLISH=GroupRestriction("BLOCK", "/npm/*")),
            "INTERNAL",
            "package group '/npm/*' blocks publish",
        ),
        (
            controls(PUBLISH=GroupRestriction("BLOCK", "/*")),
            "INTERNAL",
            "package group '/npm/*' (inheriting from '/*') blocks publish",
        ),
        (
            controls(
                EXTERNAL_UPSTREAM=GroupRestriction("ALLOW_SPECIFIC_REPOSITORIES", "/npm/*", ("mirror",))
            ),
            "EXTERNAL",
            "package group '/npm/*' allows upstream only into mirror",
        ),
        (
            controls(PUBLISH=GroupRestriction("ALLOW_SPECIFIC_REPOSITORIES", "/npm/*", ("release",))),
            "INTERNAL",
            None,
        ),
    ],
)
def test_refusal_names_the_control(given: Controls, origin: str, expected: str | None) -> None:
    assert refusal(given, origin, "release") == expected


def test_the_not_allowed_note_says_which_control() -> None:
    assert not_allowed_note({"publish": "BLOCK", "upstream": "ALLOW"}) == (
        "destination package blocks publish (publish=BLOCK, upstream=ALLOW)"
    )
    assert "so a package group's origin controls refused it" in not_allowed_note(
        {"publish": "ALLOW", "upstream": "ALLOW"}
    )
    assert "no such package yet" in not_allowed_note(None)


class Groups:
    """GetAssociatedPackageGroup answering with an unresolved INHERIT, and the tree above it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @staticmethod
    def _group(pattern: str, mode: str, parent: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pattern": pattern,
            "originConfiguration": {"restrictions": {"PUBLISH": {"mode": mode}}},
        }
        if parent:
            out["parent"] = {"pattern": parent}
        return out

    def describe_package(self, **_: Any) -> Any:
        self.calls.append("DescribePackage")
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribePackage")

    def get_associated_package_group(self, **_: Any) -> Any:
        self.calls.append("GetAssociatedPackageGroup")
        return {"packageGroup": self._group("/npm/ui~", "INHERIT", "/npm/*"), "associationType": "STRONG"}

    def describe_package_group(self, packageGroup: str, **_: Any) -> Any:
        self.calls.append(f"DescribePackageGroup {packageGroup}")
        tree = {"/npm/*": self._group("/npm/*", "INHERIT", "/*"), "/*": self._group("/*", "BLOCK", None)}
        return {"packageGroup": tree[packageGroup]}


def test_inherit_is_resolved_up_the_tree_and_a_failed_read_is_named() -> None:
    fake = Groups()
    read = read_controls(fake, PackageAt("acme", None, "release", "npm", None, "ui"))
    assert read.package is None
    assert read.errors == ("DescribePackage: AccessDeniedException",)
    assert read.group_restrictions["PUBLISH"] == GroupRestriction("BLOCK", "/*")
    assert fake.calls.count("DescribePackageGroup /npm/*") == 1
    assert (
        refusal(read, "INTERNAL", "release")
        == "package group '/npm/ui~' (inheriting from '/*') blocks publish"
    )
