"""What every format's range language shares: the error that refuses a range, and patterns compiled on
first use."""

from __future__ import annotations

import re
from typing import Any


class InvalidRange(ValueError):
    """A version range that is not valid in its format's language."""


class LazyRegex:
    """A regex compiled on first use: most rule sets never need most formats' grammars, and compiling
    them all at import would cost every cold start."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def _regex(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self._regex().match(text, pos)

    def findall(self, text: str) -> list[Any]:
        return self._regex().findall(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self._regex().search(text)

    def sub(self, replacement: str, text: str) -> str:
        return self._regex().sub(replacement, text)
