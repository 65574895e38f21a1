"""skops, pickle and joblib: thin adapters around ``mlgate.modelio``'s loaders and scanners.

The safety rules (skops allow-list, pickle judgement, restricted unpickler) live in
``mlgate.safety`` and ``modelio``; these adapters plug them into the format registry and are
``mlgate scan``'s check of such a file (``serialised_check``).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate import modelio
from mlgate.errors import ConfigError, Location
from mlgate.formats.base import LoadOptions, Signature
from mlgate.modelio import scan_pickle
from mlgate.safety import skopsfile
from mlgate.verdict import Check, Status

# zlib, gzip, bz2, xz, lzma and lz4 magic: how joblib's compressed files start.
_JOBLIB_COMPRESSED = (
    b"\x78",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x5d\x00\x00",
    b"\x04\x22\x4d\x18",
)


# Opcodes a protocol 0 or 1 pickle can start with (MARK, GLOBAL, EMPTY_LIST, EMPTY_DICT, ...).
_OLD_PROTOCOL_START = frozenset(b"(c]}NIFSVLdlp")


def _is_pickle(head: bytes) -> bool:
    """A pickle stream: protocol 2 or later starts with PROTO and its protocol number; older
    protocols are recognised when the opcodes of the first bytes parse."""
    if len(head) >= 2 and head[0] == 0x80:
        return 2 <= head[1] <= 5
    if not head or head[0] not in _OLD_PROTOCOL_START:
        return False
    import pickletools

    count = 0
    try:
        for opcode, _, _ in pickletools.genops(io.BytesIO(head)):
            count += 1
            if opcode.name == "STOP" or count >= 8:
                return True
    except (ValueError, IndexError, EOFError, UnicodeDecodeError):
        return False
    return False


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{what} file not found: {path}",
            location=Location(str(path)),
            hint="train the model first (mlgate train)",
        ) from None


@dataclass(frozen=True)
class SkopsFormat:
    name: str = "skops"
    title: str = "skops"
    suffixes: tuple[str, ...] = (".skops",)
    how_to_save: str = "skops.io.dump(model, 'model.skops') (scikit-learn pipelines)"

    def recognise(self, path: Path, head: bytes) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(path) as archive:
                return "schema.json" in archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return False

    def load(self, path: Path, options: LoadOptions) -> Any:
        data = _read(path, options.what)
        return modelio._load_skops(path, data, options.trusted_types, options.what)

    def loads_without_unpickling(self, path: Path) -> bool:
        return True

    def signature(self, path: Path) -> Signature | None:
        return None

    def modules(self, path: Path) -> set[str]:
        found = {"skops"}
        try:
            with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
                schema = json.loads(archive.read("schema.json"))
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            return found
        return found | set(_walk_modules(schema))

    def requirements(self, path: Path) -> tuple[str, ...]:
        return ()

    def scan(
        self,
        path: Path,
        *,
        check_id: str,
        shown: str,
        trusted_types: Sequence[str],
        config_key: tuple[str, ...] | None,
    ) -> Check:
        return serialised_check(path, "skops", check_id, shown, trusted_types, config_key)

    def content_digest(self, path: Path) -> str | None:
        found = archive_digest(path)
        return found.sha256 if found else None


@dataclass(frozen=True)
class PickleFormat:
    name: str = "pickle"
    title: str = "pickle"
    suffixes: tuple[str, ...] = (".pkl", ".pickle")
    how_to_save: str = (
        "pickle.dump(model, f) (loads only with model.trusted: true; prefer a native format)"
    )

    def recognise(self, path: Path, head: bytes) -> bool:
        return _is_pickle(head)

    def load(self, path: Path, options: LoadOptions) -> Any:
        data = _read(path, options.what)
        return modelio._load_pickle(
            path,
            data,
            self.name,
            trusted=options.trusted,
            what=options.what,
            trusted_types=options.trusted_types,
        )

    def loads_without_unpickling(self, path: Path) -> bool:
        return False

    def signature(self, path: Path) -> Signature | None:
        return None

    def modules(self, path: Path) -> set[str]:
        found = set(scan_pickle(path.read_bytes(), self.name).modules)
        return found | ({"joblib"} if self.name == "joblib" else set())

    def requirements(self, path: Path) -> tuple[str, ...]:
        return ()

    def scan(
        self,
        path: Path,
        *,
        check_id: str,
        shown: str,
        trusted_types: Sequence[str],
        config_key: tuple[str, ...] | None,
    ) -> Check:
        return serialised_check(path, self.name, check_id, shown, trusted_types, config_key)

    def content_digest(self, path: Path) -> str | None:
        return None


@dataclass(frozen=True)
class JoblibFormat(PickleFormat):
    name: str = "joblib"
    title: str = "joblib"
    suffixes: tuple[str, ...] = (".joblib",)
    how_to_save: str = (
        "joblib.dump(model, 'model.joblib') (loads only with model.trusted: true; "
        "prefer a native format)"
    )

    def recognise(self, path: Path, head: bytes) -> bool:
        if _is_pickle(head):
            return b"joblib" in head
        # joblib.load decompresses whatever the suffix: compressed files are joblib's.
        return path.suffix.lower() in (".joblib", ".pkl", ".pickle") and head.startswith(
            _JOBLIB_COMPRESSED
        )


def _walk_modules(node: Any, depth: int = 0) -> Iterator[str]:
    if depth > 200:  # a schema nested deeper than any real model: stop, do not recurse forever
        return
    if isinstance(node, dict):
        module = node.get("__module__")
        if isinstance(module, str):
            yield module
        for value in node.values():
            yield from _walk_modules(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_modules(value, depth + 1)


SKOPS = SkopsFormat()
PICKLE = PickleFormat()
JOBLIB = JoblibFormat()


def serialised_check(
    path: Path,
    fmt: str,
    check_id: str,
    shown: str,
    trusted: Sequence[str],
    key: tuple[str, ...] | None,
) -> Check:
    """The check of a skops, pickle or joblib file (their formats' scan hook)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Check(
            check_id, "scan", Status.FAIL, f"{shown}: unreadable ({exc.strerror})", config_key=key
        )
    if fmt == "skops":
        # The static judgement only: skops's own audit (which imports skops and all of
        # scikit-learn) runs where the file is loaded, before skops builds anything.
        problems, refs = skopsfile.static_judgement(data, trusted)
        names = list(dict.fromkeys(r.full for r in refs))
        details: dict[str, Any] = {"format": "skops", "names": names, "refused": problems}
        passed = f"every name is on the allow-list ({len(names)} names)"
        advice = ""
    else:
        found = scan_pickle(data, fmt, trusted)
        problems = list(found.problems)
        details = {"format": fmt, "imports": list(found.names), "refused": problems}
        passed = f"every name is on the allow-list ({len(found.names)} names)"
        advice = " (judged without unpickling; list your own classes in model.trusted_types)"
    if problems:
        message = f"{shown}: this {fmt} file must not be loaded: " + "; ".join(problems) + advice
        return Check(check_id, "scan", Status.FAIL, message, details=details, config_key=key)
    return Check(
        check_id, "scan", Status.PASS, f"{shown}: {passed}", details=details, config_key=key
    )


# skops files are zip archives whose entries carry timestamps and whose member names and
# ``__id__`` fields are the Python object ids of the saving process, so two identical trainings
# never give identical bytes. Their *content* hash renumbers those ids in order of first
# appearance and hashes the sorted members' contents; equal models give equal content hashes.
_ID_FILE = re.compile(r"^(\d+)\.(\w+)$")
SKOPS_SCHEMA = "schema.json"


@dataclass(frozen=True)
class ArchiveDigest:
    """Content hash of a zip archive and the hash of each (canonically named) member."""

    kind: str  # "skops" or "zip"
    sha256: str
    members: Mapping[str, str]


def archive_digest(path: Path) -> ArchiveDigest | None:
    """The content hash of a zip-based file (skops or any zip); None for other files."""
    try:
        if not zipfile.is_zipfile(path):
            return None
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if SKOPS_SCHEMA in names:
                kind, members = "skops", _skops_members(zf, names)
            else:
                kind, members = "zip", {n: _member_sha(zf, n) for n in names}
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None
    return ArchiveDigest(kind, _combine(members), dict(sorted(members.items())))


def _combine(members: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(members):
        digest.update(f"{name}\0{members[name]}\n".encode())
    return digest.hexdigest()


def _member_sha(zf: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with zf.open(name) as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _skops_members(zf: zipfile.ZipFile, names: list[str]) -> dict[str, str]:
    schema = json.loads(zf.read(SKOPS_SCHEMA))
    ids: dict[int, int] = {}
    canonical = _renumber(schema, ids)
    members = {
        SKOPS_SCHEMA: hashlib.sha256(
            json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
    }
    for name in names:
        if name == SKOPS_SCHEMA or name.endswith("/"):
            continue
        match = _ID_FILE.match(name)
        shown = name
        if match and int(match[1]) in ids:
            shown = f"{ids[int(match[1])]}.{match[2]}"
        members[shown] = _member_sha(zf, name)
    return members


def _renumber(node: Any, ids: dict[int, int]) -> Any:
    """The schema with object ids replaced by their order of first appearance."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "__id__" and isinstance(value, int) and not isinstance(value, bool):
                out[key] = ids.setdefault(value, len(ids))
            elif key == "file" and isinstance(value, str) and (match := _ID_FILE.match(value)):
                out[key] = f"{ids.setdefault(int(match[1]), len(ids))}.{match[2]}"
            else:
                out[key] = _renumber(value, ids)
        return out
    if isinstance(node, list):
        return [_renumber(item, ids) for item in node]
    return node
