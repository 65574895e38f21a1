"""JSON Schemas shipped in the package (config, lock, run record, verdict, payload, card)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``name`` (e.g. ``"config"``) from ``mlgate/schemas/NAME.schema.json``."""
    schema: dict[str, Any] = json.loads(schema_text(name))
    return schema


def schema_text(name: str) -> str:
    """The schema file's text, as shipped."""
    return resources.files("mlgate.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")


def available() -> list[str]:
    """Names of the schemas shipped in the package."""
    folder = resources.files("mlgate.schemas")
    suffix = ".schema.json"
    return sorted(p.name[: -len(suffix)] for p in folder.iterdir() if p.name.endswith(suffix))
