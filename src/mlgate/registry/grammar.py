"""Tag grammar shared with GTO: parse and format registry tags, names, versions and references.

| event | tag |
|---|---|
| register | ``NAME@vX.Y.Z`` |
| deregister | ``NAME@vX.Y.Z!`` |
| assign | ``NAME#STAGE#N`` |
| unassign | ``NAME#STAGE!#N`` |
| deprecate | ``NAME@deprecated`` |

A model in a monorepo folder, ``dir:name``, is written ``dir=name`` in tags. ``N`` is a counter per
model, strictly increasing across all its counted tags. Pure functions only: no git here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache, total_ordering
from typing import NamedTuple

from mlgate.errors import UsageError

NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9_/-]*[a-zA-Z0-9])?"
DIRNAME = r"[a-zA-Z0-9_./-]+"
SEMVER = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_SEMVER_RE = re.compile(f"^v{SEMVER}$")
_NAME_RE = re.compile(f"^{NAME}$")
_FULLNAME_RE = re.compile(f"^(?:(?P<dir>{DIRNAME}):)?(?P<name>{NAME})$")
_TAG_RE = re.compile(
    rf"^(?P<artifact>(?:{DIRNAME}=)?{NAME})"
    rf"(?:(?:#(?P<stage>{NAME})|@(?P<version>v{SEMVER}))(?P<cancel>!?)"
    r"|@(?P<special>deprecated|created))"
    r"(?:#(?P<counter>[0-9]+))?$"
)
_REF_RE = re.compile(
    rf"^(?P<artifact>(?:{DIRNAME}[:=])?{NAME})"
    rf"(?:#(?P<stage>{NAME})|@(?P<version>latest|greatest|v{SEMVER}))$"
)
TAGS_PREFIX = "refs/tags/"
NAME_RULES = (
    "names use letters, digits, '-', '_' and '/', start and end with a letter or digit; "
    "a model in a monorepo folder is written dir:name"
)


class Kind(str, Enum):
    """What a registry tag records."""

    REGISTER = "register"
    DEREGISTER = "deregister"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    DEPRECATE = "deprecate"
    CREATE = "create"  # GTO's "NAME@created": reserved there, read but never written here

    @property
    def counted(self) -> bool:
        """Whether mlgate writes this kind with the per-model counter ``#N``."""
        return self in (Kind.ASSIGN, Kind.UNASSIGN)


@total_ordering
@dataclass(frozen=True)
class SemVer:
    """A ``vMAJOR.MINOR.PATCH[-PRE][+BUILD]`` version, ordered by semantic-versioning rules."""

    major: int
    minor: int
    patch: int
    pre: str | None = None
    build: str | None = None

    @classmethod
    def parse(cls, text: str) -> SemVer:
        return _parse_semver(text)

    @staticmethod
    def is_valid(text: str) -> bool:
        return bool(_SEMVER_RE.match(text))

    def __str__(self) -> str:
        text = f"v{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += f"-{self.pre}"
        if self.build:
            text += f"+{self.build}"
        return text

    def sort_key(self) -> tuple[object, ...]:
        # A release sorts after its pre-releases; numeric identifiers below alphanumeric ones.
        if self.pre is None:
            pre: tuple[object, ...] = (1,)
        else:
            pre = (
                0,
                *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre.split(".")),
            )
        return (self.major, self.minor, self.patch, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self.sort_key() == other.sort_key()

    def __hash__(self) -> int:
        return hash(self.sort_key())

    def bump(self, part: str) -> SemVer:
        """The next version: ``major``, ``minor`` or ``patch`` (pre-release and build dropped)."""
        if part == "major":
            return SemVer(self.major + 1, 0, 0)
        if part == "minor":
            return SemVer(self.major, self.minor + 1, 0)
        if part == "patch":
            return SemVer(self.major, self.minor, self.patch + 1)
        raise UsageError(f"unknown bump {part!r}", hint="use major, minor or patch")


@lru_cache(maxsize=65536)
def _parse_semver(text: str) -> SemVer:
    match = _SEMVER_RE.match(text)
    if not match:
        raise UsageError(f"invalid version {text!r}", hint=_version_hint(text))
    return SemVer(
        int(match["major"]),
        int(match["minor"]),
        int(match["patch"]),
        match["pre"],
        match["build"],
    )


FIRST_VERSION = SemVer(0, 0, 1)  # what GTO registers first when no version is given


def _version_hint(text: str) -> str:
    if _SEMVER_RE.match("v" + text):
        return f"versions start with 'v': did you mean 'v{text}'?"
    return "use semantic versioning with a leading 'v', e.g. v1.2.0 or v2.0.0-rc.1"


class ParsedTag(NamedTuple):
    """A registry tag name taken apart. ``name`` uses ``dir:name``; ``tag_name`` ``dir=name``."""

    tag: str
    kind: Kind
    name: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None

    @property
    def tag_name(self) -> str:
        return to_tag_name(self.name)


def to_tag_name(name: str) -> str:
    return name.replace(":", "=")


def from_tag_name(name: str) -> str:
    return name.replace("=", ":")


def parse_tag(tag: str) -> ParsedTag | None:
    """The registry event a tag name records, or None when it is not a registry tag."""
    tag = tag.removeprefix(TAGS_PREFIX)
    match = _TAG_RE.match(tag)
    if not match:
        return None
    counter = int(match["counter"]) if match["counter"] else None
    name = from_tag_name(match["artifact"])
    cancel = match["cancel"] == "!"
    if match["special"]:
        kind = Kind.DEPRECATE if match["special"] == "deprecated" else Kind.CREATE
        return ParsedTag(tag, kind, name, counter=counter)
    if match["version"]:
        kind = Kind.DEREGISTER if cancel else Kind.REGISTER
        return ParsedTag(tag, kind, name, version=match["version"], counter=counter)
    kind = Kind.UNASSIGN if cancel else Kind.ASSIGN
    return ParsedTag(tag, kind, name, stage=match["stage"], counter=counter)


def looks_like_registry_tag(tag: str) -> bool:
    """A tag that uses the registry's separators but does not parse (worth reporting)."""
    return ("@" in tag or "#" in tag) and parse_tag(tag) is None


def format_tag(
    kind: Kind,
    name: str,
    *,
    version: str | None = None,
    stage: str | None = None,
    counter: int | None = None,
) -> str:
    """The tag name for an event; validates every part so a bad tag is never created."""
    base = to_tag_name(check_name(name))
    if kind in (Kind.REGISTER, Kind.DEREGISTER):
        if version is None:
            raise ValueError("a version event needs a version")
        tag = f"{base}@{check_version(version)}" + ("!" if kind is Kind.DEREGISTER else "")
    elif kind in (Kind.ASSIGN, Kind.UNASSIGN):
        if stage is None:
            raise ValueError("a stage event needs a stage")
        tag = f"{base}#{check_stage(stage)}" + ("!" if kind is Kind.UNASSIGN else "")
    elif kind is Kind.DEPRECATE:
        tag = f"{base}@deprecated"
    else:
        raise ValueError(f"mlgate does not write {kind.value} tags")
    if counter is not None:
        tag += f"#{counter}"
    check_refname(tag)
    return tag


def check_name(name: str) -> str:
    """``name`` (``dir:name`` or ``dir=name``) if it is a valid model name; else UsageError."""
    match = _FULLNAME_RE.match(from_tag_name(name))
    if not match or from_tag_name(name).count(":") > 1:
        raise UsageError(f"invalid model name {name!r}", hint=NAME_RULES)
    return from_tag_name(name)


def check_stage(stage: str) -> str:
    if not _NAME_RE.match(stage):
        raise UsageError(
            f"invalid stage name {stage!r}",
            hint="stages use letters, digits, '-', '_' and '/', and start and end with a "
            "letter or digit",
        )
    return stage


def check_version(version: str) -> str:
    SemVer.parse(version)
    return version


_BAD_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def check_refname(tag: str) -> str:
    """The rules of ``git check-ref-format`` that the grammar alone does not exclude."""
    problems = []
    if _BAD_REF_CHARS.search(tag):
        problems.append("contains a character git forbids in tag names")
    if ".." in tag or "//" in tag or "@{" in tag:
        problems.append("contains '..', '//' or '@{'")
    problems.extend(
        f"has a path component {part!r} git forbids"
        for part in tag.split("/")
        if part.startswith(".") or part.endswith(".lock")
    )
    if tag.endswith((".", "/")):
        problems.append("ends with '.' or '/'")
    if problems:
        raise UsageError(f"{tag!r} is not a valid git tag name: {problems[0]}", hint=NAME_RULES)
    return tag


@dataclass(frozen=True)
class RegistryRef:
    """What ``resolve`` asks for: a stage holder, the latest version, or one version."""

    name: str
    stage: str | None = None
    version: str | None = None
    latest: bool = False

    def __str__(self) -> str:
        base = to_tag_name(self.name)
        if self.stage:
            return f"{base}#{self.stage}"
        return f"{base}@{'latest' if self.latest else self.version}"


def parse_ref(text: str) -> RegistryRef:
    """``NAME#STAGE``, ``NAME@latest`` (or ``@greatest``) or ``NAME@vX.Y.Z``; else UsageError."""
    match = _REF_RE.match(text.strip())
    if not match:
        raise UsageError(
            f"cannot resolve {text!r}",
            hint="use NAME#STAGE, NAME@latest or NAME@vX.Y.Z (e.g. churn#prod, churn@v1.2.0)",
        )
    name = check_name(match["artifact"])
    version = match["version"]
    if version in ("latest", "greatest"):
        return RegistryRef(name, latest=True)
    if version:
        return RegistryRef(name, version=version)
    return RegistryRef(name, stage=match["stage"])
