"""The report model: the typed ``ReportData`` every governance renderer formats.

``governance.report`` builds it; the renderers (``render_md``, ``render_html``, ``render_json``,
``charts``, ``mermaid``, ``hf``) only read it, so they depend on this module and never on
``report``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlgate import __version__
from mlgate.gates.results import DriftRow, MetricRow, SliceRow
from mlgate.governance.card import CardResult, ModelCard
from mlgate.governance.compliance import FrameworkResult
from mlgate.governance.diagnostics import Diagnostics
from mlgate.governance.evidence import Evidence, EvidenceItem
from mlgate.governance.lineage import Lineage
from mlgate.governance.registry_view import RegistryContext
from mlgate.verdict import Verdict

REPORT_FORMAT = 1
GATE_TITLES = {
    "lock": "Lock",
    "run": "Training run record",
    "governance": "Governance",
    "validation": "Validation",
    "repro": "Reproducibility",
    "drift": "Drift",
    "monitor": "Production monitoring",
}


@dataclass(frozen=True)
class ModelInfo:
    name: str
    tag_name: str
    task: str
    description: str | None
    path: str
    model_file: str
    repo_root: str = ""


@dataclass(frozen=True)
class ReportData:
    """Everything one model's report shows; the renderers only format it."""

    model: ModelInfo
    date: str | None
    card: ModelCard | None
    card_result: CardResult
    lineage: Lineage
    evidence: Evidence
    metrics: tuple[MetricRow, ...]
    metrics_source: str
    slices: tuple[SliceRow, ...]
    drift: tuple[DriftRow, ...]
    diagnostics: Diagnostics
    registry: RegistryContext
    facts: Mapping[str, bool]
    compliance: tuple[FrameworkResult, ...]
    governance: Verdict
    tool_version: str = __version__

    @property
    def verdicts(self) -> dict[str, Verdict]:
        """Every gate's verdict shown, governance first."""
        return {"governance": self.governance, **self.evidence.verdicts}

    def stale(self, kind: str) -> str | None:
        """Why the ``kind`` verdict no longer describes the model, lock and data (None: fresh)."""
        item = self.evidence.item(kind)
        return item.stale if item is not None else None

    def gate_state(self, kind: str) -> str:
        """pass, fail, stale or stale-fail: a stale verdict is never shown as a pass."""
        ok = self.verdicts[kind].ok
        if self.stale(kind):
            return "stale" if ok else "stale-fail"
        return "pass" if ok else "fail"

    @property
    def status(self) -> str:
        """The headline: ``fail`` when any verdict failed (stale or not), else ``warn`` when any
        verdict is stale (it judged something else: never a pass), else ``pass``."""
        if not all(v.ok for v in self.verdicts.values()):
            return "fail"
        if any(self.stale(kind) for kind in self.verdicts):
            return "warn"
        return "pass"

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    @property
    def missing(self) -> tuple[EvidenceItem, ...]:
        return self.evidence.missing
