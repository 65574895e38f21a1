"""The report as JSON (schema ``report``): everything the other formats show, as data."""

from __future__ import annotations

from typing import Any

from mlgate.governance.card import to_model_card_toolkit
from mlgate.governance.report_model import REPORT_FORMAT, ReportData
from mlgate.verdict import DELTA_LEGEND


def report_dict(data: ReportData) -> dict[str, Any]:
    """The JSON document of one model's report."""
    card = data.card
    return {
        "format": REPORT_FORMAT,
        "tool": {"name": "mlgate", "version": data.tool_version},
        "model": {
            "name": data.model.name,
            "tag_name": data.model.tag_name,
            "task": data.model.task,
            "description": data.model.description,
            "path": data.model.path,
            "file": data.model.model_file,
        },
        "date": data.date,
        "ok": data.ok,
        "status": data.status,
        "gates": {
            kind: {"ok": v.ok, "state": data.gate_state(kind), "counts": v.counts()}
            for kind, v in data.verdicts.items()
        },
        "verdicts": {kind: v.to_dict() for kind, v in data.verdicts.items()},
        "card": {
            "path": card.source if card else None,
            "fields": dict(card.data) if card else None,
            "model_card_toolkit": to_model_card_toolkit(card, metrics=metric_rows_for_card(data))
            if card
            else None,
            "required": list(data.card_result.required),
            "problems": [
                {"check": p.check_id, "message": p.message, "location": str(p.location)}
                for p in data.card_result.problems
            ],
        },
        "lineage": data.lineage.to_dict(),
        "evidence": [i.to_dict() for i in data.evidence.items],
        "missing_evidence": [i.kind for i in data.missing],
        "metrics": {
            "source": data.metrics_source or None,
            "delta": DELTA_LEGEND,
            "rows": [
                {
                    "name": m.name,
                    "value": m.value,
                    "champion": m.champion,
                    "delta": m.delta,
                    "direction": m.direction,
                    "status": m.status,
                }
                for m in data.metrics
            ],
        },
        "slices": [
            {
                "column": s.column,
                "value": s.value,
                "metric": s.metric,
                "score": s.score,
                "size": s.size,
                "status": s.status,
                "champion": s.champion,
            }
            for s in data.slices
        ],
        "drift": [
            {
                "column": d.column,
                "method": d.method,
                "statistic": d.statistic,
                "threshold": d.threshold,
                "drifted": d.drifted,
                "status": d.status,
            }
            for d in data.drift
        ],
        "diagnostics": data.diagnostics.to_dict(),
        "registry": data.registry.to_dict(),
        "compliance": {
            "facts": dict(sorted(data.facts.items())),
            "frameworks": [f.to_dict() for f in data.compliance],
        },
    }


def metric_rows_for_card(data: ReportData) -> list[dict[str, Any]]:
    """Metric values (overall and per slice) in the Model Card Toolkit's layout."""
    rows: list[dict[str, Any]] = [
        {"type": m.name, "value": m.value} for m in data.metrics if m.value is not None
    ]
    rows += [
        {"type": s.metric, "value": s.score, "slice": f"{s.column}={s.value}"}
        for s in data.slices
        if s.score is not None
    ]
    return rows
