"""The one result every version gets: what happened to it, and why.

Planner, copier and reconcile all produce ``Outcome``s; ``promoter.report`` turns each
into one log line, metrics and (optionally) an outcome event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from promoter.events import Candidate

PROMOTED = "promoted"
ALREADY_PRESENT = "already_present"
SUPERSEDED = "superseded"
DEFERRED = "deferred"
FAILED = "failed"
IGNORED = "ignored"
STATUSES = (PROMOTED, ALREADY_PRESENT, SUPERSEDED, DEFERRED, FAILED, IGNORED)

# Error codes of our own (beside CopyPackageVersions' failedVersions codes and API error codes).
NOT_ATTEMPTED = "NotAttempted"
"""The function ran out of time before it could start the copy; the record goes back to the queue."""
UNVERIFIED = "Unverified"
"""The copy's answer did not name the version as copied, and a read of the destination did not show the pinned
revision there (or could not be made): retryable."""
UNEXPECTED_REVISION = "UnexpectedRevision"
"""The copy's answer named the version with another revision than the pinned one, and the destination does
not hold the pinned one: retryable."""
UNKNOWN_CODE = "UNKNOWN"
"""A ``failedVersions`` entry without an error code (the log line quotes the entry as it came)."""
ALREADY_EXISTS = "ALREADY_EXISTS"
"""The destination holds another revision of the version and ``allowOverwrite`` is off: final."""


KNOWN_ORIGINS = frozenset({"INTERNAL", "EXTERNAL"})
UNKNOWN_ORIGIN_NOTE = "unknown origin counted as EXTERNAL (fail closed)"
"""The log line's ``originNote`` for a version whose origin CodeArtifact does not know (or did not say)."""


# A NamedTuple read by field name: creating its class costs a tenth of a frozen slotted dataclass's.
class ExceptionUse(NamedTuple):
    """The ``exceptions`` entry that let a version through a cooldown or a freeze."""

    name: str
    reason: str
    expires: datetime


class Outcome(NamedTuple):
    """What happened to one version (for one destination, once a destination is known); a NamedTuple read
    by field name, as ``Candidate``, because one is made per version.

    ``retryable`` failures are handed back to the queue (SQS batch item failures) so the
    queue retries them and its dead-letter queue keeps them; other failures are final.
    ``candidate`` is None only for input that could not be read as an event at all.
    """

    status: str
    candidate: Candidate | None
    destination: str | None = None
    rule: str | None = None
    reason: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    retryable: bool = False
    eligible_at: datetime | None = None
    revision: str | None = None
    """The revision the destination now holds, when the copy reported one."""
    exception: ExceptionUse | None = None
    """The exception that passed the version through a cooldown or freeze (``ExceptionUsed``)."""

    def log_fields(self) -> dict[str, Any]:
        """The outcome's log line fields (and outcome event detail), in their documented order."""
        candidate = self.candidate
        fields: dict[str, Any]
        if candidate is None:
            fields = {"outcome": self.status}
        else:
            fields = {
                "outcome": self.status,
                "domain": candidate.domain,
                "domainOwner": candidate.domain_owner,
                "sourceRepository": candidate.source_repository,
                "format": candidate.format,
                "namespace": candidate.namespace,
                "package": candidate.package,
                "version": candidate.version,
                "revision": candidate.revision,
                "state": candidate.state,
            }
            if candidate.event_id is not None:
                fields["eventId"] = candidate.event_id
        fields["destinationRepository"] = self.destination
        fields["rule"] = self.rule
        if self.reason is not None:
            fields["reason"] = self.reason
        if self.error_code is not None:
            fields["errorCode"] = self.error_code
            fields["errorMessage"] = self.error_message
            fields["retryable"] = self.retryable
        elif self.error_message is not None:  # an ignored version's detail (e.g. the event's region)
            fields["errorMessage"] = self.error_message
        if self.eligible_at is not None:
            fields["eligibleAt"] = self.eligible_at.isoformat()
        if candidate is not None:
            held = self.revision
            if held is not None and held != candidate.revision:
                fields["destinationRevision"] = held  # the other build, beside the pinned one in "revision"
            origin_type = candidate.origin_type
            if origin_type is not None:
                fields["originType"] = origin_type
                if origin_type not in KNOWN_ORIGINS:
                    fields["originNote"] = UNKNOWN_ORIGIN_NOTE
        exception = self.exception
        if exception is not None:
            fields["exception"] = exception.name
            fields["exceptionReason"] = exception.reason
            fields["exceptionExpires"] = exception.expires.isoformat()
        return fields
