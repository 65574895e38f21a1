"""What goes into the image besides code: ``model.json`` and the smoke-test sample.

The signature is recomputed from the training data exactly as training saw it
(``tabular.feature_columns`` + ``Signature.from_frame``); data files are fingerprinted by sha256;
expected predictions come from loading the model in-process with ``formats.load``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate import __version__, formats, gitio, paths, tabular
from mlgate.config.model import ModelConfig
from mlgate.errors import ConfigError
from mlgate.gates.predict import model_features
from mlgate.modelio import sha256_file
from mlgate.publish.settings import PublishSettings
from mlgate.repro.lockfile import read_lock
from mlgate.serve.model import METADATA_FILE
from mlgate.tabular import table_files

FORMAT_VERSION = 1


@dataclass(frozen=True)
class SmokeSample:
    """Evaluation rows (``dataframe_split``) and the in-process predictions they must give."""

    columns: list[str]
    rows: list[list[Any]]
    method: str
    expected: list[Any]

    def request(self) -> dict[str, Any]:
        return {
            "dataframe_split": {"columns": self.columns, "data": self.rows},
            "params": {"method": self.method},
        }


@dataclass(frozen=True)
class ModelBundle:
    """The served model's metadata, the model file, and the sample to verify it with."""

    metadata: dict[str, Any]
    model_file: Path
    sample: SmokeSample

    @property
    def sha256(self) -> str:
        return str(self.metadata["sha256"])


def build_bundle(
    model: ModelConfig, settings: PublishSettings, *, version: str | None, commit: str | None
) -> ModelBundle:
    """Collect metadata and the smoke sample for ``model`` (loads data and the model once)."""
    spec = model.model
    if not spec.file.exists():
        raise ConfigError(
            f"model file not found: {model.relative(spec.file)}",
            hint="train the model first (its train command in mlgate.yaml)",
        )
    if model.data.train is None or model.data.eval is None:
        raise ConfigError(
            f"model {model.name!r} needs data.train (signature) and data.eval (smoke test) "
            "to be published"
        )
    train = tabular.read_data(model.data, "train")
    features = tabular.feature_columns(
        train,
        target=model.data.target,
        features=model.data.features,
        sensitive=model.data.sensitive,
        source=model.relative(model.data.train),
    )
    estimator = formats.load(
        spec.file,
        fmt=spec.format,
        trusted=spec.trusted,
        trusted_types=spec.trusted_types,
        task=spec.task,
    )
    # The columns the model was fitted on, when it records them (as validate scores it).
    features = model_features(estimator, features)
    signature = tabular.Signature.from_frame(train, features)
    declared = formats.resolve(spec.file, spec.format).signature(spec.file)
    if declared:  # the model file's own signature (MLflow's MLmodel) is what it accepts
        signature = tabular.Signature(tuple(tabular.Column(n, k) for n, k in declared))
        features = signature.names
    evaluation = tabular.read_data(model.data, "eval")
    sample_frame = evaluation[features].head(settings.smoke_rows)
    method = "predict_proba" if callable(getattr(estimator, "predict_proba", None)) else "predict"
    expected = getattr(estimator, method)(sample_frame)
    served_format = formats.name_of(spec.file, spec.format)
    metadata: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "name": model.name,
        "tag_name": model.tag_name,
        "version": version,
        "commit": commit,
        "model_file": _served_name(spec.file, served_format),
        "format": served_format,
        "sha256": sha256_file(spec.file),
        "task": spec.task,
        "method": settings.method,
        "trusted_types": list(spec.trusted_types),
        "signature": signature.to_dict(),
        "data": _fingerprints(model),
        "fingerprint": _lock_fingerprint(model),
        "mlgate_version": __version__,
    }
    if "regression" in spec.task and model.data.target in train:
        metadata["prediction_buckets"] = _deciles(train[model.data.target])
    return ModelBundle(
        metadata=metadata,
        model_file=spec.file,
        sample=SmokeSample(
            columns=list(features),
            rows=_json_rows(sample_frame),
            method=method,
            expected=expected.tolist() if hasattr(expected, "tolist") else list(expected),
        ),
    )


def source_commit(model: ModelConfig) -> tuple[str | None, bool]:
    """HEAD of the repository and whether the model's folder has uncommitted changes."""
    commit = gitio.head_commit(model.repo_root)
    rel = model.relative(model.root)
    dirty = commit is not None and gitio.is_dirty(model.repo_root, [rel])
    return commit, dirty


def _lock_fingerprint(model: ModelConfig) -> str | None:
    """The fingerprint of the model's inputs in mlgate.lock, when the model is locked."""
    lock = read_lock(paths.lock_path(model.repo_root))
    entry = (lock.entry(model.tag_name) or lock.entry(model.name)) if lock else None
    value = entry.get("fingerprint") if entry else None
    return str(value) if value else None


def _served_name(path: Path, fmt: str) -> str:
    """The model file's name in the image: ``model`` plus its suffix, never the metadata
    file's own name (an XGBoost ``model.json`` becomes ``model.xgboost.json``)."""
    name = "model" + _suffix(path)
    return f"model.{fmt}{_suffix(path)}" if name == METADATA_FILE else name


def _suffix(path: Path) -> str:
    if path.is_dir():  # a model directory (MLflow) is copied whole as model/model
        return ""
    return path.suffix or ".bin"


def _fingerprints(model: ModelConfig) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for role, path in (("train", model.data.train), ("eval", model.data.eval)):
        if path is None:
            continue
        files = table_files(path)
        if len(files) == 1:
            digest = sha256_file(files[0])
        else:
            import hashlib

            combined = hashlib.sha256()
            for f in files:
                combined.update(f"{f.relative_to(path).as_posix()}\0{sha256_file(f)}\n".encode())
            digest = combined.hexdigest()
        out[role] = {"path": model.relative(path), "sha256": digest}
    return out


def _deciles(series: Any) -> list[float]:
    values = series.quantile([i / 10 for i in range(1, 10)]).tolist()
    return sorted({float(v) for v in values})


def _json_rows(frame: Any) -> list[list[Any]]:
    """Rows as JSON values: NaN -> None, timestamps -> ISO strings, numpy scalars -> Python."""
    import pandas as pd

    rows = []
    for row in frame.astype(object).itertuples(index=False, name=None):
        out = []
        for value in row:
            if isinstance(value, pd.Timestamp):
                out.append(value.isoformat())
            elif value is None or (isinstance(value, float) and value != value):  # noqa: PLR0124
                out.append(None)
            elif hasattr(value, "item"):
                out.append(value.item())
            else:
                out.append(value)
        rows.append(out)
    return rows
