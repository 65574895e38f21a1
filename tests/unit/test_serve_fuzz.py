"""Any JSON body is either scored or refused with a 400 naming the problem: never a 500."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgate.serve.model import InputError, ModelInfo, ServedModel
from mlgate.serve.payload import FORMATS, parse

NAMES = ["age", "income", "plan", "active", "when"]
KINDS = ["integer", "float", "string", "boolean", "datetime"]


class Echo:
    """An estimator stand-in: the frame is what is under test."""

    def predict(self, frame: Any) -> list[int]:
        return [0] * len(frame)


MODEL = ServedModel(
    ModelInfo.from_dict(
        {
            "name": "fuzz",
            "model_file": "m.skops",
            "format": "skops",
            "signature": {
                "inputs": [{"name": n, "type": k} for n, k in zip(NAMES, KINDS, strict=False)]
            },
        }
    ),
    Echo(),
)


def score(body: bytes, content_type: str = "application/json") -> Any:
    """The frame the server would predict on, or the InputError it would answer 400 with."""
    try:
        request = parse(MODEL, body, content_type)
        return MODEL.frame(request.columns)
    except InputError as exc:
        return exc


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
    st.sampled_from(["2024-01-01", "1", "true", "x"]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from([*NAMES, "other"]), inner, max_size=6),
    ),
    max_leaves=20,
)
bodies = st.dictionaries(st.sampled_from([*FORMATS, "params", "x"]), values, max_size=3)
record = st.fixed_dictionaries(dict.fromkeys(NAMES, scalars))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=bodies)
def test_arbitrary_bodies_are_scored_or_refused(body: dict[str, Any]) -> None:
    outcome = score(json.dumps(body).encode())
    if isinstance(outcome, InputError):
        assert str(outcome)
    else:
        assert list(outcome.columns) == NAMES


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(record, min_size=1, max_size=3))
def test_records_with_any_values_are_scored_or_refused_naming_a_column(rows: list[dict]) -> None:
    outcome = score(json.dumps({"dataframe_records": rows}).encode())
    if isinstance(outcome, InputError):
        assert any(repr(name) in str(outcome) for name in NAMES)
    else:
        assert len(outcome) == len(rows)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from([*NAMES, ",", '"', "\n", "\r", "\x00", "a", "1", ".", "-", ":", "T"]),
        max_size=40,
    )
)
def test_any_csv_body_is_scored_or_refused(parts: list[str]) -> None:
    outcome = score("".join(parts).encode(), "text/csv")
    assert isinstance(outcome, InputError) or list(outcome.columns) == NAMES


def test_a_csv_cell_beyond_the_field_limit_is_refused() -> None:
    body = ",".join(NAMES) + "\n" + "1," * 4 + "x" * 200_000 + "\n"
    outcome = score(body.encode(), "text/csv")
    assert isinstance(outcome, InputError)
    assert "CSV body cannot be parsed" in str(outcome)
