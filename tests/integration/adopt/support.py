"""Running a fixture repository through mlgate as a user would: every command in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlgate import gitio
from tests.conftest import Outcome, invoke


def ok(root: Path, *args: str, codes: tuple[int, ...] = (0,)) -> Outcome:
    result = invoke(*args, cwd=root)
    assert result.exit_code in codes, f"mlgate {' '.join(args)}: {result.output}"
    return result


def verdict(root: Path, model: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / ".mlgate" / "out" / model / name).read_text())
    return data


def checks(root: Path, model: str, name: str) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in verdict(root, model, name)["checks"]}


def untracked(root: Path) -> list[str]:
    out = gitio.git(["status", "--porcelain", "--untracked-files=all"], root).stdout
    return [line[3:] for line in out.splitlines() if line.startswith("??")]
