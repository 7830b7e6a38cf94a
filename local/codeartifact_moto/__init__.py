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


# moto's get_backend("codeartifact") reads moto.codeartifact.codeartifact_backends.
__all__ = ["SERVICE", "codeartifact_backends", "install"]
