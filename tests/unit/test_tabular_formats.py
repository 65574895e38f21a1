"""Tables in the formats users keep: CSV with any common delimiter, TSV, Parquet, Feather/Arrow,
JSON lines; anything else refused at config check naming the formats; one table split as
scikit-learn splits it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from mlgate import tabular
from mlgate.config.loader import load_config
from mlgate.errors import ConfigError

FRAME = pd.DataFrame({"a": [1.5, 2.5, 3.5, 4.5], "b": ["x", "y", "x", "z"], "label": [0, 1, 0, 1]})


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_a_csv_delimiter_is_sniffed(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "t.csv"
    FRAME.to_csv(path, sep=sep, index=False)
    read = tabular.read_table(path)
    pd.testing.assert_frame_equal(read, FRAME)
    assert tabular.table_columns(path) == ["a", "b", "label"]


def test_options_override_the_sniffed_delimiter_and_decimal(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a;b\n1,5;x\n2,5;y\n")
    read = tabular.read_table(path, options={"delimiter": ";", "decimal": ","})
    assert read["a"].tolist() == [1.5, 2.5]
    # A one-column CSV has nothing to sniff: it stays one column.
    single = tmp_path / "one.csv"
    single.write_text("a\n1\n2\n")
    assert tabular.read_table(single).columns.tolist() == ["a"]


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("t.tsv", lambda f, p: f.to_csv(p, sep="\t", index=False)),
        ("t.parquet", lambda f, p: f.to_parquet(p)),
        ("t.feather", lambda f, p: f.to_feather(p)),
        ("t.jsonl", lambda f, p: f.to_json(p, orient="records", lines=True)),
        ("t.csv.gz", lambda f, p: f.to_csv(p, sep=";", index=False)),
    ],
)
def test_every_supported_format_reads_the_same_frame(
    tmp_path: Path, name: str, write: Callable[[pd.DataFrame, Path], object]
) -> None:
    path = tmp_path / name
    write(FRAME, path)
    pd.testing.assert_frame_equal(tabular.read_table(path), FRAME)
    assert tabular.table_columns(path) == ["a", "b", "label"]
    assert tabular.read_table(path, columns=["b"]).columns.tolist() == ["b"]


def test_arrow_ipc_file_reads(tmp_path: Path) -> None:
    import pyarrow as pa
    from pyarrow import ipc

    path = tmp_path / "t.arrow"
    with ipc.new_file(path, pa.Schema.from_pandas(FRAME, preserve_index=False)) as writer:
        writer.write_table(pa.Table.from_pandas(FRAME, preserve_index=False))
    pd.testing.assert_frame_equal(tabular.read_table(path), FRAME)


@pytest.mark.parametrize("name", ["data.pkl", "data.xlsx", "data"])
def test_config_check_refuses_other_files_naming_the_formats(starter: Path, name: str) -> None:
    folder = starter / "models" / "churn" / "data"
    (folder / name).write_bytes(b"\x80\x04K\x01.")
    config = starter / "mlgate.yaml"
    config.write_text(config.read_text().replace("train: data/train.csv", f"train: data/{name}"))
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "Parquet (.parquet)" in caught.value.message
    assert "JSON lines" in caught.value.message
    assert caught.value.location is not None
    assert caught.value.location.line == 15


def test_a_folder_without_tables_is_refused(starter: Path) -> None:
    folder = starter / "models" / "churn" / "data" / "raw"
    folder.mkdir()
    (folder / "x.pkl").write_bytes(b"x")
    config = starter / "mlgate.yaml"
    config.write_text(config.read_text().replace("eval: data/eval.csv", "eval: data/raw"))
    with pytest.raises(ConfigError, match="no CSV"):
        load_config(config)


def _split_config(starter: Path, split: str) -> Path:
    config = starter / "mlgate.yaml"
    text = config.read_text().replace("      eval: data/eval.csv\n", f"      split: {split}\n")
    config.write_text(text)
    return config


def test_a_split_takes_the_rows_sklearn_holds_out(starter: Path) -> None:
    config = _split_config(starter, "{test_size: 0.3, seed: 7, stratify: churned}")
    model = load_config(config).model()
    whole = pd.read_csv(model.data.train)
    _, expected_test = train_test_split(
        whole, test_size=0.3, random_state=7, stratify=whole["churned"]
    )
    evaluation = tabular.read_data(model.data, "eval")
    training = tabular.read_data(model.data, "train")
    pd.testing.assert_frame_equal(evaluation, expected_test.reset_index(drop=True))
    assert len(training) + len(evaluation) == len(whole)
    assert model.data.split is not None
    train_rows, test_rows = tabular.split_rows(whole, model.data.split)
    assert set(train_rows).isdisjoint(test_rows)
    assert list(test_rows) == list(expected_test.index)


def test_a_split_without_random_state_matches_a_seeded_global_rng(starter: Path) -> None:
    # The MLflow tutorial seeds numpy's global generator and calls train_test_split(data).
    model = load_config(_split_config(starter, "{random_state: 40}")).model()
    whole = pd.read_csv(model.data.train)
    np.random.seed(40)
    _, test = train_test_split(whole)
    assert model.data.split is not None
    assert list(tabular.split_rows(whole, model.data.split)[1]) == list(test.index)


def test_a_split_with_eval_or_both_seed_names_is_refused(starter: Path) -> None:
    config = starter / "mlgate.yaml"
    text = config.read_text()
    config.write_text(
        text.replace(
            "      eval: data/eval.csv\n", "      eval: data/eval.csv\n      split: {seed: 1}\n"
        )
    )
    with pytest.raises(ConfigError, match=r"remove data\.eval"):
        load_config(config)
    config.write_text(
        text.replace("      eval: data/eval.csv\n", "      split: {seed: 1, random_state: 1}\n")
    )
    with pytest.raises(ConfigError, match="not both"):
        load_config(config)
    config.write_text(
        text.replace("      eval: data/eval.csv\n", "      split: {test_size: 0.2}\n")
    )
    with pytest.raises(ConfigError):  # no seed: the rows could not be the script's
        load_config(config)


def test_stratify_on_a_missing_column_names_it(starter: Path) -> None:
    model = load_config(_split_config(starter, "{seed: 1, stratify: churn}")).model()
    with pytest.raises(ConfigError, match="'churn'"):
        tabular.read_data(model.data, "eval")
