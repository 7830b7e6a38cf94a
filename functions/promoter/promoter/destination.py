"""What a destination holds of a planned version: the one comparison the event path, catch-up, reconcile
and the CLI all make before they call a version done or a conflict.

A version is done only when the destination holds it with the revision that was pinned (DESIGN.md: "a
version is reported done only when an answer names it with the pinned revision, or the destination is read
and holds it"); holding another revision is a conflict unless ``allowOverwrite`` lets the copy replace it.
"""

from __future__ import annotations

from collections.abc import Mapping

MISSING = "missing"
IDENTICAL = "identical"
OTHER_REVISION = "other-revision"


def compare(held: Mapping[str, str | None], version: str, pinned: str | None) -> str:
    """``MISSING``, ``IDENTICAL`` or ``OTHER_REVISION``: what ``held`` (version -> revision, as a listing of
    the destination reads it) says of ``version`` pinned to ``pinned``.

    An unpinned version (an event without a revision) has nothing to compare, so any revision counts as
    identical: the only answer available without a revision is whether the version is there.
    """
    if version not in held:
        return MISSING
    revision = held[version]
    if pinned is None or revision == pinned:
        return IDENTICAL
    return OTHER_REVISION
