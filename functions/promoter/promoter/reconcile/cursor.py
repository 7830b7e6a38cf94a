"""Where a reconcile continues: the cursor, kept in an SSM parameter (scheduled runs) or a file (the CLI).

A run that cannot finish stops after a package and keeps a ``Cursor``; the next run continues after that
package, from the page's nextToken, or, when the service refuses the token, from the first page of the walk
(the API reference does not say how long a nextToken stays valid, so any refusal is expected).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from promoter.listed import PackageRef
from promoter.reader import error_code


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next run continues: after package ``after`` of walk ``query`` of one source, whose page was
    fetched with ``token`` (None: the walk's first page)."""

    domain: str
    domain_owner: str
    repository: str
    query: int
    after: PackageRef
    token: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "domainOwner": self.domain_owner,
            "repository": self.repository,
            "query": self.query,
            "format": self.after.format,
            "namespace": self.after.namespace,
            "package": self.after.package,
            "nextToken": self.token,
        }

    @classmethod
    def from_json(cls, text: str) -> Cursor | None:
        """The cursor ``text`` holds; None for ``{}`` or blank (start at the beginning). ValueError names
        what is wrong with anything else."""
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ValueError(f"reconcile cursor is not JSON: {error}") from None
        if data == {}:
            return None
        try:
            namespace, token = data.get("namespace"), data.get("nextToken")
            cursor = cls(
                domain=str(data["domain"]),
                domain_owner=str(data["domainOwner"]),
                repository=str(data["repository"]),
                query=int(data["query"]),
                after=PackageRef(
                    str(data["format"]), None if namespace is None else str(namespace), str(data["package"])
                ),
                token=None if token is None else str(token),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"reconcile cursor {text[:200]!r} is not a cursor ({error!r})") from None
        if cursor.query < 0:
            raise ValueError(f"reconcile cursor {text[:200]!r} has a negative query")
        return cursor

    def text(self) -> str:
        return json.dumps(self.as_json(), separators=(",", ":"))


class CursorStore(Protocol):
    def load(self) -> Cursor | None: ...
    def save(self, cursor: Cursor | None) -> None: ...


RESET = "{}"
"""What a store holds when the next run starts at the beginning (SSM parameters cannot be empty)."""


class SsmCursorStore:
    """The scheduled run's cursor: one String parameter of the stack (GetParameter, PutParameter)."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def load(self) -> Cursor | None:
        """The stored cursor; None (the beginning) when the value is ``{}`` or the parameter does not exist
        (deleted by hand, or a local run without the stack: ``save`` creates it)."""
        try:
            value = self.client.get_parameter(Name=self.name)["Parameter"]["Value"]
        except ClientError as error:
            if error_code(error) == "ParameterNotFound":
                return None
            raise
        return Cursor.from_json(str(value))

    def save(self, cursor: Cursor | None) -> None:
        value = RESET if cursor is None else cursor.text()
        self.client.put_parameter(Name=self.name, Value=value, Type="String", Overwrite=True)


class FileCursorStore:
    """The CLI's cursor (``promoter reconcile --cursor FILE``): a missing file means the beginning."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Cursor | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return Cursor.from_json(text)

    def save(self, cursor: Cursor | None) -> None:
        self.path.write_text((RESET if cursor is None else cursor.text()) + "\n", encoding="utf-8")
