"""Where mlgate keeps its files inside the user's repository (one place, so nothing guesses)."""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".mlgate"
LOCK_FILE = "mlgate.lock"


def state_dir(repo_root: Path) -> Path:
    """``.mlgate/``: run records and the config schema are committed; cache/ and out/ are not."""
    return repo_root / STATE_DIR


def cache_dir(repo_root: Path) -> Path:
    """Local caches (stat cache, drift reference summaries); never committed."""
    return state_dir(repo_root) / "cache"


def runs_dir(repo_root: Path, tag_name: str) -> Path:
    """Training run records of one model, one JSON file per run."""
    return state_dir(repo_root) / "runs" / tag_name


def out_dir(repo_root: Path, tag_name: str) -> Path:
    """Default output folder for a model's verdicts and reports (``--out`` overrides)."""
    return state_dir(repo_root) / "out" / tag_name


def lock_path(repo_root: Path) -> Path:
    return repo_root / LOCK_FILE


LOCAL_DIRS = ("cache", "out")  # below .mlgate/: this machine's files, never committed
_IGNORE_ALL = "# created by mlgate: local files, never committed\n*\n"


def ignore_local(path: Path) -> None:
    """When ``path`` is inside ``.mlgate/cache`` or ``.mlgate/out``, make git ignore that folder
    (a ``.gitignore`` of ``*`` in it, as pytest does for its cache), so an existing repository
    never shows mlgate's local files as untracked."""
    for folder in path.parents:
        if folder.name in LOCAL_DIRS and folder.parent.name == STATE_DIR:
            marker = folder / ".gitignore"
            if not marker.exists():
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                    marker.write_text(_IGNORE_ALL)
                except OSError:
                    return  # read-only checkout: git shows the files, nothing breaks
            return


# -- the repository boundary ----------------------------------------------------------------
# Every path mlgate reads for a model (configured files, the files the lock hashes) resolves
# inside the repository root: a pull request may add a symlink to /etc or a device, and neither
# may be listed, hashed or read. Links that stay inside keep working.


def within(path: str | Path, root: Path) -> bool:
    """Whether ``path`` (already resolved) is ``root`` or below it."""
    resolved = Path(path)
    return resolved == root or root in resolved.parents


def outside_problem(path: Path, root: Path, shown: str | None = None) -> str | None:
    """Why ``path`` may not be read (it, or a symlink on its way, leaves ``root``, or it is a
    device, pipe or socket), or None. Nothing is read: only links are followed and stat'ed."""
    import os
    import stat

    real_root = Path(os.path.realpath(root))
    spelled = Path(os.path.normpath(path if path.is_absolute() else root / path))
    target = Path(os.path.realpath(spelled))
    name = shown or str(path)
    if not within(spelled, Path(os.path.normpath(root))) and not within(spelled, real_root):
        return f"{name} is outside the repository ({root})"
    if not within(target, real_root):
        link = _first_link(spelled, root)
        return (
            f"{link} is a symbolic link to {os.path.realpath(link)}, outside the repository "
            f"({root})"
        )
    try:
        mode = target.stat().st_mode
    except OSError:
        return None  # missing files are reported where they are needed
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return f"{name} is not a regular file or folder (a device, pipe or socket)"
    return None


def _first_link(path: Path, root: Path) -> Path:
    """The first symlink on the way from ``root`` to ``path`` (the one that leaves)."""
    import os

    for candidate in [*reversed(path.parents), path]:
        if candidate.is_symlink() and not within(
            os.path.realpath(candidate), Path(os.path.realpath(root))
        ):
            return candidate
    return path
