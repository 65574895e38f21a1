"""The compliance checklist: which documentation items the evidence covers, and which are missing.

Each framework is a list of items, each naming the evidence facts that document it (facts are
computed by the report: "the card states the intended use", "a validation verdict exists"...).
An item's evidence is present when every fact holds, partial when some do, missing when none
do, each with the reason (what is there, what is not); items no tool output can document (a
declaration of conformity, cybersecurity as a whole) are listed as outside mlgate. Production
monitoring rests on a monitor verdict (production data checked), never on a drift check of
evaluation data against training data. This is a
documentation aid that shows where the evidence is, not a legal assessment.

Frameworks are a registry dict: add one by adding an entry to FRAMEWORKS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Every fact an item may rest on, and what it means (shown in the report's legend).
FACTS: dict[str, str] = {
    "card.overview": "the card describes what the model does",
    "card.intended_use": "the card states the intended use",
    "card.owners": "the card names accountable owners",
    "card.out_of_scope_uses": "the card lists out-of-scope uses",
    "card.limitations": "the card lists known limitations",
    "card.training_data": "the card describes the training data",
    "card.evaluation_data": "the card describes the evaluation data",
    "card.ethical_considerations": "the card lists risks to people and their mitigations",
    "card.risk": "the card states a risk level",
    "card.human_oversight": "the card describes human oversight",
    "card.architecture": "the card describes the architecture or design",
    "card.monitoring": "the card describes post-deployment monitoring",
    "lineage.commit": "the change is pinned to a git commit",
    "lineage.data": "data files are pinned by content hash",
    "lineage.code": "training code is pinned by content hash (mlgate.lock)",
    "lineage.environment": "the training environment is recorded (lock or run record)",
    "lineage.run": "a training run record exists",
    "lineage.signature": "the model's input signature is recorded",
    "gates.metrics": "metrics with thresholds are configured as gates",
    "verdict.validation": "a validation verdict exists",
    "verdict.validation.slices": "metrics are measured per slice",
    "verdict.validation.fairness": "fairness gaps between groups are bounded by a gate",
    "verdict.validation.champion": "the model is compared with the current champion",
    "verdict.repro": "a reproducibility verdict exists",
    "verdict.drift": "evaluation data was checked for drift against the training data",
    "verdict.monitor": "production data was checked for drift (a monitor verdict)",
    "model.safe_format": "the model file loads without executing code (skops, type allow-list)",
    "registry.history": "registered versions are recorded in the registry",
    "registry.stages": "a stage policy governs promotion and rollback",
}


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    facts: tuple[str, ...]  # empty: outside what mlgate can evidence
    note: str | None = None


@dataclass(frozen=True)
class Framework:
    key: str
    title: str
    reference: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class ItemResult:
    item: Item
    status: str  # "present", "partial", "missing", "outside"
    present: tuple[str, ...]
    absent: tuple[str, ...]

    @property
    def reason(self) -> str:
        """What the status rests on, in words."""
        if self.status == "outside":
            return self.item.note or _OUTSIDE
        has = "; ".join(FACTS[f] for f in self.present)
        lacks = "; ".join(FACTS[f] for f in self.absent)
        if self.status == "present":
            text = f"present: {has}"
        elif self.status == "partial":
            text = f"has: {has}; missing: {lacks}"
        else:
            text = f"missing: {lacks}"
        return text + (f" ({self.item.note})" if self.item.note else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "title": self.item.title,
            "status": self.status,
            "reason": self.reason,
            "evidence": list(self.present),
            "missing": list(self.absent),
            "note": self.item.note,
        }


@dataclass(frozen=True)
class FrameworkResult:
    framework: Framework
    items: tuple[ItemResult, ...]

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.framework.key,
            "title": self.framework.title,
            "reference": self.framework.reference,
            "counts": {s: self.count(s) for s in STATUSES},
            "items": [i.to_dict() for i in self.items],
        }


_OUTSIDE = "not produced by mlgate: attach it to the technical documentation separately"
STATUSES = ("present", "partial", "missing", "outside")

EU_AI_ACT = Framework(
    "eu-ai-act-annex-iv",
    "EU AI Act, Annex IV (technical documentation)",
    "Regulation (EU) 2024/1689, Annex IV",
    (
        Item("1", "General description: intended purpose, provider, version",
             ("card.overview", "card.intended_use", "card.owners", "lineage.commit")),
        Item("2(a)", "Methods and steps of development",
             ("lineage.code", "lineage.run", "lineage.environment")),
        Item("2(b)", "Design specifications, key design choices, what is optimised",
             ("card.architecture", "gates.metrics")),
        Item("2(c)", "System architecture and computational resources",
             ("card.architecture", "lineage.environment")),
        Item("2(d)", "Data requirements: training data, provenance, scope, preparation",
             ("card.training_data", "lineage.data")),
        Item("2(e)", "Human oversight measures", ("card.human_oversight",)),
        Item("2(f)", "Pre-determined changes to the system and its performance", (), _OUTSIDE),
        Item("2(g)", "Validation and testing: data, metrics, test logs and reports",
             ("verdict.validation", "verdict.repro", "gates.metrics", "card.evaluation_data")),
        Item("2(h)", "Cybersecurity measures", (),
             "not assessed by mlgate: it loads model files without running code, which is one "
             "measure, not a cybersecurity assessment"),
        Item("3", "Capabilities and limitations, accuracy for specific groups",
             ("card.limitations", "card.out_of_scope_uses", "verdict.validation.slices")),
        Item("3 (inputs)", "Specifications for input data", ("lineage.signature",)),
        Item("4", "Appropriateness of the performance metrics",
             ("gates.metrics", "card.evaluation_data")),
        Item("5", "Risk management system (Article 9)",
             ("card.risk", "card.ethical_considerations")),
        Item("6", "Relevant changes through the lifecycle",
             ("registry.history", "lineage.commit")),
        Item("7", "Harmonised standards or other specifications applied", (), _OUTSIDE),
        Item("8", "EU declaration of conformity", (), _OUTSIDE),
        Item("9", "Post-market monitoring plan (Article 72)",
             ("verdict.monitor", "card.monitoring")),
    ),
)  # fmt: skip

NIST_AI_RMF = Framework(
    "nist-ai-rmf",
    "NIST AI RMF 1.0: MEASURE and MANAGE",
    "NIST AI 100-1 (2023)",
    (
        Item("MEASURE 1.1", "Metrics for the most significant risks are selected",
             ("gates.metrics",)),
        Item("MEASURE 2.1", "Test sets, metrics and tools used in evaluation are documented",
             ("verdict.validation", "lineage.data", "lineage.environment")),
        Item("MEASURE 2.3", "Performance is measured for conditions like deployment",
             ("verdict.validation", "verdict.drift", "card.evaluation_data")),
        Item("MEASURE 2.4", "Behaviour is monitored in production",
             ("verdict.monitor", "card.monitoring")),
        Item("MEASURE 2.5", "Validity and reliability shown; limits of generalisation documented",
             ("verdict.validation", "verdict.repro", "card.limitations")),
        Item("MEASURE 2.7", "Security and resilience are evaluated", (),
             "not assessed by mlgate: safe model loading is one measure, not an evaluation"),
        Item("MEASURE 2.8", "Transparency and accountability risks are documented",
             ("lineage.commit", "lineage.run", "card.owners")),
        Item("MEASURE 2.9", "The model is explained, validated and documented in context",
             ("card.overview", "card.intended_use", "verdict.validation")),
        Item("MEASURE 2.10", "Privacy risk is examined", (), _OUTSIDE),
        Item("MEASURE 2.11", "Fairness and bias are evaluated and documented",
             ("verdict.validation.fairness",)),
        Item("MEASURE 2.12", "Environmental impact is assessed", (), _OUTSIDE),
        Item("MEASURE 3.1", "Emergent risks are tracked from deployed performance",
             ("verdict.monitor",)),
        Item("MANAGE 1.1", "Whether the system meets its purpose and should proceed is decided",
             ("verdict.validation", "card.intended_use")),
        Item("MANAGE 1.2", "Treatment of risks is prioritised", ("card.risk",)),
        Item("MANAGE 1.3", "Responses to high-priority risks are documented",
             ("card.ethical_considerations",)),
        Item("MANAGE 1.4", "Residual risks are documented",
             ("card.limitations", "card.out_of_scope_uses")),
        Item("MANAGE 2.2", "Mechanisms sustain the value of the deployed system",
             ("verdict.validation.champion",)),
        Item("MANAGE 2.3", "Procedures respond to and recover from newly found risks",
             ("registry.history",)),
        Item("MANAGE 2.4", "Systems can be superseded, disengaged or deactivated",
             ("registry.stages", "card.owners")),
        Item("MANAGE 4.1", "Post-deployment monitoring plans are implemented",
             ("verdict.monitor", "card.monitoring")),
        Item("MANAGE 4.3", "Incidents and errors are communicated", (), _OUTSIDE),
    ),
)  # fmt: skip

# key -> framework; the order here is the order in reports.
FRAMEWORKS: dict[str, Framework] = {f.key: f for f in (EU_AI_ACT, NIST_AI_RMF)}


def assess(
    facts: Mapping[str, bool], frameworks: Mapping[str, Framework] = FRAMEWORKS
) -> list[FrameworkResult]:
    """Every item of every framework, marked present / partial / missing / outside."""
    unknown = {f for fw in frameworks.values() for i in fw.items for f in i.facts} - set(FACTS)
    if unknown:  # a framework table naming a fact nobody computes is a bug, not a gap
        raise ValueError(f"compliance items name unknown facts: {sorted(unknown)}")
    results = []
    for framework in frameworks.values():
        items = []
        for item in framework.items:
            present = tuple(f for f in item.facts if facts.get(f))
            absent = tuple(f for f in item.facts if not facts.get(f))
            if not item.facts:
                status = "outside"
            elif not absent:
                status = "present"
            else:
                status = "partial" if present else "missing"
            items.append(ItemResult(item, status, present, absent))
        results.append(FrameworkResult(framework, tuple(items)))
    return results
