"""What a CopyPackageVersions answer means: one Outcome per version of the call.

A version is reported done only when the answer names it with the pinned revision, or a read of the
destination (ListPackageVersions) shows that revision there. What each answer means here:

- ``successfulVersions[v]`` with the pinned revision      -> promoted
- ``successfulVersions[v]`` with another or no revision   -> destination read: pinned revision there ->
                                                              already_present; else failed, retryable
- ``failedVersions[v].errorCode == ALREADY_EXISTS``       -> destination read: pinned revision there ->
                                                              already_present; another revision -> failed,
                                                              final; unreadable or absent -> retryable
- ``failedVersions[v].errorCode == MISMATCHED_REVISION``  -> superseded (a newer event follows)
- ``failedVersions[v].errorCode == SKIPPED``              -> retried in a follow-up call without the failures
- ``MISMATCHED_STATUS``, ``NOT_ALLOWED``, ``NOT_FOUND``    -> failed, final (retrying cannot change it);
                                                              after a NOT_ALLOWED one DescribePackage of the
                                                              destination package says which control refused
                                                              it (its own origin controls, or else a package
                                                              group's); a failed read only says so
- any other code (unknown, missing, null)                  -> failed, retryable, with the raw code and message
- in neither map (an empty, ``{}``, ``null`` or unparsable body, a proxy's page)
                                                           -> destination read, as for ALREADY_EXISTS, but
                                                              another revision there is retryable

The functions here decide from what they are given; the copier makes the calls and the reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from promoter.events import Candidate
from promoter.outcomes import (
    ALREADY_EXISTS,
    ALREADY_PRESENT,
    FAILED,
    PROMOTED,
    SUPERSEDED,
    UNEXPECTED_REVISION,
    UNKNOWN_CODE,
    UNVERIFIED,
    Outcome,
)
from promoter.planner import CopyRequest, PlannedVersion
from promoter.reader import IDENTICAL, OTHER_REVISION, compare

_DOCUMENTED_FINAL = frozenset({"MISMATCHED_STATUS", "NOT_ALLOWED", "NOT_FOUND"})


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class Unsettled(NamedTuple):
    """A version the answer did not settle, to be decided by what the destination holds."""

    item: PlannedVersion
    why: str
    """ALREADY_EXISTS, UNEXPECTED_REVISION (success with another revision) or UNVERIFIED (not named)."""
    named: str | None = None
    """The revision the answer named, if any."""


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class Answer(NamedTuple):
    """One answer, read: the outcomes it decides, the versions it skipped, and those it leaves open."""

    outcomes: list[Outcome]
    skipped: list[str]
    unsettled: list[Unsettled]

    @property
    def not_allowed(self) -> bool:
        return any(o.error_code == "NOT_ALLOWED" for o in self.outcomes)


def read_answer(request: CopyRequest, response: Any) -> Answer:
    """What ``response`` says of each version of ``request`` (see the module's table)."""
    succeeded = _answer_map(response, "successfulVersions")
    failed = _answer_map(response, "failedVersions")
    answer = Answer([], [], [])
    for item in request.items:
        candidate = item.candidate
        version, pinned = candidate.version, candidate.revision
        success = succeeded.get(version)
        failure = failed.get(version)
        if isinstance(success, Mapping):
            named = success.get("revision")
            named = named if isinstance(named, str) and named else None
            if named is not None and (pinned is None or named == pinned):
                answer.outcomes.append(outcome(request, item, PROMOTED, revision=named))
            else:
                answer.unsettled.append(Unsettled(item, UNEXPECTED_REVISION if named else UNVERIFIED, named))
        elif version in failed:
            code = failure.get("errorCode") if isinstance(failure, Mapping) else None
            message = failure.get("errorMessage") if isinstance(failure, Mapping) else None
            text = str(message)[:500] if message is not None else ""
            if code == "SKIPPED":
                answer.skipped.append(version)
            elif code == "MISMATCHED_REVISION":
                answer.outcomes.append(outcome(request, item, SUPERSEDED, code=code, message=text))
            elif code == ALREADY_EXISTS:
                answer.unsettled.append(Unsettled(item, ALREADY_EXISTS))
            elif code in _DOCUMENTED_FINAL:
                answer.outcomes.append(outcome(request, item, FAILED, code=code, message=text))
            else:
                raw = code if isinstance(code, str) and code else UNKNOWN_CODE
                answer.outcomes.append(
                    outcome(
                        request,
                        item,
                        FAILED,
                        code=raw[:100],
                        message=f"errorCode {code!r}, errorMessage {message!r}"[:500],
                        retryable=True,
                    )
                )
        else:
            answer.unsettled.append(Unsettled(item, UNVERIFIED))
    return answer


def with_not_allowed_note(outcomes: Sequence[Outcome], note: str) -> list[Outcome]:
    """``outcomes`` with ``note`` (which control refused the copy) added to each NOT_ALLOWED one."""
    return [
        o._replace(error_message=f"{o.error_message}; {note}"[:500]) if o.error_code == "NOT_ALLOWED" else o
        for o in outcomes
    ]


def settle(
    request: CopyRequest, unsettled: Sequence[Unsettled], held: Mapping[str, str | None]
) -> list[Outcome]:
    """The outcomes of unsettled versions, given what the destination holds (version -> revision): the
    pinned revision there is success, whatever the answer said (``destination.compare``)."""
    return [_verdict(request, version, held) for version in unsettled]


def unverifiable(request: CopyRequest, unsettled: Sequence[Unsettled], problem: str) -> list[Outcome]:
    """The outcomes of unsettled versions when the destination could not be read: retryable failures."""
    where = request.destination_repository
    return [
        outcome(
            request,
            version.item,
            FAILED,
            code=version.why,
            message=f"{_unsettled_text(version, where)}; {problem}",
            retryable=True,
            revision=version.named,
        )
        for version in unsettled
    ]


def _verdict(request: CopyRequest, version: Unsettled, held: Mapping[str, str | None]) -> Outcome:
    candidate: Candidate = version.item.candidate
    where = request.destination_repository
    state = compare(held, candidate.version, candidate.revision)
    there = held.get(candidate.version)
    if state == IDENTICAL:
        return outcome(request, version.item, ALREADY_PRESENT, revision=there)
    if state == OTHER_REVISION and version.why == ALREADY_EXISTS and not request.allow_overwrite:
        code, retryable = ALREADY_EXISTS, False
        message = f"{where} holds revision {there} of this version, not {candidate.revision}, "
        message += "and allowOverwrite is off"
    else:
        code, retryable = version.why, True
        found = (
            f"{where} holds revision {there}"
            if state == OTHER_REVISION
            else f"{where} does not hold this version"
        )
        message = f"{_unsettled_text(version, where)}; {found}"
    revision = there if state == OTHER_REVISION else version.named
    return outcome(
        request, version.item, FAILED, code=code, message=message, retryable=retryable, revision=revision
    )


def _answer_map(response: Any, key: str) -> Mapping[str, Any]:
    """One map of a CopyPackageVersions answer, or ``{}`` for anything that is not a map (null, a string)."""
    value = response.get(key) if isinstance(response, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _unsettled_text(version: Unsettled, where: str) -> str:
    pinned = version.item.candidate.revision
    if version.why == ALREADY_EXISTS:
        return f"the copy answered ALREADY_EXISTS for revision {pinned}"
    if version.why == UNEXPECTED_REVISION:
        return f"the copy answered success with revision {version.named}, not the pinned {pinned}"
    return f"the copy's answer did not name this version as copied to {where}"


def outcome(
    request: CopyRequest,
    item: PlannedVersion,
    status: str,
    *,
    code: str | None = None,
    message: str | None = None,
    retryable: bool = False,
    revision: str | None = None,
) -> Outcome:
    """The outcome of one version of ``request``, as its rule decided it."""
    return Outcome(
        status,
        item.candidate,
        destination=request.destination_repository,
        rule=item.rule,
        error_code=code,
        error_message=message,
        retryable=retryable,
        revision=revision if isinstance(revision, str) else None,
    )


def fail_all(request: CopyRequest, code: str, message: str, *, retryable: bool) -> list[Outcome]:
    """Every version of ``request`` failed for one reason (the call's, not a version's)."""
    return [
        outcome(request, item, FAILED, code=code, message=message, retryable=retryable)
        for item in request.items
    ]
