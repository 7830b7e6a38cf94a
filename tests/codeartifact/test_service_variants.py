"""Service variants: how CopyPackageVersions answers a version the destination already holds.

``documented`` (the default) follows the API reference, CopyPackageVersions, allowOverwrite: "Set to true
to overwrite a package version that already exists in the destination repository. If set to false and the
package version already exists in the destination repository, the package version is returned in the
failedVersions field of the response with an ALREADY_EXISTS error code." ``identical-copy-omitted`` is the
answer this emulation gave before (an identical copy left out of both maps), kept selectable through Control
so that code can be tested against both.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from codeartifact_moto.control import Control
from codeartifact_moto.models import SERVICE_VARIANTS
from codeartifact_moto.testing import AwsEnv

from .conftest import DOMAIN, World, post_control


def codes(result: dict[str, object]) -> dict[str, str]:
    failed = result["failedVersions"]
    assert isinstance(failed, dict)
    return {version: error["errorCode"] for version, error in failed.items()}


def block_publishing(world: World, package: str) -> None:
    world.client.put_package_origin_configuration(
        **world.package("release", "npm", package), restrictions={"publish": "BLOCK", "upstream": "ALLOW"}
    )


def test_the_documented_answer_is_the_default(world: World) -> None:
    assert set(SERVICE_VARIANTS) == {"documented", "identical-copy-omitted"}
    assert world.control.service_variant() == "documented"


def test_reset_restores_the_documented_default(world: World) -> None:
    # Given the other variant
    world.control.set_service_variant("identical-copy-omitted")
    assert world.control.service_variant() == "identical-copy-omitted"

    # When the emulation is reset, Then the documented answer is back
    world.control.reset()
    assert world.control.service_variant() == "documented"


def test_mock_reset_restores_the_default_too(aws_server: AwsEnv) -> None:
    # moto's own reset (what the aws_server fixture does between tests) recreates the backends
    aws_server.control.set_service_variant("identical-copy-omitted")
    request = urllib.request.Request(f"{aws_server.endpoint_url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    assert aws_server.control.service_variant() == "documented"


def test_the_variant_belongs_to_one_account_and_region(world: World) -> None:
    world.control.set_service_variant("identical-copy-omitted")
    other = Control(world.env.endpoint_url, region="eu-west-1")
    assert other.service_variant() == "documented"
    assert world.control.service_variant() == "identical-copy-omitted"


def test_an_unknown_variant_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="unknown service variant 'identical'"):
        world.control.set_service_variant("identical")
    assert world.control.service_variant() == "documented"


def test_the_control_endpoint_refuses_an_unknown_variant(aws_server: AwsEnv) -> None:
    def post(body: dict[str, object]) -> tuple[int, dict[str, object]]:
        status, answer = post_control(aws_server, "service-variant", body)
        return status, json.loads(answer)

    assert post({"variant": "bogus"})[0] == 400
    assert post({"variant": "identical-copy-omitted"}) == (200, {"variant": "identical-copy-omitted"})
    assert post({}) == (200, {"variant": "identical-copy-omitted"})


def test_documented_existing_version_is_already_exists_before_origin_controls(world: World) -> None:
    """API reference, allowOverwrite: "If set to false and the package version already exists in the
    destination repository, the package version is returned in the failedVersions field of the response
    with an ALREADY_EXISTS error code." Unconditional: origin controls govern new versions."""
    # Given 1.0.0 promoted, 1.0.1 in release as another build, and release's package closed to publishing
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.copy("npm", "ui", versions=["1.0.0"])
    world.seed("staging", "npm", "ui", "1.0.1", assets={"ui.tgz": b"new"})
    world.seed("release", "npm", "ui", "1.0.1", assets={"ui.tgz": b"old"})
    block_publishing(world, "ui")

    # Then each existing version is ALREADY_EXISTS, identical or not
    assert codes(world.copy("npm", "ui", versionRevisions={"1.0.0": seeded["revision"]})) == {
        "1.0.0": "ALREADY_EXISTS"
    }
    assert codes(world.copy("npm", "ui", versions=["1.0.1"])) == {"1.0.1": "ALREADY_EXISTS"}


def test_omitted_variant_keeps_its_former_order(world: World) -> None:
    """The variant is exactly the former answer: identical omitted, then origin controls, then
    ALREADY_EXISTS."""
    world.control.set_service_variant("identical-copy-omitted")
    seeded = world.seed("staging", "npm", "ui", "1.0.0")
    world.copy("npm", "ui", versions=["1.0.0"])
    world.seed("staging", "npm", "ui", "1.0.1", assets={"ui.tgz": b"new"})
    world.seed("release", "npm", "ui", "1.0.1", assets={"ui.tgz": b"old"})
    world.seed("staging", "npm", "ui", "1.0.2", assets={"ui.tgz": b"new"})
    world.seed("release", "npm", "ui", "1.0.2", assets={"ui.tgz": b"old"})

    assert codes(world.copy("npm", "ui", versions=["1.0.2"])) == {"1.0.2": "ALREADY_EXISTS"}
    block_publishing(world, "ui")
    identical = world.copy("npm", "ui", versionRevisions={"1.0.0": seeded["revision"]}, allowOverwrite=True)
    assert (identical["successfulVersions"], identical["failedVersions"]) == ({}, {})
    assert codes(world.copy("npm", "ui", versions=["1.0.1"])) == {"1.0.1": "NOT_ALLOWED"}


@pytest.mark.parametrize("variant", sorted(SERVICE_VARIANTS))
def test_different_version_is_already_exists_in_both_variants(world: World, variant: str) -> None:
    """API reference, allowOverwrite: both variants keep this sentence for another revision."""
    world.control.set_service_variant(variant)
    world.seed("staging", "npm", "ui", "1.0.0", assets={"ui.tgz": b"new"})
    world.seed("staging", "npm", "ui", "1.1.0")
    world.seed("release", "npm", "ui", "1.0.0", assets={"ui.tgz": b"old"})
    result = world.copy("npm", "ui", versions=["1.0.0", "1.1.0"])
    assert codes(result) == {"1.0.0": "ALREADY_EXISTS", "1.1.0": "SKIPPED"}
    assert result["successfulVersions"] == {}


def test_the_service_variant_fixture_applies_to_the_local_aws(any_aws: AwsEnv, service_variant: str) -> None:
    """tests/conftest.py's ``service_variant`` runs a test once per variant, in the local account."""
    assert any_aws.control.service_variant() == service_variant
    client = any_aws.client("codeartifact")
    client.create_domain(domain=DOMAIN)
    for name in ("staging", "release"):
        client.create_repository(domain=DOMAIN, repository=name)
    seeded = any_aws.control.seed_package_version(DOMAIN, "staging", "npm", "ui", "1.0.0")

    def copy() -> dict[str, object]:
        result: dict[str, object] = client.copy_package_versions(
            domain=DOMAIN,
            sourceRepository="staging",
            destinationRepository="release",
            format="npm",
            package="ui",
            versionRevisions={"1.0.0": seeded["revision"]},
        )
        return result

    copy()
    expected = {"1.0.0": "ALREADY_EXISTS"} if service_variant == "documented" else {}
    assert codes(copy()) == expected
