"""The model card: read ``model_card.yaml``, check it, and map it onto the Model Card Toolkit.

A card with wrongly typed or missing fields does not stop the report: every problem becomes a
failed governance check pointing at the card's line (or at the ``governance.required`` entry in
mlgate.yaml), and the fields that are well formed are still shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config.model import Config, ModelConfig
from mlgate.config.yamlsource import load_yaml_file
from mlgate.errors import ConfigError, Location
from mlgate.verdict import Check, Status

# Fields a card has, as dotted paths (the card schema's properties).
_SPDX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")


@dataclass(frozen=True)
class Owner:
    name: str
    contact: str | None = None


@dataclass(frozen=True)
class Consideration:
    name: str
    mitigation: str | None = None


@dataclass(frozen=True)
class ModelCard:
    """The card's fields; a field that was missing or malformed is None or empty."""

    source: str  # repository-relative path, for messages
    data: Mapping[str, Any]
    name: str | None = None
    overview: str | None = None
    documentation: str | None = None
    owners: tuple[Owner, ...] = ()
    license: str | None = None
    version_notes: str | None = None
    architecture: str | None = None
    references: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()
    intended_use: str | None = None
    intended_users: tuple[str, ...] = ()
    out_of_scope_uses: tuple[str, ...] = ()
    training_data: str | None = None
    evaluation_data: str | None = None
    input_format: str | None = None
    output_format: str | None = None
    limitations: tuple[str, ...] = ()
    tradeoffs: tuple[str, ...] = ()
    ethical_considerations: tuple[Consideration, ...] = ()
    human_oversight: str | None = None
    risk: str | None = None
    risk_rationale: str | None = None
    monitoring: str | None = None

    def has(self, dotted: str) -> bool:
        """Whether the field at ``dotted`` (``model_details.owners``) is present and non-empty."""
        value: Any = self.data
        for part in dotted.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return False
            value = value[part]
        if isinstance(value, str):
            return bool(value.strip())
        return value is not None and value not in ([], {})


@dataclass(frozen=True)
class CardProblem:
    """One thing wrong with the card, where it is, and which check it fails."""

    check_id: str
    message: str
    location: Location
    config_key: tuple[str | int, ...] | None = None


@dataclass(frozen=True)
class CardResult:
    """The card (None when there is none or it cannot be parsed) and its problems."""

    card: ModelCard | None
    path: Path | None
    required: tuple[str, ...]
    problems: tuple[CardProblem, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def checks(self, model: str) -> list[Check]:
        """The governance checks: one per required field, plus one per card problem."""
        out: list[Check] = []
        failed = {p.check_id for p in self.problems}
        for index, name in enumerate(self.required):
            check_id = f"card.required.{name}"
            if check_id in failed:
                continue
            out.append(
                Check(
                    id=check_id,
                    kind="card",
                    status=Status.PASS,
                    message=f"required card field {name!r} is present",
                    observed="present",
                    threshold="required",
                    config_key=("governance", "required", index),
                )
            )
        out.extend(
            Check(
                id=p.check_id,
                kind="card",
                status=Status.FAIL,
                message=f"{p.location}: {p.message}",
                observed="missing" if p.check_id.startswith("card.required.") else "invalid",
                threshold="required" if p.check_id.startswith("card.required.") else "valid",
                details={"file": p.location.file, "line": p.location.line, "model": model},
                config_key=p.config_key,
            )
            for p in self.problems
        )
        return out


def card_fields() -> list[str]:
    """Every field a card may have, as dotted paths (for ``governance.required``)."""
    from mlgate.schemas import load_schema

    props = load_schema("card")["properties"]
    out = []
    for key, spec in props.items():
        out.append(key)
        out += [f"{key}.{sub}" for sub in spec.get("properties", {})]
    return out


def check_required_names(config: Config, model: ModelConfig) -> tuple[str, ...]:
    """``governance.required``, each name checked against the card schema (ConfigError, exit 2)."""
    from mlgate.config.validate import suggest

    names = model.governance.required
    known = card_fields()
    for index, name in enumerate(names):
        if name not in known:
            guess = suggest(name, known)
            raise ConfigError(
                f"unknown model card field {name!r} in governance.required",
                location=config.locate(model, "governance", "required", index),
                hint=f"did you mean {guess!r}?" if guess else "see 'mlgate schema card'",
            )
    return names


def load_card(config: Config, model: ModelConfig) -> CardResult:
    """Read and check the model's card; problems are collected, never raised (but see above)."""
    from mlgate.config.validate import problems

    required = check_required_names(config, model)
    path = model.governance.card
    if path is None:
        missing = tuple(
            CardProblem(
                f"card.required.{name}",
                f"required card field {name!r}: no model card is configured",
                config.locate(model, "governance"),
                ("governance",),
            )
            for name in required
        )
        return CardResult(None, None, required, missing, ("no model card configured",))
    shown = model.relative(path)
    try:
        data, source = load_yaml_file(path)
    except ConfigError as exc:
        where = exc.location or Location(shown)
        problem = CardProblem("card.readable", exc.message, where, ("governance", "card"))
        return CardResult(None, path, required, (problem, *_all_missing(required, shown)))
    source.file = shown
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problem = CardProblem(
            "card.schema", "the model card must be a mapping of fields", source.locate(())
        )
        return CardResult(None, path, required, (problem, *_all_missing(required, shown)))
    found: list[CardProblem] = [
        CardProblem("card.schema", p.message + (f" ({p.hint})" if p.hint else ""), p.location)
        for p in problems(data, "card", source)
    ]
    card = _build(shown, data)
    for index, name in enumerate(required):
        if card.has(name):
            continue
        parts = tuple(name.split("."))
        if _present(data, name):
            where, message = source.locate(parts), f"required card field {name!r} is empty"
        else:
            where = source.locate(parts[:-1]) if len(parts) > 1 else Location(shown)
            message = (
                f"required card field {name!r} is missing from {shown} "
                "(governance.required in mlgate.yaml asks for it)"
            )
        found.append(
            CardProblem(f"card.required.{name}", message, where, ("governance", "required", index))
        )
    return CardResult(card, path, required, tuple(found))


def _all_missing(required: Sequence[str], shown: str) -> list[CardProblem]:
    return [
        CardProblem(
            f"card.required.{n}",
            f"required card field {n!r}: the card could not be read",
            Location(shown),
            ("governance", "required", i),
        )
        for i, n in enumerate(required)
    ]


def _present(data: Mapping[str, Any], dotted: str) -> bool:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False
        value = value[part]
    return True


def _build(shown: str, data: Mapping[str, Any]) -> ModelCard:
    """A ModelCard from raw data, keeping well-typed values (the schema check reports the rest)."""
    raw_details = data.get("model_details")
    details: Mapping[str, Any] = raw_details if isinstance(raw_details, dict) else {}

    def text(src: Mapping[str, Any], key: str) -> str | None:
        value = src.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else None

    def texts(src: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = src.get(key)
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list):
            return tuple(str(v) for v in value if isinstance(v, str | int | float))
        return ()

    owners = tuple(
        Owner(str(o["name"]), text(o, "contact"))
        for o in details.get("owners") or []
        if isinstance(o, dict) and isinstance(o.get("name"), str)
    )
    considerations = tuple(
        Consideration(str(c["name"]), text(c, "mitigation"))
        for c in data.get("ethical_considerations") or []
        if isinstance(c, dict) and isinstance(c.get("name"), str)
    )
    risk = text(data, "risk")
    return ModelCard(
        source=shown,
        data=data,
        name=text(details, "name"),
        overview=text(details, "overview"),
        documentation=text(details, "documentation"),
        owners=owners,
        license=text(details, "license"),
        version_notes=text(details, "version_notes"),
        architecture=text(details, "architecture"),
        references=texts(details, "references"),
        citations=texts(details, "citations"),
        intended_use=text(data, "intended_use"),
        intended_users=texts(data, "intended_users"),
        out_of_scope_uses=texts(data, "out_of_scope_uses"),
        training_data=text(data, "training_data"),
        evaluation_data=text(data, "evaluation_data"),
        input_format=text(data, "input_format"),
        output_format=text(data, "output_format"),
        limitations=texts(data, "limitations"),
        tradeoffs=texts(data, "tradeoffs"),
        ethical_considerations=considerations,
        human_oversight=text(data, "human_oversight"),
        risk=risk if risk in {"minimal", "limited", "high", "unacceptable"} else None,
        risk_rationale=text(data, "risk_rationale"),
        monitoring=text(data, "monitoring"),
    )


def to_model_card_toolkit(
    card: ModelCard,
    *,
    version: str | None = None,
    metrics: Sequence[Mapping[str, Any]] = (),
    datasets: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """The card in the Google Model Card Toolkit's JSON layout (schema v0.0.2 field names).

    ``metrics`` are ``{"type", "value", "slice"?}`` rows (from the validation verdict);
    ``datasets`` are ``{"name", "description", "path"?}`` (from the lock).
    """
    details: dict[str, Any] = {
        "name": card.name,
        "overview": card.overview,
        "documentation": card.documentation,
        "owners": [_drop_none({"name": o.name, "contact": o.contact}) for o in card.owners],
        "version": _drop_none({"name": version, "diff": card.version_notes}),
        "licenses": (
            [
                {"identifier": card.license}
                if _SPDX.match(card.license)
                else {"custom_text": card.license}
            ]
            if card.license
            else []
        ),
        "references": [{"reference": r} for r in card.references],
        "citations": [{"citation": c} for c in card.citations],
    }
    parameters: dict[str, Any] = {
        "model_architecture": card.architecture,
        "data": [dict(d) for d in datasets],
        "input_format": card.input_format,
        "output_format": card.output_format,
    }
    considerations = {
        "users": [{"description": u} for u in card.intended_users],
        "use_cases": [{"description": card.intended_use}] if card.intended_use else [],
        "limitations": [{"description": x} for x in card.limitations],
        "tradeoffs": [{"description": x} for x in card.tradeoffs],
        "ethical_considerations": [
            _drop_none({"name": c.name, "mitigation_strategy": c.mitigation})
            for c in card.ethical_considerations
        ],
    }
    out_of_scope = [{"description": f"Out of scope: {x}"} for x in card.out_of_scope_uses]
    considerations["use_cases"] += out_of_scope
    analysis = {
        "performance_metrics": [
            _drop_none({"type": m["type"], "value": str(m["value"]), "slice": m.get("slice")})
            for m in metrics
        ]
    }
    return _drop_none(
        {
            "schema_version": "0.0.2",
            "model_details": _drop_none(details),
            "model_parameters": _drop_none(parameters),
            "quantitative_analysis": analysis,
            "considerations": considerations,
        }
    )


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != {}}
