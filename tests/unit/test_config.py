"""mlgate.yaml loading: the starter is valid, and every kind of bad input gets a precise error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlgate import formats
from mlgate.config.loader import find_config, load_config
from mlgate.config.model import resolved_view
from mlgate.errors import ConfigError, UsageError


def write(project: Path, text: str) -> Path:
    path = project / "mlgate.yaml"
    path.write_text(text)
    return path


def edit(project: Path, old: str, new: str) -> Path:
    path = project / "mlgate.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def line_of(project: Path, needle: str) -> int:
    lines = (project / "mlgate.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def error_of(project: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(project / "mlgate.yaml")
    return info.value


def test_starter_config_is_valid_and_resolved(starter: Path) -> None:
    cfg = load_config(starter / "mlgate.yaml")
    model = cfg.model()
    assert model.name == "churn"
    assert model.root == (starter / "models" / "churn").resolve()
    assert model.data.train == model.root / "data" / "train.csv"
    assert model.model.format is None  # detected from the content when loaded
    assert model.train is not None
    assert model.train.params == (model.root / "params.yaml",)
    view = resolved_view(cfg, formats.name_of)
    assert view["models"][0]["data"]["eval"] == "models/churn/data/eval.csv"
    assert view["models"][0]["model"]["format"] == "skops"


def test_found_upward_from_a_subfolder(starter: Path) -> None:
    assert find_config(start=starter / "models" / "churn" / "data") == starter / "mlgate.yaml"


def test_env_variable_names_the_config(starter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLGATE_CONFIG", str(starter))
    assert find_config(start=Path("/")) == starter / "mlgate.yaml"


def test_no_config_anywhere(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no mlgate\.yaml") as info:
        find_config(start=tmp_path)
    assert "mlgate init" in (info.value.hint or "")


def test_misspelt_key_names_line_column_and_suggestion(starter: Path) -> None:
    edit(starter, "      command: python train.py", "      comand: python train.py")
    err = error_of(starter)
    assert err.message == "unknown key 'comand'"
    assert err.hint == "did you mean 'command'?"
    assert err.location is not None
    assert err.location.line == line_of(starter, "comand:")
    assert err.location.column == 7
    assert err.location.key_path == "models[0].train.comand"
    assert err.details == []  # the matching "missing command" is folded into the suggestion
    assert err.exit_code == 2


def test_unknown_top_level_key(starter: Path) -> None:
    edit(starter, "version: 1", "version: 1\nmodles: []")
    err = error_of(starter)
    assert "unknown key 'modles'" in err.message
    assert err.hint == "did you mean 'models'?"


def test_wrong_type_and_bad_enum_are_both_reported(starter: Path) -> None:
    edit(starter, "direction: higher, min: 0.75", 'direction: hihger, min: "0.75"')
    err = error_of(starter)
    assert err.location is not None
    assert err.location.key_path == "models[0].gates.metrics.roc_auc.direction"
    assert '"hihger" is not one of "higher", "lower"' in err.message
    assert err.hint == "did you mean 'higher'?"
    assert any('roc_auc.min): expected a number, got "0.75"' in d for d in err.details)


def test_malformed_yaml_points_at_the_position(starter: Path) -> None:
    edit(starter, "      target: churned", "      target: [churned")
    err = error_of(starter)
    assert err.message.startswith("invalid YAML")
    assert err.location is not None
    assert err.location.line is not None


def test_empty_file(starter: Path) -> None:
    write(starter, "")
    err = error_of(starter)
    assert "empty" in err.message


def test_comment_only_file_is_empty(starter: Path) -> None:
    write(starter, "# nothing yet\n")
    assert "empty" in error_of(starter).message


def test_top_level_list(starter: Path) -> None:
    write(starter, "- a\n- b\n")
    assert "mapping" in error_of(starter).message


def test_newer_version(starter: Path) -> None:
    edit(starter, "version: 1", "version: 7")
    err = error_of(starter)
    assert "version 7 is newer" in err.message
    assert err.location is not None
    assert err.location.line == line_of(starter, "version: 7")
    assert "upgrade" in (err.hint or "")


def test_missing_version(starter: Path) -> None:
    edit(starter, "version: 1\n", "")
    assert "missing required key 'version'" in error_of(starter).message


def test_missing_referenced_file(starter: Path) -> None:
    edit(starter, "eval: data/eval.csv", "eval: data/evaluation.csv")
    err = error_of(starter)
    assert err.message == "file not found: models/churn/data/evaluation.csv"
    assert err.location is not None
    assert err.location.key_path == "models[0].data.eval"
    assert err.location.line == line_of(starter, "evaluation.csv")


def test_missing_model_folder(starter: Path) -> None:
    edit(starter, "path: models/churn", "path: models/chrun")
    assert "model folder not found" in error_of(starter).message


def test_duplicate_model_names(starter: Path) -> None:
    text = (starter / "mlgate.yaml").read_text()
    entry = text[text.index("  - name: churn") :]
    write(starter, text + entry)
    err = error_of(starter)
    assert "duplicate model name 'churn'" in err.message
    assert err.location is not None
    assert err.location.key_path == "models[1].name"


def test_duplicate_key_in_a_mapping(starter: Path) -> None:
    edit(starter, "      target: churned", "      target: churned\n      target: other")
    err = error_of(starter)
    assert "duplicate key 'target'" in err.message
    assert err.location is not None
    assert err.location.line == line_of(starter, "target: other")


def test_non_text_key_is_explained(starter: Path) -> None:
    edit(starter, "      target: churned", "      target: churned\n      on: 1")
    err = error_of(starter)
    assert "'on' is not text" in err.message
    assert 'quote the key: "on":' in (err.hint or "")


def test_target_listed_as_feature(starter: Path) -> None:
    edit(starter, "      target: churned", "      target: churned\n      features: [age, churned]")
    assert "also listed as a feature" in error_of(starter).message


def test_invalid_model_name(starter: Path) -> None:
    edit(starter, "name: churn", "name: -churn-")
    assert "does not match the required form" in error_of(starter).message


def test_many_problems_are_listed_not_swallowed(starter: Path) -> None:
    edit(starter, "task: binary-classification", "task: binary\n      colour: red")
    err = error_of(starter)
    assert "1 more problem" in err.message
    assert len(err.details) == 1


def test_not_utf8(starter: Path) -> None:
    (starter / "mlgate.yaml").write_bytes(b"version: 1\nmodels: \xff\xfe\n")
    assert "not UTF-8" in error_of(starter).message


def test_model_selection(starter: Path) -> None:
    text = (starter / "mlgate.yaml").read_text()
    entry = text[text.index("  - name: churn") :].replace("name: churn", "name: team:churn2")
    write(starter, text + entry)
    cfg = load_config(starter / "mlgate.yaml")
    assert cfg.model("team:churn2").tag_name == "team=churn2"
    assert cfg.model("team=churn2").name == "team:churn2"
    with pytest.raises(UsageError, match="defines 2 models"):
        cfg.model()
    with pytest.raises(UsageError) as info:
        cfg.model("chrun")
    assert info.value.hint == "did you mean 'churn'?"


def test_locate_points_into_the_file(starter: Path) -> None:
    cfg = load_config(starter / "mlgate.yaml")
    where = cfg.locate(cfg.model(), "gates", "metrics", "roc_auc", "min")
    assert where.line == line_of(starter, "roc_auc:")


def test_every_schema_property_is_documented_or_typed() -> None:
    from mlgate.schemas import load_schema

    schema = load_schema("config")

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, f"{path} allows unknown keys"
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}/{i}")

    walk(schema, "#")


def test_starter_yaml_round_trips() -> None:
    from mlgate.starter import render_starter

    files = render_starter()
    data = yaml.safe_load(files["mlgate.yaml"])
    assert data["models"][0]["name"] == "churn"
    assert files[".mlgate/config.schema.json"].startswith(b"{")


def test_every_shipped_schema_is_valid() -> None:
    import jsonschema

    from mlgate.schemas import available, load_schema

    for name in available():
        schema = load_schema(name)
        jsonschema.validators.validator_for(schema).check_schema(schema)


def test_a_config_is_validated_again_only_when_its_bytes_or_the_schema_change(
    starter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlgate import schemas
    from mlgate.config import validate

    calls: list[str] = []
    real = validate.validate

    def counted(*args: object, **kwargs: object) -> None:
        calls.append("validate")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(validate, "validate", counted)
    first = load_config(starter / "mlgate.yaml")
    assert calls == ["validate"]
    assert (starter / ".mlgate/cache/validated/config").is_file()
    again = load_config(starter / "mlgate.yaml")
    assert calls == ["validate"]  # the stamp says these bytes passed
    assert again.models == first.models
    # One byte more is a new file: validated (and refused) again, and the stamp is kept as it was.
    edit(starter, "models:", "modles: []\nmodels:")
    assert "unknown key 'modles'" in error_of(starter).message
    assert calls == ["validate", "validate"]
    edit(starter, "modles: []\nmodels:", "models:")
    load_config(starter / "mlgate.yaml")
    assert calls == ["validate", "validate"]
    # Another schema (a new mlgate) validates the same bytes again.
    text = schemas.schema_text
    monkeypatch.setattr(schemas, "schema_text", lambda name: text(name) + " ")
    load_config(starter / "mlgate.yaml")
    assert calls == ["validate", "validate", "validate"]


def test_a_read_only_cache_folder_only_costs_the_validation(
    starter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (starter / ".mlgate").mkdir(exist_ok=True)
    (starter / ".mlgate" / "cache").write_text("not a folder")
    load_config(starter / "mlgate.yaml")
    load_config(starter / "mlgate.yaml")
    assert (starter / ".mlgate" / "cache").read_text() == "not a folder"
