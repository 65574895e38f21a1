"""Regenerate the vendored subset of GitHub's published OpenAPI description.

The contract tests validate every request mlgate's GitHub client sends against this subset. It is
cut from the ``@octokit/openapi`` npm package (GitHub's own description, MIT licensed): only the
operations in OPERATIONS, with every component they reference, and without response examples.

    python tests/github/openapi/regenerate.py                 # npm pack the pinned version
    python tests/github/openapi/regenerate.py --version 23.0.2
    python tests/github/openapi/regenerate.py --tarball octokit-openapi-23.0.2.tgz

Add an operationId to OPERATIONS when the client starts calling a new endpoint, then rerun.
"""

from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGE = "@octokit/openapi"
VERSION = "23.0.2"
SOURCE = "package/generated/api.github.com.json"
OUTPUT = HERE / "api.github.com.subset.json"

# Every REST operation mlgate calls, by GitHub's operationId.
OPERATIONS = (
    "issues/list-comments",
    "issues/create-comment",
    "issues/update-comment",
    "issues/delete-comment",
    "issues/list-for-repo",
    "issues/create",
    "issues/update",
    "repos/list-releases",
    "repos/create-release",
    "repos/get-release",
    "repos/update-release",
    "repos/get-release-by-tag",
    "repos/list-release-assets",
    "repos/upload-release-asset",
    "repos/get-release-asset",
    "repos/delete-release-asset",
)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def fetch(version: str, workdir: Path) -> Path:
    """``npm pack`` the package into ``workdir`` and return the tarball."""
    from mlgate.proc import run

    result = run(["npm", "pack", f"{PACKAGE}@{version}", "--silent"], cwd=workdir, timeout=600)
    return workdir / result.stdout.strip().splitlines()[-1]


def read_tarball(tarball: Path) -> tuple[dict[str, Any], str, str]:
    """The full description, the package version and its licence text."""
    with tarfile.open(tarball) as archive:

        def text(name: str) -> str:
            member = archive.extractfile(name)
            if member is None:
                raise SystemExit(f"{tarball} has no {name}")
            return member.read().decode("utf-8")

        spec = json.loads(text(SOURCE))
        version = json.loads(text("package/package.json"))["version"]
        licence = text("package/LICENSE")
    return spec, version, licence


def subset(spec: dict[str, Any], operations: tuple[str, ...]) -> dict[str, Any]:
    """The operations named, their path-level parameters, and every component they reference."""
    paths: dict[str, Any] = {}
    found: set[str] = set()
    for path, item in spec["paths"].items():
        for method in _METHODS:
            operation = item.get(method)
            if operation and operation.get("operationId") in operations:
                kept = paths.setdefault(path, {k: v for k, v in item.items() if k not in _METHODS})
                kept[method] = _strip_examples(operation)
                found.add(operation["operationId"])
    missing = sorted(set(operations) - found)
    if missing:
        raise SystemExit(f"operations not in the description: {', '.join(missing)}")
    components: dict[str, dict[str, Any]] = {}
    pending = _refs(paths)
    while pending:
        ref = pending.pop()
        _, _, kind, name = ref.split("/", 3)
        if name in components.get(kind, {}):
            continue
        node = _strip_examples(spec["components"][kind][name])
        components.setdefault(kind, {})[name] = node
        pending |= _refs(node)
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec["servers"],
        "paths": paths,
        "components": components,
    }


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def _strip_examples(node: Any) -> Any:
    """Drop ``examples`` (large, and no part of the contract); keep everything else."""
    if isinstance(node, dict):
        return {k: _strip_examples(v) for k, v in node.items() if k not in {"examples", "example"}}
    if isinstance(node, list):
        return [_strip_examples(v) for v in node]
    return node


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSION, help=f"{PACKAGE} version to fetch")
    parser.add_argument("--tarball", type=Path, help="use this npm tarball instead of fetching")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or fetch(args.version, Path(tmp))
        spec, version, licence = read_tarball(tarball)
    out = subset(spec, OPERATIONS)
    out["info"] = {
        **out["info"],
        "x-mlgate-subset": {"package": PACKAGE, "version": version, "operations": list(OPERATIONS)},
    }
    OUTPUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    (HERE / "LICENSE.octokit-openapi").write_text(licence, encoding="utf-8")
    size = OUTPUT.stat().st_size
    print(
        f"wrote {OUTPUT.name}: {len(OPERATIONS)} operations from {PACKAGE} {version}, {size} bytes"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
