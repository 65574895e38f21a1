"""Where this repository's GitHub Actions files are, loaded with their raw text (for comments)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTIONS = sorted((ROOT / "actions").glob("*/action.yml"))
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
TEMPLATES = sorted((ROOT / "src" / "mlgate" / "starter" / "workflows").glob("*.yml"))


@dataclass(frozen=True)
class YamlFile:
    path: Path
    text: str
    data: dict[Any, Any]  # PyYAML's keys: `on` reads as True

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def triggers(self) -> dict[str, Any]:
        # PyYAML (YAML 1.1) reads the key `on` as True.
        value = self.data.get("on", self.data.get(True))
        if isinstance(value, str):
            return {value: None}
        if isinstance(value, list):
            return dict.fromkeys(value)
        return dict(value or {})


@cache
def load(path: Path) -> YamlFile:
    text = path.read_text("utf-8")
    return YamlFile(path, text, yaml.safe_load(text))


def steps_of(doc: YamlFile) -> list[dict[str, Any]]:
    """Every step of an action or of every job of a workflow."""
    if "runs" in doc.data:
        return list(doc.data["runs"].get("steps", []))
    return [s for job in doc.data.get("jobs", {}).values() for s in job.get("steps", [])]
