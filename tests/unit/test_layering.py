"""Rules of the layout that import-linter cannot see: who may read the runner's environment."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import mlgate

SRC = Path(mlgate.__file__).parent
# The CLI builds the RunContext and the GitHub client; mlgate.github defines them.
ALLOWED = ("cli", "github")
RUNNER_READERS = {"RunContext", "GitHubClient"}


def offences(source: str, label: str) -> list[str]:
    """Every ``RunContext.from_env`` / ``GitHubClient.from_env`` (called or passed on) and every
    ``load_event`` in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, label)):
        if isinstance(node, ast.Attribute) and node.attr == "from_env":
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if name in RUNNER_READERS:
                found.append((node.lineno, f"{name}.from_env"))
        elif isinstance(node, ast.Name) and node.id == "load_event":
            found.append((node.lineno, "load_event"))
    return [f"{label}:{line}: {what}" for line, what in sorted(found)]


def test_only_the_cli_reads_the_runner_s_environment() -> None:
    """Core code is given the RunContext (and a GitHub client, or ``GitHubClient.from_env`` to
    call when it must) through its request; it never builds them from ``GITHUB_*`` itself."""
    files = [p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] not in ALLOWED]
    assert len(files) > 100  # the walk found the package
    found = [
        o
        for path in sorted(files)
        for o in offences(path.read_text("utf-8"), str(path.relative_to(SRC)))
    ]
    assert found == []


def test_the_rule_sees_each_form() -> None:
    code = (
        "from mlgate.github import actions\n"
        "run = actions.RunContext.from_env()\n"
        "connect = GitHubClient.from_env\n"
        "event = load_event()\n"
        "settings = ServeSettings.from_env()\n"  # the server's own settings: not the runner
    )
    assert offences(code, "x.py") == [
        "x.py:2: RunContext.from_env",
        "x.py:3: GitHubClient.from_env",
        "x.py:4: load_event",
    ]


def _cycles_tool() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "tools" / "import_cycles.py"
    spec = importlib.util.spec_from_file_location("import_cycles", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cycle_check_finds_every_cycle_and_only_cycles() -> None:
    """``nox -s lint`` runs tools/import_cycles.py over grimp's graph of mlgate; its search."""
    cycles = _cycles_tool().cycles
    edges = {
        "a": ["b"],
        "b": ["c", "d"],
        "c": ["a"],  # a -> b -> c -> a
        "d": ["e"],
        "e": ["d"],  # d <-> e, reached from the first cycle
        "f": ["a", "g"],  # into a cycle, not part of one
        "g": [],
        "h": ["h"],  # a module importing itself is no cycle between modules
    }
    assert cycles(edges) == [["a", "b", "c"], ["d", "e"]]
    assert cycles({"x": ["y"], "y": ["z"]}) == []
    chain = {f"m{i}": [f"m{i + 1}"] for i in range(5000)}  # deep: no recursion limit
    chain["m5000"] = ["m0"]
    assert len(cycles(chain)[0]) == 5001
