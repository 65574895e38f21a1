"""``mlgate validate``: challenger against champion on the same evaluation data, every gate.

One core call per model returns the verdicts (``validation`` and, when configured, ``drift``)
and the files written; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate import paths
from mlgate.config.model import Config, ModelConfig
from mlgate.config.validate import suggest
from mlgate.errors import EXIT_OK, ConfigError, UsageError
from mlgate.fsio import atomic_write_json
from mlgate.gates import champion as champions
from mlgate.gates import datacheck
from mlgate.gates.drift.engine import DriftOptions
from mlgate.gates.drift.run import VERDICT_FILE, DriftInputs, drift_gate
from mlgate.gates.evaluation import GateRun, evaluate
from mlgate.repro import judged
from mlgate.tabular import feature_columns, read_data
from mlgate.verdict import Check, Status, Verdict, write_verdict

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.github.client import Connect

VALIDATION_FILE = "validation.json"
CONTRACT_FILE = "data_contract.json"


@dataclass(frozen=True)
class ValidateRequest:
    config: Config
    model: str | None = None
    champion: str | None = None  # a model file, or a registry reference (stage, latest, vX.Y.Z)
    out: Path | None = None
    github: Connect | None = None  # reaches the release holding a champion's model file


@dataclass(frozen=True)
class ModelValidation:
    model: str
    validation: Verdict
    drift: Verdict | None
    written: tuple[Path, ...]

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        return (self.validation,) if self.drift is None else (self.validation, self.drift)

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)


@dataclass(frozen=True)
class ValidateResult:
    config: Config
    models: tuple[ModelValidation, ...]

    @property
    def exit_code(self) -> int:
        return max((v.exit_code for m in self.models for v in m.verdicts), default=EXIT_OK)


def validate(request: ValidateRequest) -> ValidateResult:
    """Validate the selected model(s); gate failures are in the verdicts, not raised."""
    config = request.config
    selected = config.select(request.model)
    if request.champion is not None and len(selected) > 1:
        raise UsageError(
            f"--champion names one model's champion, and {config.path.name} defines "
            f"{len(selected)} models",
            hint="add --model NAME",
        )

    def out_for(model: ModelConfig) -> Path | None:
        # Several models under one --out folder: one subfolder each, so nothing is overwritten.
        if request.out is None or len(selected) == 1:
            return request.out
        return request.out / model.tag_name

    return ValidateResult(
        config,
        tuple(
            validate_model(config, m, request.champion, out_for(m), request.github)
            for m in selected
        ),
    )


def validate_model(
    config: Config,
    model: ModelConfig,
    champion_arg: str | None,
    out: Path | None,
    github: Connect | None = None,
) -> ModelValidation:
    """Every configured check of one model, written as verdict files."""
    run = GateRun(config, model, model.gates, [], [])
    eval_path, target = _eval_inputs(run)
    frame = _read(model, "eval")
    _require_target(run, frame, eval_path, target)
    frame = _labelled(run, frame, target)
    training = _read(model, "train") if model.data.train else None
    features = _features(run, training if training is not None else frame, target)

    contract = datacheck.build_contract(
        run.settings.data,
        training,
        [
            *features,
            target,
            *model.data.sensitive,
            *(run.settings.slices.columns if run.settings.slices else ()),
        ],
    )
    run.checks.extend(datacheck.data_checks(contract, frame, run.settings.data))

    ref = champions.resolve(config, model, champion_arg, run.settings.champion, github)
    missing = (
        None
        if ref is not None
        else champions.why_none(config, model, champion_arg, run.settings.champion)
    )
    context = evaluate(run, frame, target, features, ref, missing)

    judged_now = judged.take(model)
    drift_verdict = None
    if run.settings.drift is not None:
        drift_verdict = _drift(run, features, training, frame, eval_path)
        drift_verdict = replace(
            drift_verdict, context={**drift_verdict.context, judged.KEY: judged_now}
        )

    verdict = Verdict(
        kind="validation",
        model=model.name,
        checks=tuple(run.checks),
        notes=tuple(dict.fromkeys(run.notes)),
        context={
            **context,
            "evaluation": {"path": model.relative(eval_path), "rows": len(frame), "target": target},
            "features": list(features),
            judged.KEY: judged_now,
        },
    )
    folder = out or paths.out_dir(config.root, model.tag_name)
    written = [write_verdict(folder / VALIDATION_FILE, verdict)]
    written.append(atomic_write_json(folder / CONTRACT_FILE, contract.to_dict()))
    if drift_verdict is not None:
        written.append(write_verdict(folder / VERDICT_FILE, drift_verdict))
    return ModelValidation(model.name, verdict, drift_verdict, tuple(written))


def _eval_inputs(run: GateRun) -> tuple[Path, str]:
    data = run.model.data
    if data.eval is None:
        raise ConfigError(
            f"model {run.model.name!r} has no evaluation data (data.eval)",
            location=run.locate("data"),
            hint="set data.eval to the CSV or Parquet file the models are evaluated on",
        )
    if not data.target:
        raise ConfigError(
            f"model {run.model.name!r} has no target column (data.target)",
            location=run.locate("data"),
            hint="set data.target to the label column of the evaluation data",
        )
    return data.eval, data.target


def _read(model: ModelConfig, role: str) -> pd.DataFrame:
    return read_data(model.data, role)


def _require_target(run: GateRun, frame: pd.DataFrame, path: Path, target: str) -> None:
    if target in frame.columns:
        return

    present = [str(c) for c in frame.columns]
    guess = suggest(target, present)
    raise ConfigError(
        f"the evaluation data {run.model.relative(path)} has no target column {target!r}",
        location=run.locate("data", "target"),
        hint=(f"did you mean {guess!r}? " if guess else "") + "columns: " + ", ".join(present),
    )


def _labelled(run: GateRun, frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """Rows without a label cannot be scored; they are left out and the verdict says so."""
    missing = frame[target].isna().to_numpy()
    count = int(missing.sum())
    if count == 0:
        return frame
    if count == len(frame):
        raise ConfigError(
            f"every row of the evaluation data lacks the target {target!r}",
            location=run.locate("data", "target"),
        )
    run.checks.append(
        Check(
            f"data.{target}.labels",
            "data",
            Status.WARN,
            f"{count} of {len(frame)} evaluation rows have no {target!r} label and were left out "
            "of the metrics",
            observed=count,
            details={"rows": len(frame)},
            config_key=("data", "target"),
        )
    )
    return frame.loc[~missing].reset_index(drop=True)


def _features(run: GateRun, frame: pd.DataFrame, target: str) -> list[str]:
    data = run.model.data
    try:
        return feature_columns(
            frame,
            target=target,
            features=data.features,
            sensitive=data.sensitive,
            source="training data" if data.train else "evaluation data",
        )
    except ConfigError as exc:
        raise ConfigError(
            exc.message, location=run.locate("data", "features"), hint=exc.hint
        ) from None


def _drift(
    run: GateRun,
    features: Sequence[str],
    training: pd.DataFrame | None,
    frame: pd.DataFrame,
    eval_path: Path,
) -> Verdict:
    settings = run.settings.drift
    assert settings is not None
    if settings.reference is None:
        raise ConfigError(
            "the drift gate needs reference data: set gates.drift.reference or data.train",
            location=run.locate("gates", "drift"),
        )
    current = settings.current or eval_path
    inputs = DriftInputs(
        reference=settings.reference,
        current=current,
        columns=settings.columns or tuple(features),
        options=DriftOptions.of(settings),
        cache_dir=paths.cache_dir(run.config.root) if settings.cache else None,
        model_name=run.model.name,
        config_key=("gates", "drift"),
    )
    same_ref = training is not None and settings.reference == run.model.data.train
    try:
        verdict, _, _ = drift_gate(
            inputs,
            reference_frame=training if same_ref else None,
            current_frame=frame if current == eval_path else None,
        )
    except (UsageError, ConfigError) as exc:
        if exc.location is not None:
            raise
        raise ConfigError(
            f"drift gate: {exc.message}", location=run.locate("gates", "drift"), hint=exc.hint
        ) from None
    return verdict
