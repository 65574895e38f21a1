"""The model card: schema problems, required fields, Model Card Toolkit mapping."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlgate.config.loader import load_config
from mlgate.errors import ConfigError
from mlgate.governance.card import card_fields, load_card, to_model_card_toolkit
from mlgate.verdict import Status


def _card_path(project: Path) -> Path:
    return project / "models" / "churn" / "model_card.yaml"


def _edit_card(project: Path, **changes: object) -> None:
    path = _card_path(project)
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _set_required(project: Path, required: list[str]) -> None:
    path = project / "mlgate.yaml"
    text = path.read_text()
    old = "required: [model_details.owners, intended_use, limitations, risk]"
    assert old in text
    path.write_text(text.replace(old, f"required: [{', '.join(required)}]"))


def test_the_starter_card_passes(starter: Path) -> None:
    cfg = load_config(starter / "mlgate.yaml")
    result = load_card(cfg, cfg.model())
    assert result.problems == ()
    assert result.card is not None
    assert result.card.owners[0].name == "Data Science Team"
    assert result.card.risk == "limited"
    checks = result.checks("churn")
    assert [c.id for c in checks] == [
        "card.required.model_details.owners",
        "card.required.intended_use",
        "card.required.limitations",
        "card.required.risk",
    ]
    assert all(c.status is Status.PASS for c in checks)
    assert checks[0].config_key == ("governance", "required", 0)


def test_a_missing_required_field_fails_naming_it(starter: Path) -> None:
    _edit_card(starter, risk=None)
    cfg = load_config(starter / "mlgate.yaml")
    result = load_card(cfg, cfg.model())
    (problem,) = result.problems
    assert problem.check_id == "card.required.risk"
    assert (
        "required card field 'risk' is missing from models/churn/model_card.yaml" in problem.message
    )
    failed = [c for c in result.checks("churn") if c.failed]
    assert [c.id for c in failed] == ["card.required.risk"]
    assert failed[0].config_key == ("governance", "required", 3)


def test_an_empty_required_field_points_at_its_line(starter: Path) -> None:
    _edit_card(starter, limitations=[])
    cfg = load_config(starter / "mlgate.yaml")
    (problem,) = load_card(cfg, cfg.model()).problems
    assert problem.message == "required card field 'limitations' is empty"
    text = _card_path(starter).read_text().splitlines()
    assert problem.location.line is not None
    assert text[problem.location.line - 1].startswith("limitations:")


def test_wrongly_typed_and_misspelt_fields_are_located(starter: Path) -> None:
    path = _card_path(starter)
    path.write_text(path.read_text().replace("risk: limited", "risk: medium\nlimitation: [x]"))
    cfg = load_config(starter / "mlgate.yaml")
    result = load_card(cfg, cfg.model())
    messages = {p.message for p in result.problems}
    assert any('"medium" is not one of "minimal", "limited"' in m for m in messages)
    assert "unknown key 'limitation' (did you mean 'limitations'?)" in messages
    risk = next(p for p in result.problems if "medium" in p.message)
    assert risk.location.file == "models/churn/model_card.yaml"
    assert risk.location.line is not None
    assert {c.id for c in result.checks("churn") if c.failed} == {"card.schema"}
    assert result.card is not None
    assert result.card.risk is None  # a malformed value is not shown as if it were valid
    assert result.card.intended_use  # the well-formed rest still is


def test_a_card_that_is_not_yaml_is_a_problem_not_a_crash(starter: Path) -> None:
    _card_path(starter).write_text("intended_use: [unclosed\n")
    cfg = load_config(starter / "mlgate.yaml")
    result = load_card(cfg, cfg.model())
    assert result.card is None
    assert result.problems[0].check_id == "card.readable"
    assert {p.check_id for p in result.problems[1:]} == {
        f"card.required.{n}"
        for n in ("model_details.owners", "intended_use", "limitations", "risk")
    }


def test_an_unknown_required_name_is_a_config_error(starter: Path) -> None:
    _set_required(starter, ["limitation"])
    cfg = load_config(starter / "mlgate.yaml")
    with pytest.raises(ConfigError, match="unknown model card field 'limitation'") as info:
        load_card(cfg, cfg.model())
    assert info.value.hint == "did you mean 'limitations'?"
    assert info.value.location is not None
    assert info.value.location.file.endswith("mlgate.yaml")


def test_required_fields_without_a_card_fail(starter: Path) -> None:
    path = starter / "mlgate.yaml"
    path.write_text(path.read_text().replace("      card: model_card.yaml\n", ""))
    cfg = load_config(starter / "mlgate.yaml")
    result = load_card(cfg, cfg.model())
    assert result.card is None
    assert len([c for c in result.checks("churn") if c.failed]) == 4


def test_card_fields_lists_nested_fields() -> None:
    fields = card_fields()
    assert "model_details.owners" in fields
    assert "intended_use" in fields
    assert "risk" in fields


def test_model_card_toolkit_mapping(starter: Path) -> None:
    cfg = load_config(starter / "mlgate.yaml")
    card = load_card(cfg, cfg.model()).card
    assert card is not None
    mct = to_model_card_toolkit(
        card,
        version="v1.2.0",
        metrics=[{"type": "roc_auc", "value": 0.83, "slice": "region=north"}],
    )
    details = mct["model_details"]
    assert details["name"] == "churn"
    assert details["owners"] == [{"name": "Data Science Team", "contact": "ds-team@example.com"}]
    assert details["licenses"] == [{"identifier": "Apache-2.0"}]
    assert details["version"]["name"] == "v1.2.0"
    considerations = mct["considerations"]
    assert considerations["use_cases"][0]["description"].startswith("Rank active customers")
    assert considerations["ethical_considerations"][0]["mitigation_strategy"]
    assert len(considerations["limitations"]) == 2
    assert mct["quantitative_analysis"]["performance_metrics"] == [
        {"type": "roc_auc", "value": "0.83", "slice": "region=north"}
    ]
