"""mkdocs hook: the reference pages generated from their sources, so they cannot drift.

- ``reference/config.md`` from the JSON Schema of ``mlgate.yaml`` (every key, its type, default,
  allowed values and description);
- ``reference/actions.md`` from each composite action's ``action.yml`` (inputs and outputs);
- ``reference/schemas.md`` from every JSON Schema shipped in the package.

The CLI reference (``reference/cli.md``) is rendered by mkdocs-click from the click commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "src" / "mlgate" / "schemas"
ACTIONS = ROOT / "actions"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for uri, content in (
        ("reference/config.md", config_page()),
        ("reference/actions.md", actions_page()),
        ("reference/schemas.md", schemas_page()),
    ):
        files.append(File.generated(config, uri, content=content))
    return files


def cell(text: object) -> str:
    """Text for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _resolve(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = {**schema["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _type(node: dict[str, Any]) -> str:
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in node["enum"])
    kinds = node.get("type")
    if isinstance(kinds, list):
        return " or ".join(kinds)
    if kinds == "array":
        item = node.get("items", {})
        return f"list of {_type(item) if isinstance(item, dict) and item else 'values'}"
    if kinds:
        return str(kinds)
    for combinator in ("oneOf", "anyOf"):
        if combinator in node:
            return " or ".join(_type(option) for option in node[combinator])
    return "any"


def keys(node: dict[str, Any], schema: dict[str, Any], path: str, depth: int = 0) -> Iterator[str]:
    """One table row per key under node, depth first."""
    node = _resolve(node, schema)
    required = set(node.get("required", ()))
    for name, declared in node.get("properties", {}).items():
        child = _resolve(declared, schema)
        key = f"{path}.{name}" if path else name
        default = f"`{json.dumps(child['default'])}`" if "default" in child else ""
        mark = " (required)" if name in required else ""
        row = (f"`{key}`{mark}", _type(child), default, cell(child.get("description", "")))
        yield "| " + " | ".join(row) + " |"
        if depth < 6:
            yield from keys(child, schema, key, depth + 1)
            items = child.get("items")
            if child.get("type") == "array" and isinstance(items, dict):
                yield from keys(items, schema, f"{key}[]", depth + 1)
        extra = child.get("additionalProperties")
        if isinstance(extra, dict) and depth < 6:
            yield from keys(extra, schema, f"{key}.<name>", depth + 1)


def config_page() -> str:
    schema = json.loads((SCHEMAS / "config.schema.json").read_text(encoding="utf-8"))
    rows = "\n".join(keys(schema, schema, ""))
    return (
        "# mlgate.yaml\n\n"
        "Generated from the JSON Schema shipped in the package (`mlgate schema config` prints it;"
        " `mlgate config check` validates a file against it). Unknown keys are errors.\n\n"
        f"{cell(schema.get('description', ''))}\n\n"
        "| key | type | default | description |\n|---|---|---|---|\n"
        f"{rows}\n"
    )


def actions_page() -> str:
    parts = [
        "# Composite actions\n",
        (
            "Generated from each action's `action.yml`. Use them as "
            "`mlgate-dev/mlgate/actions/NAME@vX.Y.Z`; every input reaches the shell through"
            " `env:`.\n"
        ),
    ]
    for action in sorted(ACTIONS.glob("*/action.yml")):
        spec = yaml.safe_load(action.read_text(encoding="utf-8"))
        parts.append(f"## `{action.parent.name}`: {spec.get('name', '')}\n")
        parts.append(f"{cell(spec.get('description', ''))}\n")
        inputs = spec.get("inputs") or {}
        if inputs:
            parts.append("| input | required | default | description |\n|---|---|---|---|")
            for name, item in inputs.items():
                default = item.get("default", "")
                shown = f"`{cell(default)}`" if default != "" else ""
                row = (f"`{name}`", str(bool(item.get("required", False))).lower(), shown)
                parts.append("| " + " | ".join((*row, cell(item.get("description", "")))) + " |")
            parts.append("")
        outputs = spec.get("outputs") or {}
        if outputs:
            parts.append("| output | description |\n|---|---|")
            for name, item in outputs.items():
                parts.append(f"| `{name}` | {cell(item.get('description', ''))} |")
            parts.append("")
    return "\n".join(parts) + "\n"


def schemas_page() -> str:
    parts = [
        "# File formats\n",
        (
            "Every file mlgate writes or reads has a JSON Schema in the package; `mlgate schema"
            " NAME` prints one. Generated from the schemas themselves.\n"
        ),
        "| name | title | description |\n|---|---|---|",
    ]
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        name = path.name.removesuffix(".schema.json")
        title, description = cell(schema.get("title", "")), cell(schema.get("description", ""))
        parts.append(f"| `{name}` | {title} | {description} |")
    return "\n".join(parts) + "\n"
