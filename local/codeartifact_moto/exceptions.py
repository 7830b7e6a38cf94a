"""CodeArtifact errors, named and shaped as botocore's ``codeartifact`` model declares them.

moto's rest-json serializer looks the ``code`` up in the service model, so the HTTP status
(400/402/403/404/409/429/500), the ``x-amzn-ErrorType`` header and the JSON body come from the
model itself; the extra members (``resourceId``, ``resourceType``, ``reason``,
``retryAfterSeconds``) are picked from these objects' attributes by name.
"""

from __future__ import annotations

from moto.core.exceptions import ServiceException

ERROR_STATUS: dict[str, int] = {
    "AccessDeniedException": 403,
    "ConflictException": 409,
    "InternalServerException": 500,
    "ResourceNotFoundException": 404,
    "ServiceQuotaExceededException": 402,
    "ThrottlingException": 429,
    "ValidationException": 400,
}


class CodeArtifactError(ServiceException):
    """Base of every error this backend raises; ``code`` must be a model exception name."""

    code = "InternalServerException"


class ValidationException(CodeArtifactError):
    code = "ValidationException"

    def __init__(self, message: str, reason: str = "OTHER") -> None:
        super().__init__(message)
        self.reason = reason


class _ResourceError(CodeArtifactError):
    def __init__(self, message: str, resource_type: str | None = None, resource_id: str | None = None):
        super().__init__(message)
        self.resourceType = resource_type
        self.resourceId = resource_id


class ResourceNotFoundException(_ResourceError):
    code = "ResourceNotFoundException"


class ConflictException(_ResourceError):
    code = "ConflictException"


class ServiceQuotaExceededException(_ResourceError):
    code = "ServiceQuotaExceededException"


class AccessDeniedException(CodeArtifactError):
    code = "AccessDeniedException"


class InternalServerException(CodeArtifactError):
    code = "InternalServerException"


class ThrottlingException(CodeArtifactError):
    code = "ThrottlingException"

    def __init__(self, message: str = "Rate exceeded", retry_after_seconds: int | None = 1) -> None:
        super().__init__(message)
        self.retryAfterSeconds = retry_after_seconds


def error_for_code(code: str, message: str | None = None) -> CodeArtifactError:
    """Build the error a fault injection asked for, by its model name."""
    text = message or f"Injected fault: {code}"
    factories: dict[str, type[CodeArtifactError]] = {
        "ValidationException": ValidationException,
        "ResourceNotFoundException": ResourceNotFoundException,
        "ConflictException": ConflictException,
        "ServiceQuotaExceededException": ServiceQuotaExceededException,
        "AccessDeniedException": AccessDeniedException,
        "InternalServerException": InternalServerException,
        "ThrottlingException": ThrottlingException,
    }
    factory = factories.get(code)
    if factory is None:
        raise ValueError(f"unknown CodeArtifact error code {code!r}; expected one of {sorted(factories)}")
    return factory(text)
