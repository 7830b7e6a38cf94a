"""Revocation: take back a version that got through, in every destination the rules send it to.

``promoter revoke`` (``promoter.cli``) runs this; the function never imports it. For each rule whose filters
accept the version (its state aside: a revoked version may already be Unlisted in a source), the version's
revision in the rule's source (DescribePackageVersion) is the pinned one, the build the promoter copied. In
each of the rule's destinations the version is read first (ListPackageVersions, which the stack's role may
call there): absent, or another revision (another build, which the promoter did
not copy), and it is left alone; otherwise UpdatePackageVersionsStatus sets ``targetStatus`` with
``versionRevisions`` (the pinned revision) and ``expectedStatus`` (the status just read), so the call changes
nothing if the destination changed in between. Success is the version named in ``successfulVersions`` with
the target status, or a read of the destination that then shows that status (trust nothing from the wire).
The API reference does not say whether a status change gives the version a new revision (our local
CodeArtifact gives one, as for any change of the version); the request pins the revision, and the service
answers MISMATCHED_REVISION for another build, so the revision the answer names is reported
(``new_revision``), not required to equal the pinned one.

The revocation is then recorded as a ``denyVersions`` entry (``deny_entry``), so that neither events nor
reconcile promote the version again; ``add_deny_entry`` writes it into a rules file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from promoter.listed import Coordinate, ListedVersion, PackageAt, listed_candidate
from promoter.matching import RuleSet
from promoter.reader import (
    IDENTICAL,
    MISSING,
    compare,
    describe_version,
    error_line,
    read_versions,
)
from promoter.rule_filters import STATE, Rule
from promoter.rules_document import RulesError, parse_rules_text

TARGET_STATUSES = ("Unlisted", "Archived")
"""``--status``: Unlisted (installs by exact version keep working, resolution skips it) or Archived (no
downloads). Published would undo a revocation; Disposed deletes assets and is not a revocation's job."""
OUTCOME = "Revoked"
"""The ``outcome`` of the outcome event a revocation puts on the outcome bus."""

REVOKED = "revoked"
ALREADY = "already"
ABSENT = "absent"
OTHER_REVISION = "other-revision"
NO_SOURCE = "no-source"
FAILED = "failed"

EXACT_RANGE: Mapping[str, str] = {
    "pypi": "=={}",
    "maven": "[{}]",
    "nuget": "[{}]",
    "cargo": "={}",
    "ruby": "= {}",
}
"""One version, written in the format's own range language (npm, swift and generic: the version itself;
a bare NuGet version would mean ``>=`` it and a bare Cargo one ``^`` it)."""


def exact_range(fmt: str, version: str) -> str:
    return EXACT_RANGE.get(fmt, "{}").format(version)


@dataclass(frozen=True, slots=True)
class Step:
    """What revoke did (or found) in one destination."""

    domain: str
    domain_owner: str | None
    destination: str
    rule: str
    source: str
    action: str
    detail: str
    revision: str | None = None
    """The pinned revision: the build the rule's source holds, and the one revoked."""
    previous_status: str | None = None
    status: str | None = None
    new_revision: str | None = None
    """The version's revision after the status change, when the answer (or a read) gives another one."""

    @property
    def ok(self) -> bool:
        return self.action in (REVOKED, ALREADY, ABSENT)

    @property
    def where(self) -> tuple[str, str | None, str]:
        """(domain, owner, destination): a destination revoke acts on once, whichever rules lead there."""
        return (self.domain, self.domain_owner, self.destination)


def routes(ruleset: RuleSet, target: Coordinate) -> list[Rule]:
    """The rules whose filters accept the version, its state aside, in file order."""
    found = []
    for rule in ruleset.rules:
        # Any state the rule accepts: a revoked version may already be Unlisted in its source.
        state = next(iter(rule.states))
        listed = ListedVersion(target.version, None, state)
        candidate = listed_candidate(_in(target, rule, rule.source_repository), listed)
        if rule.rejection(candidate) in (None, STATE):
            found.append(rule)
    return found


def _in(target: Coordinate, rule: Rule, repository: str) -> PackageAt:
    return target.ref.at(rule.domain, rule.domain_owner, repository)


def _held(client: Any, target: Coordinate, rule: Rule, destination: str) -> tuple[str | None, str] | None:
    """The version's (revision, status) in a destination, from ListPackageVersions (what the stack's role
    may read in destinations), or None when the destination lacks the package or the version."""
    found = read_versions(client, _in(target, rule, destination)).get(target.version)
    if found is None:
        return None
    revision, status, _ = found
    return revision, status


def _in_source(client: Any, target: Coordinate, rule: Rule) -> dict[str, Any] | str | None:
    """The version as the rule's source describes it (its revision is the pinned one), None when the source
    lacks it, or the error line when the source cannot be read."""
    try:
        return describe_version(client, _in(target, rule, rule.source_repository), target.version)
    except (ClientError, BotoCoreError) as error:
        return _error_line(error)


def _error_line(error: BaseException) -> str:
    return ": ".join(error_line(error))


def revoke(client: Any, ruleset: RuleSet, target: Coordinate, *, status: str) -> list[Step]:
    """Set ``status`` on the pinned revision of ``target`` in every destination the rules send it to."""
    steps: list[Step] = []
    sources: dict[tuple[str, str | None, str], dict[str, Any] | str | None] = {}
    done: set[tuple[str, str | None, str]] = set()
    for rule in routes(ruleset, target):
        key = (rule.domain, rule.domain_owner, rule.source_repository)
        if key not in sources:
            sources[key] = _in_source(client, target, rule)
        source = sources[key]
        for destination in rule.destination_repositories:
            where = (rule.domain, rule.domain_owner, destination)
            if where in done:
                continue
            step = partial(
                Step, rule.domain, rule.domain_owner, destination, rule.name, rule.source_repository
            )
            if isinstance(source, str) or source is None or not source.get("revision"):
                why = (
                    f"cannot read the source {rule.source_repository}: {source}"
                    if isinstance(source, str)
                    else f"{rule.source_repository} does not hold the version: the pinned revision is unknown"
                )
                steps.append(step(NO_SOURCE, f"{why}; {destination} left alone"))
                continue  # another rule with the same destination may know the pinned revision
            done.add(where)
            pinned = str(source["revision"])
            steps.append(_revoke_one(client, target, rule, destination, pinned, status, step))
    # A destination another rule could revoke (its source knew the pinned revision) is not left alone.
    return [step for step in steps if step.action != NO_SOURCE or step.where not in done]


def _revoke_one(  # noqa: PLR0917 - one destination's pieces
    client: Any,
    target: Coordinate,
    rule: Rule,
    destination: str,
    pinned: str,
    status: str,
    step: Callable[..., Step],
) -> Step:
    try:
        held = _held(client, target, rule, destination)
    except (ClientError, BotoCoreError) as error:
        return step(FAILED, f"cannot read {destination}: {_error_line(error)}", revision=pinned)
    revision, current = held if held is not None else (None, "")
    found = compare({target.version: revision} if held is not None else {}, target.version, pinned)
    if found == MISSING:
        return step(ABSENT, f"{destination} does not hold the version: nothing to revoke", revision=pinned)
    if found != IDENTICAL:
        return step(
            OTHER_REVISION,
            f"{destination} holds revision {revision}, not the pinned {pinned}: another build, left alone",
            revision=pinned,
            previous_status=current,
        )
    if current == status:
        return step(ALREADY, f"already {status}", revision=pinned, previous_status=current, status=current)
    params = _in(target, rule, destination).params() | {
        "versions": [target.version],
        "versionRevisions": {target.version: pinned},
        "expectedStatus": current,
        "targetStatus": status,
    }
    try:
        answer = client.update_package_versions_status(**params)
    except (ClientError, BotoCoreError) as error:
        return step(FAILED, _error_line(error), revision=pinned, previous_status=current)
    named = (answer.get("successfulVersions") or {}).get(target.version) or {}
    if isinstance(named, Mapping) and named.get("status") == status:
        return step(
            REVOKED,
            f"{current} -> {status}",
            revision=pinned,
            previous_status=current,
            status=status,
            new_revision=_other(named.get("revision"), pinned),
        )
    failed = (answer.get("failedVersions") or {}).get(target.version)
    if failed:
        code, message = failed.get("errorCode"), failed.get("errorMessage")
        return step(FAILED, f"{code}: {message}", revision=pinned, previous_status=current)
    # The answer named nothing usable: the destination says what happened.
    try:
        after = _held(client, target, rule, destination)
    except (ClientError, BotoCoreError) as error:
        why = f"unverified, and cannot read {destination}: {_error_line(error)}"
        return step(FAILED, why, revision=pinned)
    revision_after, status_after = after if after is not None else (None, None)
    if status_after == status:
        return step(
            REVOKED,
            f"{current} -> {status} (read back)",
            revision=pinned,
            previous_status=current,
            status=status,
            new_revision=_other(revision_after, pinned),
        )
    why = "Unverified: the answer did not name the version, and a read of the destination does not show it"
    return step(FAILED, why, revision=pinned)


def _other(revision: Any, pinned: str) -> str | None:
    """The revision the status change gave the version, when it is another than the pinned one."""
    return revision if isinstance(revision, str) and revision and revision != pinned else None


def deny_entry(target: Coordinate, reason: str) -> dict[str, str]:
    """The ``denyVersions`` entry that records the revocation."""
    entry = {"format": target.format}
    if target.namespace:
        entry["namespace"] = target.namespace
    entry |= {
        "package": target.package,
        "versions": exact_range(target.format, target.version),
        "reason": reason,
    }
    return entry


def entry_yaml(entry: Mapping[str, str], indent: str = "  ") -> str:
    """One ``denyVersions`` list item as YAML text (values JSON-quoted: valid YAML, never re-typed)."""
    lines = []
    for index, (key, value) in enumerate(entry.items()):
        lead = f"{indent}- " if index == 0 else f"{indent}  "
        lines.append(f"{lead}{key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def add_deny_entry(path: str, entry: Mapping[str, str], *, check: Callable[[str], RuleSet]) -> None:
    """Add ``entry`` to the ``denyVersions`` of the rules file at ``path``, keeping the rest of the text
    (comments included) as it is; the new text must load (``check``) with the entry in it, or the file is
    left unchanged. JSON files are rewritten as JSON."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise RulesError(f"cannot read rules file {path!r}: {exc.strerror or exc}") from None
    document = parse_rules_text(text, source=path)
    if not isinstance(document, dict):
        raise RulesError(f"{path}: not a rules document")
    existing = document.get("denyVersions") or []
    if isinstance(existing, list) and any(_same(item, entry) for item in existing):
        return  # recorded already
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    if path.endswith(".json") or body.lstrip().startswith("{"):
        new_text = _json_with_entry(text, document, entry)
    else:
        new_text = _yaml_with_entry(text, document, entry)
    loaded = check(new_text)
    if not any(
        e.versions_text == entry["versions"] and e.package == entry["package"] and e.format == entry["format"]
        for e in loaded.deny.entries
    ):
        raise RulesError(f"{path}: the entry could not be added safely; add it by hand")
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".rules-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(new_text)
        with contextlib.suppress(OSError):  # keep the file's mode
            os.chmod(temporary, os.stat(path).st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _same(item: Any, entry: Mapping[str, str]) -> bool:
    return isinstance(item, Mapping) and all(item.get(k) == v for k, v in entry.items() if k != "reason")


def _json_with_entry(text: str, document: Mapping[str, Any], entry: Mapping[str, str]) -> str:
    """The JSON text (or YAML in JSON's syntax, with comment lines) with ``entry`` added, the rest kept:
    first in an existing ``"denyVersions": [`` list, else as a new last key before the closing brace."""
    item = json.dumps(dict(entry))
    found = re.search(r'"denyVersions"\s*:\s*\[', text)
    if found is not None and document.get("denyVersions") is not None:
        rest = text[found.end() :]
        empty = re.match(r"\s*\]", rest) is not None
        return text[: found.end()] + f"\n    {item}" + ("\n  " if empty else ",") + rest
    if found is not None or "denyVersions" in document:
        raise RulesError("denyVersions is written in a way revoke cannot edit; add the entry by hand")
    closing = text.rstrip().rfind("}")
    if closing < 0:
        raise RulesError("no closing brace in the JSON rules; add the entry by hand")
    return text[:closing].rstrip() + f',\n  "denyVersions": [\n    {item}\n  ]\n' + text[closing:]


def _yaml_with_entry(text: str, document: Mapping[str, Any], entry: Mapping[str, str]) -> str:
    """The YAML text with ``entry`` added: under an existing block ``denyVersions:`` list (at its items'
    indentation), else as a new top-level ``denyVersions:`` block at the end."""
    lines = text.splitlines(keepends=True)
    header = next((i for i, line in enumerate(lines) if re.match(r"denyVersions\s*:", line)), None)
    if header is None or document.get("denyVersions") is None:
        if header is not None:  # "denyVersions:" with nothing (null): replace the line
            del lines[header]
        body = "".join(lines)
        if body and not body.endswith("\n"):
            body += "\n"
        return f"{body}denyVersions:\n{entry_yaml(entry)}"
    rest = lines[header].split(":", 1)[1].strip()
    if rest and not rest.startswith("#"):
        if re.fullmatch(r"\[\s*\](\s+#.*)?", rest):  # "denyVersions: []"
            lines[header] = "denyVersions:\n" + entry_yaml(entry)
            return "".join(lines)
        raise RulesError("denyVersions is written inline; add the entry by hand")
    indent = "  "
    for line in lines[header + 1 :]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.match(r"(\s*)- ", line)
        if match:
            indent = match.group(1)
        break
    lines.insert(header + 1, entry_yaml(entry, indent))
    return "".join(lines)
