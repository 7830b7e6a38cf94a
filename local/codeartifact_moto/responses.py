"""HTTP face of the backend: botocore's ``codeartifact`` model routes, parses and serializes.

moto's ``BaseResponse`` with automated parameter parsing matches method and path against the
model (rest-json), so each handler reads parameters by their model member names and returns an
``ActionResult`` that moto serializes into exactly the API's shapes. Before any handler runs,
the account's :class:`~codeartifact_moto.quotas.QuotaState` may throttle the call or inject a
fault, which is how quota and failure emulation reach real HTTP clients. A call that passes them
and input validation may then get an injected odd answer (:mod:`codeartifact_moto.answers`)
instead of, or after, the real one.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import camelcase_to_underscores, get_service_model

from .answers import render
from .exceptions import CodeArtifactError, ThrottlingException, ValidationException, error_for_code
from .models import CodeArtifactBackend, PackageVersion, codeartifact_backends
from .quotas import Answer, Call
from .validation import validate_input

# Operations of botocore's codeartifact model that this backend does not implement. Each answers
# HTTP 501 with a JSON error naming it (code NOT_IMPLEMENTED_CODE), which botocore parses and does
# not retry; tests/codeartifact/test_operations.py fails when an operation of the model is neither
# implemented nor listed here.
NOT_IMPLEMENTED: frozenset[str] = frozenset()
NOT_IMPLEMENTED_CODE = "NotImplementedException"
NOT_IMPLEMENTED_STATUS = 501


class CodeArtifactResponse(BaseResponse):
    """Handlers for the CodeArtifact operations this emulation supports."""

    use_raw_body = True

    def __init__(self) -> None:
        super().__init__(service_name="codeartifact")
        self.automated_parameter_parsing = True

    @property
    def backend(self) -> CodeArtifactBackend:
        backend: CodeArtifactBackend = codeartifact_backends[self.current_account][self.region]
        return backend

    # -- quota emulation -----------------------------------------------------------------------

    def call_action(self) -> TYPE_RESPONSE:
        operation = self._get_action()
        if not operation:
            return super().call_action()
        if not self.implements(operation):
            return self._not_implemented(operation)
        call = Call(operation, self._p("package"), self._p("format"))
        error, status = self._admit(call)
        if error is None:
            try:
                operation_model = get_service_model(self.boto3_service_name).operation_model(operation)
                validate_input(dict(self.params), operation_model.input_shape)
            except CodeArtifactError as invalid:
                error = invalid
        if error is None:
            answer = self.backend.quotas.take_answer(call)
            return super().call_action() if answer is None else self._injected(answer)
        code, headers, body = self.serialized(ActionResult(error))
        headers.update(self.response_headers)
        if isinstance(error, ThrottlingException) and error.retryAfterSeconds is not None:
            headers["Retry-After"] = str(error.retryAfterSeconds)
        return status or code, headers, body

    @classmethod
    def implements(cls, operation: str) -> bool:
        """Whether this backend has a handler for ``operation`` (an API name)."""
        return callable(getattr(cls, camelcase_to_underscores(operation), None))

    def _not_implemented(self, operation: str) -> TYPE_RESPONSE:
        """A JSON error botocore parses (code, message naming the operation), never an HTML 500."""
        body = json.dumps(
            {
                "message": f"The local CodeArtifact (codeartifact_moto) does not implement {operation}; "
                "local/codeartifact_moto/README.md lists the operations it does",
            }
        )
        headers = {
            **self.response_headers,
            "Content-Type": "application/json",
            "x-amzn-ErrorType": NOT_IMPLEMENTED_CODE,
        }
        headers, _ = self._enrich_response(headers, "")
        return NOT_IMPLEMENTED_STATUS, headers, body

    def _injected(self, answer: Answer) -> TYPE_RESPONSE:
        """The odd answer, after carrying the call out when asked to (its errors pass unchanged)."""
        if answer.perform:
            code, headers, body = super().call_action()
            if int(code) >= 300:
                return code, headers, body
        revisions = self._p("versionRevisions")
        requested: dict[str, str | None] = (
            dict(revisions) if revisions else dict.fromkeys(self._p("versions") or [])
        )
        rendered = render(
            answer.kind, requested, body=answer.body, status=answer.status, content_type=answer.content_type
        )
        headers = {**self.response_headers, "Content-Type": rendered.content_type}
        headers, _ = self._enrich_response(headers, "")
        return rendered.status, headers, rendered.body

    def _admit(self, call: Call) -> tuple[CodeArtifactError | None, int | None]:
        """Apply the account's rate limit and faults to this call; None lets it through."""
        decision = self.backend.quotas.admit(call)
        if decision.throttled_for is not None:
            wait = max(1, math.ceil(decision.throttled_for))
            return ThrottlingException("Rate exceeded", retry_after_seconds=wait), None
        fault = decision.fault
        if fault is None:
            return None, None
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)  # the emulated slow answer, not a wait in a test
        if not fault.error_code:
            return None, None  # a slow success
        return error_for_code(fault.error_code), fault.status

    # -- parameters ----------------------------------------------------------------------------

    def _p(self, name: str) -> Any:
        return self._get_param(name)

    def _coords(self) -> dict[str, Any]:
        return {"domain": self._p("domain"), "owner": self._p("domainOwner")}

    def _package_coords(self) -> dict[str, Any]:
        return {
            **self._coords(),
            "repository": self._p("repository"),
            "fmt": self._p("format"),
            "namespace": self._p("namespace"),
            "package": self._p("package"),
        }

    # -- domains -------------------------------------------------------------------------------

    def create_domain(self) -> ActionResult:
        domain = self.backend.create_domain(self._p("domain"), self._p("encryptionKey"), self._p("tags"))
        return ActionResult({"domain": domain.description()})

    def describe_domain(self) -> ActionResult:
        return ActionResult({"domain": self.backend.describe_domain(**self._coords()).description()})

    def delete_domain(self) -> ActionResult:
        return ActionResult({"domain": self.backend.delete_domain(**self._coords()).description()})

    def list_domains(self) -> ActionResult:
        domains = [d.summary() for d in self.backend.list_domains()]
        return _paged(domains, "domains", self._p("maxResults"), self._p("nextToken"))

    # -- repositories --------------------------------------------------------------------------

    def create_repository(self) -> ActionResult:
        repo = self.backend.create_repository(
            repository=self._p("repository"),
            description=self._p("description"),
            upstreams=[u["repositoryName"] for u in self._p("upstreams") or []],
            tags=self._p("tags"),
            **self._coords(),
        )
        return ActionResult({"repository": repo.description_dict()})

    def describe_repository(self) -> ActionResult:
        repo = self.backend.describe_repository(repository=self._p("repository"), **self._coords())
        return ActionResult({"repository": repo.description_dict()})

    def update_repository(self) -> ActionResult:
        upstreams = self._p("upstreams")
        repo = self.backend.update_repository(
            repository=self._p("repository"),
            description=self._p("description"),
            upstreams=None if upstreams is None else [u["repositoryName"] for u in upstreams],
            **self._coords(),
        )
        return ActionResult({"repository": repo.description_dict()})

    def delete_repository(self) -> ActionResult:
        repo = self.backend.delete_repository(repository=self._p("repository"), **self._coords())
        return ActionResult({"repository": repo.description_dict()})

    def list_repositories_in_domain(self) -> ActionResult:
        repos = self.backend.list_repositories_in_domain(
            administrator_account=self._p("administratorAccount"),
            prefix=self._p("repositoryPrefix"),
            **self._coords(),
        )
        return _paged(
            [r.summary() for r in repos], "repositories", self._p("maxResults"), self._p("nextToken")
        )

    def list_repositories(self) -> ActionResult:
        repos = self.backend.list_repositories(self._p("repositoryPrefix"))
        return _paged(
            [r.summary() for r in repos], "repositories", self._p("maxResults"), self._p("nextToken")
        )

    def associate_external_connection(self) -> ActionResult:
        repo = self.backend.associate_external_connection(
            repository=self._p("repository"),
            connection=self._p("externalConnection"),
            **self._coords(),
        )
        return ActionResult({"repository": repo.description_dict()})

    # -- authorization tokens and endpoints ----------------------------------------------------

    def get_authorization_token(self) -> ActionResult:
        token, expiration = self.backend.get_authorization_token(
            duration_seconds=self._p("durationSeconds"), **self._coords()
        )
        return ActionResult({"authorizationToken": token, "expiration": expiration})

    def get_repository_endpoint(self) -> ActionResult:
        endpoint = self.backend.get_repository_endpoint(
            repository=self._p("repository"),
            fmt=self._p("format"),
            base_url=self._local_base_url(),
            **self._coords(),
        )
        return ActionResult({"repositoryEndpoint": endpoint})

    def _local_base_url(self) -> str | None:
        """This server's scheme and host when the call came over HTTP to it (None under mock_aws)."""
        parts = self.parsed_url
        if (parts.hostname or "").endswith(".amazonaws.com"):
            return None
        return f"{parts.scheme}://{parts.netloc}"

    # -- permissions policies ------------------------------------------------------------------

    def _policy(self, repository: str | None, action: str) -> ActionResult:
        coords = {**self._coords(), "repository": repository}
        if action == "put":
            policy = self.backend.put_permissions_policy(
                document=self._p("policyDocument"), revision=self._p("policyRevision"), **coords
            )
        elif action == "get":
            policy = self.backend.get_permissions_policy(**coords)
        else:
            policy = self.backend.delete_permissions_policy(revision=self._p("policyRevision"), **coords)
        return ActionResult({"policy": policy.as_dict()})

    def put_domain_permissions_policy(self) -> ActionResult:
        return self._policy(None, "put")

    def get_domain_permissions_policy(self) -> ActionResult:
        return self._policy(None, "get")

    def delete_domain_permissions_policy(self) -> ActionResult:
        return self._policy(None, "delete")

    def put_repository_permissions_policy(self) -> ActionResult:
        return self._policy(self._p("repository"), "put")

    def get_repository_permissions_policy(self) -> ActionResult:
        return self._policy(self._p("repository"), "get")

    def delete_repository_permissions_policy(self) -> ActionResult:
        return self._policy(self._p("repository"), "delete")

    # -- tags ----------------------------------------------------------------------------------

    def tag_resource(self) -> ActionResult:
        self.backend.tag_resource(self._p("resourceArn"), self._p("tags") or [])
        return ActionResult({})

    def untag_resource(self) -> ActionResult:
        self.backend.untag_resource(self._p("resourceArn"), self._p("tagKeys") or [])
        return ActionResult({})

    def list_tags_for_resource(self) -> ActionResult:
        return ActionResult({"tags": self.backend.list_tags_for_resource(self._p("resourceArn"))})

    def disassociate_external_connection(self) -> ActionResult:
        repo = self.backend.disassociate_external_connection(
            repository=self._p("repository"),
            connection=self._p("externalConnection"),
            **self._coords(),
        )
        return ActionResult({"repository": repo.description_dict()})

    # -- package groups ------------------------------------------------------------------------

    def _group_coords(self) -> dict[str, Any]:
        return {**self._coords(), "pattern": self._p("packageGroup")}

    def create_package_group(self) -> ActionResult:
        group = self.backend.create_package_group(
            contact_info=self._p("contactInfo"),
            description=self._p("description"),
            tags=self._p("tags"),
            **self._group_coords(),
        )
        return ActionResult({"packageGroup": group})

    def describe_package_group(self) -> ActionResult:
        return ActionResult({"packageGroup": self.backend.describe_package_group(**self._group_coords())})

    def update_package_group(self) -> ActionResult:
        group = self.backend.update_package_group(
            contact_info=self._p("contactInfo"), description=self._p("description"), **self._group_coords()
        )
        return ActionResult({"packageGroup": group})

    def delete_package_group(self) -> ActionResult:
        return ActionResult({"packageGroup": self.backend.delete_package_group(**self._group_coords())})

    def list_package_groups(self) -> ActionResult:
        groups = self.backend.list_package_groups(prefix=self._p("prefix"), **self._coords())
        return _paged(
            [_summary(g) for g in groups], "packageGroups", self._p("maxResults"), self._p("nextToken")
        )

    def list_sub_package_groups(self) -> ActionResult:
        groups = self.backend.list_sub_package_groups(**self._group_coords())
        return _paged(
            [_summary(g) for g in groups], "packageGroups", self._p("maxResults"), self._p("nextToken")
        )

    def get_associated_package_group(self) -> ActionResult:
        group, how = self.backend.get_associated_package_group(
            fmt=self._p("format"),
            namespace=self._p("namespace"),
            package=self._p("package"),
            **self._coords(),
        )
        return ActionResult({"packageGroup": group, "associationType": how})

    def list_associated_packages(self) -> ActionResult:
        packages = self.backend.list_associated_packages(
            preview=bool(self._p("preview")), **self._group_coords()
        )
        return _paged(packages, "packages", self._p("maxResults"), self._p("nextToken"))

    def update_package_group_origin_configuration(self) -> ActionResult:
        group, updates = self.backend.update_package_group_origin_configuration(
            restrictions=self._p("restrictions"),
            add=self._p("addAllowedRepositories"),
            remove=self._p("removeAllowedRepositories"),
            **self._group_coords(),
        )
        return ActionResult({"packageGroup": group, "allowedRepositoryUpdates": updates})

    def list_allowed_repositories_for_group(self) -> ActionResult:
        names = self.backend.list_allowed_repositories_for_group(
            kind=self._p("originRestrictionType"), **self._group_coords()
        )
        return _paged(names, "allowedRepositories", self._p("maxResults"), self._p("nextToken"))

    # -- packages ------------------------------------------------------------------------------

    def list_packages(self) -> ActionResult:
        packages = self.backend.list_packages(
            repository=self._p("repository"),
            fmt=self._p("format"),
            namespace=self._p("namespace"),
            prefix=self._p("packagePrefix"),
            publish=self._p("publish"),
            upstream=self._p("upstream"),
            **self._coords(),
        )
        return _paged(
            [p.summary() for p in packages], "packages", self._p("maxResults"), self._p("nextToken")
        )

    def describe_package(self) -> ActionResult:
        pkg = self.backend.describe_package(**self._package_coords())
        return ActionResult({"package": pkg.description()})

    def delete_package(self) -> ActionResult:
        pkg = self.backend.delete_package(**self._package_coords())
        return ActionResult({"deletedPackage": pkg.summary()})

    def put_package_origin_configuration(self) -> ActionResult:
        pkg = self.backend.put_package_origin_configuration(
            restrictions=self._p("restrictions"), **self._package_coords()
        )
        return ActionResult({"originConfiguration": pkg.origin_configuration()})

    # -- versions ------------------------------------------------------------------------------

    def list_package_versions(self) -> ActionResult:
        pkg, versions = self.backend.list_package_versions(
            status=self._p("status"),
            origin_type=self._p("originType"),
            sort_by=self._p("sortBy"),
            **self._package_coords(),
        )
        result = _paged(
            [v.summary() for v in versions], "versions", self._p("maxResults"), self._p("nextToken")
        )
        body: dict[str, Any] = result.result  # type: ignore[assignment]
        body.update({"format": pkg.format, "package": pkg.name})
        if pkg.namespace is not None:
            body["namespace"] = pkg.namespace
        default = _default_display_version(list(pkg.versions.values()))
        if default is not None:
            body["defaultDisplayVersion"] = default
        return result

    def describe_package_version(self) -> ActionResult:
        pkg, pv = self.backend.describe_package_version(
            version=self._p("packageVersion"), **self._package_coords()
        )
        description: dict[str, Any] = {
            "format": pkg.format,
            "packageName": pkg.name,
            # The service shows the name as published here, before normalization.
            "displayName": pv.display_name or _display_name(pkg.format, pkg.namespace, pkg.name),
            "version": pv.version,
            "publishedTime": pv.published_time,
            "licenses": pv.metadata.get("licenses", []),
            "revision": pv.revision,
            "status": pv.status,
            "origin": pv.origin(),
        }
        for key in ("summary", "homePage", "sourceCodeRepository", "displayName"):
            if key in pv.metadata:
                description[key] = pv.metadata[key]
        if pkg.namespace is not None:
            description["namespace"] = pkg.namespace
        return ActionResult({"packageVersion": description})

    def list_package_version_assets(self) -> ActionResult:
        pkg, pv = self.backend.describe_package_version(
            version=self._p("packageVersion"), **self._package_coords()
        )
        assets = [a.summary() for a in sorted(pv.assets.values(), key=lambda a: a.name)]
        result = _paged(assets, "assets", self._p("maxResults"), self._p("nextToken"))
        body: dict[str, Any] = result.result  # type: ignore[assignment]
        body.update(
            {"format": pkg.format, "package": pkg.name, "version": pv.version, "versionRevision": pv.revision}
        )
        if pkg.namespace is not None:
            body["namespace"] = pkg.namespace
        return result

    def _version_header(self, pkg: Any, pv: PackageVersion) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": pkg.format,
            "package": pkg.name,
            "version": pv.version,
            "versionRevision": pv.revision,
        }
        if pkg.namespace is not None:
            body["namespace"] = pkg.namespace
        return body

    def list_package_version_dependencies(self) -> ActionResult:
        pkg, pv = self.backend.describe_package_version(
            version=self._p("packageVersion"), **self._package_coords()
        )
        result = _paged([dict(d) for d in pv.dependencies], "dependencies", None, self._p("nextToken"))
        body: dict[str, Any] = result.result  # type: ignore[assignment]
        body.update(self._version_header(pkg, pv))
        return result

    def get_package_version_readme(self) -> ActionResult:
        """A version without a readme (every generic publish) answers without ``readme`` (*choice*)."""
        pkg, pv = self.backend.describe_package_version(
            version=self._p("packageVersion"), **self._package_coords()
        )
        body = self._version_header(pkg, pv)
        if pv.readme is not None:
            body["readme"] = pv.readme
        return ActionResult(body)

    def get_package_version_asset(self) -> ActionResult:
        pv, asset = self.backend.get_package_version_asset(
            version=self._p("packageVersion"),
            asset=self._p("asset"),
            revision=self._p("packageVersionRevision"),
            **self._package_coords(),
        )
        return ActionResult(
            {
                "asset": asset.content,
                "assetName": asset.name,
                "packageVersion": pv.version,
                "packageVersionRevision": pv.revision,
            }
        )

    def publish_package_version(self) -> ActionResult:
        content = self._p("assetContent")
        if isinstance(content, str):
            content = content.encode("utf-8")
        pkg, pv, asset = self.backend.publish_package_version(
            version=self._p("packageVersion"),
            asset_name=self._p("assetName"),
            content=content or b"",
            sha256=self._p("assetSHA256") or "",
            unfinished=bool(self._p("unfinished")),
            **self._package_coords(),
        )
        body: dict[str, Any] = {
            "format": pkg.format,
            "package": pkg.name,
            "version": pv.version,
            "versionRevision": pv.revision,
            "status": pv.status,
            "asset": asset.summary(),
        }
        if pkg.namespace is not None:
            body["namespace"] = pkg.namespace
        return ActionResult(body)

    def copy_package_versions(self) -> ActionResult:
        successful, failed = self.backend.copy_package_versions(
            domain=self._p("domain"),
            owner=self._p("domainOwner"),
            source_repository=self._p("sourceRepository"),
            destination_repository=self._p("destinationRepository"),
            fmt=self._p("format"),
            namespace=self._p("namespace"),
            package=self._p("package"),
            versions=self._p("versions"),
            version_revisions=self._p("versionRevisions"),
            allow_overwrite=bool(self._p("allowOverwrite")),
            include_from_upstream=bool(self._p("includeFromUpstream")),
        )
        return ActionResult({"successfulVersions": successful, "failedVersions": failed})

    def update_package_versions_status(self) -> ActionResult:
        successful, failed = self.backend.update_package_versions_status(
            versions=self._p("versions") or [],
            version_revisions=self._p("versionRevisions"),
            expected_status=self._p("expectedStatus"),
            target_status=self._p("targetStatus"),
            **self._package_coords(),
        )
        return ActionResult({"successfulVersions": successful, "failedVersions": failed})

    def delete_package_versions(self) -> ActionResult:
        successful, failed = self.backend.delete_package_versions(
            versions=self._p("versions") or [],
            expected_status=self._p("expectedStatus"),
            **self._package_coords(),
        )
        return ActionResult({"successfulVersions": successful, "failedVersions": failed})

    def dispose_package_versions(self) -> ActionResult:
        successful, failed = self.backend.dispose_package_versions(
            versions=self._p("versions") or [],
            version_revisions=self._p("versionRevisions"),
            expected_status=self._p("expectedStatus"),
            **self._package_coords(),
        )
        return ActionResult({"successfulVersions": successful, "failedVersions": failed})


def _summary(group: dict[str, Any]) -> dict[str, Any]:
    """A PackageGroupSummary: the description's members (the two shapes have the same ones)."""
    return dict(group)


def _display_name(fmt: str, namespace: str | None, name: str) -> str:
    if namespace is None:
        return name
    if fmt == "npm":
        return f"@{namespace}/{name}"
    if fmt == "maven":
        return f"{namespace}:{name}"
    return f"{namespace}/{name}"


def _default_display_version(versions: list[PackageVersion]) -> str | None:
    """The newest Published version, as the service shows by default."""
    published = [v for v in versions if v.status == "Published"]
    if not published:
        return None
    return max(published, key=lambda v: v.published_time).version


def _paged(items: list[Any], key: str, max_results: int | None, token: str | None) -> ActionResult:
    """Offset tokens: opaque to clients, stable while the listing does not change."""
    start = 0
    if token:
        try:
            start = int(token)
        except ValueError:
            raise ValidationException("Invalid pagination token", "INVALID_PARAMETER") from None
    size = max_results or 100
    page = items[start : start + size]
    body: dict[str, Any] = {key: page}
    if start + size < len(items):
        body["nextToken"] = str(start + size)
    return ActionResult(body)
