"""``mlgate init``: write the starter project (``project/``) and its workflows (``workflows/``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from mlgate import __version__
from mlgate.errors import UsageError
from mlgate.fsio import atomic_write_bytes
from mlgate.schemas import schema_text

# The GitHub repository users reference in workflows and pre-commit configurations.
MLGATE_REPO = "mlgate-dev/mlgate"
TEMPLATE_SUFFIX = ".j2"
# The training environment the starter pins: the versions installed next to this mlgate.
PINNED = ("numpy", "pandas", "scipy", "scikit-learn", "skops", "pyyaml")
# The starter's files and the workflow templates (the one source, linted as they are) ship
# inside this package.
PROJECT_DIR = Path(__file__).parent / "project"
WORKFLOW_TEMPLATES_DIR = Path(__file__).parent / "workflows"
# Where `mlgate init` writes the workflows.
WORKFLOWS_DIR = ".github/workflows"
# The one token the workflow templates carry (they are full of ${{ }} expressions, so they are
# not Jinja templates): the Python that trains, which is the one running `mlgate init`.
PYTHON_TOKEN = "{{ python_version }}"  # noqa: S105 - a placeholder, not a password
# Files the starter carries that are not in project/.
GENERATED: dict[str, Callable[[], str]] = {
    ".mlgate/config.schema.json": lambda: schema_text("config"),
}


@dataclass(frozen=True)
class InitRequest:
    target: Path
    force: bool = False


@dataclass(frozen=True)
class InitResult:
    target: Path
    written: tuple[str, ...]
    unchanged: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "target": str(self.target),
            "written": list(self.written),
            "unchanged": list(self.unchanged),
        }


def render_starter() -> dict[str, bytes]:
    """Every file of the starter project, by POSIX path relative to its root."""
    root = PROJECT_DIR
    files: dict[str, bytes] = {}
    context = {
        "mlgate_version": __version__,
        "mlgate_repo": MLGATE_REPO,
        "pins": [(name, metadata.version(name)) for name in PINNED],
        # The serving image's base runs the Python that trains (the workflows' too).
        "python_version": running_python(),
    }
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        rel = path.relative_to(root).as_posix()
        if rel.endswith(TEMPLATE_SUFFIX):
            import jinja2

            env = jinja2.Environment(  # renders YAML and text, not HTML
                undefined=jinja2.StrictUndefined, keep_trailing_newline=True
            )
            text = env.from_string(path.read_text("utf-8")).render(context)
            files[rel.removesuffix(TEMPLATE_SUFFIX)] = text.encode("utf-8")
        else:
            files[rel] = path.read_bytes()
    files.update(workflow_files())
    for rel, make in GENERATED.items():
        files[rel] = make().encode("utf-8")
    return files


def running_python() -> str:
    """``MAJOR.MINOR`` of the interpreter running ``mlgate init``: the one that trains."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def workflow_files(python: str | None = None) -> dict[str, bytes]:
    """The GitHub workflows users get, from ``workflows/``, with ``python`` (default
    the running interpreter's ``MAJOR.MINOR``) as the Python that trains."""
    root = WORKFLOW_TEMPLATES_DIR
    version = python or running_python()
    return {
        f"{WORKFLOWS_DIR}/{path.name}": path.read_text("utf-8")
        .replace(PYTHON_TOKEN, version)
        .encode("utf-8")
        for path in sorted(root.glob("*.yml"))
        if path.is_file()
    }


def init_project(request: InitRequest) -> InitResult:
    """Write the starter into ``request.target``; refuse (writing nothing) to overwrite files."""
    target = request.target
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a folder")
    files = render_starter()
    conflicts = []
    unchanged = []
    for rel, content in files.items():
        dest = target / rel
        if dest.is_dir():
            raise UsageError(f"{dest} is a folder where the starter has a file")
        if dest.exists():
            if dest.read_bytes() == content:
                unchanged.append(rel)
            else:
                conflicts.append(rel)
    if conflicts and not request.force:
        raise UsageError(
            f"{len(conflicts)} file(s) in {target} would be overwritten; nothing was written",
            details=conflicts[:20]
            + ([f"... and {len(conflicts) - 20} more"] * (len(conflicts) > 20)),
            hint="pass --force to overwrite them, or choose an empty folder",
        )
    written = []
    for rel, content in files.items():
        if rel in unchanged:
            continue
        atomic_write_bytes(target / rel, content)
        if rel.endswith(".py") and content.startswith(b"#!"):
            (target / rel).chmod(0o755)
        written.append(rel)
    return InitResult(target.resolve(), tuple(written), tuple(unchanged))
