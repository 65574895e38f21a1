"""Plain-text views of registry results (the CLI prints them; ``--json`` uses ``to_dict``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgate.registry.queries import (
        DoctorResult,
        HistoryResult,
        RefInfo,
        Resolution,
        ShowResult,
        StagesResult,
    )
    from mlgate.registry.state import Problem
    from mlgate.registry.transaction import WriteResult


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    cells = [[("-" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )
    return "\n".join(lines)


def problems(items: Sequence[Problem]) -> list[str]:
    """Warning lines for the problems found in the tags (printed on stderr)."""
    return [f"warning: {p}" for p in items]


def show(result: ShowResult) -> str:
    data = result.to_dict()
    if result.name is None:
        models = data["models"]
        if not models:
            return f"no models registered ({data['source']})"
        stages = list(dict.fromkeys(s for m in models for s in m["stages"]))
        rows = [
            [
                m["name"] + (" (deprecated)" if m["deprecated"] else ""),
                m["latest"],
                *(m["stages"].get(s) for s in stages),
                m["versions"],
            ]
            for m in models
        ]
        return table(["model", "latest", *(f"#{s}" for s in stages), "versions"], rows)
    head = f"{data['name']}" + (" (deprecated)" if data["deprecated"] else "")
    held = "  ".join(f"{s}={v or '-'}" for s, v in data["stages"].items())
    lines = [f"{head}  latest={data['latest'] or '-'}  {held}".rstrip()]
    rows = [
        [
            v["version"] + ("" if v["registered"] else " (unregistered)"),
            v["commit"][:12],
            v["date"],
            ", ".join(v["stages"]) or None,
            "deregistered" if v["deregistered"] else ("active" if v["active"] else "inactive"),
        ]
        for v in data["versions"]
    ]
    lines.append(table(["version", "commit", "registered", "holds", "status"], rows))
    return "\n".join(lines)


def history(result: HistoryResult) -> str:
    if not result.events:
        return "no registry events"
    rows = [
        [
            e.date,
            e.name,
            e.kind.value,
            e.version if e.version and len(e.version) < 40 else (e.version or "")[:12],
            e.stage,
            e.commit[:12],
            e.tag,
        ]
        for e in result.events
    ]
    return table(["date", "model", "event", "version", "stage", "commit", "tag"], rows)


def write(result: WriteResult) -> str:
    if result.event == "release" and result.release:
        head = f"{result.name} {result.version}: GitHub Release {result.release.get('html_url')}"
        return "\n".join([head, *result.release.get("notes", [])])
    if not result.created:
        return "\n".join(result.notes) or "nothing to do"
    what = {
        "register": f"registered {result.name} {result.version}",
        "deregister": f"deregistered {result.name} {result.version}",
        "assign": f"{result.name} {result.version} -> {result.stage}",
        "rollback": f"{result.name} {result.stage} rolled back from {result.previous} "
        f"to {result.version}",
        "unassign": f"{result.name} {result.version} out of {result.stage}",
        "deprecate": f"deprecated {result.name}",
    }.get(result.event, result.event)
    commit = (result.commit or "")[:12]
    lines = [
        f"{what}: created tag {result.tag} on {commit}" + (" (signed)" if result.signed else "")
    ]
    if result.pushed:
        retry = f" after {result.attempts} attempts" if result.attempts > 1 else ""
        lines.append(f"pushed to {result.remote}{retry}")
    if result.release:
        lines.append(f"GitHub Release: {result.release.get('html_url', result.release.get('url'))}")
        lines.extend(result.release.get("notes", []))
    lines.extend(result.notes)
    return "\n".join(lines)


def resolution(result: Resolution) -> str:
    lines = [
        f"{result.ref}: {result.name} {result.version} at {result.commit}",
        f"tag: {result.tag}" + (f" (stage tag {result.stage_tag})" if result.stage_tag else ""),
    ]
    if result.model_file:
        origin = f" ({result.model_file_origin})" if result.model_file_origin else ""
        lines.append(f"model file: {result.model_file}{origin}")
    if result.payload:
        metrics = result.payload.get("metrics")
        if metrics:
            lines.append("metrics: " + ", ".join(f"{k}={v}" for k, v in sorted(metrics.items())))
        image = result.payload.get("image")
        if image:
            lines.append(f"image: {image.get('reference')}@{image.get('digest', '')}".rstrip("@"))
    lines.extend(result.notes)
    return "\n".join(lines)


def ref_info(result: RefInfo) -> str:
    if not result.registry:
        return f"{result.ref}: not a registry tag"
    parts = [f"event={result.event}", f"name={result.name}"]
    if result.version:
        parts.append(f"version={result.version}")
    if result.stage:
        parts.append(f"stage={result.stage}")
    return f"{result.tag}: " + " ".join(parts)


def stages(result: StagesResult) -> str:
    if not result.models:
        return "no models"
    rows = [
        [
            name,
            ", ".join(v["allowed"]) if v["allowed"] is not None else "(any)",
            ", ".join(v["used"]) or None,
            ", ".join(f"{s}={ver}" for s, ver in v["held"].items()) or None,
        ]
        for name, v in result.models.items()
    ]
    return table(["model", "allowed", "used", "held"], rows)


def doctor(result: DoctorResult) -> str:
    head = f"{result.models} model(s), {result.tags} registry tag(s) ({result.source})"
    if result.ok:
        return f"{head}: no problems"
    lines = [f"{head}: {len(result.problems)} problem(s)"]
    lines.extend(f"  {p.kind}: {p}" for p in result.problems)
    return "\n".join(lines)
