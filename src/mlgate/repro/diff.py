"""Differences between a locked model entry and the working tree, one per changed thing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

CATEGORIES = ("data", "code", "params", "train", "environment", "dvc")
# Finds the per-file list of a folder by its digest (the local cache), or None.
ManifestLookup = Callable[[str], "Mapping[str, str] | None"]


@dataclass(frozen=True)
class Difference:
    """One input that is not as the lock says: added, removed or changed, with both values."""

    category: str
    subject: str
    change: str  # "added" | "removed" | "changed"
    old: Any = None
    new: Any = None
    note: str = ""

    def describe(self) -> str:
        if self.change == "added":
            text = f"{self.subject}: added" + (f" ({_show(self.new)})" if self.new else "")
        elif self.change == "removed":
            text = f"{self.subject}: removed" + (f" (was {_show(self.old)})" if self.old else "")
        else:
            text = f"{self.subject}: {_show(self.old)} -> {_show(self.new)}"
        return text + (f"; {self.note}" if self.note else "")

    def to_dict(self) -> dict[str, Any]:
        out = {"category": self.category, "subject": self.subject, "change": self.change}
        out.update({"old": self.old, "new": self.new})
        if self.note:
            out["note"] = self.note
        return out


def _show(value: Any) -> str:
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return "sha256 " + value[:12]
    if value is None:
        return "none"
    return str(value)


def diff_entries(
    old: Mapping[str, Any], new: Mapping[str, Any], manifests: ManifestLookup | None = None
) -> list[Difference]:
    """Every difference between two lock entries of one model, in category order;
    ``manifests`` finds the per-file list of a folder too large for the lock, by its digest."""
    out: list[Difference] = []
    out.extend(_data(old.get("data", {}), new.get("data", {}), manifests or _no_manifest))
    out.extend(_files("code", old.get("code", {}), new.get("code", {})))
    out.extend(_params(old.get("params", {}), new.get("params", {})))
    out.extend(_train(old.get("train"), new.get("train")))
    out.extend(_environment(old.get("environment", {}), new.get("environment", {})))
    out.extend(_dvc(old.get("dvc"), new.get("dvc")))
    return out


def _dvc(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Iterator[Difference]:
    """Stages, commands and the hashes dvc.lock records, stage by stage."""
    if old is None and new is None:
        return
    if old is None or new is None:
        yield Difference("dvc", "dvc pipeline", "added" if old is None else "removed")
        return
    before, after = old.get("stages", {}), new.get("stages", {})
    for name in sorted(before.keys() | after.keys()):
        if name not in before:
            yield Difference("dvc", f"stage {name}", "added")
            continue
        if name not in after:
            yield Difference("dvc", f"stage {name}", "removed")
            continue
        a, b = before[name], after[name]
        if a.get("cmd") != b.get("cmd"):
            yield Difference("dvc", f"stage {name} cmd", "changed", a.get("cmd"), b.get("cmd"))
        for part in ("deps", "outs", "params"):
            x, y = a.get(part, {}), b.get(part, {})
            for key in sorted(x.keys() | y.keys()):
                if key not in x:
                    yield Difference("dvc", f"stage {name} {part} {key}", "added", None, y[key])
                elif key not in y:
                    yield Difference("dvc", f"stage {name} {part} {key}", "removed", x[key])
                elif x[key] != y[key]:
                    yield Difference("dvc", f"stage {name} {part} {key}", "changed", x[key], y[key])


def _hash_change(
    category: str, subject: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Difference:
    before, after = _size(old.get("size")), _size(new.get("size"))
    if before == after:
        before, after = f"{old.get('size')} B", f"{new.get('size')} B"
    note = f"size {before} -> {after}"
    if old.get("size") == new.get("size"):
        note = f"same size ({_size(new.get('size'))}), different content"
    return Difference(category, subject, "changed", old.get("sha256"), new.get("sha256"), note)


def _size(n: Any) -> str:
    if not isinstance(n, int):
        return "?"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def _files(category: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Difference]:
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before is None:
            yield Difference(category, path, "added", None, new[path]["sha256"])
        elif after is None:
            yield Difference(category, path, "removed", before["sha256"], None)
        elif before["sha256"] != after["sha256"]:
            yield _hash_change(category, path, before, after)


def _no_manifest(_sha256: str) -> None:
    return None


def _data(
    old: Mapping[str, Any], new: Mapping[str, Any], manifests: ManifestLookup
) -> Iterator[Difference]:
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before is None:
            added = new[path]
            yield Difference("data", path, "added", None, added["sha256"], f"role {added['role']}")
            continue
        if after is None:
            yield Difference("data", path, "removed", before["sha256"], None)
            continue
        if before["role"] != after["role"]:
            yield Difference("data", path, "changed", before["role"], after["role"], "role")
        if before["kind"] != after["kind"]:
            yield Difference("data", path, "changed", before["kind"], after["kind"], "kind")
        elif before["sha256"] == after["sha256"]:
            continue
        elif before["kind"] == "file":
            yield _hash_change("data", path, before, after)
        elif (listed := _listing(before, manifests)) is not None and (
            now := _listing(after, manifests)
        ) is not None:
            yield from _members(path, listed, now)
        else:
            yield Difference(
                "data",
                path + "/",
                "changed",
                before["sha256"],
                after["sha256"],
                f"{before.get('count')} -> {after.get('count')} files; the lock keeps no "
                "per-file list for folders this large, and this machine has none cached for "
                "the locked state",
            )


def _listing(entry: Mapping[str, Any], manifests: ManifestLookup) -> Mapping[str, str] | None:
    """A folder entry's files: from the lock, else from the cache by digest."""
    files: Mapping[str, str] | None = entry.get("files")
    return files if files is not None else manifests(str(entry["sha256"]))


def _members(folder: str, old: Mapping[str, str], new: Mapping[str, str]) -> Iterator[Difference]:
    for rel in sorted(old.keys() | new.keys()):
        subject = f"{folder}/{rel}"
        if rel not in old:
            yield Difference("data", subject, "added", None, new[rel])
        elif rel not in new:
            yield Difference("data", subject, "removed", old[rel], None)
        elif old[rel] != new[rel]:
            yield Difference("data", subject, "changed", old[rel], new[rel])


def _params(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Difference]:
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before is None or after is None:
            yield from _files(
                "params", {path: before} if before else {}, {path: after} if after else {}
            )
            continue
        if before["sha256"] == after["sha256"]:
            continue
        old_values, new_values = before.get("values"), after.get("values")
        if old_values is None or new_values is None:
            yield _hash_change("params", path, before, after)
            continue
        changed = False
        for key in sorted(old_values.keys() | new_values.keys(), key=str):
            subject = f"{path}: {key}"
            if key not in old_values:
                yield Difference("params", subject, "added", None, new_values[key])
            elif key not in new_values:
                yield Difference("params", subject, "removed", old_values[key], None)
            elif old_values[key] != new_values[key]:
                yield Difference("params", subject, "changed", old_values[key], new_values[key])
            else:
                continue
            changed = True
        if not changed:
            yield Difference(
                "params",
                path,
                "changed",
                before["sha256"],
                after["sha256"],
                "values unchanged (comments or formatting only)",
            )


def _train(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Iterator[Difference]:
    if old == new:
        return
    if old is None or new is None:
        yield Difference(
            "train",
            "train.command",
            "added" if old is None else "removed",
            (old or {}).get("command"),
            (new or {}).get("command"),
        )
        return
    for key in ("command", "seed", "outputs"):
        if old.get(key) != new.get(key):
            yield Difference("train", f"train.{key}", "changed", old.get(key), new.get(key))
    yield from _mapping("train", "train.env", old.get("env", {}), new.get("env", {}))


def _mapping(
    category: str, prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterator[Difference]:
    for key in sorted(old.keys() | new.keys()):
        subject = f"{prefix} {key}" if category == "environment" else f"{prefix}.{key}"
        if key not in old:
            yield Difference(category, subject, "added", None, new[key])
        elif key not in new:
            yield Difference(category, subject, "removed", old[key], None)
        elif old[key] != new[key]:
            yield Difference(category, subject, "changed", old[key], new[key])


def _environment(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Difference]:
    if old.get("python") != new.get("python"):
        yield Difference("environment", "python", "changed", old.get("python"), new.get("python"))
    if old.get("source") != new.get("source"):
        yield Difference(
            "environment", "package source", "changed", old.get("source"), new.get("source")
        )
    packages = list(
        _mapping("environment", "package", old.get("packages", {}), new.get("packages", {}))
    )
    yield from packages
    if (
        not packages
        and old.get("sha256") != new.get("sha256")
        and old.get("source") == new.get("source")
    ):
        yield Difference(
            "environment",
            str(new.get("source")),
            "changed",
            old.get("sha256"),
            new.get("sha256"),
            "packages unchanged (comments, hashes or options only)",
        )
