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
