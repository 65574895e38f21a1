"""What `mlgate plan` counts as a model's dependencies, without git."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.config.loader import load_config
from mlgate.github.event import NULL_SHA, Event
from mlgate.prcheck.plan import (
    Dependency,
    PlannedModel,
    PlanResult,
    model_dependencies,
    resolve_base,
)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("models/churn", "models/churn/train.py", True),
        ("models/churn", "models/churner/train.py", False),
        ("models/churn/data/train.csv", "models/churn/data/train.csv", True),
        ("src/common/**/*.py", "src/common/a.py", True),
        ("src/common/**/*.py", "src/common/deep/er/b.py", True),
        ("src/common/*.py", "src/common/deep/b.py", False),
        ("src/common/*.py", "src/common/b.txt", False),
        ("data/[ab].csv", "data/a.csv", True),
        ("data/[!ab].csv", "data/a.csv", False),
        ("shared/*", "shared/lib/x.py", True),  # a folder named by a glob covers its content
    ],
)
def test_dependency_matching(pattern: str, path: str, expected: bool) -> None:
    assert Dependency(pattern, "why").matches(path) is expected


def test_dependencies_include_inputs_outside_the_model_folder(starter: Path) -> None:
    config_file = starter / "mlgate.yaml"
    text = config_file.read_text()
    text = text.replace(
        "      tolerance: {predictions: 1.0e-9, metrics: 1.0e-9}",
        "      tolerance: {predictions: 1.0e-9, metrics: 1.0e-9}\n"
        "      code: ['*.py', '../../src/features/**/*.py']\n"
        "      exclude: [notebooks/**]\n"
        "      requirements: ../../requirements.txt",
    )
    text = text.replace(
        "      sensitive: [gender]", "      sensitive: [gender]\n      extra: [../../shared]"
    )
    config_file.write_text(text)
    (starter / "shared").mkdir()
    model = load_config(config_file).model("churn")
    deps = {(d.pattern, d.why) for d in model_dependencies(model)}
    assert ("src/features/**/*.py", "repro.code") in deps
    assert ("requirements.txt", "repro.requirements") in deps
    assert ("shared", "data.extra") in deps
    assert ("models/churn/params.yaml", "train.params") in deps
    assert ("models/churn/model_card.yaml", "governance.card") in deps
    assert (".mlgate/runs/churn", "run records") in deps
    assert ("models/churn", "model folder") in deps

    def why(path: str) -> str | None:
        return next((d.why for d in model_dependencies(model) if d.matches(path)), None)

    assert why("models/churn/params.yaml") == "train.params"
    assert why("src/features/encoders/onehot.py") == "repro.code"
    assert why("models/churn/notebooks/eda.ipynb") is None  # repro.exclude
    assert why("src/other/x.py") is None


def test_base_comes_from_the_event_before_any_default(tmp_path: Path) -> None:
    pr = Event("pull_request", {"pull_request": {"number": 3, "base": {"sha": "abc123"}}})
    assert resolve_base(tmp_path, None, pr) == ("abc123", None)
    assert resolve_base(tmp_path, "origin/dev", pr) == ("origin/dev", None)
    push = Event("push", {"before": "def456"})
    assert resolve_base(tmp_path, None, push) == ("def456", None)
    new_branch = Event("push", {"before": NULL_SHA})
    base, why = resolve_base(tmp_path, None, new_branch)
    assert base is None
    assert why is not None
    assert "every model" in why


def test_option_like_base_is_refused(tmp_path: Path) -> None:
    from mlgate.errors import UsageError

    with pytest.raises(UsageError, match="is not a revision"):
        resolve_base(tmp_path, "--output=/tmp/x", Event(None))


def test_matrix_rows_have_artifact_safe_names() -> None:
    planned = PlannedModel("vision:detector", "vision=detector", "models/vision", ("x",))
    result = PlanResult("main", "abc", None, ("x",), (planned,), ())
    row = result.matrix["include"][0]
    assert row["artifact"] == "vision-detector"
    assert result.outputs()["any"] == "true"
    empty = PlanResult("main", "abc", None, (), (), ("churn",))
    assert empty.outputs()["matrix"] == '{"include":[]}'
    assert empty.outputs()["any"] == "false"
