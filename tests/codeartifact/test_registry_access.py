"""Repository endpoints on the local server: where they are, who may use them, what they refuse.

User guide: twine's repository is the pypi endpoint, pip's index is the endpoint followed by
``simple/`` with user ``aws`` and the authorization token as password; npm's registry is the npm
endpoint with ``//host/path/:_authToken=TOKEN``. A wrong or missing token is 401 and nothing is stored.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from botocore.config import Config
from codeartifact_moto.models import codeartifact_backends
from codeartifact_moto.registry_store import MAX_BODY_BYTES

from . import registry_http
from .registry_http import DOMAIN, OWNER, Registry, multipart

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
# The shared fixtures (registry_http.py): the local registry with a token, and the real clients.
registry, clients = registry_http.registry_fixture, registry_http.clients_fixture


def test_endpoints_are_path_based_urls_on_the_same_server(registry: Registry) -> None:
    url = registry.env.endpoint_url
    assert registry.endpoint("pypi") == f"{url}/{DOMAIN}-{OWNER}/pypi/staging/"
    assert registry.endpoint("npm", "release") == f"{url}/{DOMAIN}-{OWNER}/npm/release/"
    assert registry.request("GET", registry.endpoint("pypi") + "simple/").status == 200
    assert registry.request("GET", registry.endpoint("npm") + "-/ping", scheme="Bearer").status == 200


@pytest.mark.parametrize(
    ("token", "scheme"),
    [(None, "Basic"), ("not-a-token", "Basic"), ("not-a-token", "Bearer")],
    ids=["missing", "wrong-basic", "wrong-bearer"],
)
def test_a_missing_or_wrong_token_is_401_and_stores_nothing(
    registry: Registry, token: str | None, scheme: str
) -> None:
    body, content_type = multipart({":action": "file_upload", "name": "x", "version": "1.0"}, {})
    upload = registry.request(
        "POST", registry.endpoint("pypi"), body, {"Content-Type": content_type}, token=token, scheme=scheme
    )
    read = registry.request("GET", registry.endpoint("npm") + "left-pad", token=token, scheme=scheme)

    assert (upload.status, read.status) == (401, 401)
    assert "GetAuthorizationToken" in upload.body.decode()
    assert upload.headers["www-authenticate"].startswith("Basic")
    assert registry.packages() == []


def test_a_token_of_another_domain_or_user_is_refused(registry: Registry) -> None:
    registry.client.create_domain(domain="other")
    other = registry.client.get_authorization_token(domain="other")["authorizationToken"]
    url = registry.endpoint("pypi") + "simple/"

    assert registry.request("GET", url, token=other).status == 401
    # The user must be aws (every page of the guide): the token under another name is refused.
    credential = base64.b64encode(f"someone:{registry.token}".encode()).decode()
    assert (
        registry.request("GET", url, headers={"Authorization": f"Basic {credential}"}, token=None).status
        == 401
    )
    assert registry.request("GET", url, token=registry.token, scheme="Bearer").status == 200


def test_an_expired_token_is_refused(registry: Registry) -> None:
    # Given the token's expiry has passed (the server shares this process's backends; no waiting 15 minutes)
    domain = codeartifact_backends[OWNER]["us-east-1"].domains[DOMAIN]
    domain.tokens[registry.token] = datetime.now(UTC) - timedelta(seconds=1)

    answer = registry.request("GET", registry.endpoint("pypi") + "simple/")

    assert answer.status == 401


def test_a_deleted_domain_takes_its_tokens_with_it(registry: Registry) -> None:
    url = registry.endpoint("npm") + "-/ping"
    for name in ("staging", "release"):
        registry.client.delete_repository(domain=DOMAIN, repository=name)
    registry.client.delete_domain(domain=DOMAIN)
    registry.client.create_domain(domain=DOMAIN)

    assert registry.request("GET", url, scheme="Bearer").status == 401


def test_a_missing_repository_is_404_with_a_valid_token(registry: Registry) -> None:
    url = registry.endpoint("pypi").replace("/staging/", "/nope/") + "simple/"
    answer = registry.request("GET", url)
    assert answer.status == 404
    assert "nope" in answer.body.decode()


def test_formats_without_a_protocol_here_say_so(registry: Registry) -> None:
    answer = registry.request("GET", registry.endpoint("maven") + "com/acme/app/1.0/app-1.0.jar")
    assert answer.status == 501
    assert "serves the npm and pypi protocols" in answer.body.decode()


def test_a_body_over_the_limit_is_413_stores_nothing_and_the_server_keeps_serving(registry: Registry) -> None:
    # Given an upload one byte larger than the documented limit
    body, content_type = multipart(
        {":action": "file_upload", "name": "big", "version": "1.0", "filetype": "sdist"},
        {"content": ("big-1.0.tar.gz", b"\0" * MAX_BODY_BYTES)},
    )
    assert len(body) > MAX_BODY_BYTES

    # When
    answer = registry.request("POST", registry.endpoint("pypi"), body, {"Content-Type": content_type})

    # Then it is refused with the limit named, nothing is stored, and the next request is served
    assert answer.status == 413
    assert str(MAX_BODY_BYTES) in answer.body.decode()
    assert registry.packages() == []
    assert registry.request("GET", registry.endpoint("pypi") + "simple/").status == 200


def test_signed_aws_requests_on_such_paths_still_reach_moto(registry: Registry) -> None:
    """An S3 path-style bucket named like an endpoint is S3's: the request carries AWS Signature V4."""
    s3 = registry.env.client("s3", config=Config(s3={"addressing_style": "path"}))
    bucket = f"{DOMAIN}-{OWNER}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="pypi/staging/simple/x", Body=b"object")

    assert s3.get_object(Bucket=bucket, Key="pypi/staging/simple/x")["Body"].read() == b"object"
