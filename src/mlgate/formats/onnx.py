"""ONNX models, run by onnxruntime (CPU).

Inputs: one 2-D tensor (``[N, n_features]``, the configured feature columns in order: what
skl2onnx and PyTorch exports take) or one input per column named like the column (``[N]`` or
``[N, 1]``, the names become the model's features). Outputs: a classifier's label output
(int64 or string tensor) and probability output (a ``[N, k]`` tensor, or ZipMap's sequence of
maps whose keys are the classes); a model with one float output is a regressor when the task
says regression, else its scores are class probabilities (logits go through softmax/sigmoid).
Class labels come from ``metadata_props["classes"]`` (a JSON list), the classifier node's
``classlabels_*`` (read from the protobuf, so the image needs no ``onnx`` package), ZipMap's
keys, else 0..k-1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlgate.errors import ConfigError, Location
from mlgate.formats.base import LoadOptions, Signature, require
from mlgate.formats.predictors import Classifier, Regressor, as_probabilities
from mlgate.verdict import Check, Status

# ModelProto field tags that can follow ir_version (field 1): producer, graph, opset, ...
_NEXT_FIELDS = frozenset({0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x40, 0x42, 0x4A, 0x52, 0x5A, 0x72})
_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}
_KINDS = {
    "tensor(float)": "float",
    "tensor(double)": "float",
    "tensor(int64)": "integer",
    "tensor(int32)": "integer",
    "tensor(bool)": "boolean",
    "tensor(string)": "string",
}


class _Session:
    """An onnxruntime session with its input layout and output roles worked out once."""

    def __init__(self, session: Any, task: str | None, classes: list[Any] | None) -> None:
        self.session = session
        inputs = session.get_inputs()
        self.per_column = len(inputs) > 1 or (len(inputs) == 1 and len(inputs[0].shape or []) == 1)
        self.inputs = [
            (i.name, _DTYPES.get(i.type, np.float32), len(i.shape or [])) for i in inputs
        ]
        width = inputs[0].shape[1] if not self.per_column and len(inputs[0].shape) == 2 else None
        self.width = width if isinstance(width, int) else None
        outputs = session.get_outputs()
        self.label = next(
            (o.name for o in outputs if o.type in ("tensor(int64)", "tensor(string)")), None
        )
        self.proba = next(
            (o.name for o in outputs if o.type.startswith("seq(map(")),
            None,
        ) or next(
            (
                o.name
                for o in outputs
                if o.type in ("tensor(float)", "tensor(double)") and o.name != self.label
            ),
            None,
        )
        self.zipmap = any(o.type.startswith("seq(map(") for o in outputs)
        self.regression = task == "regression" or (self.label is None and self.proba is None)
        self.classes = classes
        self._memo: tuple[Any, dict[str, Any]] | None = None

    def feed(self, frame: Any) -> dict[str, Any]:
        if self.per_column:
            out = {}
            for name, dtype, rank in self.inputs:
                column: np.ndarray = np.asarray(frame[name].to_numpy(), dtype=dtype)
                out[name] = column if rank == 1 else column.reshape(-1, 1)
            return out
        name, dtype, _ = self.inputs[0]
        values = frame.to_numpy() if hasattr(frame, "to_numpy") else np.asarray(frame)
        return {name: np.asarray(values, dtype=dtype)}

    def run(self, frame: Any) -> dict[str, Any]:
        """Every output for ``frame``; the last result is reused for the same frame object
        (``predict`` then ``predict_proba`` on the same rows run the model once)."""
        if self._memo is not None and self._memo[0] is frame:
            return self._memo[1]
        names = [o.name for o in self.session.get_outputs()]
        result = dict(zip(names, self.session.run(None, self.feed(frame)), strict=True))
        self._memo = (frame, result)
        return result

    def probabilities(self, frame: Any) -> np.ndarray:
        assert self.proba is not None  # a classifier has a probability output
        raw = self.run(frame)[self.proba]
        if self.zipmap:
            keys = self.classes or (list(raw[0]) if len(raw) else [])
            return np.asarray([[row[k] for k in keys] for row in raw], dtype=np.float64)
        return as_probabilities(np.asarray(raw))

    def labels(self, frame: Any) -> np.ndarray:
        assert self.label is not None  # only used when there is a label output
        return np.asarray(self.run(frame)[self.label]).reshape(-1)

    def scores(self, frame: Any) -> np.ndarray:
        name = self.proba or self.label
        assert name is not None
        return np.asarray(self.run(frame)[name], dtype=np.float64).reshape(-1)


@dataclass(frozen=True)
class OnnxFormat:
    name: str = "onnx"
    title: str = "ONNX"
    suffixes: tuple[str, ...] = (".onnx",)
    how_to_save: str = (
        "skl2onnx.to_onnx(model, X[:1]) / onnxmltools (XGBoost, LightGBM), "
        "torch.onnx.export(model, x, 'model.onnx'), tf2onnx (Keras); write 'model.onnx'"
    )

    def recognise(self, path: Path, head: bytes) -> bool:
        if len(head) < 3 or head[0] != 0x08 or not 1 <= head[1] <= 30:
            return False
        return head[2] in _NEXT_FIELDS or path.suffix.lower() == ".onnx"

    def loads_without_unpickling(self, path: Path) -> bool:
        return True

    def load(self, path: Path, options: LoadOptions) -> Any:
        ort = require("onnxruntime", self.title, path, "onnxruntime")
        try:
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ConfigError(
                f"cannot load {options.what} file {path} as an ONNX model: {exc}",
                location=Location(str(path)),
            ) from None
        run = _Session(session, options.task, _classes(path, session))
        names = (
            np.asarray([name for name, _, _ in run.inputs], dtype=object)
            if run.per_column
            else None
        )
        width = len(run.inputs) if run.per_column else run.width
        if run.regression:
            return Regressor(
                run.scores, feature_names=names, n_features=width, library="ONNX", native=session
            )
        classes = run.classes
        if classes is None and run.zipmap:
            classes = _zipmap_keys(run)
            run.classes = classes
        if classes is None:
            classes = _classes_from_outputs(run)
        return Classifier(
            run.probabilities,
            classes,
            feature_names=names,
            n_features=width,
            library="ONNX",
            native=session,
            labels=run.labels if run.label is not None else None,
        )

    def signature(self, path: Path) -> Signature | None:
        """Per-column inputs name the columns and their kinds; one tensor input names none."""
        try:
            ort = require("onnxruntime", self.title, path, "onnxruntime")
            inputs = ort.InferenceSession(
                str(path), providers=["CPUExecutionProvider"]
            ).get_inputs()
        except Exception:  # no signature then; loading reports the problem
            return None
        if len(inputs) < 2:
            return None
        return tuple((i.name, _KINDS.get(i.type, "float")) for i in inputs)

    def modules(self, path: Path) -> set[str]:
        return {"onnxruntime"}

    def requirements(self, path: Path) -> tuple[str, ...]:
        return ()

    def scan(
        self,
        path: Path,
        *,
        check_id: str,
        shown: str,
        trusted_types: Sequence[str],  # an ONNX graph loads no Python types
        config_key: tuple[str, ...] | None,
    ) -> Check:
        del path
        return Check(
            check_id,
            "scan",
            Status.PASS,
            f"{shown}: an ONNX graph, run by onnxruntime (never unpickled, no Python code)",
            details={"format": self.name},
            config_key=config_key,
        )

    def content_digest(self, path: Path) -> str | None:
        return None


def _classes(path: Path, session: Any) -> list[Any] | None:
    """Class labels recorded in the model, in probability-column order (see the docstring)."""
    meta = session.get_modelmeta().custom_metadata_map or {}
    if "classes" in meta:
        try:
            listed = json.loads(meta["classes"])
        except ValueError:
            listed = None
        if isinstance(listed, list):
            return listed
    try:
        return classlabels(path.read_bytes())
    except (OSError, ValueError, IndexError):
        return None


# Protocol buffer field numbers (onnx.proto): ModelProto.graph, GraphProto.node,
# NodeProto.attribute, AttributeProto.name / ints / strings.
_GRAPH, _NODE, _ATTRIBUTE, _NAME, _INTS, _STRINGS = 7, 1, 5, 1, 8, 9
# TreeEnsembleClassifier and ZipMap say int64s, LinearClassifier and SVMClassifier ints.
_LABEL_ATTRIBUTES = (b"classlabels_int64s", b"classlabels_ints", b"classlabels_strings")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) of one protobuf message, without a schema."""
    out: list[tuple[int, int, Any]] = []
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 2:
            size, at = _varint(data, at)
            value, at = data[at : at + size], at + size
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if at > len(data):
            raise ValueError("truncated message")
        out.append((number, wire, value))
    return out


def classlabels(model: bytes) -> list[Any] | None:
    """The ``classlabels_*`` (int64s, ints or strings) of the first classifier node (what
    skl2onnx and onnxmltools write), read from the protobuf bytes without the onnx package."""
    for number, wire, graph in _fields(model):
        if number != _GRAPH or wire != 2:
            continue
        for node_number, node_wire, node in _fields(graph):
            if node_number != _NODE or node_wire != 2:
                continue
            for attr_number, attr_wire, attribute in _fields(node):
                if attr_number != _ATTRIBUTE or attr_wire != 2:
                    continue
                found = _labels(_fields(attribute))
                if found:
                    return found
    return None


def _labels(fields: list[tuple[int, int, Any]]) -> list[Any] | None:
    name = next((v for n, w, v in fields if n == _NAME and w == 2), b"")
    if name not in _LABEL_ATTRIBUTES:
        return None
    if name == b"classlabels_strings":
        return [v.decode() for n, w, v in fields if n == _STRINGS and w == 2] or None
    ints: list[int] = []
    for number, wire, value in fields:
        if number != _INTS:
            continue
        if wire == 0:
            ints.append(value)
        elif wire == 2:  # packed
            at = 0
            while at < len(value):
                item, at = _varint(value, at)
                ints.append(item)
    return [v - (1 << 64) if v >= 1 << 63 else v for v in ints] or None


def _zipmap_keys(run: _Session) -> list[Any] | None:
    """ZipMap's keys, read by scoring one row of zeros (None when the model refuses it)."""
    import pandas as pd

    if run.per_column:
        row = pd.DataFrame(
            {name: [""] if dtype is object else [0] for name, dtype, _ in run.inputs}
        )
    elif run.width is not None:
        row = pd.DataFrame([[0] * run.width])
    else:
        return None
    try:
        raw = run.session.run([run.proba], run.feed(row))[0]
    except Exception:  # a model may reject zeros; classes are then 0..k-1
        return None
    return list(raw[0]) if len(raw) else None


def _classes_from_outputs(run: _Session) -> list[Any]:
    """0..k-1 from the probability output's width (unknown width: binary)."""
    output = next(o for o in run.session.get_outputs() if o.name == run.proba)
    shape = output.shape or []
    width = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else 2
    return list(range(max(width, 2)))


ONNX = OnnxFormat()
