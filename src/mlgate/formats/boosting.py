"""Gradient boosting libraries' own model files, loaded with their native loaders (no pickle).

- XGBoost: ``save_model`` JSON or UBJ (``model.json``/``model.ubj``), from the scikit-learn
  wrapper or a Booster; loaded into ``XGBClassifier``/``XGBRegressor`` by objective.
- LightGBM: the model text ``Booster.save_model`` writes (``model.txt``), loaded with
  ``lightgbm.Booster(model_file=...)``; classes are 0..k-1 (the text file keeps no labels).
- CatBoost: ``save_model`` binary (``model.cbm``), loaded into ``CatBoostClassifier`` or
  ``CatBoostRegressor`` by loss function; classes as trained.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import ConfigError, Location
from mlgate.formats.base import LoadOptions, Signature, a, require
from mlgate.formats.predictors import Classifier, Regressor, real_names
from mlgate.verdict import Check, Status

# Objectives whose output is a probability of class membership.
_XGB_CLASSIFIERS = ("binary:", "multi:")
_LGB_BINARY = ("binary",)
_LGB_MULTICLASS = ("multiclass", "softmax", "multiclassova", "multiclass_ova", "ova", "ovr")
_CATBOOST_VOLATILE = ("train_finish_time", "model_guid")
_CATBOOST_CLASSIFIERS = ("Logloss", "CrossEntropy", "MultiClass", "MultiClassOneVsAll")


def _unreadable(path: Path, title: str, options: LoadOptions, exc: Exception) -> ConfigError:
    return ConfigError(
        f"cannot load {options.what} file {path} as {a(title)} model: {exc}",
        location=Location(str(path)),
    )


def _native_check(
    title: str, check_id: str, shown: str, name: str, config_key: tuple[str, ...] | None
) -> Check:
    return Check(
        check_id,
        "scan",
        Status.PASS,
        f"{shown}: {a(title)} model file, loaded by {title}'s own loader (never unpickled)",
        details={"format": name},
        config_key=config_key,
    )


@dataclass(frozen=True)
class _Native:
    """What the native formats share: no pickle, no shipped requirements, bytes compared."""

    name: str
    title: str
    suffixes: tuple[str, ...]
    how_to_save: str
    module: str
    distribution: str

    def loads_without_unpickling(self, path: Path) -> bool:
        return True

    def signature(self, path: Path) -> Signature | None:
        return None

    def modules(self, path: Path) -> set[str]:
        return {self.module}

    def requirements(self, path: Path) -> tuple[str, ...]:
        return ()

    def scan(
        self,
        path: Path,
        *,
        check_id: str,
        shown: str,
        trusted_types: Sequence[str],  # nothing to trust: no types are loaded
        config_key: tuple[str, ...] | None,
    ) -> Check:
        del path
        return _native_check(self.title, check_id, shown, self.name, config_key)

    def content_digest(self, path: Path) -> str | None:
        return None  # identical models give identical bytes: the bitwise comparison applies

    def library(self, path: Path) -> Any:
        return require(self.module, self.title, path, self.distribution)


@dataclass(frozen=True)
class XGBoostFormat(_Native):
    def recognise(self, path: Path, head: bytes) -> bool:
        start = head.lstrip()[:64]
        if start.startswith((b"{L", b"{U", b"{i")):
            return b"learner" in start  # UBJSON: '{', a length-typed key, then its name
        return start.startswith(b"{") and b'"learner"' in start

    def load(self, path: Path, options: LoadOptions) -> Any:
        xgb = self.library(path)
        try:
            booster = xgb.Booster()
            booster.load_model(str(path))
            objective = str(json.loads(booster.save_config())["learner"]["objective"]["name"])
            wrapper = (
                xgb.XGBClassifier()
                if objective.startswith(_XGB_CLASSIFIERS)
                else xgb.XGBRegressor()
            )
            wrapper.load_model(str(path))
        except Exception as exc:  # XGBoostError, JSON errors, ...
            raise _unreadable(path, self.title, options, exc) from None
        return wrapper


@dataclass(frozen=True)
class LightGBMFormat(_Native):
    def recognise(self, path: Path, head: bytes) -> bool:
        return head.startswith((b"tree\nversion=", b"tree\r\nversion="))

    def load(self, path: Path, options: LoadOptions) -> Any:
        lgb = self.library(path)
        try:
            booster = lgb.Booster(model_file=str(path))
        except Exception as exc:  # LightGBMError
            raise _unreadable(path, self.title, options, exc) from None
        objective = str(booster.params.get("objective", "")).split(" ")[0]
        names = real_names(booster.feature_name())
        width = booster.num_feature()
        if objective in _LGB_BINARY:
            return Classifier(
                booster.predict,
                [0, 1],
                feature_names=names,
                n_features=width,
                library="LightGBM",
                native=booster,
            )
        if objective in _LGB_MULTICLASS:
            classes = list(range(booster.num_model_per_iteration()))
            return Classifier(
                booster.predict,
                classes,
                feature_names=names,
                n_features=width,
                library="LightGBM",
                native=booster,
            )
        return Regressor(
            booster.predict,
            feature_names=names,
            n_features=width,
            library="LightGBM",
            native=booster,
        )


@dataclass(frozen=True)
class CatBoostFormat(_Native):
    def recognise(self, path: Path, head: bytes) -> bool:
        return head.startswith(b"CBM1")

    def load(self, path: Path, options: LoadOptions) -> Any:
        cb = self.library(path)
        try:
            probe = cb.CatBoost()
            probe.load_model(str(path), format="cbm")
            loss = str(probe.get_all_params().get("loss_function", "")).split(":")[0]
            model = (
                cb.CatBoostClassifier() if loss in _CATBOOST_CLASSIFIERS else cb.CatBoostRegressor()
            )
            model.load_model(str(path), format="cbm")
        except Exception as exc:  # CatBoostError
            raise _unreadable(path, self.title, options, exc) from None
        names = real_names(model.feature_names_)
        width = len(model.feature_names_)
        if loss in _CATBOOST_CLASSIFIERS:
            return Classifier(
                model.predict_proba,
                list(model.classes_),
                feature_names=names,
                n_features=width,
                library="CatBoost",
                native=model,
                labels=model.predict,
            )
        return Regressor(
            model.predict, feature_names=names, n_features=width, library="CatBoost", native=model
        )

    def content_digest(self, path: Path) -> str | None:
        """CatBoost records when training finished and a random model id: the digest is of the
        model's JSON export without those two."""
        import hashlib
        import tempfile

        cb = self.library(path)
        model = cb.CatBoost()
        model.load_model(str(path), format="cbm")
        with tempfile.TemporaryDirectory(prefix="mlgate-catboost-") as tmp:
            exported = Path(tmp) / "model.json"
            model.save_model(str(exported), format="json")
            data = json.loads(exported.read_text("utf-8"))
        info = data.get("model_info")
        if isinstance(info, dict):
            for key in _CATBOOST_VOLATILE:
                info.pop(key, None)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


XGBOOST = XGBoostFormat(
    name="xgboost",
    title="XGBoost",
    suffixes=(".json", ".ubj"),
    how_to_save="model.save_model('model.json') or 'model.ubj' (XGBoost's own format, "
    "from XGBClassifier/XGBRegressor or a Booster)",
    module="xgboost",
    distribution="xgboost (or xgboost-cpu)",
)
LIGHTGBM = LightGBMFormat(
    name="lightgbm",
    title="LightGBM",
    suffixes=(".txt", ".lgb"),
    how_to_save="model.booster_.save_model('model.txt') (LGBMClassifier/LGBMRegressor) or "
    "booster.save_model('model.txt')",
    module="lightgbm",
    distribution="lightgbm",
)
CATBOOST = CatBoostFormat(
    name="catboost",
    title="CatBoost",
    suffixes=(".cbm",),
    how_to_save="model.save_model('model.cbm') (CatBoost's binary format)",
    module="catboost",
    distribution="catboost",
)
