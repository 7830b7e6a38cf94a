"""A CodeArtifact backend for moto, plugged in from outside moto's source tree.

moto has no plugin API, but it finds a service by importing ``moto.<name>`` and matching request
URLs against ``moto.backend_index.backend_url_patterns``. :func:`install` registers this package
under ``moto.codeartifact`` and appends its URL pattern to that list in place (other modules hold
references to the list, so it must never be rebound). Call it before ``mock_aws()`` starts and in
every process that serves requests.
"""

from __future__ import annotations

import re
import sys
import threading

from moto import backend_index
from moto.events.utils import EventTemplateParser

from .models import codeartifact_backends

SERVICE = "codeartifact"
URL_PATTERN = re.compile(r"https?://codeartifact\.(.+)\.amazonaws\.com")

_lock = threading.Lock()


def install() -> None:
    """Register the backend with moto; idempotent and thread safe."""
    with _lock:
        module = sys.modules[__name__]
        sys.modules.setdefault(f"moto.{SERVICE}", module)
        if not any(name == SERVICE for name, _ in backend_index.backend_url_patterns):
            backend_index.backend_url_patterns.append((SERVICE, URL_PATTERN))
        _deliver_account_field()


def _deliver_account_field() -> None:
    """Make moto's EventBridge targets receive the event's ``account`` as real ones do.

    moto renders target payloads from a template that leaves ``account`` out although its own
    path map extracts it; adding it makes events delivered to SQS carry every top-level field
    of a real EventBridge event except ``ingestion-time`` (not part of delivered events).
    """
    template = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    if '"account"' not in template:
        EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = template.replace(
            '"version": "0",', '"version": "0", "account": "<account>",', 1
        )


# moto's get_backend("codeartifact") reads moto.codeartifact.codeartifact_backends.
__all__ = ["SERVICE", "codeartifact_backends", "install"]
