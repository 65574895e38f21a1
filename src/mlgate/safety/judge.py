"""One judgement per model file: what it uses, and every reason it must not be loaded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlgate.safety import allowlist, containers
from mlgate.safety.picklewalk import Reference, Refused, walk

PICKLE_FORMATS = ("pickle", "joblib")


@dataclass(frozen=True)
class Judgement:
    """``problems`` is empty when the file may be loaded; ``references`` are the names it uses
    (those seen before a refusal, when the walk could not go on)."""

    fmt: str
    references: tuple[Reference, ...]
    problems: tuple[str, ...]
    payload: bytes | None = None  # the bytes the loader reads (joblib: decompressed)

    @property
    def safe(self) -> bool:
        return not self.problems

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.full for r in self.references))

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple(dict.fromkeys((r.module, r.name) for r in self.references))

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.module for r in self.references))


def pickle_payload(data: bytes, fmt: str) -> bytes:
    """What the unpickler reads: a joblib file decompressed as joblib would (Refused when it
    cannot be), a pickle file as it is."""
    if fmt == "joblib":
        method = containers.compression(data)
        if method is not None:
            return containers.decompress(data, method)
    return data


def judge_bytes(data: bytes, fmt: str, trusted_types: Sequence[str] = ()) -> Judgement:
    """Judge a pickle or joblib file's bytes statically (nothing is imported or built)."""
    if fmt not in PICKLE_FORMATS:
        raise ValueError(f"judge_bytes reads pickle and joblib files, not {fmt}")
    allowed = allowlist.for_model(trusted_types)
    problems: list[str] = []
    references: tuple[Reference, ...] = ()
    payload: bytes | None = None
    try:
        payload = pickle_payload(data, fmt)
        references = walk(payload, joblib=fmt == "joblib")
    except Refused as exc:
        problems.append(f"cannot be judged without running it: {exc.reason}")
        references = exc.references
        payload = None
    for ref in references:
        reason = allowed.refusal(ref.module, ref.name, ref.use)
        if reason is not None and reason not in problems:
            problems.append(reason)
    return Judgement(fmt, references, tuple(problems), payload if not problems else None)
