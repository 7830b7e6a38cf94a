"""``Record``: the base of the package's small value classes, which cost less cold start than NamedTuples."""

from __future__ import annotations

from typing import Any


class Record:
    """A value whose fields ``__init__`` sets once, with a repr, equality and hash over ``_fields``: the base
    of the package's small value classes (versions' ranges, rules' glob sets, the copier's policy, settings,
    the planner's copy requests, the pipeline's dependencies).

    They were NamedTuples, whose attributes, repr and keyword constructor they keep; creating a NamedTuple
    class costs ~1M instructions (``collections.namedtuple`` evaluates generated source and ``typing``
    compiles every annotation), about twenty times a plain class, and every cold start created a dozen
    of them.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record) and other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())
