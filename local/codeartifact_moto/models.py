"""CodeArtifact for moto: domains, repositories, packages, versions, copies and their events.

What follows is the behaviour of the real service as its API reference and user guide describe it,
plus the choices this emulation makes where they are silent (marked *Choice*). Every rule here is
exercised in ``tests/codeartifact``; the contract tests state each once so they can be re-checked
against real AWS.

External connections
    AssociateExternalConnection records one of the public connections (one per repository,
    ConflictException for a second); DisassociateExternalConnection ("Removes an existing external
    connection from a repository.") removes it, and one the repository does not have is a
    ResourceNotFoundException (*Choice*: the docs do not say). Versions ingested through it stay
    in the repository. Nothing is fetched from a connection (use the seed's EXTERNAL origin).

Packages and versions
    A package is identified by (format, namespace, name) inside a repository. maven, swift and
    generic packages require a namespace (ValidationException without one); pypi, nuget, ruby
    and cargo have none (*Choice*: a namespace given for them is a ValidationException).
    A version has a ``revision`` that changes whenever its assets, metadata or status change,
    a ``status`` (Published, Unfinished, Unlisted, Archived, Disposed), a ``publishedTime``
    (set when it enters the repository; the test helper can set it to any instant) and an
    ``origin`` (INTERNAL with the repository as entry point for a direct publish, EXTERNAL with
    the external connection as entry point for a seeded upstream ingestion; copies keep the
    source's origin, which AWS documents as never changing once set).

Name normalization (user guide, "Package name, package version, and asset name normalization")
    pypi names are stored PEP 503 normalized (lowercase, runs of ``-``, ``_``, ``.`` become one
    ``-``); the guide says API requests must use the normalized name, so lookups with another
    spelling are ResourceNotFoundException. nuget names are lowercased and nuget versions
    normalized as NuGet does (leading zeros, a fourth part of 0 and SemVer build metadata
    removed; no padding: ``1.00`` is ``1.0``); swift names and namespaces are lowercased (not
    versions). For nuget and swift the service normalizes request inputs too, so package,
    namespace, version and ``versionRevisions`` inputs (and ListPackages' namespace and
    packagePrefix filters when a format is given) are normalized before lookup and answers
    (``successfulVersions``/``failedVersions`` keys included, *Choice*) use the stored form.
    Events carry stored names; DescribePackageVersion's ``displayName`` keeps the name as it was
    published. Other formats are stored as given. See ``naming.py``.
    *Choice*: PutPackageOriginConfiguration with a non-normalized pypi name is taken literally
    (like every pypi request), creating a record no pip client would reach.

Default package origin controls
    A package created by its first version takes its origin controls from how that version
    arrived (user guide, "Default package origin control settings"): published directly
    (PublishPackageVersion, an INTERNAL seed) ``publish=ALLOW, upstream=BLOCK``; ingested from an
    external connection (an EXTERNAL seed) ``publish=BLOCK, upstream=ALLOW``. *Choice*: UNKNOWN
    origin gets ALLOW/ALLOW, the service's value for packages older than origin controls.
    PutPackageOriginConfiguration on a missing package creates it with the asked restrictions,
    and later versions never change them.

PublishPackageVersion
    Only the generic format (ValidationException otherwise). The ``x-amz-content-sha256``
    header must equal the SHA-256 of the body (ValidationException otherwise). A new version
    is Published, or Unfinished with ``unfinished=true``; further assets may be added while it
    is Unfinished and publishing without ``unfinished`` finishes it. Adding an asset to a
    version that is no longer Unfinished, or an asset name twice, is a ConflictException.
    *Choice*: a package whose origin configuration has ``publish=BLOCK`` refuses direct
    publishing with AccessDeniedException (the service documents the block, not its error).

CopyPackageVersions
    * Source and destination are repositories of the same domain; a missing domain, repository
      or source package is a ResourceNotFoundException; source == destination is a
      ValidationException (*Choice*).
    * Exactly one of ``versions`` and ``versionRevisions`` (ValidationException for both or
      neither); at most 100 versions (botocore's model says so and the service rejects more).
    * The namespace is required for maven, swift and generic.
    * Each requested version is checked: missing in the source (NOT_FOUND); revision differs
      from ``versionRevisions`` (MISMATCHED_REVISION); present in the destination
      (ALREADY_EXISTS, unless ``allowOverwrite``; see below); *Choice*: an Unfinished or
      Disposed source version is MISMATCHED_STATUS (it has nothing complete to copy); *Choice*
      (the docs say nothing about copies and origin controls): a copied version enters the
      destination the way it first entered the domain, so a destination package with
      ``publish=BLOCK`` refuses INTERNAL versions and one with ``upstream=BLOCK`` EXTERNAL ones
      (UNKNOWN: only both BLOCK) with NOT_ALLOWED. This keeps the dependency-substitution guard
      (an external package's ``publish=BLOCK``) from being bypassed by a copy, while promoting
      published or ingested versions into a package created by such copies keeps working.
    * *Choice*: a destination package created by the copy gets the default origin controls of
      the first copied version's origin (INTERNAL: ALLOW/BLOCK, EXTERNAL: BLOCK/ALLOW).
    * All or nothing per call: when any version fails, nothing is copied and every other
      requested version comes back in ``failedVersions`` with ``SKIPPED``.
    * A version already in the destination, identical (the same revision) or not, is
      ALREADY_EXISTS unless ``allowOverwrite``, and trips the all-or-nothing rule like any
      failure. The API reference says of ``allowOverwrite``: "Set to true to overwrite a package
      version that already exists in the destination repository. If set to false and the package
      version already exists in the destination repository, the package version is returned in
      the failedVersions field of the response with an ALREADY_EXISTS error code." It exempts
      no identical copy, so neither does this default. That sentence is unconditional, so an
      existing version is ALREADY_EXISTS before the origin controls below are looked at (they
      govern versions entering a package, and this one is already there). *Choice*: with
      ``allowOverwrite`` an identical version is reported in ``successfulVersions`` with its
      revision and emits no event (nothing changed).
    * Service variant ``identical-copy-omitted`` (see :data:`SERVICE_VARIANTS`; selected through
      ``Control.set_service_variant``, per account and region, back to ``documented`` on reset, or
      for a whole server with ``python -m codeartifact_moto.server --service-variant``):
      the answer this emulation gave before, and the one a service that treats a repeated copy
      as harmless would give. A version already in the destination with the same revision
      succeeds without a copy and is left out of both maps (it does not trip the all-or-nothing
      rule and emits no event); a version with another revision is NOT_ALLOWED when the
      destination package's origin controls block it, else ALREADY_EXISTS unless
      ``allowOverwrite``. Code that promotes must be right under both.
    * Copied versions keep revision, status, assets, metadata, publishedTime and origin, and
      each copy emits a Created (or Updated, when overwriting) event in the destination.
    * ``includeFromUpstream``: without it only versions stored in the source repository itself
      are copied; with it a version missing in the source is looked up along the source's
      upstream repositories (depth first, in priority order, as the service resolves them),
      unless the source's package has ``upstream=BLOCK`` (it then takes nothing from upstreams,
      as a package manager reading the source would see nothing from them; *Choice*). A package
      published directly into the source has ``upstream=BLOCK`` by default.

Tags (API reference: TagResource "Adds or updates tags for a resource in CodeArtifact.",
UntagResource "Removes tags from a resource in CodeArtifact.")
    Domains, repositories and package groups, by ARN (``arn:aws:codeartifact:<region>:<account>:domain/
    <domain>``, ``...:repository/<domain>/<repository>``, ``...:package-group/<domain><pattern>``), and
    ``tags`` on CreateDomain, CreateRepository and CreatePackageGroup. A key tagged again gets the new
    value; untagging a key the resource lacks changes nothing (*Choice*). An ARN of another form is a
    ValidationException, one naming a missing resource (or another account or region) a
    ResourceNotFoundException. Deleting a resource deletes its tags. *Choice* (CodeArtifact
    documents neither): at most 50 tags per resource (ServiceQuotaExceededException), the limit of
    AWS's tagging guidance, and keys starting ``aws:`` are reserved (ValidationException).

GetAuthorizationToken and GetRepositoryEndpoint
    A token is a fresh opaque string for an existing domain, kept with the domain until it
    expires; the package managers' protocols (``registry.py``) check it on every request.
    ``durationSeconds``: "Valid values are 0 and any number between 900 (15 minutes) and 43200 (12
    hours)" (ValidationException otherwise); not given, the token lasts 12 hours ("valid
    for a period of 12 hours when created with the login command"; *Choice* for the API call).
    *Choice*: 0, "the same expiration of the user's role's temporary credentials", also gives 12
    hours, since the local account's credentials never expire. A repository's endpoint is the
    service's URL form ``https://<domain>-<owner>.d.codeartifact.<region>.amazonaws.com/<format>/
    <repository>/`` for any existing repository and format (*Choice*: also for ``endpointType``
    dualstack, whose host the docs do not give). Asked over HTTP of the local server (moto's server
    mode), it is that server's own path-based URL ``http://<host>/<domain>-<owner>/<format>/
    <repository>/``, where ``registry.py`` serves the package managers' protocols (pypi and npm).

Permissions policies (Put/Get/Delete Domain/RepositoryPermissionsPolicy)
    The policy document is stored and returned exactly as given, with a fresh opaque ``revision``
    per put. It must be JSON ("A valid displayable JSON Aspen policy string"; *Choice*: an object
    with a ``Statement``) of at most 7168 characters (the model), else ValidationException.
    ``policyRevision`` is "used for optimistic locking": given, it must be the current policy's
    revision, else ConflictException (*Choice*: also when there is no policy to put over).
    Getting or deleting a policy that is not set is ResourceNotFoundException; delete answers the
    policy it deleted. Policies are not evaluated: nothing is denied by them (no IAM here), and
    deleting the domain or repository deletes its policy.

Package groups (user guide, "Package group definition syntax and matching behavior" and "Package group
origin controls"; patterns, matching and specificity are in ``package_groups.py``)
    Every domain has the root group ``/*`` ("The root package group, /*, cannot be deleted": deleting it is a
    ValidationException, *Choice* of error), whose three restrictions are ALLOW. A new group's restrictions
    are INHERIT (effective: the first parent's that is not INHERIT, with ``inheritedFrom``); *Choice*: the
    root cannot be set to INHERIT (ValidationException). A group's parent is the most specific other group
    whose pattern covers its own, so deleting a group moves its children to its parent ("the direct child
    package groups will become children of the package group's direct parent package group"). Creating a
    pattern twice is ConflictException; a malformed pattern ValidationException; a missing group
    ResourceNotFoundException. UpdatePackageGroup changes contactInfo and description only.
    ListPackageGroups' ``prefix`` keeps patterns starting with it. ListAssociatedPackages lists the domain's
    packages (each once, whichever repositories hold it) whose group is this one; ``preview`` answers for a
    group that does not exist yet. GetAssociatedPackageGroup needs no existing package. Allowed repository
    lists must name existing repositories (ResourceNotFoundException); they are kept whatever the mode and
    used while the mode (own or inherited) is ALLOW_SPECIFIC_REPOSITORIES; a deleted repository leaves them
    (*Choice*: a repository created later under that name is not allowed by accident). Package groups
    can be tagged by ARN (``arn:aws:codeartifact:<region>:<account>:package-group/<domain><pattern>``, the
    pattern percent-encoded except ``/*~$``).

    Where the restrictions apply ("These settings define if packages can enter a repository in
    CodeArtifact from publishing, internal upstreams, or external, public repositories"): PUBLISH to
    PublishPackageVersion and INTERNAL seeds, EXTERNAL_UPSTREAM to EXTERNAL seeds (ingestion through an
    external connection), each for the repository the version enters; INTERNAL_UPSTREAM to
    ``includeFromUpstream`` copies (*Choice*: versions found only in the source's upstreams are not taken
    when the source repository may not retain them, as a package manager reading the source would not get
    them). A refused publish or seed is AccessDeniedException naming the group (*Choice*, as for package
    origin controls). A package's own origin configuration applies as well: a BLOCK on either side blocks.
    *Choice* for copies (the docs are silent, as for package origin controls): a copied version enters the
    destination the way it first entered the domain, INTERNAL by PUBLISH and EXTERNAL by EXTERNAL_UPSTREAM
    (UNKNOWN only when both refuse), so a destination the group keeps closed answers NOT_ALLOWED, whose
    message names the group. Versions already stored are never removed by a later restriction.

ListPackageVersionDependencies and GetPackageVersionReadme
    "CodeArtifact extracts the dependencies for a package version from the metadata file for the package
    format"; the API's generic PublishPackageVersion stores none, so such a version lists no dependencies
    and its readme answer has no ``readme`` member (*Choice*: the docs do not say how an absent readme is
    answered). ``Control.seed_package_version(dependencies=..., readme=...)`` stores what a package
    manager's manifest would have; a change to them is a metadata change (new revision, Updated event) and
    copies keep them.

UpdatePackageVersionsStatus / DeletePackageVersions
    Per version, not all or nothing: NOT_FOUND, MISMATCHED_REVISION (``versionRevisions``),
    MISMATCHED_STATUS (``expectedStatus``). ``targetStatus`` may be Published, Unlisted or
    Archived (Disposed only through DisposePackageVersions, Unfinished never: ValidationException).
    *Choice*: a version already in the target status succeeds unchanged (no new revision, no
    event); an Unfinished version cannot become Archived or Unlisted (MISMATCHED_STATUS).
    Deleted versions leave the repository; their Deleted event carries the status they had.

Events
    Every change above emits "CodeArtifact Package Version State Change" (source
    ``aws.codeartifact``) on the default EventBridge bus of the same account and region through
    moto's own events backend, so moto rules and targets route it. ``detail`` carries all the
    documented fields; ``sequenceNumber`` rises per package version and repository (also across
    a delete and re-publish) and every event has a fresh ``eventDeduplicationId``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.events.models import events_backends

from .exceptions import (
    AccessDeniedException,
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationException,
)
from .naming import (
    request_name,
    request_namespace,
    request_version,
    stored_name,
    stored_namespace,
    stored_version,
)
from .package_groups import ROOT_PATTERN, STRONG, Pattern
from .package_groups import arn as package_group_arn
from .package_groups import parse as parse_pattern
from .quotas import QuotaState

FORMATS = ("npm", "pypi", "maven", "nuget", "generic", "ruby", "swift", "cargo")
NAMESPACE_REQUIRED = frozenset({"maven", "swift", "generic"})
NAMESPACE_FORBIDDEN = frozenset({"pypi", "nuget", "ruby", "cargo"})
STATUSES = ("Published", "Unfinished", "Unlisted", "Archived", "Disposed")
UPDATABLE_TARGET_STATUSES = frozenset({"Published", "Unlisted", "Archived"})
MAX_VERSIONS_PER_CALL = 100
MAX_UPSTREAMS = 10
MAX_REPOSITORIES_PER_DOMAIN = 1000
MAX_TAGS_PER_RESOURCE = 50
MIN_TOKEN_SECONDS = 900
MAX_TOKEN_SECONDS = 43200
EXTERNAL_CONNECTIONS = {
    "public:npmjs": "npm",
    "public:nuget-org": "nuget",
    "public:pypi": "pypi",
    "public:maven-central": "maven",
    "public:maven-googleandroid": "maven",
    "public:maven-gradleplugins": "maven",
    "public:maven-commonsware": "maven",
    "public:maven-clojars": "maven",
    "public:ruby-gems-org": "ruby",
    "public:crates-io": "cargo",
    "public:swift-registry": "swift",
}
DOCUMENTED = "documented"
IDENTICAL_COPY_OMITTED = "identical-copy-omitted"
# How CopyPackageVersions answers a version the destination already holds (module docstring).
SERVICE_VARIANTS: dict[str, str] = {
    DOCUMENTED: "as the API reference says: a version already in the destination, identical or not, "
    "is ALREADY_EXISTS without allowOverwrite and trips all-or-nothing (the default)",
    IDENTICAL_COPY_OMITTED: "a version already in the destination with the same revision succeeds "
    "without a copy and is left out of both maps; another revision is ALREADY_EXISTS",
}
DEFAULT_SERVICE_VARIANT = DOCUMENTED
# What a backend starts with and a reset restores: DEFAULT_SERVICE_VARIANT unless this process's
# server was started with --service-variant.
_process_default = [DEFAULT_SERVICE_VARIANT]


def check_service_variant(variant: str) -> str:
    if variant not in SERVICE_VARIANTS:
        raise ValueError(f"unknown service variant {variant!r}; expected one of {sorted(SERVICE_VARIANTS)}")
    return variant


def set_process_default_service_variant(variant: str) -> None:
    """Make ``variant`` what every backend of this process starts with and resets to (the server CLI)."""
    _process_default[0] = check_service_variant(variant)


RESTRICTION_TYPES = ("PUBLISH", "EXTERNAL_UPSTREAM", "INTERNAL_UPSTREAM")
RESTRICTION_MODES = ("ALLOW", "BLOCK", "ALLOW_SPECIFIC_REPOSITORIES", "INHERIT")
MAX_PACKAGE_GROUPS_PER_DOMAIN = 1000

EVENT_SOURCE = "aws.codeartifact"
EVENT_DETAIL_TYPE = "CodeArtifact Package Version State Change"

PackageKey = tuple[str, str | None, str]


def default_restrictions(origin_type: str) -> tuple[str, str]:
    """(publish, upstream) for a package created by a version of this origin.

    The service sets them from how the first version arrived: published directly (INTERNAL)
    allows publishing and blocks upstreams; ingested from an external connection (EXTERNAL)
    the other way round. *Choice*: UNKNOWN (versions from before origin tracking) gets
    ALLOW/ALLOW, the defaults the service kept for packages older than origin controls.
    """
    if origin_type == "INTERNAL":
        return "ALLOW", "BLOCK"
    if origin_type == "EXTERNAL":
        return "BLOCK", "ALLOW"
    return "ALLOW", "ALLOW"


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_revision() -> str:
    """Revisions are opaque to clients; a fresh random digest guarantees every change is visible."""
    return base64.b64encode(hashlib.sha256(uuid.uuid4().bytes).digest()).decode("ascii")


def asset_hashes(content: bytes) -> dict[str, str]:
    return {
        "MD5": hashlib.md5(content).hexdigest(),  # noqa: S324 - the service reports MD5 too
        "SHA-1": hashlib.sha1(content).hexdigest(),  # noqa: S324
        "SHA-256": hashlib.sha256(content).hexdigest(),
        "SHA-512": hashlib.sha512(content).hexdigest(),
    }


@dataclass
class Asset:
    name: str
    content: bytes
    hashes: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.hashes = asset_hashes(self.content)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "size": len(self.content), "hashes": dict(self.hashes)}


@dataclass
class PackageVersion:
    version: str
    status: str
    published_time: datetime
    origin_type: str
    entry_point: dict[str, str]
    revision: str = field(default_factory=new_revision)
    assets: dict[str, Asset] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    # The name as the package manager sent it, when normalization changed it (displayName).
    display_name: str | None = None
    # What the package manager's manifest declared (seeded; the API's generic publish has none).
    dependencies: list[dict[str, str]] = field(default_factory=list)
    readme: str | None = None

    def touch(self) -> None:
        self.revision = new_revision()

    def origin(self) -> dict[str, Any]:
        return {"domainEntryPoint": dict(self.entry_point), "originType": self.origin_type}

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "revision": self.revision,
            "status": self.status,
            "origin": self.origin(),
        }


@dataclass
class Package:
    format: str
    namespace: str | None
    name: str
    publish: str = "ALLOW"
    upstream: str = "ALLOW"
    versions: dict[str, PackageVersion] = field(default_factory=dict)

    @property
    def key(self) -> PackageKey:
        return (self.format, self.namespace, self.name)

    def origin_configuration(self) -> dict[str, Any]:
        return {"restrictions": {"publish": self.publish, "upstream": self.upstream}}

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": self.format,
            "package": self.name,
            "originConfiguration": self.origin_configuration(),
        }
        if self.namespace is not None:
            out["namespace"] = self.namespace
        return out

    def description(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": self.format,
            "name": self.name,
            "originConfiguration": self.origin_configuration(),
        }
        if self.namespace is not None:
            out["namespace"] = self.namespace
        return out


@dataclass(frozen=True)
class Policy:
    """A resource policy as stored: the document exactly as given, and its revision."""

    resource_arn: str
    document: str
    revision: str = field(default_factory=lambda: uuid.uuid4().hex)

    def as_dict(self) -> dict[str, str]:
        return {"resourceArn": self.resource_arn, "revision": self.revision, "document": self.document}


@dataclass
class Repository:
    name: str
    domain_name: str
    domain_owner: str
    region: str
    description: str | None = None
    upstreams: list[str] = field(default_factory=list)
    external_connections: list[str] = field(default_factory=list)
    created_time: datetime = field(default_factory=utcnow)
    tags: dict[str, str] = field(default_factory=dict)
    policy: Policy | None = None
    packages: dict[PackageKey, Package] = field(default_factory=dict)
    sequence: dict[tuple[str, str | None, str, str], int] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return (
            f"arn:aws:codeartifact:{self.region}:{self.domain_owner}:repository/"
            f"{self.domain_name}/{self.name}"
        )

    def next_sequence(self, package: Package, version: str) -> int:
        key = (package.format, package.namespace, package.name, version)
        self.sequence[key] = self.sequence.get(key, 0) + 1
        return self.sequence[key]

    def description_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "administratorAccount": self.domain_owner,
            "domainName": self.domain_name,
            "domainOwner": self.domain_owner,
            "arn": self.arn,
            "upstreams": [{"repositoryName": u} for u in self.upstreams],
            "externalConnections": [
                {
                    "externalConnectionName": c,
                    "packageFormat": EXTERNAL_CONNECTIONS[c],
                    "status": "Available",
                }
                for c in self.external_connections
            ],
            "createdTime": self.created_time,
        }
        if self.description is not None:
            out["description"] = self.description
        return out

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "administratorAccount": self.domain_owner,
            "domainName": self.domain_name,
            "domainOwner": self.domain_owner,
            "arn": self.arn,
            "createdTime": self.created_time,
        }
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass
class PackageGroup:
    """A package group as stored: its pattern, settings, own restriction modes and allowed repositories."""

    pattern: Pattern
    arn: str
    created_time: datetime = field(default_factory=utcnow)
    contact_info: str | None = None
    description: str | None = None
    # PUBLISH / EXTERNAL_UPSTREAM / INTERNAL_UPSTREAM -> ALLOW, BLOCK, ALLOW_SPECIFIC_REPOSITORIES, INHERIT
    modes: dict[str, str] = field(default_factory=lambda: dict.fromkeys(RESTRICTION_TYPES, "INHERIT"))
    allowed: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in RESTRICTION_TYPES})
    tags: dict[str, str] = field(default_factory=dict)

    def reference(self) -> dict[str, str]:
        return {"arn": self.arn, "pattern": self.pattern.text}


@dataclass
class Domain:
    name: str
    owner: str
    region: str
    encryption_key: str
    created_time: datetime = field(default_factory=utcnow)
    tags: dict[str, str] = field(default_factory=dict)
    policy: Policy | None = None
    repositories: dict[str, Repository] = field(default_factory=dict)
    package_groups: dict[str, PackageGroup] = field(default_factory=dict)
    # Authorization tokens issued for this domain and when each expires (the registry checks them).
    tokens: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # "The root package group, /*, cannot be deleted": every domain has it, allowing every origin.
        root = PackageGroup(
            parse_pattern(ROOT_PATTERN),
            package_group_arn(self.region, self.owner, self.name, ROOT_PATTERN),
            created_time=self.created_time,
            modes=dict.fromkeys(RESTRICTION_TYPES, "ALLOW"),
        )
        self.package_groups[ROOT_PATTERN] = root

    def parent_group(self, group: PackageGroup) -> PackageGroup | None:
        """The most specific other group whose pattern covers ``group``'s (None for the root)."""
        if group.pattern.text == ROOT_PATTERN:
            return None
        parents = [
            g
            for g in self.package_groups.values()
            if g is not group and g.pattern.covers(group.pattern) and g.pattern.text != group.pattern.text
        ]
        return max(parents, key=lambda g: g.pattern.specificity)

    def associated_group(self, fmt: str, namespace: str | None, name: str) -> tuple[PackageGroup, str]:
        """The group a package is associated with, and how (STRONG or WEAK; see package_groups.py)."""
        found = [
            (group.pattern.specificity, how == STRONG, group, how)
            for group in self.package_groups.values()
            if (how := group.pattern.match(fmt, namespace, name)) is not None
        ]
        _, _, group, how = max(found, key=lambda entry: entry[:2])
        return group, how

    def effective(self, group: PackageGroup, kind: str) -> tuple[str, PackageGroup]:
        """The effective mode of restriction ``kind`` and the group it comes from (INHERIT resolved)."""
        current: PackageGroup | None = group
        while current is not None and current.modes[kind] == "INHERIT":
            current = self.parent_group(current)
        assert current is not None, "the root group never inherits"
        return current.modes[kind], current

    def group_allows(
        self, fmt: str, namespace: str | None, name: str, kind: str, repository: str
    ) -> PackageGroup | None:
        """None when the package's group lets a version enter ``repository`` by way ``kind``, else the
        group whose setting blocks it (BLOCK, or ALLOW_SPECIFIC_REPOSITORIES without the repository)."""
        group, _ = self.associated_group(fmt, namespace, name)
        mode, source = self.effective(group, kind)
        if mode == "ALLOW" or (mode == "ALLOW_SPECIFIC_REPOSITORIES" and repository in source.allowed[kind]):
            return None
        return source

    def group_description(self, group: PackageGroup) -> dict[str, Any]:
        restrictions: dict[str, Any] = {}
        for kind in RESTRICTION_TYPES:
            mode, source = self.effective(group, kind)
            entry: dict[str, Any] = {"mode": group.modes[kind], "effectiveMode": mode}
            if source is not group:
                entry["inheritedFrom"] = source.reference()
            if mode == "ALLOW_SPECIFIC_REPOSITORIES":
                entry["repositoriesCount"] = len(source.allowed[kind])
            restrictions[kind] = entry
        out: dict[str, Any] = {
            "arn": group.arn,
            "pattern": group.pattern.text,
            "domainName": self.name,
            "domainOwner": self.owner,
            "createdTime": group.created_time,
            "originConfiguration": {"restrictions": restrictions},
        }
        parent = self.parent_group(group)
        if parent is not None:
            out["parent"] = parent.reference()
        if group.contact_info is not None:
            out["contactInfo"] = group.contact_info
        if group.description is not None:
            out["description"] = group.description
        return out

    @property
    def arn(self) -> str:
        return f"arn:aws:codeartifact:{self.region}:{self.owner}:domain/{self.name}"

    def asset_size(self) -> int:
        return sum(
            len(a.content)
            for r in self.repositories.values()
            for p in r.packages.values()
            for v in p.versions.values()
            for a in v.assets.values()
        )

    def description(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "arn": self.arn,
            "status": "Active",
            "createdTime": self.created_time,
            "encryptionKey": self.encryption_key,
            "repositoryCount": len(self.repositories),
            "assetSizeBytes": self.asset_size(),
            "s3BucketArn": f"arn:aws:s3:::assets-{self.owner}-{self.region}",
        }

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "arn": self.arn,
            "status": "Active",
            "createdTime": self.created_time,
            "encryptionKey": self.encryption_key,
        }


@dataclass
class Changes:
    assets_added: int = 0
    assets_removed: int = 0
    assets_updated: int = 0
    metadata_updated: bool = False
    status_changed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "assetsAdded": self.assets_added,
            "assetsRemoved": self.assets_removed,
            "assetsUpdated": self.assets_updated,
            "metadataUpdated": self.metadata_updated,
            "statusChanged": self.status_changed,
        }


def check_namespace(fmt: str, namespace: str | None) -> None:
    if fmt not in FORMATS:
        raise ValidationException(f"Unsupported package format: {fmt}", "FIELD_VALIDATION_FAILED")
    if fmt in NAMESPACE_REQUIRED and not namespace:
        raise ValidationException(
            f"namespace is required for package format {fmt}", "FIELD_VALIDATION_FAILED"
        )
    if fmt in NAMESPACE_FORBIDDEN and namespace:
        raise ValidationException(
            f"Package format {fmt} does not support namespaces", "FIELD_VALIDATION_FAILED"
        )


def package_label(fmt: str, namespace: str | None, name: str) -> str:
    return f"{fmt}/{namespace or ''}/{name}"


class CodeArtifactBackend(BaseBackend):
    """One account and region of CodeArtifact. Every public method holds ``self.lock``."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.domains: dict[str, Domain] = {}
        self.quotas = QuotaState()
        self.lock = threading.RLock()
        self.service_variant = _process_default[0]

    def set_service_variant(self, variant: str) -> None:
        """Answer as ``variant`` (a key of :data:`SERVICE_VARIANTS`) from now on."""
        check_service_variant(variant)
        with self.lock:
            self.service_variant = variant

    # -- lookups -------------------------------------------------------------------------------

    def _domain(self, name: str, owner: str | None) -> Domain:
        if owner is not None and owner != self.account_id:
            raise ResourceNotFoundException(f"Domain not found: {name}", "domain", name)
        domain = self.domains.get(name)
        if domain is None:
            raise ResourceNotFoundException(f"Domain not found: {name}", "domain", name)
        return domain

    def _repository(self, domain: str, owner: str | None, repository: str) -> Repository:
        repo = self._domain(domain, owner).repositories.get(repository)
        if repo is None:
            raise ResourceNotFoundException(
                f"Repository not found: {repository} in domain {domain}", "repository", repository
            )
        return repo

    @staticmethod
    def _package(repo: Repository, fmt: str, namespace: str | None, package: str) -> Package:
        check_namespace(fmt, namespace)
        pkg = repo.packages.get(request_key(fmt, namespace, package))
        if pkg is None:
            label = package_label(fmt, namespace, package)
            raise ResourceNotFoundException(
                f"Package not found in repository {repo.name}: {label}", "package", package
            )
        return pkg

    def _version(self, repo: Repository, pkg: Package, version: str) -> PackageVersion:
        pv = pkg.versions.get(request_version(pkg.format, version))
        if pv is None:
            label = package_label(pkg.format, pkg.namespace, pkg.name)
            raise ResourceNotFoundException(
                f"Package version not found in repository {repo.name}: {label}@{version}",
                "package-version",
                version,
            )
        return pv

    # -- events --------------------------------------------------------------------------------

    def _emit(
        self,
        repo: Repository,
        pkg: Package,
        pv: PackageVersion,
        operation_type: str,
        changes: Changes,
        *,
        status: str | None = None,
    ) -> None:
        detail = {
            "domainOwner": repo.domain_owner,
            "domainName": repo.domain_name,
            "repositoryName": repo.name,
            "repositoryAdministrator": repo.domain_owner,
            "packageFormat": pkg.format,
            "packageNamespace": pkg.namespace,
            "packageName": pkg.name,
            "packageVersion": pv.version,
            "packageVersionState": status or pv.status,
            "packageVersionRevision": pv.revision,
            "changes": changes.as_dict(),
            "operationType": operation_type,
            "sequenceNumber": repo.next_sequence(pkg, pv.version),
            "eventDeduplicationId": uuid.uuid4().hex,
        }
        resource = (
            f"arn:aws:codeartifact:{self.region_name}:{repo.domain_owner}:package/"
            f"{repo.domain_name}/{repo.name}/{pkg.format}/{pkg.namespace or ''}/{pkg.name}"
        )
        events_backends[self.account_id][self.region_name].put_events(
            [
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": EVENT_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "Resources": [resource],
                    # moto wants epoch seconds here and renders ISO 8601 for SQS targets.
                    "Time": int(utcnow().timestamp()),
                    "EventBusName": "default",
                }
            ]
        )

    # -- domains -------------------------------------------------------------------------------

    def create_domain(
        self, domain: str, encryption_key: str | None, tags: list[dict[str, str]] | None
    ) -> Domain:
        with self.lock:
            if domain in self.domains:
                raise ConflictException(f"Domain already exists: {domain}", "domain", domain)
            key = encryption_key or (f"arn:aws:kms:{self.region_name}:{self.account_id}:key/{uuid.uuid4()}")
            created = Domain(domain, self.account_id, self.region_name, key)
            created.tags = _tagged({}, tags or [], created.arn)
            self.domains[domain] = created
            return created

    def describe_domain(self, domain: str, owner: str | None) -> Domain:
        with self.lock:
            return self._domain(domain, owner)

    def list_domains(self) -> list[Domain]:
        with self.lock:
            return sorted(self.domains.values(), key=lambda d: d.name)

    def delete_domain(self, domain: str, owner: str | None) -> Domain:
        with self.lock:
            found = self._domain(domain, owner)
            if found.repositories:
                raise ConflictException(f"Domain {domain} still contains repositories", "domain", domain)
            del self.domains[domain]
            return found

    # -- repositories --------------------------------------------------------------------------

    def _check_upstreams(self, domain: Domain, repository: str, upstreams: list[str]) -> None:
        if len(upstreams) > MAX_UPSTREAMS:
            raise ValidationException(
                f"A repository can have at most {MAX_UPSTREAMS} upstream repositories",
                "FIELD_VALIDATION_FAILED",
            )
        if len(set(upstreams)) != len(upstreams):
            raise ValidationException("Duplicate upstream repositories", "FIELD_VALIDATION_FAILED")
        for upstream in upstreams:
            if upstream == repository:
                raise ValidationException(
                    "A repository cannot be its own upstream", "FIELD_VALIDATION_FAILED"
                )
            if upstream not in domain.repositories:
                raise ResourceNotFoundException(
                    f"Upstream repository not found: {upstream}", "repository", upstream
                )
        # A new edge must not close a cycle: walk from every upstream back to this repository.
        seen: set[str] = set()
        stack = list(upstreams)
        while stack:
            current = stack.pop()
            if current == repository:
                raise ValidationException(
                    "Upstream repositories would form a cycle", "FIELD_VALIDATION_FAILED"
                )
            if current in seen:
                continue
            seen.add(current)
            stack.extend(domain.repositories[current].upstreams)

    def create_repository(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        description: str | None,
        upstreams: list[str],
        tags: list[dict[str, str]] | None,
    ) -> Repository:
        with self.lock:
            found = self._domain(domain, owner)
            if repository in found.repositories:
                raise ConflictException(f"Repository already exists: {repository}", "repository", repository)
            if len(found.repositories) >= MAX_REPOSITORIES_PER_DOMAIN:
                raise ServiceQuotaExceededException(
                    "Too many repositories in the domain", "repository", repository
                )
            self._check_upstreams(found, repository, upstreams)
            repo = Repository(
                repository,
                found.name,
                found.owner,
                self.region_name,
                description=description,
                upstreams=list(upstreams),
            )
            repo.tags = _tagged({}, tags or [], repo.arn)
            found.repositories[repository] = repo
            return repo

    def describe_repository(self, domain: str, owner: str | None, repository: str) -> Repository:
        with self.lock:
            return self._repository(domain, owner, repository)

    def update_repository(
        self,
        domain: str,
        owner: str | None,
        repository: str,
        description: str | None,
        upstreams: list[str] | None,
    ) -> Repository:
        with self.lock:
            found = self._domain(domain, owner)
            repo = self._repository(domain, owner, repository)
            if upstreams is not None:
                self._check_upstreams(found, repository, upstreams)
                repo.upstreams = list(upstreams)
            if description is not None:
                repo.description = description
            return repo

    def delete_repository(self, domain: str, owner: str | None, repository: str) -> Repository:
        with self.lock:
            found = self._domain(domain, owner)
            repo = self._repository(domain, owner, repository)
            for other in found.repositories.values():
                if repository in other.upstreams:
                    raise ConflictException(
                        f"Repository {repository} is an upstream of {other.name}",
                        "repository",
                        repository,
                    )
            del found.repositories[repository]
            for group in found.package_groups.values():  # *Choice*: it leaves allowed repository lists
                for names in group.allowed.values():
                    if repository in names:
                        names.remove(repository)
            return repo

    def list_repositories_in_domain(
        self,
        domain: str,
        owner: str | None,
        administrator_account: str | None,
        prefix: str | None,
    ) -> list[Repository]:
        with self.lock:
            found = self._domain(domain, owner)
            return [
                r
                for r in sorted(found.repositories.values(), key=lambda r: r.name)
                if (prefix is None or r.name.startswith(prefix))
                and (administrator_account is None or r.domain_owner == administrator_account)
            ]

    def list_repositories(self, prefix: str | None) -> list[Repository]:
        with self.lock:
            return [
                r
                for d in sorted(self.domains.values(), key=lambda d: d.name)
                for r in sorted(d.repositories.values(), key=lambda r: r.name)
                if prefix is None or r.name.startswith(prefix)
            ]

    def associate_external_connection(
        self, domain: str, owner: str | None, repository: str, connection: str
    ) -> Repository:
        with self.lock:
            repo = self._repository(domain, owner, repository)
            if connection not in EXTERNAL_CONNECTIONS:
                raise ValidationException(
                    f"Unknown external connection: {connection}", "FIELD_VALIDATION_FAILED"
                )
            if repo.external_connections:
                raise ConflictException(
                    "A repository can have only one external connection", "repository", repository
                )
            repo.external_connections.append(connection)
            return repo

    # -- authorization tokens and endpoints ----------------------------------------------------

    def get_authorization_token(
        self, domain: str, owner: str | None, duration_seconds: int | None
    ) -> tuple[str, datetime]:
        """A fresh opaque token for ``domain`` and when it expires (see the module docstring)."""
        with self.lock:
            self._domain(domain, owner)
            if duration_seconds is not None and 0 < duration_seconds < MIN_TOKEN_SECONDS:
                raise ValidationException(
                    f"durationSeconds must be 0 or between {MIN_TOKEN_SECONDS} and {MAX_TOKEN_SECONDS}",
                    "FIELD_VALIDATION_FAILED",
                )
            seconds = duration_seconds or MAX_TOKEN_SECONDS
            token = base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode("ascii")
            token = token.rstrip("=")
            expiration = utcnow() + timedelta(seconds=seconds)
            self._domain(domain, owner).tokens[token] = expiration
            return token, expiration

    def token_is_valid(self, domain: str, owner: str, token: str) -> bool:
        """Whether ``token`` was issued for this domain and has not expired (the registry protocols)."""
        with self.lock:
            found = self.domains.get(domain)
            if found is None or owner != self.account_id:
                return False
            expiration = found.tokens.get(token)
            return expiration is not None and utcnow() < expiration

    def get_repository_endpoint(
        self, domain: str, owner: str | None, repository: str, fmt: str, base_url: str | None = None
    ) -> str:
        """The service's URL, or with ``base_url`` the same path-based URL on the local server."""
        with self.lock:
            repo = self._repository(domain, owner, repository)
            if base_url is not None:
                return f"{base_url}/{repo.domain_name}-{repo.domain_owner}/{fmt}/{repo.name}/"
            return (
                f"https://{repo.domain_name}-{repo.domain_owner}.d.codeartifact.{self.region_name}"
                f".amazonaws.com/{fmt}/{repo.name}/"
            )

    # -- tags ----------------------------------------------------------------------------------

    def _tagged_resource(self, arn: str) -> Domain | Repository | PackageGroup:
        """The domain or repository an ARN names (the resource types CodeArtifact tags here)."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "codeartifact"]:
            raise ValidationException(f"Invalid resource ARN: {arn}", "FIELD_VALIDATION_FAILED")
        region, account, resource = parts[3], parts[4], parts[5]
        kind, _, path = resource.partition("/")
        names = path.split("/")
        not_found = ResourceNotFoundException(f"Resource not found: {arn}", kind or "resource", arn)
        if kind not in ("domain", "repository", "package-group") or not all(names):
            raise ValidationException(f"Invalid resource ARN: {arn}", "FIELD_VALIDATION_FAILED")
        if region != self.region_name or account != self.account_id:
            raise not_found
        domain = self.domains.get(names[0])
        if domain is None:
            raise not_found
        if kind == "package-group":
            group = next((g for g in domain.package_groups.values() if g.arn == arn), None)
            if group is None:
                raise not_found
            return group
        if kind == "domain" and len(names) == 1:
            return domain
        if kind == "repository" and len(names) == 2 and names[1] in domain.repositories:
            return domain.repositories[names[1]]
        raise not_found

    def tag_resource(self, arn: str, tags: list[dict[str, str]]) -> None:
        with self.lock:
            resource = self._tagged_resource(arn)
            resource.tags = _tagged(resource.tags, tags, arn)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        with self.lock:
            resource = self._tagged_resource(arn)
            for key in keys:
                resource.tags.pop(key, None)

    def list_tags_for_resource(self, arn: str) -> list[dict[str, str]]:
        with self.lock:
            resource = self._tagged_resource(arn)
            return [{"key": key, "value": value} for key, value in resource.tags.items()]

    # -- permissions policies ------------------------------------------------------------------

    def _policy_holder(self, domain: str, owner: str | None, repository: str | None) -> Domain | Repository:
        if repository is None:
            return self._domain(domain, owner)
        return self._repository(domain, owner, repository)

    def put_permissions_policy(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str | None,
        document: str,
        revision: str | None,
    ) -> Policy:
        """Set the domain's (``repository`` None) or the repository's resource policy."""
        with self.lock:
            holder = self._policy_holder(domain, owner, repository)
            _check_policy_document(document)
            _check_policy_revision(holder, revision)
            holder.policy = Policy(holder.arn, document)
            return holder.policy

    def get_permissions_policy(self, *, domain: str, owner: str | None, repository: str | None) -> Policy:
        with self.lock:
            holder = self._policy_holder(domain, owner, repository)
            if holder.policy is None:
                raise _no_policy(holder)
            return holder.policy

    def delete_permissions_policy(
        self, *, domain: str, owner: str | None, repository: str | None, revision: str | None
    ) -> Policy:
        with self.lock:
            holder = self._policy_holder(domain, owner, repository)
            if holder.policy is None:
                raise _no_policy(holder)
            _check_policy_revision(holder, revision)
            deleted, holder.policy = holder.policy, None
            return deleted

    def disassociate_external_connection(
        self, domain: str, owner: str | None, repository: str, connection: str
    ) -> Repository:
        """Remove ``connection`` from the repository; versions ingested through it stay."""
        with self.lock:
            repo = self._repository(domain, owner, repository)
            if connection not in repo.external_connections:
                raise ResourceNotFoundException(
                    f"External connection {connection} is not associated with repository {repository}",
                    "external-connection",
                    connection,
                )
            repo.external_connections.remove(connection)
            return repo

    # -- package groups ------------------------------------------------------------------------

    def _group(self, domain: Domain, pattern: str) -> PackageGroup:
        group = domain.package_groups.get(pattern)
        if group is None:
            raise ResourceNotFoundException(
                f"Package group not found: {pattern} in domain {domain.name}", "package-group", pattern
            )
        return group

    def create_package_group(
        self,
        *,
        domain: str,
        owner: str | None,
        pattern: str,
        contact_info: str | None,
        description: str | None,
        tags: list[dict[str, str]] | None,
    ) -> dict[str, Any]:
        with self.lock:
            found = self._domain(domain, owner)
            parsed = parse_pattern(pattern)
            if pattern in found.package_groups:
                raise ConflictException(f"Package group already exists: {pattern}", "package-group", pattern)
            if len(found.package_groups) >= MAX_PACKAGE_GROUPS_PER_DOMAIN:
                raise ServiceQuotaExceededException(
                    "Too many package groups in the domain", "package-group", pattern
                )
            group = PackageGroup(
                parsed,
                package_group_arn(self.region_name, found.owner, found.name, pattern),
                contact_info=contact_info,
                description=description,
            )
            group.tags = _tagged({}, tags or [], group.arn)
            found.package_groups[pattern] = group
            return found.group_description(group)

    def describe_package_group(self, *, domain: str, owner: str | None, pattern: str) -> dict[str, Any]:
        with self.lock:
            found = self._domain(domain, owner)
            return found.group_description(self._group(found, pattern))

    def update_package_group(
        self,
        *,
        domain: str,
        owner: str | None,
        pattern: str,
        contact_info: str | None,
        description: str | None,
    ) -> dict[str, Any]:
        """Contact info and description only (the API: not the origin configuration nor the pattern)."""
        with self.lock:
            found = self._domain(domain, owner)
            group = self._group(found, pattern)
            if contact_info is not None:
                group.contact_info = contact_info
            if description is not None:
                group.description = description
            return found.group_description(group)

    def delete_package_group(self, *, domain: str, owner: str | None, pattern: str) -> dict[str, Any]:
        """Children move to the deleted group's parent by themselves: the tree is computed from patterns."""
        with self.lock:
            found = self._domain(domain, owner)
            group = self._group(found, pattern)
            if pattern == ROOT_PATTERN:
                raise ValidationException("The root package group, /*, cannot be deleted", "CANNOT_PARSE")
            described = found.group_description(group)
            del found.package_groups[pattern]
            return described

    def list_package_groups(
        self, *, domain: str, owner: str | None, prefix: str | None
    ) -> list[dict[str, Any]]:
        with self.lock:
            found = self._domain(domain, owner)
            return [
                found.group_description(g)
                for p, g in sorted(found.package_groups.items())
                if prefix is None or p.startswith(prefix)
            ]

    def list_sub_package_groups(
        self, *, domain: str, owner: str | None, pattern: str
    ) -> list[dict[str, Any]]:
        with self.lock:
            found = self._domain(domain, owner)
            group = self._group(found, pattern)
            return [
                found.group_description(g)
                for _, g in sorted(found.package_groups.items())
                if found.parent_group(g) is group
            ]

    def get_associated_package_group(
        self, *, domain: str, owner: str | None, fmt: str, namespace: str | None, package: str
    ) -> tuple[dict[str, Any], str]:
        """The package need not exist ("This API does not require that the package exist")."""
        with self.lock:
            found = self._domain(domain, owner)
            check_namespace(fmt, namespace)
            key = request_key(fmt, namespace, package)
            group, how = found.associated_group(*key)
            return found.group_description(group), how

    def list_associated_packages(
        self, *, domain: str, owner: str | None, pattern: str, preview: bool
    ) -> list[dict[str, Any]]:
        """Packages of every repository of the domain (once each) associated with the group; with
        ``preview`` those that would be, were the group created (it need not exist)."""
        with self.lock:
            found = self._domain(domain, owner)
            if preview and pattern not in found.package_groups:
                parsed = parse_pattern(pattern)
                group = PackageGroup(
                    parsed, package_group_arn(self.region_name, found.owner, found.name, pattern)
                )
                found.package_groups[pattern] = group  # for the association only, removed below
                try:
                    return self._associated(found, group)
                finally:
                    del found.package_groups[pattern]
            return self._associated(found, self._group(found, pattern))

    @staticmethod
    def _associated(domain: Domain, group: PackageGroup) -> list[dict[str, Any]]:
        keys = sorted(
            {key for repo in domain.repositories.values() for key in repo.packages},
            key=lambda k: (k[0], k[1] or "", k[2]),
        )
        out = []
        for fmt, namespace, name in keys:
            owner, how = domain.associated_group(fmt, namespace, name)
            if owner is group:
                entry = {"format": fmt, "package": name, "associationType": how}
                if namespace is not None:
                    entry["namespace"] = namespace
                out.append(entry)
        return out

    def update_package_group_origin_configuration(
        self,
        *,
        domain: str,
        owner: str | None,
        pattern: str,
        restrictions: dict[str, str] | None,
        add: list[dict[str, str]] | None,
        remove: list[dict[str, str]] | None,
    ) -> tuple[dict[str, Any], dict[str, dict[str, list[str]]]]:
        with self.lock:
            found = self._domain(domain, owner)
            group = self._group(found, pattern)
            restrictions = restrictions or {}
            if pattern == ROOT_PATTERN and "INHERIT" in restrictions.values():
                raise ValidationException(
                    "The root package group, /*, has no parent to inherit from", "FIELD_VALIDATION_FAILED"
                )
            for entry in [*(add or []), *(remove or [])]:
                self._repository(domain, owner, entry["repositoryName"])
            updates: dict[str, dict[str, list[str]]] = {}
            group.modes.update(restrictions)
            for entry in add or []:
                kind, name = entry["originRestrictionType"], entry["repositoryName"]
                if name not in group.allowed[kind]:
                    group.allowed[kind].append(name)
                updates.setdefault(kind, {}).setdefault("ADDED", []).append(name)
            for entry in remove or []:
                kind, name = entry["originRestrictionType"], entry["repositoryName"]
                if name in group.allowed[kind]:
                    group.allowed[kind].remove(name)
                updates.setdefault(kind, {}).setdefault("REMOVED", []).append(name)
            return found.group_description(group), updates

    def list_allowed_repositories_for_group(
        self, *, domain: str, owner: str | None, pattern: str, kind: str
    ) -> list[str]:
        with self.lock:
            found = self._domain(domain, owner)
            return list(self._group(found, pattern).allowed[kind])

    # -- packages ------------------------------------------------------------------------------

    def list_packages(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str | None,
        namespace: str | None,
        prefix: str | None,
        publish: str | None,
        upstream: str | None,
    ) -> list[Package]:
        with self.lock:
            repo = self._repository(domain, owner, repository)
            if fmt is not None:  # nuget/swift filters are normalized like every other input
                namespace = request_namespace(fmt, namespace)
                prefix = None if prefix is None else request_name(fmt, prefix)
            out = []
            for pkg in sorted(repo.packages.values(), key=lambda p: (p.format, p.namespace or "", p.name)):
                if fmt is not None and pkg.format != fmt:
                    continue
                if namespace is not None and not (pkg.namespace or "").startswith(namespace):
                    continue
                if prefix is not None and not pkg.name.startswith(prefix):
                    continue
                if publish is not None and pkg.publish != publish:
                    continue
                if upstream is not None and pkg.upstream != upstream:
                    continue
                out.append(pkg)
            return out

    def describe_package(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
    ) -> Package:
        with self.lock:
            return self._package(self._repository(domain, owner, repository), fmt, namespace, package)

    def delete_package(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
    ) -> Package:
        with self.lock:
            repo = self._repository(domain, owner, repository)
            pkg = self._package(repo, fmt, namespace, package)
            for pv in list(pkg.versions.values()):
                del pkg.versions[pv.version]
                self._emit(repo, pkg, pv, "Deleted", Changes(assets_removed=len(pv.assets)))
            del repo.packages[pkg.key]
            return pkg

    def put_package_origin_configuration(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
        restrictions: dict[str, str],
    ) -> Package:
        with self.lock:
            repo = self._repository(domain, owner, repository)
            check_namespace(fmt, namespace)
            key = request_key(fmt, namespace, package)
            pkg = repo.packages.get(key)
            if pkg is None:
                pkg = Package(*key)
                repo.packages[pkg.key] = pkg
            pkg.publish = restrictions["publish"]
            pkg.upstream = restrictions["upstream"]
            return pkg

    # -- versions ------------------------------------------------------------------------------

    def list_package_versions(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
        status: str | None,
        origin_type: str | None,
        sort_by: str | None,
    ) -> tuple[Package, list[PackageVersion]]:
        with self.lock:
            repo = self._repository(domain, owner, repository)
            pkg = self._package(repo, fmt, namespace, package)
            versions = [
                v
                for v in pkg.versions.values()
                if (status is None or v.status == status)
                and (origin_type is None or v.origin_type == origin_type)
            ]
            if sort_by == "PUBLISHED_TIME":
                versions.sort(key=lambda v: v.published_time, reverse=True)
            return pkg, versions

    def describe_package_version(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
        version: str,
    ) -> tuple[Package, PackageVersion]:
        with self.lock:
            repo = self._repository(domain, owner, repository)
            pkg = self._package(repo, fmt, namespace, package)
            return pkg, self._version(repo, pkg, version)

    def get_package_version_asset(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
        version: str,
        asset: str,
        revision: str | None,
    ) -> tuple[PackageVersion, Asset]:
        with self.lock:
            repo = self._repository(domain, owner, repository)
            pkg = self._package(repo, fmt, namespace, package)
            pv = self._version(repo, pkg, version)
            if revision is not None and revision != pv.revision:
                raise ResourceNotFoundException(
                    f"Package version revision not found: {revision}", "package-version", version
                )
            found = pv.assets.get(asset)
            if found is None:
                raise ResourceNotFoundException(f"Asset not found: {asset}", "asset", asset)
            return pv, found

    def publish_package_version(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
        version: str,
        asset_name: str,
        content: bytes,
        sha256: str,
        unfinished: bool,
    ) -> tuple[Package, PackageVersion, Asset]:
        with self.lock:
            repo = self._repository(domain, owner, repository)
            if fmt != "generic":
                raise ValidationException(
                    "PublishPackageVersion supports only the generic format", "FIELD_VALIDATION_FAILED"
                )
            check_namespace(fmt, namespace)
            if hashlib.sha256(content).hexdigest() != sha256.lower():
                raise ValidationException(
                    "The SHA256 hash of the asset content does not match assetSHA256",
                    "FIELD_VALIDATION_FAILED",
                )
            pkg = repo.packages.get((fmt, namespace, package))
            if pkg is not None and pkg.publish == "BLOCK":
                raise AccessDeniedException(
                    f"Publishing is blocked by the origin configuration of package {package}"
                )
            blocking = self._domain(domain, owner).group_allows(fmt, namespace, package, "PUBLISH", repo.name)
            if blocking is not None and (pkg is None or version not in pkg.versions):
                raise AccessDeniedException(
                    f"Publishing {package} to {repo.name} is blocked by the origin configuration of "
                    f"package group {blocking.pattern.text} (PUBLISH {blocking.modes['PUBLISH']})"
                )
            if pkg is None:
                pkg = Package(fmt, namespace, package, *default_restrictions("INTERNAL"))
                repo.packages[pkg.key] = pkg
            pv = pkg.versions.get(version)
            asset = Asset(asset_name, content)
            status = "Unfinished" if unfinished else "Published"
            if pv is None:
                pv = PackageVersion(
                    version,
                    status,
                    utcnow(),
                    "INTERNAL",
                    {"repositoryName": repo.name},
                    assets={asset_name: asset},
                )
                pkg.versions[version] = pv
                self._emit(repo, pkg, pv, "Created", Changes(assets_added=1, status_changed=True))
                return pkg, pv, asset
            if pv.status != "Unfinished":
                raise ConflictException(
                    f"Package version {version} is {pv.status}; assets can only be added while "
                    "it is Unfinished",
                    "package-version",
                    version,
                )
            if asset_name in pv.assets:
                raise ConflictException(
                    f"Asset {asset_name} already exists in package version {version}",
                    "asset",
                    asset_name,
                )
            pv.assets[asset_name] = asset
            changed = pv.status != status
            pv.status = status
            pv.touch()
            self._emit(repo, pkg, pv, "Updated", Changes(assets_added=1, status_changed=changed))
            return pkg, pv, asset

    def seed_package_version(
        self,
        *,
        domain: str,
        repository: str,
        fmt: str,
        package: str,
        version: str,
        namespace: str | None = None,
        assets: dict[str, bytes] | None = None,
        status: str = "Published",
        published_time: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        origin_type: str | None = None,
        dependencies: list[dict[str, str]] | None = None,
        readme: str | None = None,
    ) -> dict[str, Any]:
        """Put a version of any format in place as its package manager would, with its events.

        ``dependencies`` (PackageDependency dicts: package, namespace, dependencyType,
        versionRequirement) and ``readme`` stand for what the package manager's manifest declared;
        ListPackageVersionDependencies and GetPackageVersionReadme answer them. Given again for an
        existing version they replace the stored ones (a metadata change: new revision, event).

        Name, namespace and version are normalized first, as the package manager's publish
        would be stored (``naming.py``); a package created here gets the default origin
        controls of ``origin_type`` (INTERNAL when not given).
        A new version gets the given assets (default: one file named after the format), status,
        metadata and publishedTime. An existing one is updated: new assets are added (replaced
        ones count as updated), status and metadata are changed, and one Updated event reports
        exactly what changed; a call that changes nothing changes nothing (no event).
        ``origin_type`` EXTERNAL records an ingestion from the repository's external connection
        (which it must have). A new version is refused (AccessDeniedException) when the package's
        origin configuration blocks its way in: ``publish=BLOCK`` for INTERNAL, ``upstream=BLOCK``
        for EXTERNAL.
        """
        with self.lock:
            if status not in STATUSES:
                raise ValidationException(f"Unknown status {status}", "FIELD_VALIDATION_FAILED")
            if origin_type not in (None, "INTERNAL", "EXTERNAL", "UNKNOWN"):
                raise ValidationException(f"Unknown origin type {origin_type}", "FIELD_VALIDATION_FAILED")
            repo = self._repository(domain, None, repository)
            check_namespace(fmt, namespace)
            given_name = package
            origin = origin_type or "INTERNAL"
            namespace = stored_namespace(fmt, namespace)
            package = stored_name(fmt, package)
            version = stored_version(fmt, version)
            pkg = repo.packages.get((fmt, namespace, package))
            if pkg is None:
                # Stored once its first version is let in: a refused seed leaves no package behind.
                pkg = Package(fmt, namespace, package, *default_restrictions(origin))
            pv = pkg.versions.get(version)
            new_assets = {
                name: Asset(name, content)
                for name, content in (assets or {f"{package}-{version}.{fmt}": version.encode()}).items()
            }
            if pv is None:
                entry = {"repositoryName": repo.name}
                if origin == "EXTERNAL":
                    if not repo.external_connections:
                        raise ValidationException(
                            f"Repository {repo.name} has no external connection to ingest from",
                            "FIELD_VALIDATION_FAILED",
                        )
                    entry = {"externalConnectionName": repo.external_connections[0]}
                blocked = pkg.upstream if origin == "EXTERNAL" else pkg.publish
                if blocked == "BLOCK":
                    raise AccessDeniedException(
                        f"The origin configuration of package {package} in {repo.name} blocks "
                        f"{'ingestion' if origin == 'EXTERNAL' else 'publishing'} of new versions"
                    )
                kind = {"INTERNAL": "PUBLISH", "EXTERNAL": "EXTERNAL_UPSTREAM"}.get(origin)
                domain_obj = self._domain(domain, None)
                blocking = (
                    None
                    if kind is None
                    else domain_obj.group_allows(fmt, namespace, package, kind, repo.name)
                )
                if blocking is not None:
                    raise AccessDeniedException(
                        f"The origin configuration of package group {blocking.pattern.text} blocks "
                        f"{kind} of new versions of {package} into {repo.name}"
                    )
                pv = PackageVersion(
                    version,
                    status,
                    published_time or utcnow(),
                    origin,
                    entry,
                    assets=new_assets,
                    metadata=dict(metadata or {}),
                    display_name=given_name if given_name != package else None,
                    dependencies=_dependencies(dependencies),
                    readme=readme,
                )
                pkg.versions[version] = pv
                repo.packages.setdefault(pkg.key, pkg)
                self._emit(
                    repo,
                    pkg,
                    pv,
                    "Created",
                    Changes(
                        assets_added=len(new_assets),
                        metadata_updated=bool(metadata or dependencies or readme),
                        status_changed=True,
                    ),
                )
            else:
                changes = Changes()
                for name, asset in new_assets.items():
                    old = pv.assets.get(name)
                    if old is None:
                        changes.assets_added += 1
                    elif old.hashes != asset.hashes:
                        changes.assets_updated += 1
                    else:
                        continue
                    pv.assets[name] = asset
                if metadata is not None and metadata != pv.metadata:
                    pv.metadata = dict(metadata)
                    changes.metadata_updated = True
                if dependencies is not None and _dependencies(dependencies) != pv.dependencies:
                    pv.dependencies = _dependencies(dependencies)
                    changes.metadata_updated = True
                if readme is not None and readme != pv.readme:
                    pv.readme = readme
                    changes.metadata_updated = True
                if status != pv.status:
                    pv.status = status
                    changes.status_changed = True
                if published_time is not None:
                    pv.published_time = published_time
                if changes != Changes():
                    pv.touch()
                    self._emit(repo, pkg, pv, "Updated", changes)
            return {
                "format": pkg.format,
                "namespace": pkg.namespace,
                "package": pkg.name,
                "version": pv.version,
                "revision": pv.revision,
                "status": pv.status,
                "publishedTime": pv.published_time.isoformat(),
            }

    def _resolve_for_copy(
        self, domain: Domain, source: Repository, key: PackageKey, version: str, include_upstream: bool
    ) -> tuple[Package, PackageVersion] | None:
        order = [source.name]
        own = source.packages.get(key)
        if include_upstream and (own is None or own.upstream == "ALLOW"):
            order = list(self._upstream_order(domain, source))
        for name in order:
            if name != source.name and domain.group_allows(*key, "INTERNAL_UPSTREAM", source.name):
                break  # the package group keeps upstream versions out of the source (module docstring)
            pkg = domain.repositories[name].packages.get(key)
            if pkg is not None and version in pkg.versions:
                return pkg, pkg.versions[version]
        return None

    @staticmethod
    def _upstream_order(domain: Domain, repo: Repository) -> Iterator[str]:
        seen: set[str] = set()

        def walk(name: str) -> Iterator[str]:
            if name in seen:
                return
            seen.add(name)
            yield name
            for upstream in domain.repositories[name].upstreams:
                yield from walk(upstream)

        yield from walk(repo.name)

    def copy_package_versions(
        self,
        *,
        domain: str,
        owner: str | None,
        source_repository: str,
        destination_repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
        versions: list[str] | None,
        version_revisions: dict[str, str] | None,
        allow_overwrite: bool,
        include_from_upstream: bool,
    ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
        with self.lock:
            if (versions is None) == (version_revisions is None):
                raise ValidationException(
                    "You must specify versions or versionRevisions, but not both",
                    "FIELD_VALIDATION_FAILED",
                )
            requested = list(versions) if versions is not None else list(version_revisions or {})
            if not requested:
                raise ValidationException("No package versions were specified", "FIELD_VALIDATION_FAILED")
            if len(requested) > MAX_VERSIONS_PER_CALL:
                raise ValidationException(
                    f"At most {MAX_VERSIONS_PER_CALL} package versions can be copied per request",
                    "FIELD_VALIDATION_FAILED",
                )
            check_namespace(fmt, namespace)
            found = self._domain(domain, owner)
            source = self._repository(domain, owner, source_repository)
            destination = self._repository(domain, owner, destination_repository)
            if source.name == destination.name:
                raise ValidationException(
                    "The source and destination repositories must be different",
                    "FIELD_VALIDATION_FAILED",
                )
            key = request_key(fmt, namespace, package)
            requested = [request_version(fmt, v) for v in requested]
            if version_revisions is not None:
                version_revisions = {request_version(fmt, v): r for v, r in version_revisions.items()}
            candidates = [source.name]
            if include_from_upstream:
                candidates = list(self._upstream_order(found, source))
            if not any(key in found.repositories[name].packages for name in candidates):
                raise ResourceNotFoundException(
                    f"Package not found in repository {source.name}: "
                    f"{package_label(fmt, namespace, package)}",
                    "package",
                    package,
                )
            dest_pkg = destination.packages.get(key)
            failed: dict[str, dict[str, str]] = {}
            to_copy: list[tuple[str, PackageVersion]] = []
            for version in dict.fromkeys(requested):
                resolved = self._resolve_for_copy(found, source, key, version, include_from_upstream)
                if resolved is None:
                    failed[version] = _error("NOT_FOUND", f"Version {version} not found in the source")
                    continue
                _, pv = resolved
                wanted = (version_revisions or {}).get(version)
                if wanted is not None and wanted != pv.revision:
                    failed[version] = _error(
                        "MISMATCHED_REVISION",
                        f"Version {version} has revision {pv.revision}, not {wanted}",
                    )
                    continue
                if pv.status in ("Unfinished", "Disposed"):
                    failed[version] = _error(
                        "MISMATCHED_STATUS", f"Version {version} is {pv.status} and cannot be copied"
                    )
                    continue
                existing = dest_pkg.versions.get(version) if dest_pkg is not None else None
                identical = existing is not None and existing.revision == pv.revision
                if identical and self.service_variant == IDENTICAL_COPY_OMITTED:
                    continue  # the variant: success without a copy, in neither map
                refusal = self._copy_refusal(found, destination, key, dest_pkg, existing, pv, allow_overwrite)
                if refusal is not None:
                    failed[version] = refusal
                    continue
                to_copy.append((version, pv))
            if failed:
                for version, _ in to_copy:
                    failed[version] = _error(
                        "SKIPPED", f"Version {version} was skipped because another version failed"
                    )
                return {}, failed
            successful: dict[str, dict[str, str]] = {}
            if to_copy and dest_pkg is None:
                dest_pkg = Package(*key, *default_restrictions(to_copy[0][1].origin_type))
                destination.packages[key] = dest_pkg
            for version, pv in to_copy:
                assert dest_pkg is not None
                replaced = dest_pkg.versions.get(version)
                if replaced is not None and replaced.revision == pv.revision:
                    # An identical version overwritten: reported, but nothing changed (no event).
                    successful[version] = {"revision": replaced.revision, "status": replaced.status}
                    continue
                copied = copy.deepcopy(pv)
                dest_pkg.versions[version] = copied
                successful[version] = {"revision": copied.revision, "status": copied.status}
                if replaced is None:
                    changes = Changes(
                        assets_added=len(copied.assets),
                        metadata_updated=bool(copied.metadata),
                        status_changed=True,
                    )
                    self._emit(destination, dest_pkg, copied, "Created", changes)
                else:
                    changes = _diff(replaced, copied)
                    self._emit(destination, dest_pkg, copied, "Updated", changes)
            return successful, {}

    def _copy_refusal(  # noqa: PLR0917 - the pieces of one decision
        self,
        domain: Domain,
        destination: Repository,
        key: PackageKey,
        dest_pkg: Package | None,
        existing: PackageVersion | None,
        pv: PackageVersion,
        allow_overwrite: bool,
    ) -> dict[str, str] | None:
        """The failedVersions entry that refuses copying ``pv`` over ``existing``, or None."""
        version = pv.version
        already = _error(
            "ALREADY_EXISTS",
            f"Version {version} already exists in repository {destination.name}",
        )
        not_allowed = _error(
            "NOT_ALLOWED",
            f"The origin configuration of {dest_pkg.name if dest_pkg else version} in "
            f"{destination.name} blocks new versions of origin {pv.origin_type}",
        )
        blocked = dest_pkg is not None and _blocks(dest_pkg, pv.origin_type)
        group = _group_blocks(domain, key, pv.origin_type, destination.name)
        if not blocked and group is not None:
            blocked = True
            not_allowed = _error(
                "NOT_ALLOWED",
                f"The origin configuration of package group {group.pattern.text} blocks new versions "
                f"of origin {pv.origin_type} of {key[2]} in {destination.name}",
            )
        exists = existing is not None and not allow_overwrite
        if self.service_variant == IDENTICAL_COPY_OMITTED:  # its order: origin controls first
            return not_allowed if blocked else already if exists else None
        # documented: "If set to false and the package version already exists in the destination
        # repository, the package version is returned in the failedVersions field of the response
        # with an ALREADY_EXISTS error code."
        return already if exists else not_allowed if blocked else None

    def _select_versions(
        self,
        repo: Repository,
        pkg: Package,
        versions: Iterable[str],
        version_revisions: dict[str, str] | None,
        expected_status: str | None,
    ) -> tuple[list[PackageVersion], dict[str, dict[str, str]]]:
        selected: list[PackageVersion] = []
        failed: dict[str, dict[str, str]] = {}
        versions = [request_version(pkg.format, v) for v in versions]
        if version_revisions:
            version_revisions = {request_version(pkg.format, v): r for v, r in version_revisions.items()}
        for version in dict.fromkeys(versions):
            pv = pkg.versions.get(version)
            if pv is None:
                failed[version] = _error("NOT_FOUND", f"Version {version} not found in {repo.name}")
            elif (
                version_revisions
                and version in version_revisions
                and (version_revisions[version] != pv.revision)
            ):
                failed[version] = _error(
                    "MISMATCHED_REVISION",
                    f"Version {version} has revision {pv.revision}, not {version_revisions[version]}",
                )
            elif expected_status is not None and pv.status != expected_status:
                failed[version] = _error(
                    "MISMATCHED_STATUS", f"Version {version} is {pv.status}, not {expected_status}"
                )
            else:
                selected.append(pv)
        return selected, failed

    def update_package_versions_status(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
        versions: list[str],
        version_revisions: dict[str, str] | None,
        expected_status: str | None,
        target_status: str,
    ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
        with self.lock:
            if target_status not in UPDATABLE_TARGET_STATUSES:
                raise ValidationException(
                    f"targetStatus {target_status} is not allowed; use Published, Unlisted or "
                    "Archived (DisposePackageVersions disposes versions)",
                    "FIELD_VALIDATION_FAILED",
                )
            if len(versions) > MAX_VERSIONS_PER_CALL:
                raise ValidationException(
                    f"At most {MAX_VERSIONS_PER_CALL} versions per request", "FIELD_VALIDATION_FAILED"
                )
            repo = self._repository(domain, owner, repository)
            pkg = self._package(repo, fmt, namespace, package)
            selected, failed = self._select_versions(repo, pkg, versions, version_revisions, expected_status)
            successful: dict[str, dict[str, str]] = {}
            for pv in selected:
                if pv.status == "Unfinished" and target_status != "Published":
                    failed[pv.version] = _error("MISMATCHED_STATUS", f"Version {pv.version} is Unfinished")
                    continue
                if pv.status != target_status:
                    pv.status = target_status
                    pv.touch()
                    self._emit(repo, pkg, pv, "Updated", Changes(status_changed=True))
                successful[pv.version] = {"revision": pv.revision, "status": pv.status}
            return successful, failed

    def delete_package_versions(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
        versions: list[str],
        expected_status: str | None,
    ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
        with self.lock:
            if len(versions) > MAX_VERSIONS_PER_CALL:
                raise ValidationException(
                    f"At most {MAX_VERSIONS_PER_CALL} versions per request", "FIELD_VALIDATION_FAILED"
                )
            repo = self._repository(domain, owner, repository)
            pkg = self._package(repo, fmt, namespace, package)
            selected, failed = self._select_versions(repo, pkg, versions, None, expected_status)
            successful: dict[str, dict[str, str]] = {}
            for pv in selected:
                del pkg.versions[pv.version]
                successful[pv.version] = {"revision": pv.revision, "status": "Deleted"}
                self._emit(repo, pkg, pv, "Deleted", Changes(assets_removed=len(pv.assets)))
            return successful, failed

    def dispose_package_versions(
        self,
        *,
        domain: str,
        owner: str | None,
        repository: str,
        fmt: str,
        namespace: str | None,
        package: str,
        versions: list[str],
        version_revisions: dict[str, str] | None,
        expected_status: str | None,
    ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
        with self.lock:
            repo = self._repository(domain, owner, repository)
            pkg = self._package(repo, fmt, namespace, package)
            selected, failed = self._select_versions(repo, pkg, versions, version_revisions, expected_status)
            successful: dict[str, dict[str, str]] = {}
            for pv in selected:
                removed = len(pv.assets)
                changed = pv.status != "Disposed"
                pv.assets.clear()
                pv.status = "Disposed"
                if removed or changed:
                    pv.touch()
                    self._emit(
                        repo, pkg, pv, "Updated", Changes(assets_removed=removed, status_changed=changed)
                    )
                successful[pv.version] = {"revision": pv.revision, "status": pv.status}
            return successful, failed

    def reset_state(self) -> None:
        """Forget every domain, the quota settings and the service variant (back to the default)."""
        with self.lock:
            self.domains.clear()
            self.quotas.reset()
            self.service_variant = _process_default[0]


def request_key(fmt: str, namespace: str | None, package: str) -> PackageKey:
    """The stored package an API request names (nuget and swift inputs are normalized)."""
    return (fmt, request_namespace(fmt, namespace), request_name(fmt, package))


def _blocks(pkg: Package, origin_type: str) -> bool:
    """Whether ``pkg``'s origin controls keep out a copied version of this origin.

    *Choice*: a copy enters the way its version first entered the domain: an INTERNAL version
    needs ``publish=ALLOW``, an EXTERNAL one ``upstream=ALLOW``, an UNKNOWN one either.
    """
    if origin_type == "INTERNAL":
        return pkg.publish == "BLOCK"
    if origin_type == "EXTERNAL":
        return pkg.upstream == "BLOCK"
    return pkg.publish == "BLOCK" and pkg.upstream == "BLOCK"


def _group_blocks(domain: Domain, key: PackageKey, origin_type: str, repository: str) -> PackageGroup | None:
    """The package group that keeps a copied version of this origin out of ``repository``, if any.

    *Choice*, as for package origin controls: INTERNAL enters by PUBLISH, EXTERNAL by EXTERNAL_UPSTREAM,
    UNKNOWN is kept out only when both are.
    """
    kinds = {"INTERNAL": ["PUBLISH"], "EXTERNAL": ["EXTERNAL_UPSTREAM"]}.get(
        origin_type, ["PUBLISH", "EXTERNAL_UPSTREAM"]
    )
    blocking = [domain.group_allows(*key, kind, repository) for kind in kinds]
    return blocking[0] if all(g is not None for g in blocking) else None


def _dependencies(given: list[dict[str, str]] | None) -> list[dict[str, str]]:
    """PackageDependency entries as the API shapes them (only its members, as strings)."""
    members = ("namespace", "package", "dependencyType", "versionRequirement")
    out = []
    for entry in given or []:
        if not isinstance(entry, dict) or not entry.get("package"):
            raise ValidationException("each dependency needs at least a 'package'", "FIELD_VALIDATION_FAILED")
        out.append({k: str(entry[k]) for k in members if entry.get(k) is not None})
    return out


def _tagged(current: dict[str, str], tags: Iterable[dict[str, str]], arn: str) -> dict[str, str]:
    """``current`` with ``tags`` added or updated (same key: the new value), within the limits.

    *Choice* (CodeArtifact documents neither): at most MAX_TAGS_PER_RESOURCE tags, the limit AWS's
    tagging guidance gives, else ServiceQuotaExceededException (which TagResource may answer); keys
    starting ``aws:`` are reserved for AWS and refused with ValidationException.
    """
    merged = dict(current)
    for tag in tags:
        if tag["key"].lower().startswith("aws:"):
            raise ValidationException(
                f"Tag keys starting with 'aws:' are reserved: {tag['key']}", "FIELD_VALIDATION_FAILED"
            )
        merged[tag["key"]] = tag.get("value", "")
    if len(merged) > MAX_TAGS_PER_RESOURCE:
        raise ServiceQuotaExceededException(
            f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags", "tag", arn
        )
    return merged


def _check_policy_document(document: str) -> None:
    """The document must be JSON (the API: "A valid displayable JSON Aspen policy string"); *Choice*:
    a JSON object with a ``Statement``, the least an IAM policy has. Its size the model checks."""
    try:
        parsed = json.loads(document)
    except ValueError:
        raise ValidationException(
            "The policy document is not valid JSON", "FIELD_VALIDATION_FAILED"
        ) from None
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise ValidationException(
            "The policy document must be a JSON object with a Statement", "FIELD_VALIDATION_FAILED"
        )


def _check_policy_revision(holder: Domain | Repository, revision: str | None) -> None:
    """``policyRevision`` is for optimistic locking: given, it must be the current policy's revision."""
    if revision is None:
        return
    current = holder.policy.revision if holder.policy is not None else None
    if revision != current:
        raise ConflictException(
            f"The policy revision {revision} is not the current revision of the resource policy of "
            f"{holder.arn}",
            "resource-policy",
            holder.arn,
        )


def _no_policy(holder: Domain | Repository) -> ResourceNotFoundException:
    return ResourceNotFoundException(
        f"No resource policy is set on {holder.arn}", "resource-policy", holder.arn
    )


def _error(code: str, message: str) -> dict[str, str]:
    return {"errorCode": code, "errorMessage": message}


def _diff(old: PackageVersion, new: PackageVersion) -> Changes:
    changes = Changes(status_changed=old.status != new.status, metadata_updated=old.metadata != new.metadata)
    for name, asset in new.assets.items():
        previous = old.assets.get(name)
        if previous is None:
            changes.assets_added += 1
        elif previous.hashes != asset.hashes:
            changes.assets_updated += 1
    changes.assets_removed = len(set(old.assets) - set(new.assets))
    return changes


codeartifact_backends = BackendDict(CodeArtifactBackend, "codeartifact")
