"""Quota emulation and fault injection through Control, in-process and over HTTP."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from codeartifact_moto.exceptions import ERROR_STATUS
from codeartifact_moto.quotas import QuotaState
from codeartifact_moto.testing import AwsEnv, create_domain_with_repositories

from .conftest import DOMAIN, World, error_of, post_control, rejected


def copy_call(client: Any, package: str = "ui", **options: object) -> Any:
    """One CopyPackageVersions call of ``package`` 1.0.0 (npm, unless ``options`` say otherwise) from staging
    to release."""
    request = {"sourceRepository": "staging", "destinationRepository": "release", "format": "npm"}
    return client.copy_package_versions(
        **(request | {"domain": DOMAIN, "package": package, "versions": ["1.0.0"]} | options)
    )


def copy_once(client: Any, package: str = "ui", **options: object) -> str:
    """``copy_call``'s answer: "ok" or the error code."""
    try:
        copy_call(client, package, **options)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def test_rate_limit_throttles_past_the_quota(world: World) -> None:
    # Given the real default quota of 5 CopyPackageVersions requests per second
    world.seed("staging", "npm", "ui", "1.0.0")
    world.control.set_rate_limit("CopyPackageVersions", 5)
    client = world.raw_client()

    # When 10 calls arrive back to back
    started = time.monotonic()
    outcomes = [copy_once(client) for _ in range(10)]
    elapsed = time.monotonic() - started

    # Then the burst of 5 passes and only what the refill allows passes after it
    assert outcomes[:5] == ["ok"] * 5
    assert set(outcomes) <= {"ok", "ThrottlingException"}
    assert outcomes.count("ok") <= 5 + math.ceil(elapsed * 5)
    stats = world.control.stats()["CopyPackageVersions"]
    assert stats == {"calls": 10, "throttled": outcomes.count("ThrottlingException"), "faults": 0}


def test_throttling_answers_429_with_retry_after(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    world.control.set_rate_limit("CopyPackageVersions", 0.5)  # one token, back after 2 s
    client = world.raw_client()
    assert copy_once(client) == "ok"
    with rejected("ThrottlingException", 429) as excinfo:
        copy_call(client, "ui")
    assert excinfo.value.response["Error"]["Message"] == "Rate exceeded"
    assert excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "2"


def test_rate_limit_is_per_operation_and_can_be_switched_off(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    world.control.set_rate_limit("CopyPackageVersions", 0.2)
    client = world.raw_client()
    assert copy_once(client) == "ok"
    assert copy_once(client) == "ThrottlingException"
    for _ in range(5):
        client.list_domains()  # other operations are not limited
    world.control.set_rate_limit("CopyPackageVersions", None)
    assert [copy_once(client) for _ in range(5)] == ["ok"] * 5


def test_botocore_retries_absorb_throttling(world: World) -> None:
    # Given a tight limit and the default client (which retries throttles with backoff)
    world.seed("staging", "npm", "ui", "1.0.0")
    world.control.set_rate_limit("CopyPackageVersions", 20)
    # When more calls than the burst are made, every one eventually succeeds
    assert [copy_once(world.client) for _ in range(25)] == ["ok"] * 25


def test_fault_for_the_next_n_calls(world: World) -> None:
    world.control.inject_fault("ListDomains", "InternalServerException", count=2)
    client = world.raw_client()
    for _ in range(2):
        with rejected("InternalServerException", 500):
            client.list_domains()
    assert client.list_domains()["domains"]
    assert world.control.stats()["ListDomains"] == {"calls": 3, "throttled": 0, "faults": 2}


@pytest.mark.parametrize("code", sorted(ERROR_STATUS))
def test_every_modelled_error_can_be_injected(world: World, code: str) -> None:
    world.control.inject_fault("DescribeDomain", code, count=1)
    with rejected(code, ERROR_STATUS[code]):
        world.raw_client().describe_domain(domain=DOMAIN)


def test_fault_status_can_be_overridden(world: World) -> None:
    world.control.inject_fault("DescribeDomain", "InternalServerException", count=1, status=503)
    with rejected("InternalServerException", 503):
        world.raw_client().describe_domain(domain=DOMAIN)


def test_fault_at_a_rate(world: World) -> None:
    world.control.inject_fault("ListDomains", "ThrottlingException", rate=1.0)
    client = world.raw_client()
    with rejected("ThrottlingException", 429):
        client.list_domains()
    world.control.clear_faults()
    world.control.inject_fault("ListDomains", "ThrottlingException", rate=0.0)
    assert client.list_domains()["domains"]


def test_fault_rate_is_roughly_honoured_and_reproducible() -> None:
    def run(seed: int) -> list[bool]:
        state = QuotaState()
        state.seed(seed)
        state.inject_fault("Op", "InternalServerException", rate=0.3)
        return [state.admit("Op").fault is not None for _ in range(1000)]

    first = run(7)
    assert 250 <= sum(first) <= 350
    assert run(7) == first
    assert run(8) != first


def test_count_caps_a_rate() -> None:
    state = QuotaState()
    state.inject_fault("Op", "InternalServerException", rate=1.0, count=3)
    assert [state.admit("Op").fault is not None for _ in range(5)] == [True, True, True, False, False]


def test_token_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    state = QuotaState(clock=lambda: now[0])
    state.set_rate_limit("Op", 5)
    assert [state.admit("Op").throttled_for is None for _ in range(6)] == [True] * 5 + [False]
    now[0] += 0.2  # one token back
    assert state.admit("Op").throttled_for is None
    assert state.admit("Op").throttled_for == pytest.approx(0.2)
    now[0] += 10
    assert [state.admit("Op").throttled_for is None for _ in range(6)] == [True] * 5 + [False]


def test_slow_answers(world: World) -> None:
    world.control.inject_fault("ListDomains", "InternalServerException", count=1, delay_seconds=0.3)
    world.control.inject_fault("ListDomains", "", count=1, delay_seconds=0.3)
    client = world.raw_client()
    started = time.monotonic()
    with pytest.raises(ClientError):
        client.list_domains()
    assert client.list_domains()["domains"]  # the second fault is a slow success
    assert time.monotonic() - started >= 0.6
    client.list_domains()  # both faults are used up
    assert world.control.stats()["ListDomains"] == {"calls": 3, "throttled": 0, "faults": 2}


def test_unknown_error_code_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="unknown CodeArtifact error code"):
        world.control.inject_fault("ListDomains", "NoSuchError", count=1)
    with pytest.raises(ValueError, match="a fault needs a rate, a count or both"):
        world.control.inject_fault("ListDomains", "InternalServerException")


def test_unknown_operation_is_refused(world: World) -> None:
    # A misspelt operation would never fire, and the test or storm relying on it would pass vacuously
    with pytest.raises(ValueError, match="unknown CodeArtifact operation 'CopyPackageVersion'"):
        world.control.inject_fault("CopyPackageVersion", "ThrottlingException", count=1)
    with pytest.raises(ValueError, match="unknown CodeArtifact operation 'copy_package_versions'"):
        world.control.set_rate_limit("copy_package_versions", 5)


def test_the_control_endpoint_itself_refuses_unknown_codes_and_operations(aws_server: AwsEnv) -> None:
    # Over raw HTTP (what a non-Python user of `make local-aws` posts), not only through Control
    def post(body: dict[str, object]) -> int:
        return post_control(aws_server, "faults", body)[0]

    assert post({"operation": "ListDomains", "error_code": "Bogus", "count": 1}) == 400
    assert post({"operation": "NoSuchOperation", "error_code": "ThrottlingException", "count": 1}) == 400
    assert post({"operation": "ListDomains", "error_code": "ThrottlingException", "count": 1}) == 200
    assert aws_server.control.stats() == {}


def test_throttled_calls_do_not_consume_faults(world: World) -> None:
    world.control.set_rate_limit("ListDomains", 0.2)
    world.control.inject_fault("ListDomains", "InternalServerException", count=1)
    client = world.raw_client()
    with pytest.raises(ClientError) as excinfo:
        client.list_domains()
    assert error_of(excinfo)[0] == "InternalServerException"
    with pytest.raises(ClientError) as excinfo:
        client.list_domains()
    assert error_of(excinfo)[0] == "ThrottlingException"


def test_reset_clears_state_limits_and_faults(world: World) -> None:
    world.seed("staging", "npm", "ui", "1.0.0")
    world.control.set_rate_limit("ListDomains", 1)
    world.control.inject_fault("DescribeDomain", "InternalServerException", rate=1.0)
    world.control.reset()
    client = world.raw_client()
    assert client.list_domains()["domains"] == []
    assert client.list_domains()["domains"] == []
    with rejected("ResourceNotFoundException", 404):
        client.describe_domain(domain=DOMAIN)
    assert world.control.stats() == {
        "ListDomains": {"calls": 2, "throttled": 0, "faults": 0},
        "DescribeDomain": {"calls": 1, "throttled": 0, "faults": 0},
    }


# -- faults scoped to one package ----------------------------------------------------------------


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 429), ("InternalServerException", 503)])
def test_a_fault_scoped_to_one_package_leaves_the_others_alone(world: World, code: str, status: int) -> None:
    """API reference, errors: ThrottlingException "The operation did not succeed because too many requests
    are sent to the service."; InternalServerException "... because of an error that occurred inside
    CodeArtifact." Scoped to one package, they fail only its calls."""
    # Given three packages and every call of one of them failing
    for package in ("stuck", "ui", "api"):
        world.seed("staging", "npm", package, "1.0.0")
    world.control.inject_fault("CopyPackageVersions", code, rate=1.0, status=status, package="stuck")
    client = world.raw_client()

    # When each is copied twice, Then only the stuck package's calls fail, with that status
    outcomes = {
        package: [copy_once(client, package, allowOverwrite=True) for _ in range(2)]
        for package in ("stuck", "ui", "api")
    }
    assert outcomes == {"stuck": [code, code], "ui": ["ok", "ok"], "api": ["ok", "ok"]}
    with rejected(code, status):
        copy_call(client, "stuck")
    assert world.control.stats()["CopyPackageVersions"] == {"calls": 7, "throttled": 0, "faults": 3}


def test_a_scoped_count_counts_only_that_packages_calls(world: World) -> None:
    for package in ("stuck", "ui"):
        world.seed("staging", "npm", package, "1.0.0")
    world.control.inject_fault("CopyPackageVersions", "InternalServerException", count=2, package="stuck")
    client = world.raw_client()
    assert [copy_once(client, "ui", allowOverwrite=True) for _ in range(3)] == ["ok"] * 3
    assert [copy_once(client, "stuck", allowOverwrite=True) for _ in range(3)] == [
        "InternalServerException"
    ] * 2 + ["ok"]


def test_a_package_that_hangs_past_the_read_timeout(aws_server: AwsEnv) -> None:
    """A connection that hangs until the client's read timeout, for one package only (over HTTP). The
    call is carried out when its delay ends, as a call whose answer was lost can have been."""
    client = aws_server.client("codeartifact")
    create_domain_with_repositories(client, DOMAIN, ["staging", "release"])
    for package in ("stuck", "ui"):
        aws_server.control.seed_package_version(DOMAIN, "staging", "npm", package, "1.0.0")
    aws_server.control.inject_fault("CopyPackageVersions", "", count=1, delay_seconds=1.5, package="stuck")
    impatient = aws_server.client(
        "codeartifact", config=Config(read_timeout=0.5, retries={"total_max_attempts": 1, "mode": "standard"})
    )
    started = time.monotonic()
    assert copy_once(impatient, "ui", allowOverwrite=True) == "ok"
    assert time.monotonic() - started < 0.5
    with pytest.raises(ReadTimeoutError):
        copy_once(impatient, "stuck", allowOverwrite=True)

    # The hung call still goes through once its delay is over, as a copy whose answer was lost would
    deadline = time.monotonic() + 10
    while not client.list_packages(domain=DOMAIN, repository="release", packagePrefix="stuck")["packages"]:
        assert time.monotonic() < deadline, "the delayed copy never landed"
        time.sleep(0.05)


def test_a_package_scope_follows_the_services_name_normalization(world: World) -> None:
    # nuget names are stored lowercased and requests are normalized: either spelling is the package
    world.seed("staging", "nuget", "Newtonsoft.Json", "13.0.1")
    world.control.inject_fault(
        "CopyPackageVersions", "ThrottlingException", count=1, package="NEWTONSOFT.json"
    )
    with pytest.raises(ClientError) as excinfo:
        copy_call(world.raw_client(), "newtonsoft.json", format="nuget", versions=["13.0.1"])
    assert error_of(excinfo)[0] == "ThrottlingException"


def test_a_package_scope_on_an_operation_without_packages_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="ListDomains takes no package"):
        world.control.inject_fault("ListDomains", "ThrottlingException", count=1, package="ui")
