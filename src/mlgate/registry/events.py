"""Registry events decoded from tags, and the problems found on the way (never silently dropped).

A ``RawTag`` is one line of ``git for-each-ref``; ``decode`` turns the registry tags among them
into ``Event`` values (payload parsed and schema-checked) and everything odd into ``Problem``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mlgate.registry.grammar import Kind, ParsedTag, looks_like_registry_tag, parse_tag
from mlgate.registry.payload import PayloadChecker, parse_payload

FETCH_HINT = "run 'git fetch --tags --force' to replace them with the annotated tags"


class RawTag(NamedTuple):
    """One tag as git stores it. ``target`` is the commit an annotated tag points at.

    Named tuples, not frozen dataclasses: thousands are made per read, and they are 3x cheaper.
    """

    name: str
    object_type: str  # "tag" for annotated tags; "commit" (etc.) for lightweight ones
    object_id: str
    target_type: str
    target: str
    tagger_name: str = ""
    tagger_email: str = ""
    timestamp: int = 0
    date: str = ""
    subject: str = ""
    body: str = ""
    signed: bool = False

    @property
    def annotated(self) -> bool:
        return self.object_type == "tag"


class Event(NamedTuple):
    """One registry event. For stage events ``version`` is filled in by the replay (by commit)."""

    kind: Kind
    name: str
    tag: str
    commit: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None
    timestamp: int = 0
    date: str = ""
    tagger: str = ""
    tagger_email: str = ""
    summary: str = ""
    payload_text: str = ""  # the checked JSON payload ("" when there is none or it is unusable)
    signed: bool = False
    object_id: str = ""
    payload_error: str | None = None  # why a JSON payload in the message is unusable

    @property
    def payload(self) -> dict[str, Any] | None:
        """The payload, parsed on demand (most reads never need it; thousands would cost)."""
        return json.loads(self.payload_text) if self.payload_text else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.kind.value,
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "counter": self.counter,
            "tag": self.tag,
            "commit": self.commit,
            "date": self.date,
            "timestamp": self.timestamp,
            "tagger": self.tagger,
            "tagger_email": self.tagger_email,
            "summary": self.summary,
            "signed": self.signed,
            "payload": self.payload,
            "payload_error": self.payload_error,
        }


@dataclass(frozen=True)
class Problem:
    """Something in the tags that mlgate did not take into the state, and what to do about it."""

    tag: str
    kind: str  # lightweight | payload | unrecognised | target | conflict | diverged
    message: str
    hint: str | None = None
    name: str | None = None  # the model it concerns, when known

    def to_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "kind": self.kind,
            "name": self.name,
            "message": self.message,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        return f"{self.tag}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass
class Decoded:
    """The result of decoding: events, problems, and every tag name present (for collisions)."""

    events: list[Event] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    parsed: dict[str, ParsedTag] = field(default_factory=dict)  # every registry-like name


def decode(tags: Iterable[RawTag], checker: PayloadChecker | None = None) -> Decoded:
    """Registry events of ``tags`` in one pass; lightweight and malformed tags become problems."""
    out = Decoded()
    for raw in tags:
        out.names.add(raw.name)
        parsed = parse_tag(raw.name)
        if parsed is not None:
            out.parsed[raw.name] = parsed
        if parsed is None:
            if looks_like_registry_tag(raw.name):
                out.problems.append(
                    Problem(
                        raw.name,
                        "unrecognised",
                        "looks like a registry tag but does not follow the grammar",
                        "registry tags are NAME@vX.Y.Z, NAME@vX.Y.Z!, NAME#STAGE#N, "
                        "NAME#STAGE!#N or NAME@deprecated",
                    )
                )
            continue
        if not raw.annotated:
            out.problems.append(
                Problem(
                    raw.name,
                    "lightweight",
                    "is a lightweight tag where the registry expects an annotated one "
                    "(CI checkouts often fetch tags that way); it is left out of the state",
                    FETCH_HINT,
                    parsed.name,
                )
            )
            continue
        if raw.target_type != "commit":
            out.problems.append(
                Problem(
                    raw.name,
                    "target",
                    f"points at a {raw.target_type or 'missing object'}, not a commit",
                    "registry tags must tag the commit that produced the model",
                    parsed.name,
                )
            )
            continue
        text, error = _payload_text(raw, parsed, checker or PayloadChecker())
        if error is not None:
            out.problems.append(
                Problem(
                    raw.name,
                    "payload",
                    f"corrupted payload in the tag message: {error}",
                    f"inspect it with 'git show {raw.name}'; a hand-made tag can be deleted "
                    "and recreated with mlgate",
                    parsed.name,
                )
            )
        out.events.append(  # positional, in Event's field order (thousands per read)
            Event(
                parsed.kind,
                parsed.name,
                raw.name,
                raw.target,
                parsed.version,
                parsed.stage,
                parsed.counter,
                raw.timestamp,
                raw.date,
                raw.tagger_name,
                raw.tagger_email.strip("<>"),
                raw.subject,
                text,
                raw.signed,
                raw.object_id,
                error,
            )
        )
    return out


def _payload_text(
    raw: RawTag, parsed: ParsedTag, checker: PayloadChecker
) -> tuple[str, str | None]:
    """The message body if it holds a valid payload that agrees with the tag; else why not.

    The event still counts when its payload is unusable (GTO reads it too); only the payload
    is left out.
    """
    if not raw.body.lstrip().startswith("{"):
        return "", None  # a plain message (GTO's, or a hand-made tag): no payload
    if checker.known(raw.object_id):
        return raw.body, None
    payload, error = parse_payload(raw.body)
    if error is None and payload is not None:
        error = _mismatch(parsed.kind, parsed.name, parsed.version, parsed.stage, payload)
    if error is not None:
        return "", error
    checker.remember(raw.object_id)
    return raw.body, None


def _mismatch(
    kind: Kind, name: str, version: str | None, stage: str | None, payload: Mapping[str, Any]
) -> str | None:
    """Why the payload contradicts the tag name, or None when they agree."""
    if payload.get("model") != name:
        return f"payload model {payload.get('model')!r} does not match the tag's {name!r}"
    if "event" in payload and payload["event"] != kind.value:
        return f"payload event {payload['event']!r} does not match the tag's {kind.value!r}"
    if version is not None and payload.get("version") != version:
        return f"payload version {payload.get('version')!r} does not match the tag's {version!r}"
    if stage is not None and "stage" in payload and payload["stage"] != stage:
        return f"payload stage {payload['stage']!r} does not match the tag's {stage!r}"
    return None
