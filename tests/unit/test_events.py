"""Reading CodeArtifact events: the documented sample, every sample file, and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from promoter.events import MalformedEvent, NotCodeArtifactEvent, parse_event, parse_sqs_body

from .conftest import EVENTS, event, load_event


def test_documented_npm_sample() -> None:
    c = parse_event(load_event("npm-published"))
    assert (c.domain, c.domain_owner, c.source_repository) == ("my_domain", "111122223333", "myrepo")
    assert (c.format, c.namespace, c.package, c.version) == ("npm", None, "mypackage", "1.0.0")
    assert (c.revision, c.state, c.operation, c.sequence_number) == (
        "0E5DE26A4CD79FDF3EBC4924FFFFFFFF",
        "Published",
        "Created",
        1,
    )
    assert c.event_id == "73f03fec-a137-971e-6ac6-07c8ffffffff"


@pytest.mark.parametrize(
    "name",
    [
        p.stem
        for p in sorted(EVENTS.glob("*.json"))
        if p.stem not in {"malformed", "sqs-batch"} and not p.stem.startswith("scheduled")
    ],
)
def test_every_sample_event_parses(name: str) -> None:
    c = parse_event(load_event(name))
    assert c.version
    assert c.package


def test_sqs_batch_sample_bodies() -> None:
    records = load_event("sqs-batch")["Records"]
    parsed, malformed = 0, 0
    for record in records:
        try:
            parse_sqs_body(record["body"])
            parsed += 1
        except MalformedEvent:
            malformed += 1
    assert (parsed, malformed) == (len(records) - 1, 1)


def test_malformed_sample_names_the_field() -> None:
    with pytest.raises(MalformedEvent) as info:
        parse_event(load_event("malformed"))
    assert info.value.field == "packageName"


def test_deleted_event_may_lack_a_revision() -> None:
    c = parse_event(event(operationType="Deleted", packageVersionRevision=None))
    assert c.operation == "Deleted"
    assert c.revision is None


def test_version_key_ignores_revision_and_sequence() -> None:
    a = parse_event(event(packageVersionRevision="r1", sequenceNumber=1))
    b = parse_event(event(packageVersionRevision="r2", sequenceNumber=2))
    assert a.version_key == b.version_key


BAD_DETAILS: list[tuple[dict[str, Any], str]] = [
    ({"packageName": None}, "packageName"),
    ({"packageName": ""}, "packageName"),
    ({"packageName": 7}, "packageName"),
    ({"packageName": "x" * 300}, "packageName"),
    ({"packageName": "evil\nname"}, "packageName"),
    ({"packageVersion": ["1"]}, "packageVersion"),
    ({"packageFormat": "conda"}, "packageFormat"),
    ({"packageVersionState": "Gone"}, "packageVersionState"),
    ({"operationType": "Renamed"}, "operationType"),
    ({"sequenceNumber": "3"}, "sequenceNumber"),
    ({"sequenceNumber": True}, "sequenceNumber"),
    ({"sequenceNumber": -1}, "sequenceNumber"),
    ({"domainName": {"a": 1}}, "domainName"),
    ({"packageVersionRevision": None}, "packageVersionRevision"),
    ({"packageFormat": "maven", "packageNamespace": None}, "packageNamespace"),
]


@pytest.mark.parametrize(("detail", "field"), BAD_DETAILS)
def test_bad_details_are_malformed_with_the_field(detail: dict[str, Any], field: str) -> None:
    with pytest.raises(MalformedEvent) as info:
        parse_event(event(**detail))
    assert info.value.field == field


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        ({"packageName": None}, "detail.packageName is missing"),
        ({"packageName": 7}, "detail.packageName must be a string, not int"),
        ({"packageName": ""}, "detail.packageName is empty"),
        ({"packageName": "x" * 256}, "detail.packageName is longer than 255 characters"),
        ({"packageName": "a\tb"}, "detail.packageName contains control characters"),
        ({"packageName": "a b"}, "detail.packageName contains '#', '/' or whitespace"),
        ({"packageVersion": "1#2"}, "detail.packageVersion contains '#', '/' or whitespace"),
        ({"packageNamespace": "a/b"}, "detail.packageNamespace contains '#', '/' or whitespace"),
        ({"packageFormat": "conda"}, "detail.packageFormat 'conda' is not a known format"),
        ({"packageFormat": "maven"}, "detail.packageNamespace is required for maven packages"),
        ({"packageVersionState": "Gone"}, "detail.packageVersionState 'Gone' is not a known state"),
        ({"operationType": "Renamed"}, "detail.operationType 'Renamed' is not a known operation"),
        ({"sequenceNumber": 1.5}, "detail.sequenceNumber must be a non-negative integer"),
        # Several faults: the first in the documented field order is the one reported
        ({"domainName": 1, "packageName": None}, "detail.domainName must be a string"),
    ],
)
def test_each_fault_is_reported_with_its_own_message(detail: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedEvent, match=re.escape(message)):
        parse_event(event(**detail))


def test_a_name_may_be_exactly_255_characters_and_a_deleted_version_have_no_revision() -> None:
    assert parse_event(event(packageName="x" * 255)).package == "x" * 255
    assert parse_event(event(operationType="Deleted", packageVersionRevision="")).revision is None


@pytest.mark.parametrize(
    "raw",
    [None, 1, "text", [], [{"source": "aws.codeartifact"}], {}, {"source": 1, "detail-type": 2}],
)
def test_non_events_are_malformed(raw: Any) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(raw)


def test_missing_detail_is_malformed() -> None:
    raw = load_event("pypi-published")
    raw["detail"] = "nope"
    with pytest.raises(MalformedEvent, match="detail"):
        parse_event(raw)


def test_other_sources_are_not_ours() -> None:
    raw = load_event("pypi-published")
    raw["source"] = "aws.s3"
    with pytest.raises(NotCodeArtifactEvent):
        parse_event(raw)
    raw = load_event("pypi-published")
    raw["detail-type"] = "Something Else"
    with pytest.raises(NotCodeArtifactEvent):
        parse_event(raw)


@pytest.mark.parametrize("body", [None, 5, "", "{", "[1,2]", "null", "x" * 300_000, "[" * 100_000])
def test_bad_sqs_bodies(body: Any) -> None:
    with pytest.raises(MalformedEvent):
        parse_sqs_body(body)


def test_non_ascii_names_are_fine() -> None:
    c = parse_event(event(packageName="paquete-ñandú", packageVersion="1.0.0"))
    assert c.package == "paquete-ñandú"


def test_samples_are_valid_json_files() -> None:
    for path in Path(EVENTS).glob("*.json"):
        json.loads(path.read_text())


def test_the_readme_names_the_domain_and_repositories_the_sample_events_need() -> None:
    # `make invoke EVENT=events/...` against a fresh local AWS fails for want of these: the README says which
    needed: set[str] = set()
    for path in sorted(EVENTS.glob("*.json")):
        document = json.loads(path.read_text())
        bodies = [r["body"] for r in document.get("Records", [])] or [json.dumps(document)]
        for body in bodies:
            try:
                detail = json.loads(body).get("detail", {})
            except ValueError:
                continue  # the malformed record of the batch
            if detail.get("domainName") not in (None, "my_domain"):  # my_domain: the AWS docs' sample
                needed |= {f"domain `{detail['domainName']}`", f"`{detail['repositoryName']}`"}
    readme = (EVENTS.parent / "README.md").read_text()
    local_development = readme.split("## Local development", 1)[1].split("\n## ", 1)[0]
    assert needed
    for name in sorted(needed):
        assert name in local_development, name
