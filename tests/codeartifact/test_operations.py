"""Every operation of botocore's CodeArtifact model is implemented or explicitly listed as not implemented.

An operation the backend does not implement answers HTTP 501 with a JSON error naming it, which botocore
parses (code ``NotImplementedException``) and does not retry: never an HTML page with a 500, which a
user's tooling would read as a crash of the service and retry.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.model import ListShape, Shape, StructureShape
from botocore.session import get_session
from codeartifact_moto.responses import NOT_IMPLEMENTED, NOT_IMPLEMENTED_CODE, CodeArtifactResponse
from codeartifact_moto.testing import AwsEnv

MODEL = get_session().get_service_model("codeartifact")
# What issue 22 implemented last: package groups, dependencies and readmes.
ISSUE_22 = frozenset(
    {
        "CreatePackageGroup",
        "DescribePackageGroup",
        "UpdatePackageGroup",
        "DeletePackageGroup",
        "ListPackageGroups",
        "ListSubPackageGroups",
        "ListAssociatedPackages",
        "GetAssociatedPackageGroup",
        "UpdatePackageGroupOriginConfiguration",
        "ListAllowedRepositoriesForGroup",
        "ListPackageVersionDependencies",
        "GetPackageVersionReadme",
    }
)


def test_every_operation_is_implemented_or_listed_as_not_implemented() -> None:
    implemented = {name for name in MODEL.operation_names if CodeArtifactResponse.implements(name)}
    unaccounted = set(MODEL.operation_names) - implemented - NOT_IMPLEMENTED
    assert not unaccounted, (
        f"neither implemented nor listed in responses.NOT_IMPLEMENTED: {sorted(unaccounted)}"
    )
    assert not implemented & NOT_IMPLEMENTED, "implemented, so drop them from NOT_IMPLEMENTED"
    assert set(MODEL.operation_names) >= NOT_IMPLEMENTED, "NOT_IMPLEMENTED names operations the model lacks"
    unfinished = ISSUE_22 & NOT_IMPLEMENTED
    assert not unfinished, f"issue 22 implements these: {sorted(unfinished)}"


def placeholder(shape: Shape) -> Any:
    """A value botocore's client-side validation accepts for ``shape`` (required members only)."""
    if isinstance(shape, StructureShape):
        return {name: placeholder(shape.members[name]) for name in shape.required_members}
    if isinstance(shape, ListShape):
        return [placeholder(shape.member)]
    if shape.type_name == "map":
        return {}
    if shape.type_name in ("integer", "long"):
        return int(shape.metadata.get("min", 1))
    if shape.type_name == "boolean":
        return True
    if shape.type_name == "blob":
        return b"x"
    if shape.enum:  # type: ignore[attr-defined]
        return shape.enum[0]  # type: ignore[attr-defined]
    return "x" * max(2, int(shape.metadata.get("min", 2)))


# With every operation implemented, one is made unimplemented for the test (the server runs in this process),
# so the 501 path stays covered for operations a later botocore model adds.
STAND_IN = "GetPackageVersionReadme"


def _not_implemented(monkeypatch: pytest.MonkeyPatch, operation: str) -> None:
    if operation in NOT_IMPLEMENTED:
        return
    implements = CodeArtifactResponse.implements.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        CodeArtifactResponse,
        "implements",
        classmethod(lambda cls, name: name != operation and implements(cls, name)),
    )


@pytest.mark.parametrize("operation", sorted(NOT_IMPLEMENTED) or [STAND_IN])
def test_a_not_implemented_operation_answers_a_json_error_naming_it(
    any_aws: AwsEnv, operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _not_implemented(monkeypatch, operation)
    client = any_aws.client("codeartifact")
    method = getattr(client, _python_name(client, operation))
    input_shape = MODEL.operation_model(operation).input_shape
    params = {} if input_shape is None else placeholder(input_shape)
    with pytest.raises(ClientError) as excinfo:
        method(**params)
    response = excinfo.value.response
    assert response["Error"]["Code"] == NOT_IMPLEMENTED_CODE
    assert operation in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/json"
    assert response["ResponseMetadata"]["RetryAttempts"] == 0


def _python_name(client: Any, operation: str) -> str:
    mapping: dict[str, str] = client.meta.method_to_api_mapping
    return next(name for name, api in mapping.items() if api == operation)


def test_faults_are_refused_for_operations_that_are_not_implemented(
    any_aws: AwsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    operation = sorted(NOT_IMPLEMENTED)[0] if NOT_IMPLEMENTED else STAND_IN
    _not_implemented(monkeypatch, operation)
    with pytest.raises(ValueError, match=f"does not implement {operation}"):
        any_aws.control.inject_fault(operation, "ThrottlingException", count=1)
