"""Assemble one typed ReportData per model and write it as Markdown, HTML and JSON.

``make_report`` is the one core call behind ``mlgate report``: it reads the card, lineage and
evidence, computes the governance verdict (required card fields), maps the evidence onto the
compliance frameworks, writes every requested format and the verdict atomically, and returns
what it wrote. Posting to GitHub is a separate step (``governance.post``) so a posting failure
never changes the report or the verdict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlgate import formats as model_formats
from mlgate import paths
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import EXIT_CHECK_FAILED, EXIT_OK, UsageError
from mlgate.fsio import atomic_write_json, atomic_write_text, dump_json
from mlgate.gates.results import (
    SliceRow,
    drift_rows,
    metric_rows,
    slice_rows,
    training_metrics,
)
from mlgate.github.actions import RunContext
from mlgate.governance.card import CardResult, ModelCard, load_card
from mlgate.governance.compliance import assess
from mlgate.governance.diagnostics import Diagnostics, diagnose
from mlgate.governance.evidence import Evidence, collect
from mlgate.governance.lineage import Lineage, build_lineage, git_info
from mlgate.governance.registry_view import RegistryContext, registry_context
from mlgate.governance.render_html import render_html
from mlgate.governance.render_json import report_dict
from mlgate.governance.render_md import render_markdown
from mlgate.governance.report_model import ModelInfo, ReportData
from mlgate.verdict import Check, Status, Verdict, write_verdict

FORMATS = ("md", "html", "json")
FILE_NAMES = {"md": "report.md", "html": "report.html", "json": "report.json"}
PAYLOAD_FILE = "registry-payload.json"


@dataclass(frozen=True)
class ReportRequest:
    """What ``mlgate report`` was asked for."""

    config: Config
    model: str | None = None
    formats: tuple[str, ...] = FORMATS
    out_dir: Path | None = None
    # The Actions run (empty outside one): the branch of a detached checkout
    run: RunContext = field(default_factory=RunContext)


@dataclass(frozen=True)
class ModelReport:
    data: ReportData
    files: Mapping[str, Path]  # format (and "verdict") -> written path
    digests: Mapping[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """1 when the report's headline is FAIL (any verdict failed), so the command's status
        and the report agree; stale evidence is a warning (0), missing evidence too."""
        return EXIT_CHECK_FAILED if self.data.status == "fail" else EXIT_OK


@dataclass(frozen=True)
class ReportResult:
    reports: tuple[ModelReport, ...]

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.reports), default=0)


def parse_formats(text: str) -> tuple[str, ...]:
    """``"md,html"`` -> ``("md", "html")``; an unknown format is a UsageError with a suggestion."""
    from mlgate.config.validate import suggest

    chosen = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    for name in chosen:
        if name not in FORMATS:
            guess = suggest(name, FORMATS)
            raise UsageError(
                f"unknown report format {name!r}",
                hint=(f"did you mean {guess!r}? " if guess else "") + "formats: md, html, json",
            )
    if not chosen:
        raise UsageError("no report format given", hint="formats: md, html, json")
    return chosen


def make_report(request: ReportRequest) -> ReportResult:
    """Build and write the report of each selected model."""
    cfg = request.config
    models = cfg.select(request.model)
    if request.out_dir is not None and len(models) > 1:
        raise UsageError(
            "--out names one folder, but the report covers several models",
            hint="pass --model NAME with --out, or leave --out to use .mlgate/out/<model>/",
        )
    reports = []
    for model in models:
        out_dir = request.out_dir or paths.out_dir(cfg.root, model.tag_name)
        data = build_report_data(cfg, model, out_dir, run=request.run)
        reports.append(write_report(data, out_dir, request.formats))
    return ReportResult(tuple(reports))


def build_report_data(
    config: Config, model: ModelConfig, out_dir: Path, *, run: RunContext, diagnostics: bool = True
) -> ReportData:
    """Read everything the report shows for ``model`` (``diagnostics`` scores the model)."""
    git = git_info(config.root, run)
    evidence = collect(model, out_dir, git.commit)
    card_result = load_card(config, model)
    lineage = build_lineage(model, evidence, git)
    validation = evidence.verdicts.get("validation")
    trained = training_metrics(model)
    metrics = metric_rows(validation, trained)
    source = "validation verdict" if validation else ("training metrics file" if trained else "")
    slices = slice_rows(validation)
    drift = drift_rows(evidence.verdicts.get("drift"))
    registry = registry_context(config, model)
    diag = (
        diagnose(model, validation) if diagnostics else Diagnostics("none", reason="not computed")
    )
    facts = compute_facts(model, card_result.card, lineage, evidence, slices, registry)
    compliance = tuple(assess(facts))
    governance = governance_verdict(model, card_result, evidence, git.commit)
    info = ModelInfo(
        name=model.name,
        tag_name=model.tag_name,
        task=model.model.task,
        description=model.description,
        path=model.relative(model.root),
        model_file=model.relative(model.model.file),
        repo_root=str(model.repo_root),
    )
    return ReportData(
        model=info,
        date=git.date,
        card=card_result.card,
        card_result=card_result,
        lineage=lineage,
        evidence=evidence,
        metrics=tuple(metrics),
        metrics_source=source,
        slices=tuple(slices),
        drift=tuple(drift),
        diagnostics=diag,
        registry=registry,
        facts=facts,
        compliance=compliance,
        governance=governance,
    )


def governance_verdict(
    model: ModelConfig, card: CardResult, evidence: Evidence, commit: str | None
) -> Verdict:
    """Required card fields decide the gate; missing evidence is reported as a warning."""
    checks: list[Check] = card.checks(model.name)
    for item in evidence.items:
        if item.usable and not item.stale:
            continue
        what = item.problem or item.stale or f"no {item.kind} evidence at {item.path}"
        checks.append(
            Check(
                id=f"evidence.{item.kind}",
                kind="evidence",
                status=Status.WARN,
                message=f"{what}; run '{item.produce}' to produce it",
                observed="stale" if item.stale and item.usable else "missing",
                threshold="present",
            )
        )
    notes = list(card.notes)
    if not card.required:
        notes.append("no card fields are required (governance.required is empty)")
    return Verdict(
        kind="governance",
        model=model.name,
        checks=tuple(checks),
        notes=tuple(notes),
        context={"commit": commit, "card": card.card.source if card.card else None},
    )


def compute_facts(
    model: ModelConfig,
    card: ModelCard | None,
    lineage: Lineage,
    evidence: Evidence,
    slices: Sequence[SliceRow],
    registry: RegistryContext,
) -> dict[str, bool]:
    """The evidence facts the compliance frameworks rest on."""
    has = card.has if card else (lambda _field: False)
    validation = evidence.verdicts.get("validation")
    checks = validation.checks if validation else ()
    slice_cols = set(model.gates.slices.columns if model.gates.slices else ())
    run = evidence.run or {}
    return {
        "card.overview": has("model_details.overview"),
        "card.intended_use": has("intended_use"),
        "card.owners": has("model_details.owners"),
        "card.out_of_scope_uses": has("out_of_scope_uses"),
        "card.limitations": has("limitations"),
        "card.training_data": has("training_data"),
        "card.evaluation_data": has("evaluation_data") or has("training_data"),
        "card.ethical_considerations": has("ethical_considerations"),
        "card.risk": card is not None and card.risk is not None,
        "card.human_oversight": has("human_oversight"),
        "card.architecture": has("model_details.architecture")
        or has("model_details.version_notes"),
        "card.monitoring": has("monitoring"),
        "lineage.commit": lineage.git.commit is not None,
        "lineage.data": bool(lineage.of_role("data")),
        "lineage.code": bool(lineage.of_role("code")),
        "lineage.environment": lineage.environment_source != "this machine",
        "lineage.run": evidence.run is not None,
        "lineage.signature": isinstance(run.get("signature"), Mapping),
        "gates.metrics": bool(model.gates.metrics),
        "verdict.validation": validation is not None,
        "verdict.validation.slices": bool(slices)
        or any(c.kind.startswith("slice") for c in checks),
        "verdict.validation.fairness": validation is not None
        and bool(model.gates.slices and model.gates.slices.max_gap)
        and bool(slice_cols),
        "verdict.validation.champion": any(c.champion is not None for c in checks),
        "verdict.repro": "repro" in evidence.verdicts,
        "verdict.drift": "drift" in evidence.verdicts,
        "verdict.monitor": "monitor" in evidence.verdicts,
        "model.safe_format": _safe_format(model),
        "registry.history": bool(registry.versions),
        "registry.stages": bool(model.registry.stages),
    }


def _safe_format(model: ModelConfig) -> bool:
    """Whether the model file loads without unpickling (skops and the native formats)."""
    spec = model.model
    if not spec.file.exists():
        return spec.format not in (None, "pickle", "joblib")
    found = model_formats.detect(spec.file)
    return found is not None and found.loads_without_unpickling(spec.file)


def write_report(data: ReportData, out_dir: Path, formats: Sequence[str]) -> ModelReport:
    """Write the governance verdict and each format atomically; returns paths and sha256s."""
    files: dict[str, Path] = {
        "verdict": write_verdict(out_dir / "governance.json", data.governance)
    }
    for fmt in formats:
        files[fmt] = atomic_write_text(out_dir / FILE_NAMES[fmt], render(data, fmt))
    digests = {k: "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()}
    if "json" in files:
        # The registry payload field that ties a registration to this report (verdicts are
        # recorded by --verdict): mlgate registry register NAME --payload <this file> ...
        fragment = {"report": {"digest": digests["json"], "path": _rel(files["json"], data)}}
        files["payload"] = atomic_write_json(out_dir / PAYLOAD_FILE, fragment)
    return ModelReport(data, files, digests)


def _rel(path: Path, data: ReportData) -> str:
    root = Path(data.model.repo_root) if data.model.repo_root else None
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def render(data: ReportData, fmt: str, *, full_report: str | None = None) -> str:
    """The report as text in ``fmt`` (md, html, json)."""
    if fmt == "md":
        return render_markdown(data, full_report=full_report)
    if fmt == "html":
        return render_html(data)
    if fmt == "json":
        return dump_json(report_dict(data))
    raise UsageError(f"unknown report format {fmt!r}")
