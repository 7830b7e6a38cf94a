"""The naive reference promoter every figure is compared with.

It does what the public implementations do: for each event, each matching rule's destination gets
its own CopyPackageVersions call, by version string (no revision pin), with no coalescing of
duplicates or of a version's several events and no grouping of versions per package; throttling is
left to botocore's default retries. It still matches rules (source repository, domain, format,
package globs, excludes, Published only), so it copies the same versions as ours and the call
counts compare like with like. A record whose copy fails is reported as a batch item failure.
"""

from __future__ import annotations

import json
import os
from fnmatch import fnmatchcase
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError

_client: Any = None
_rules: list[dict[str, Any]] | None = None


def _load_rules() -> list[dict[str, Any]]:
    with open(os.environ["PROMOTION_RULES_FILE"], encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    rules: list[dict[str, Any]] = doc["rules"]
    return rules


def _matches(rule: dict[str, Any], d: dict[str, Any]) -> bool:
    return (
        rule["sourceRepository"] == d["repositoryName"]
        and rule["domain"] == d["domainName"]
        and d["packageFormat"] in rule.get("formats", [d["packageFormat"]])
        and any(fnmatchcase(d["packageName"], p) for p in rule.get("packages", ["*"]))
        and not any(fnmatchcase(d["packageName"], p) for p in rule.get("excludePackages", []))
    )


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _client, _rules  # noqa: PLW0603
    if _client is None:
        _client = boto3.client("codeartifact")
    if _rules is None:
        _rules = _load_rules()
    failures: list[dict[str, str]] = []
    for record in event["Records"]:
        try:
            d = json.loads(record["body"])["detail"]
            if d["packageVersionState"] != "Published" or d["operationType"] == "Deleted":
                continue
            for rule in _rules:
                if not _matches(rule, d):
                    continue
                for destination in rule["destinationRepositories"]:
                    kwargs: dict[str, Any] = {
                        "domain": d["domainName"],
                        "sourceRepository": d["repositoryName"],
                        "destinationRepository": destination,
                        "format": d["packageFormat"],
                        "package": d["packageName"],
                        "versions": [d["packageVersion"]],
                    }
                    if d.get("packageNamespace"):
                        kwargs["namespace"] = d["packageNamespace"]
                    _client.copy_package_versions(**kwargs)
        except (ClientError, KeyError, ValueError):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
