"""What ``registry show`` printed, remembered by the exact tags it was computed from.

The output of a read is a pure function of the tags, of mlgate's version and of the command's
form, when no configuration applies. Every field a read takes from a tag (type, target, tagger,
date, message, signature) is inside the tag object, and an object's id is the hash of its
content; so the tags are pinned by their names and object ids alone, which ``git for-each-ref``
lists from the refs without opening a single object (a tenth of the full listing's cost). The
printed answer is kept inside the git directory (never in the work tree, never in a ref) under
the sha256 of these; the next ``show`` lists them, and when nothing changed prints the
remembered answer without reading the tags at all. Any change to any tag (a new one, a deleted
one, one moved to another object) changes the key. Imports here are only what a hit needs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_FILE = "show-{variant}.txt"
PINS = "%(refname) %(objectname)"  # what pins every tag: its name and its object's id


def git_dir(start: Path) -> Path | None:
    """The common git directory above ``start``, without running git (None: let git decide,
    e.g. when GIT_DIR is set or the layout is unusual)."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_COMMON_DIR"):
        return None
    here = start.resolve()
    for folder in (here, *here.parents):
        dotgit = folder / ".git"
        if dotgit.is_dir():
            return dotgit
        if dotgit.is_file():
            from mlgate import gitio

            return gitio.common_dir(folder)
    return None


def stamp(cwd: Path, variant: str) -> str:
    """The key of the answer for the tags as they are now: the sha256 of mlgate's version,
    the command's form and every tag's name and object id."""
    from mlgate import __version__, gitio

    digest = hashlib.sha256(f"{__version__}\0{variant}\0".encode())
    digest.update(gitio.for_each_ref_raw(cwd, PINS, ["refs/tags"]))
    return digest.hexdigest()


def recall(gitdir: Path, variant: str, wanted: str) -> tuple[str, str] | None:
    """(stdout, stderr) remembered under ``wanted``, or None."""
    try:
        text = (gitdir / "mlgate" / "registry" / _FILE.format(variant=variant)).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    head, _, rest = text.partition("\n")
    size, _, body = rest.partition("\n")
    if head != wanted or not size.isdigit() or len(body) < int(size):
        return None
    return body[: int(size)], body[int(size) :]


def remember(gitdir: Path, variant: str, stamp: str, out: str, err: str) -> None:
    """Keep the answer for ``stamp`` (one per variant; best effort: a read-only checkout just
    computes again)."""
    from mlgate.errors import ExternalError
    from mlgate.fsio import atomic_write_text

    path = gitdir / "mlgate" / "registry" / _FILE.format(variant=variant)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, f"{stamp}\n{len(out)}\n{out}{err}")
    except (OSError, ValueError, ExternalError):
        return
