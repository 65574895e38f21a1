"""The same predictions without scikit-learn's per-call overhead, for the common pipeline shape.

A ``Pipeline`` whose first step is a ``ColumnTransformer`` fitted on a DataFrame, of
``StandardScaler`` and ``OneHotEncoder`` blocks (dense output, no weights, unused columns
dropped), spends most of a small request in that transformer's machinery (DataFrame column
selection, input validation, feature-name checks), not in arithmetic. The scoring server has
already converted and type-checked every column (``ServedModel.convert``), so the plan builds the
very array the ``ColumnTransformer`` would from those columns — the same NumPy operations in the
same order, so the same bits — and hands it to the pipeline's remaining steps as the pipeline
does. A two-class ``LogisticRegression`` right after it is evaluated with its own formulas
(one matrix product, the logistic function), without its per-call validation.

A request the plan cannot reproduce exactly (a category the encoder never saw, a missing or
non-finite value) goes to the estimator itself, which answers, warns or raises as it always
does. A plan is only used if it gives the estimator's own predictions, bit for bit, on a probe
built from the fitted categories and scales when the model loads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_LOG = logging.getLogger("mlgate.serve")
NUMERIC_KINDS = frozenset({"integer", "float", "boolean"})
TEXT_KINDS = frozenset({"string", "category"})


@dataclass(frozen=True)
class _Scale:
    """A fitted StandardScaler's columns (signature positions) and parameters."""

    positions: tuple[int, ...]
    mean: Any  # None when with_mean is off
    scale: Any  # None when with_std is off

    def block(self, arrays: Sequence[Any], rows: int) -> Any:
        import numpy as np

        out = np.empty((rows, len(self.positions)), dtype=np.float64)
        for j, position in enumerate(self.positions):
            out[:, j] = arrays[position]
        if not np.isfinite(out).all():
            return None  # the estimator's own checks decide (NaN passes the scaler, not LR)
        if self.mean is not None:
            out -= self.mean
        if self.scale is not None:
            out /= self.scale
        return out


@dataclass(frozen=True)
class _OneHot:
    """A fitted OneHotEncoder (no drop, no infrequent categories): each column's category
    index table and its offset among the encoder's output columns."""

    positions: tuple[int, ...]
    tables: tuple[dict[str, int], ...]
    offsets: tuple[int, ...]
    width: int
    dtype: Any

    def block(self, arrays: Sequence[Any], rows: int) -> Any:
        import numpy as np

        out = np.zeros((rows, self.width), dtype=self.dtype)
        every_row = np.arange(rows)
        for position, table, offset in zip(self.positions, self.tables, self.offsets, strict=True):
            try:
                codes = [table[value] for value in arrays[position]]
            except (KeyError, TypeError):  # unseen category or a missing value
                return None
            out[every_row, np.asarray(codes, dtype=np.intp) + offset] = 1
        return out


@dataclass(frozen=True)
class _BinaryLogistic:
    """A fitted two-class LogisticRegression's predict and predict_proba on dense features: the
    estimator's own formulas (decision ``X @ coef_.T + intercept_``; the label of the positive
    class where it is above 0; the logistic of it beside its complement), without its per-call
    validation."""

    coef_t: Any
    intercept: Any
    classes: Any

    def decision(self, features: Any) -> Any:
        return (features @ self.coef_t + self.intercept).reshape(-1)

    def predict(self, features: Any) -> Any:
        import numpy as np

        return np.take(self.classes, (self.decision(features) > 0).astype(np.intp), axis=0)

    def predict_proba(self, features: Any) -> Any:
        import numpy as np
        from scipy import special

        prob = self.decision(features)
        prob = special.expit(prob, out=prob)
        return np.stack([1 - prob, prob], axis=1)


def _final(estimator: Any) -> Any:
    """The final step as the plan calls it: a binary LogisticRegression's formulas, else the
    estimator itself."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if (
        type(estimator) is LogisticRegression
        and len(estimator.classes_) == 2
        and isinstance(estimator.coef_, np.ndarray)
        and estimator.coef_.shape[0] == 1
        and estimator.coef_.dtype == np.float64
    ):
        return _BinaryLogistic(estimator.coef_.T, estimator.intercept_, estimator.classes_)
    return estimator


@dataclass(frozen=True)
class FastPath:
    """The ColumnTransformer's blocks in its output order, then the pipeline's other steps."""

    blocks: tuple[_Scale | _OneHot, ...]
    steps: tuple[Any, ...]  # the transformers after the ColumnTransformer, in order
    final: Any
    assume_finite: bool  # nothing between the blocks' finite output and the final estimator

    def predict(self, arrays: Sequence[Any], method: str) -> Any | None:
        """The estimator's ``method`` output for these columns, or None: ask the estimator."""
        import numpy as np

        rows = len(arrays[0]) if arrays else 0
        if rows == 0:
            return None
        parts = []
        for block in self.blocks:
            part = block.block(arrays, rows)
            if part is None:
                return None
            parts.append(part)
        features = np.hstack(parts)
        for step in self.steps:
            features = step.transform(features)
        call: Callable[[Any], Any] = getattr(self.final, method)
        if not self.assume_finite or isinstance(self.final, _BinaryLogistic):
            return call(features)
        import sklearn

        # The features are finite (checked above) and the final estimator was fitted on this
        # very layout: its finiteness scan and parameter validation would find nothing.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return call(features)


def build(estimator: Any, names: Sequence[str], kinds: Sequence[str]) -> FastPath | None:
    """A plan for ``estimator`` over the signature's columns, or None when its shape is not
    one the plan reproduces exactly (then every request goes to the estimator)."""
    try:
        return _build(estimator, names, kinds)
    except Exception:  # an estimator of another shape or version: no plan, nothing lost
        return None


def _build(estimator: Any, names: Sequence[str], kinds: Sequence[str]) -> FastPath | None:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.utils._set_output import _get_output_config

    if type(estimator) is not Pipeline:
        return None
    steps = [step for _, step in estimator.steps if step is not None and step != "passthrough"]
    if len(steps) < 2 or type(steps[0]) is not ColumnTransformer:
        return None
    columns, *middle, final = steps
    if (
        getattr(columns, "sparse_output_", True)
        or columns.transformer_weights is not None
        or _get_output_config("transform", columns)["dense"] != "default"
        or not hasattr(columns, "feature_names_in_")
    ):
        return None
    position = {name: i for i, name in enumerate(names)}
    blocks: list[_Scale | _OneHot] = []
    for _, transformer, selected in columns.transformers_:
        if isinstance(transformer, str):
            if transformer == "drop" or (transformer == "passthrough" and len(selected) == 0):
                continue
            return None
        used = [str(name) for name in getattr(transformer, "feature_names_in_", ())]
        if not used or any(name not in position for name in used):
            return None
        block = _block(transformer, tuple(position[name] for name in used), kinds)
        if block is None:
            return None
        blocks.append(block)
    if not blocks:
        return None
    if middle:
        return FastPath(tuple(blocks), tuple(middle), final, assume_finite=False)
    return FastPath(tuple(blocks), (), _final(final), assume_finite=True)


def _block(
    transformer: Any, where: tuple[int, ...], kinds: Sequence[str]
) -> _Scale | _OneHot | None:
    """The block of one fitted transformer of the ColumnTransformer, if it is one the plan
    reproduces exactly, over the columns at ``where``."""
    import numpy as np
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if type(transformer) is StandardScaler:
        if any(kinds[i] not in NUMERIC_KINDS for i in where):
            return None
        return _Scale(
            where,
            transformer.mean_ if transformer.with_mean else None,
            transformer.scale_ if transformer.with_std else None,
        )
    if type(transformer) is not OneHotEncoder or (
        transformer.drop is not None
        or getattr(transformer, "_infrequent_enabled", True)
        or any(kinds[i] not in TEXT_KINDS for i in where)
        or not all(
            cats.dtype == object and all(type(c) is str for c in cats)
            for cats in transformer.categories_
        )
    ):
        return None
    sizes = [len(cats) for cats in transformer.categories_]
    return _OneHot(
        where,
        tuple({c: i for i, c in enumerate(cats)} for cats in transformer.categories_),
        tuple(int(x) for x in np.cumsum([0, *sizes[:-1]])),
        sum(sizes),
        np.dtype(transformer.dtype),
    )


def verified(
    plan: FastPath | None,
    estimator: Any,
    methods: Sequence[str],
    probe: Sequence[Any],
    frame: Callable[[Sequence[Any]], Any],
) -> FastPath | None:
    """The plan when it reproduces the estimator's output exactly on ``probe`` (converted
    columns) for every method, else None."""
    import numpy as np

    if plan is None:
        return None
    try:
        for method in methods:
            mine = plan.predict(probe, method)
            theirs = getattr(estimator, method)(frame(probe))
            if (
                mine is None
                or type(mine) is not type(theirs)
                or mine.dtype != theirs.dtype
                or not np.array_equal(mine, theirs)
            ):
                _LOG.info("fast path off: it does not reproduce %s exactly", method)
                return None
    except Exception as exc:  # the plan is an optimisation: without it, nothing changes
        _LOG.info("fast path off: %s: %s", type(exc).__name__, exc)
        return None
    return plan


def probe_columns(plan: FastPath, kinds: Sequence[str], rows: int = 12) -> list[list[Any]]:
    """Raw column values that visit every fitted category and a spread of scaled values."""
    for block in plan.blocks:
        if isinstance(block, _OneHot):
            rows = max(rows, *(len(table) for table in block.tables))
    raw: list[list[Any]] = [list(_filler(kind, rows)) for kind in kinds]
    for block in plan.blocks:
        if isinstance(block, _Scale):
            for j, position in enumerate(block.positions):
                centre = 0.0 if block.mean is None else float(block.mean[j])
                spread = 1.0 if block.scale is None else float(block.scale[j])
                values = [centre + (r - rows / 2) * spread / 3 for r in range(rows)]
                kind = kinds[position]
                if kind == "integer":
                    raw[position] = [round(v) for v in values]
                elif kind == "boolean":
                    raw[position] = [r % 2 == 0 for r in range(rows)]
                else:
                    raw[position] = values
        else:
            for position, table in zip(block.positions, block.tables, strict=True):
                categories = list(table)
                raw[position] = [categories[r % len(categories)] for r in range(rows)]
    return raw


def _filler(kind: str, rows: int) -> list[Any]:
    value: Any = {
        "integer": 0,
        "float": 0.0,
        "boolean": False,
        "datetime": "2000-01-01T00:00:00",
    }.get(kind, "a")
    return [value] * rows
