"""Numeric slice columns with many values are cut into value ranges, not one slice per value."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlgate.config.sections import SliceSettings
from mlgate.errors import ConfigError, Location
from mlgate.gates.slices import MISSING, _groups

HERE = Location("mlgate.yaml", 1, 1)


def groups(frame: pd.DataFrame, column: str, **settings: Any) -> dict[str, int]:
    found = _groups(frame, column, SliceSettings(columns=(column,), **settings), HERE)
    return {label: int(mask.sum()) for label, mask in found}


def test_a_numeric_column_gets_quantile_bins_covering_every_row() -> None:
    frame = pd.DataFrame({"age": np.arange(100, dtype=float)})
    found = groups(frame, "age")
    assert found == {"[0, 24.75)": 25, "[24.75, 49.5)": 25, "[49.5, 74.25)": 25, "[74.25, 99]": 25}
    assert list(groups(frame, "age", bins=2)) == ["[0, 49.5)", "[49.5, 99]"]


def test_explicit_edges_missing_values_and_values_outside() -> None:
    frame = pd.DataFrame({"age": [5.0, 20.0, 35.0, 70.0, np.nan, 130.0]})
    found = groups(frame, "age", column_bins={"age": (18.0, 65.0, 120.0)})
    assert found == {"< 18": 1, "[18, 65)": 2, "[65, 120]": 1, "> 120": 1, MISSING: 1}


def test_few_values_booleans_and_text_stay_one_slice_per_value() -> None:
    frame = pd.DataFrame(
        {"calls": [0, 1, 2, 1, 0, 3], "flag": [True, False] * 3, "region": list("nsnsns")}
    )
    assert groups(frame, "calls") == {"0": 2, "1": 2, "2": 1, "3": 1}
    assert groups(frame, "flag") == {"False": 3, "True": 3}
    assert groups(frame, "region") == {"n": 3, "s": 3}
    assert list(groups(frame, "calls", column_bins={"calls": 2})) == ["[0, 1)", "[1, 3]"]
    with pytest.raises(ConfigError, match="not numeric"):
        groups(frame, "region", column_bins={"region": 3})
