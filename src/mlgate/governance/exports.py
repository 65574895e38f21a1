"""``mlgate card export`` and ``mlgate card check``: the card on its own, without a full report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlgate import paths
from mlgate.config.model import Config
from mlgate.errors import UsageError
from mlgate.github.actions import RunContext
from mlgate.governance.card import load_card, to_model_card_toolkit
from mlgate.governance.hf import hf_readme
from mlgate.verdict import Verdict

EXPORT_FORMATS = {"hf": "README.md", "mct": "model_card.json"}


@dataclass(frozen=True)
class CardExportRequest:
    config: Config
    model: str | None = None
    format: str = "hf"  # "hf" (Hugging Face README) or "mct" (Model Card Toolkit JSON)
    out: Path | None = None  # a file; default .mlgate/out/<model>/README.md or model_card.json
    # The Actions run (empty outside one): the branch of a detached checkout
    run: RunContext = field(default_factory=RunContext)


@dataclass(frozen=True)
class CardExportResult:
    model: str
    format: str
    path: Path


@dataclass(frozen=True)
class CardCheckRequest:
    config: Config
    model: str | None = None


def export_card(request: CardExportRequest) -> CardExportResult:
    """Write the card, with the measured metrics, as a Hugging Face README or MCT JSON."""
    from mlgate.fsio import atomic_write_text, dump_json
    from mlgate.governance.render_json import metric_rows_for_card
    from mlgate.governance.report import build_report_data

    if request.format not in EXPORT_FORMATS:
        raise UsageError(f"unknown card format {request.format!r}", hint="use --hf or --mct")
    cfg = request.config
    model = cfg.model(request.model)
    out_dir = paths.out_dir(cfg.root, model.tag_name)
    data = build_report_data(cfg, model, out_dir, run=request.run, diagnostics=False)
    if data.card is None:
        problems = "; ".join(p.message for p in data.card_result.problems) or "none configured"
        raise UsageError(
            f"model {model.name!r} has no readable model card ({problems})",
            location=cfg.locate(model, "governance"),
            hint="set governance.card to a model_card.yaml (see 'mlgate schema card')",
        )
    if request.format == "hf":
        text = hf_readme(data)
    else:
        datasets = [
            {"name": f.path, "description": f"{f.role} file, {f.digest}"}
            for f in data.lineage.of_role("data")
        ]
        text = dump_json(
            to_model_card_toolkit(data.card, metrics=metric_rows_for_card(data), datasets=datasets)
        )
    target = request.out or out_dir / EXPORT_FORMATS[request.format]
    return CardExportResult(model.name, request.format, atomic_write_text(target, text))


def check_cards(request: CardCheckRequest) -> list[Verdict]:
    """The card checks (schema and required fields) of each selected model."""
    cfg = request.config
    verdicts = []
    for model in cfg.select(request.model):
        result = load_card(cfg, model)
        verdicts.append(
            Verdict("governance", model.name, tuple(result.checks(model.name)), result.notes)
        )
    return verdicts
