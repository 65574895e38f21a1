"""The model card as a Hugging Face README: YAML front matter (licence, tags, ``model-index`` with
the evaluation results) followed by the card's sections in Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlgate.governance.report_model import ReportData

# Licence identifiers the Hub knows, lower-cased SPDX; anything else becomes "other".
_HUB_LICENSES = frozenset({
    "apache-2.0", "mit", "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "gpl",
    "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "agpl-3.0", "mpl-2.0", "cc0-1.0",
    "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "cc-by-nd-4.0", "unlicense",
    "artistic-2.0", "bsl-1.0", "epl-2.0", "openrail", "bigscience-openrail-m", "llama2", "llama3",
})  # fmt: skip
_PIPELINES = {
    "binary-classification": "tabular-classification",
    "multiclass-classification": "tabular-classification",
    "regression": "tabular-regression",
}


def front_matter(data: ReportData) -> dict[str, Any]:
    """The README metadata, with every measured metric in ``model-index``."""
    card = data.card
    pipeline = _PIPELINES.get(data.model.task, "tabular-classification")
    meta: dict[str, Any] = {}
    license_id = (card.license if card else None) or ""
    if license_id.lower() in _HUB_LICENSES:
        meta["license"] = license_id.lower()
    elif license_id:
        meta["license"] = "other"
        meta["license_name"] = license_id
    meta["library_name"] = "sklearn"
    meta["pipeline_tag"] = pipeline
    meta["tags"] = ["mlgate", "tabular", pipeline]
    dataset = {"type": "tabular", "name": f"{data.model.name} evaluation data", "split": "eval"}
    metrics: list[dict[str, Any]] = [
        {
            "type": m.name,
            "value": round(m.value, 6),
            "name": m.name.replace("_", " "),
            "verified": False,
        }
        for m in data.metrics
        if m.value is not None
    ]
    results = []
    if metrics:
        task_name = data.model.task.replace("-", " ").capitalize()
        results.append(
            {"task": {"type": pipeline, "name": task_name}, "dataset": dataset, "metrics": metrics}
        )
    for (column, value), rows in _by_slice(data).items():
        slice_set = {**dataset, "name": f"{data.model.name} evaluation data, {column}={value}"}
        results.append({"task": {"type": pipeline}, "dataset": slice_set, "metrics": rows})
    meta["model-index"] = [{"name": data.model.name, "results": results}]
    return meta


def _by_slice(data: ReportData) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in data.slices:
        if s.score is not None:
            row = {"type": s.metric, "value": round(s.score, 6), "verified": False}
            out.setdefault((s.column, s.value), []).append(row)
    return out


def hf_readme(data: ReportData) -> str:
    """The whole README.md: front matter, then the card in Markdown."""
    import yaml

    card = data.card
    meta = yaml.safe_dump(front_matter(data), sort_keys=False, allow_unicode=True, width=100)
    lines = ["---", meta.rstrip(), "---", "", f"# {data.model.name}", ""]
    if card and card.overview:
        lines += [card.overview, ""]

    def section(title: str, body: str | tuple[str, ...] | None) -> None:
        if not body:
            return
        lines.extend([f"## {title}", ""])
        lines.extend([f"- {b}" for b in body] if isinstance(body, tuple) else [body])
        lines.append("")

    if card:
        owners = tuple(o.name + (f" ({o.contact})" if o.contact else "") for o in card.owners)
        section("Owners", owners)
        section("Intended use", card.intended_use)
        section("Intended users", card.intended_users)
        section("Out-of-scope uses", card.out_of_scope_uses)
        section("Limitations", card.limitations)
        section("Trade-offs", card.tradeoffs)
        ethics = tuple(
            c.name + (f": {c.mitigation}" if c.mitigation else "")
            for c in card.ethical_considerations
        )
        section("Ethical considerations", ethics)
        section(
            "Risk level",
            (card.risk or "") + (f": {card.risk_rationale}" if card.risk_rationale else ""),
        )
        section("Human oversight", card.human_oversight)
        section("Training data", card.training_data)
        section("Evaluation data", card.evaluation_data)
    if data.metrics:
        lines += ["## Evaluation results", "", "| metric | value |", "|---|---|"]
        lines += [f"| {m.name} | {m.value:.4f} |" for m in data.metrics if m.value is not None]
        lines.append("")
    git = data.lineage.git
    if git.commit:
        lines += ["## Lineage", "", f"- commit `{git.commit}`"]
        lines += [f"- {f.role} `{f.path}` `{f.digest}`" for f in data.lineage.fingerprints]
        lines.append("")
    lines.append(
        f"<!-- written by mlgate {data.tool_version} from {card.source if card else 'no card'} -->"
    )
    return "\n".join(lines) + "\n"
