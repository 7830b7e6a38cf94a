"""The walk: every rule's source, package by package, in rule order, from just after a cursor.

A source is listed with ListPackages, filtered server-side as far as the rules allow
(``reader.list_queries``), and a destination is never enumerated: a release repository with an upstream
cache can hold hundreds of thousands of packages no rule reads from, so its size must not decide how long a
run takes. Per source this costs ``ceil(packages / 1000)`` ListPackages calls, plus one DescribeDomain per
domain; a resumed run whose token is refused costs the pages up to the cursor once more.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from promoter.globs import GLOB_CHARS, literal_prefix
from promoter.listed import ListQuery, PackagePage, PackageRef, coordinates
from promoter.matching import listing_status
from promoter.reader import OutOfTime, error_code, error_line, not_found_resource
from promoter.reconcile.cursor import Cursor
from promoter.reconcile.results import ReconcileError
from promoter.reconcile.state import RunState
from promoter.rule_filters import Rule

_FOLDED_FORMATS = frozenset({"pypi", "nuget", "swift"})
"""Formats whose names the rules compare folded (PEP 503, case): a literal prefix is not safe for them."""
RUN_WIDE = (NoCredentialsError, NoRegionError)
"""Errors no source escapes: they end the run instead of being one source's error."""


@dataclass(frozen=True, slots=True)
class Source:
    """One source repository of one domain, with every rule that reads from it."""

    domain: str
    owner: str
    repository: str
    rules: tuple[Rule, ...]
    queries: tuple[ListQuery, ...]
    status: str | None
    destinations: tuple[str, ...]

    def at(self, cursor: Cursor | None) -> bool:
        return cursor is not None and (cursor.domain, cursor.domain_owner, cursor.repository) == (
            self.domain,
            self.owner,
            self.repository,
        )

    def list_error(self, error: BaseException) -> str:
        """One line naming the source that could not be listed, and why."""
        code, message = error_line(error)
        where = f"domain {self.domain!r}, source {self.repository!r}"
        if code == "ResourceNotFoundException":
            return f"{where}: {message or 'repository not found'}"
        return f"{where}: {code}: {message}"


@dataclass(frozen=True, slots=True)
class Step:
    """One package of the walk: where it was listed (for the cursor) and what it is."""

    source: Source
    query: int
    token: str | None
    ref: PackageRef

    def cursor(self) -> Cursor:
        s = self.source
        return Cursor(s.domain, s.owner, s.repository, self.query, self.ref, self.token)


def _common_prefix(values: Iterable[str]) -> str:
    items = list(values)
    if not items:
        return ""
    low, high = min(items), max(items)
    size = 0
    while size < min(len(low), len(high)) and low[size] == high[size]:
        size += 1
    return low[:size]


def list_queries(
    formats: Sequence[Sequence[str] | None],
    namespaces: Sequence[Sequence[str] | None],
    packages: Sequence[Sequence[str] | None],
) -> list[ListQuery]:
    """The fewest ListPackages walks that still return every package some rule of one source could match.

    Each argument holds one entry per rule of the source (None = the rule does not restrict it). A filter
    goes to the server only when it is exact for every rule: one literal namespace shared by all rules, the
    common literal prefix of all package globs (never for formats whose names rules compare folded), and
    one walk per format when every rule names its formats. The matcher still applies every filter
    afterwards, so a query may return more than the rules accept, never less.
    """
    if any(f is None for f in formats):
        format_values: list[str | None] = [None]
    else:
        named: list[str | None] = [*sorted({value for group in formats if group for value in group})]
        format_values = named or [None]

    namespace: str | None = None
    if all(group is not None for group in namespaces):
        names = {value for group in namespaces if group for value in group}
        if len(names) == 1:
            (only,) = names
            if only and not (GLOB_CHARS & set(only)):
                namespace = only

    prefix: str | None = None
    folded = any(f is None or set(f) & _FOLDED_FORMATS for f in formats)
    if not folded and all(group is not None for group in packages):
        prefixes = [literal_prefix(glob) for group in packages if group for glob in group]
        prefix = (_common_prefix(prefixes) if prefixes else "") or None

    return [ListQuery(format=value, namespace=namespace, prefix=prefix) for value in format_values]


def _owner(state: RunState, rule: Rule) -> str:
    """The domain's owner account (the copy call and the candidates need it; rules may omit it)."""
    state.deadline()
    state.result.listing.add("DescribeDomain")
    try:
        described = state.list_client.describe_domain(**coordinates(rule.domain, rule.domain_owner))
    except ClientError as error:
        if not_found_resource(error) is not None:
            owner = f" owned by {rule.domain_owner}" if rule.domain_owner else ""
            raise ReconcileError(f"domain {rule.domain!r}{owner} not found (rule {rule.name!r})") from None
        raise
    return str(described["domain"].get("owner") or rule.domain_owner or "")


def sources(state: RunState, *, fail_fast: bool) -> list[Source]:
    """The sources of every rule, in rule order; a domain that cannot be described is an error of the run."""
    grouped: dict[tuple[str, str | None, str], list[Rule]] = {}
    for rule in state.deps.rules.rules:
        grouped.setdefault((rule.domain, rule.domain_owner, rule.source_repository), []).append(rule)
    owners: dict[tuple[str, str | None], str] = {}
    found: list[Source] = []
    for (domain, domain_owner, repository), rules in grouped.items():
        try:
            if (domain, domain_owner) not in owners:
                owners[domain, domain_owner] = _owner(state, rules[0])
        except OutOfTime:
            state.result.out_of_time = True
            break
        except ReconcileError as error:
            state.fail(str(error), "ResourceNotFoundException", fail_fast=fail_fast)
            continue
        except (ClientError, BotoCoreError) as error:  # access denied, throttled: this domain only
            if isinstance(error, RUN_WIDE) or (fail_fast and isinstance(error, BotoCoreError)):
                raise  # nothing can be read: the caller says so in its own words
            code, message = error_line(error)
            state.fail(f"domain {domain!r}: {code}: {message}", code, fail_fast=fail_fast)
            continue
        queries = list_queries(
            [sorted(r.formats) if r.formats is not None else None for r in rules],
            [list(r.namespaces.patterns) if r.namespaces is not None else None for r in rules],
            [list(r.packages.patterns) for r in rules],
        )
        found.append(
            Source(
                domain=domain,
                owner=owners[domain, domain_owner],
                repository=repository,
                rules=tuple(rules),
                queries=tuple(queries),
                status=listing_status(rules),
                destinations=tuple(dict.fromkeys(d for r in rules for d in r.destination_repositories)),
            )
        )
    return found


def steps(state: RunState, walked: list[Source], start: Cursor | None, *, fail_fast: bool) -> Iterator[Step]:
    """Every package of every source, in order, from just after ``start``. A source that cannot be listed
    is an error and the walk goes on with the next; ``OutOfTime`` ends the walk."""
    begin = next((i for i, source in enumerate(walked) if source.at(start)), 0)
    for source in walked[begin:]:
        resume = start if source.at(start) else None
        try:
            for index, query in enumerate(source.queries):
                if resume is not None and index < resume.query:
                    continue
                at = resume if resume is not None and index == resume.query else None
                yield from _query_steps(state, source, index, query, at)
        except (ClientError, BotoCoreError) as error:
            state.fail(source.list_error(error), error_code(error), fail_fast=fail_fast)


def _token_refused(error: ClientError) -> bool:
    """A stored nextToken the service will not take: any client error but the ones that say the listing
    itself cannot be read (those are errors of the source, with or without a token)."""
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 400 <= status < 500 and error_code(error) not in (
        "AccessDeniedException",
        "ResourceNotFoundException",
        "ThrottlingException",
    )


def _query_steps(
    state: RunState, source: Source, index: int, query: ListQuery, resume: Cursor | None
) -> Iterator[Step]:
    reader = state.reader(source.domain, source.owner)
    token = resume.token if resume is not None else None
    skip = resume.after if resume is not None else None
    walked: Iterator[PackagePage] = reader.package_pages(source.repository, query, token)
    try:
        first = next(walked, None)
    except ClientError as error:
        if token is None or not _token_refused(error):
            raise
        # The service refused the stored token (expired, or from another listing): walk from the first
        # page and skip up to the cursor's package.
        token = None
        walked = reader.package_pages(source.repository, query)
        first = next(walked, None)
    for page in chain([first] if first is not None else [], walked):
        refs = page.packages
        if skip is not None:
            if skip in refs:
                refs, skip = refs[refs.index(skip) + 1 :], None
            elif token is not None:
                skip = None  # the cursor's package left its page: nothing of this page was done yet
            else:
                refs = []  # still before the cursor
        for ref in refs:
            state.result.packages_total += 1
            yield Step(source, index, page.token, ref)
    if skip is not None:
        # Walked from the start without meeting the cursor's package (it was deleted): that walk skipped
        # everything, so walk it again and skip nothing.
        yield from _query_steps(state, source, index, query, None)
