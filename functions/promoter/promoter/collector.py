"""Garbage-collector tuning for a Lambda execution environment; ``PROMOTER_GC_TUNING=off`` turns it off.

An environment initialises once and then lives on: boto3 and its client are hundreds of thousands of
long-lived objects that the cyclic collector would otherwise scan again and again, so collection is held
while they load and everything that exists then is frozen out of the collector's generations. A batch's
objects are acyclic and die with it, so the collector is paused while one is promoted. Outside Lambda
(tests, the CLI) nothing changes. ``make bench`` measures what this is worth (tests/performance/README.md).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

ENABLED = (
    os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda_")
    and os.environ.get("PROMOTER_GC_TUNING", "").strip().lower() != "off"
)

_held = [False]  # a cell, not a global statement (the project's ruff rules)


def hold() -> None:
    """Stop collecting until ``release``: called before the handler's imports."""
    if ENABLED and gc.isenabled():
        gc.disable()
        _held[0] = True


def release() -> None:
    """End of initialisation (the first invocation's dependencies, clients included, exist, or failed):
    freeze what lives on, collect again. Idempotent."""
    if _held[0]:
        _held[0] = False
        gc.freeze()
        gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    """No collection while a batch is promoted; the collector is back on afterwards, whatever happens."""
    if not ENABLED or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
