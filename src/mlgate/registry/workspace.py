"""Writing straight to a remote repository (GTO's ``-r/--repo URL``): a throwaway clone to make
the tags in, pushed to the URL and deleted afterwards.

The clone has commits and trees only (``--filter=blob:none`` where the server allows it, no
checkout, no tags): the registry reads the URL's tags itself (ls-remote plus one fetch), and a
write pushes race-safely as from any clone.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlgate import gitio


def is_local_repository(where: str) -> bool:
    """Whether ``-r WHERE`` names a work tree here (else it is a URL or a bare repository)."""
    path = Path(where)
    return path.is_dir() and (path / ".git").exists()


@contextmanager
def clone_of(url: str) -> Iterator[Path]:
    """A temporary clone of ``url`` (removed when the block ends)."""
    folder = Path(tempfile.mkdtemp(prefix="mlgate-registry-"))
    try:
        target = folder / "repo"
        gitio.git(
            [
                "clone",
                "--quiet",
                "--no-checkout",
                "--no-tags",
                "--filter=blob:none",
                "--",
                url,
                str(target),
            ],
            folder,
            timeout=600,
        )
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)
