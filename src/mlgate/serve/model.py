"""The model a scoring server serves: its metadata file, the loaded estimator, fast prediction.

A model directory (``/model`` in the image, written by ``mlgate publish``) holds ``model.json``
(schema ``served-model``) and the model file it names. Column order, kinds and dtypes are worked
out once at load time so a request only converts values and calls the estimator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import __version__, formats
from mlgate.config.validate import validate
from mlgate.config.yamlsource import load_yaml_file
from mlgate.errors import ConfigError, Location
from mlgate.modelio import sha256_file
from mlgate.serve import fastpath

METADATA_FILE = "model.json"
METHODS = ("predict", "predict_proba")


class InputError(ValueError):
    """A request the model cannot score; the message names the offending column (HTTP 400).

    ``error_code`` is MLflow's name for the error (its scoring server answers a request that
    does not fit the model's signature with ``INVALID_PARAMETER_VALUE``)."""

    error_code = "INVALID_PARAMETER_VALUE"


class MalformedRequest(InputError):
    """The body cannot be read as the protocol's form at all: not JSON, not an object with one
    input field, rows of the wrong width, not a table (HTTP 400, ``BAD_REQUEST`` as in MLflow)."""

    error_code = "BAD_REQUEST"


class BadValue(InputError):
    """A value the column's type cannot take (HTTP 400; MLflow answers a failed conversion with
    ``BAD_REQUEST``, and a missing column with ``INVALID_PARAMETER_VALUE``)."""

    error_code = "BAD_REQUEST"


@dataclass(frozen=True)
class ModelInfo:
    """What ``model.json`` says about the served model."""

    name: str
    model_file: str
    format: str
    signature: tuple[tuple[str, str], ...]
    task: str = "unknown"
    version: str | None = None
    commit: str | None = None
    sha256: str | None = None
    method: str = "predict"
    trusted_types: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelInfo:
        inputs = data["signature"]["inputs"]
        return cls(
            name=data["name"],
            model_file=data["model_file"],
            format=data.get("format", "skops"),
            signature=tuple((str(c["name"]), str(c["type"])) for c in inputs),
            task=data.get("task", "unknown"),
            version=data.get("version"),
            commit=data.get("commit"),
            sha256=data.get("sha256"),
            method=data.get("method", "predict"),
            trusted_types=tuple(data.get("trusted_types", ())),
            data=data.get("data", {}),
            raw=data,
        )

    @classmethod
    def read(cls, model_dir: Path) -> ModelInfo:
        """Read and validate ``model_dir/model.json``; problems raise ConfigError (exit 2)."""
        path = model_dir / METADATA_FILE
        if not path.is_file():
            raise ConfigError(
                f"{path} not found: not a model directory written by mlgate publish",
                location=Location(str(path)),
                hint="point --model-dir at the 'model' folder of a build context "
                "(mlgate publish --context-only --out DIR)",
            )
        data, source = load_yaml_file(path)
        validate(data, "served-model", source, what=str(path))
        return cls.from_dict(data)

    def version_view(self) -> dict[str, Any]:
        """What ``GET /info`` answers."""
        return {
            "model": self.name,
            "version": self.version,
            "commit": self.commit,
            "model_sha256": self.sha256,
            "data": dict(self.data),
            "fingerprint": self.raw.get("fingerprint"),
            "task": self.task,
            "mlgate": __version__,
        }


class ServedModel:
    """A loaded estimator plus the precomputed input layout of its signature."""

    def __init__(self, info: ModelInfo, estimator: Any) -> None:
        self.info = info
        self.estimator = estimator
        self.names = [name for name, _ in info.signature]
        self.kinds = [kind for _, kind in info.signature]
        self.position = {name: i for i, name in enumerate(self.names)}
        self.converters = [_CONVERTERS.get(kind, _as_object) for kind in self.kinds]
        self.methods = tuple(m for m in METHODS if callable(getattr(estimator, m, None)))
        self.is_classifier = "classification" in info.task or hasattr(estimator, "classes_")
        self.fast = self._fast_path()

    def _fast_path(self) -> fastpath.FastPath | None:
        """The pipeline's exact fast path (see fastpath), verified on a probe; None without."""
        if not type(self.estimator).__module__.startswith("sklearn."):
            return None
        plan = fastpath.build(self.estimator, self.names, self.kinds)
        if plan is None:
            return None
        try:
            probe = self.convert(fastpath.probe_columns(plan, self.kinds))
        except InputError:
            return None
        return fastpath.verified(plan, self.estimator, self.methods, probe, self.frame_of)

    @classmethod
    def load(cls, model_dir: Path) -> ServedModel:
        """Read the metadata and load the model file safely (skops allow-list, see modelio)."""
        info = ModelInfo.read(model_dir)
        path = model_dir / info.model_file
        if info.sha256 and path.exists() and sha256_file(path) != info.sha256:
            raise ConfigError(
                f"{path} does not match the sha256 recorded in {METADATA_FILE}",
                hint="the model file was changed after publishing; publish again",
            )
        estimator = formats.load(
            path,
            fmt=info.format,
            trusted=info.format != "skops",
            trusted_types=info.trusted_types,
            task=info.task,
        )
        return cls(info, estimator)

    def frame(self, columns: Sequence[Sequence[Any]]) -> Any:
        """A DataFrame in signature order from one raw value list per column (validated)."""
        return self.frame_of(self.convert(columns))

    def frame_of(self, arrays: Sequence[Any]) -> Any:
        """A DataFrame in signature order from converted columns (``convert``'s arrays)."""
        import pandas as pd

        return pd.DataFrame(dict(zip(self.names, arrays, strict=True)), copy=False)

    def convert(self, columns: Sequence[Sequence[Any]]) -> list[Any]:
        """One validated array per column (signature order) from the raw value lists."""
        return [
            convert(name, values)
            for name, convert, values in zip(self.names, self.converters, columns, strict=True)
        ]

    @property
    def batchable(self) -> bool:
        """Whether converted requests can be stacked into one frame (plain NumPy columns)."""
        return bool(self.names) and "datetime" not in self.kinds

    def stacked(self, requests: Sequence[Sequence[Any]]) -> list[Any]:
        """Several requests' converted columns as one set of columns, rows in request order."""
        import numpy as np

        return [np.concatenate([arrays[i] for arrays in requests]) for i in range(len(self.names))]

    def predict_arrays(self, arrays: Sequence[Any], method: str | None = None) -> list[Any]:
        """Predictions for converted columns: by the fast path when it applies to these values,
        else by the estimator on their DataFrame (the same values either way)."""
        chosen = self.method(method)
        fast = self.fast_predict(arrays, chosen)
        if fast is not None:
            return fast
        return _plain(getattr(self.estimator, chosen)(self.frame_of(arrays)))

    def fast_predict(self, arrays: Sequence[Any], method: str | None = None) -> list[Any] | None:
        """Predictions by the fast path alone; None when there is none or it declines these
        values (then only the estimator can answer)."""
        chosen = self.method(method)
        if self.fast is None:
            return None
        try:
            result = self.fast.predict(arrays, chosen)
        except Exception:  # the estimator itself answers (or raises)
            return None
        return None if result is None else _plain(result)

    def method(self, method: str | None) -> str:
        """The method to call: the request's, else the model's; one it lacks is an InputError."""
        chosen = method or self.info.method
        if chosen not in self.methods:
            raise InputError(f"this model cannot {chosen}; it supports: {', '.join(self.methods)}")
        return chosen

    def columns_from_records(self, records: Sequence[Any], what: str) -> list[list[Any]]:
        """Column value lists from row dictionaries; a missing feature is an InputError."""
        out: list[list[Any]] = [[] for _ in self.names]
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise MalformedRequest(f"{what}[{index}] must be an object of column values")
            missing = [name for name in self.names if name not in record]
            if missing:
                raise InputError(self.missing_message(missing, what, record))
            for slot, name in zip(out, self.names, strict=True):
                slot.append(record[name])
        return out

    def columns_from_split(self, columns: Sequence[Any], rows: Sequence[Any]) -> list[list[Any]]:
        """Column value lists from ``dataframe_split``-style columns and row lists."""
        index = {str(c): i for i, c in enumerate(columns)}
        missing = [n for n in self.names if n not in index]
        if missing:
            raise InputError(self.missing_message(missing, "columns", index))
        width = len(columns)
        for number, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != width:
                raise MalformedRequest(
                    f"data[{number}] must be a list of {width} values, one per column"
                )
        return [[row[index[name]] for row in rows] for name in self.names]

    def columns_from_positional(self, rows: Sequence[Any], what: str) -> list[list[Any]]:
        """Column value lists from rows given in signature order (``instances: [[...]]``)."""
        width = len(self.names)
        for number, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != width:
                raise InputError(
                    f"{what}[{number}] must list {width} values in signature order: "
                    + ", ".join(self.names)
                )
        return [[row[i] for row in rows] for i in range(width)]

    def columns_from_mapping(self, mapping: Mapping[str, Any], what: str) -> list[list[Any]]:
        """Column value lists from ``{"column": [values...]}`` (``inputs`` in columnar form)."""
        missing = [n for n in self.names if n not in mapping]
        if missing:
            raise InputError(self.missing_message(missing, what, mapping))
        columns = [mapping[n] if isinstance(mapping[n], list) else [mapping[n]] for n in self.names]
        lengths = {len(c) for c in columns}
        if len(lengths) > 1:
            raise InputError(f"{what}: columns have different lengths ({sorted(lengths)})")
        return columns

    def missing_message(self, missing: Sequence[str], what: str, given: Any) -> str:
        import difflib

        text = f"{what}: missing feature column(s) {', '.join(map(repr, missing))}"
        offered = [str(k) for k in given] if isinstance(given, Mapping) else []
        guess = difflib.get_close_matches(missing[0], offered, n=1) if offered else []
        if guess:
            text += f" (got {guess[0]!r}; did you mean {missing[0]!r}?)"
        return text + "; expected columns: " + ", ".join(self.names)


def _plain(result: Any) -> list[Any]:
    values: list[Any] = result.tolist() if hasattr(result, "tolist") else list(result)
    return values


def _fail(name: str, kind: str, value: Any) -> InputError:
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return BadValue(f"column {name!r} expects {kind} values, got {shown} ({type(value).__name__})")


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _as_int(name: str, values: Sequence[Any]) -> Any:
    import numpy as np

    out = []
    for v in values:
        t = type(v)
        if t is int:
            out.append(v)
        elif t is float and v.is_integer():
            out.append(int(v))
        elif t is str:
            try:
                out.append(int(v))
            except ValueError:
                raise _fail(name, "integer", v) from None
        else:
            raise _fail(name, "integer", v)
    for v in out:
        if not _INT64_MIN <= v <= _INT64_MAX:
            raise BadValue(f"column {name!r}: {v} is outside the 64-bit integer range")
    return np.array(out, dtype=np.int64)


def _as_float(name: str, values: Sequence[Any]) -> Any:
    import numpy as np

    out = []
    for v in values:
        t = type(v)
        if t is float or t is int:
            out.append(v)
        elif v is None or v == "":
            out.append(float("nan"))
        elif t is str:
            try:
                out.append(float(v))
            except ValueError:
                raise _fail(name, "float", v) from None
        else:
            raise _fail(name, "float", v)
    return np.array(out, dtype=np.float64)


_TRUE = {"true": True, "1": True, "false": False, "0": False}


def _as_bool(name: str, values: Sequence[Any]) -> Any:
    import numpy as np

    out = []
    for v in values:
        if type(v) is bool:
            out.append(v)
        elif type(v) is int and v in (0, 1):
            out.append(bool(v))
        elif type(v) is str and v.lower() in _TRUE:
            out.append(_TRUE[v.lower()])
        else:
            raise _fail(name, "boolean", v)
    return np.array(out, dtype=bool)


def _as_object(name: str, values: Sequence[Any]) -> Any:
    import numpy as np

    for v in values:
        if v is not None and type(v) is not str:
            raise _fail(name, "string", v)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _as_datetime(name: str, values: Sequence[Any]) -> Any:
    """ISO 8601 strings (or null); numbers are refused, since their unit would be a guess."""
    import pandas as pd

    for v in values:
        if v is not None and type(v) is not str:
            raise _fail(name, "datetime (ISO 8601 string)", v)
    try:
        return pd.to_datetime(list(values), format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        bad = next((v for v in values if v is not None), values[0])
        raise _fail(name, "datetime (ISO 8601 string)", bad) from None


_CONVERTERS = {
    "integer": _as_int,
    "float": _as_float,
    "boolean": _as_bool,
    "string": _as_object,
    "category": _as_object,
    "datetime": _as_datetime,
}
