"""``mlgate drift``, and the drift gate inside ``mlgate validate``: files in, verdict out.

Reference summaries are cached by content under ``.mlgate/cache/drift/``; with a warm cache the
reference file is not parsed (nor hashed again while its size, times and inode are unchanged).
Both sides are summarised straight from their files (gates.drift.reading), so no whole frame is
held, let alone two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import UsageError
from mlgate.gates.drift import cache
from mlgate.gates.drift.engine import (
    DriftOptions,
    DriftReport,
    compare_summaries,
    current_points,
    summarise_frame,
)
from mlgate.gates.drift.reading import summarise_table
from mlgate.gates.drift.report import drift_checks
from mlgate.verdict import Verdict

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.config.model import Config, ModelConfig

VERDICT_FILE = "drift.json"
# Drift of production data against the reference (``mlgate drift --production``): the only
# evidence the compliance checklist counts as monitoring in production.
MONITOR_KIND = "monitor"
MONITOR_FILE = "monitor.json"


@dataclass(frozen=True)
class DriftRequest:
    """What ``mlgate drift`` was asked; None means "from mlgate.yaml, else the default"."""

    reference: Path | None = None
    current: Path | None = None
    columns: tuple[str, ...] | None = None
    config: Config | None = None  # None: no mlgate.yaml around, the files alone
    # With config None: the project folder whose cache to use (the CLI's comparison of two
    # files, which takes nothing else from mlgate.yaml, does not load it).
    cache_root: Path | None = None
    model: str | None = None
    out: Path | None = None
    p_value: float | None = None
    distance: float | None = None
    max_drifted_share: float | None = None
    methods: Mapping[str, str] = field(default_factory=dict)
    cache: bool = True
    production: bool = False  # current is production data: a "monitor" verdict


@dataclass(frozen=True)
class DriftResult:
    verdict: Verdict
    report: DriftReport
    written: Path | None
    cache_hit: bool
    config: Config | None = None  # the project whose settings applied, if any
    model: ModelConfig | None = None

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code


@dataclass(frozen=True)
class DriftInputs:
    """Resolved inputs of one drift comparison."""

    reference: Path
    current: Path
    columns: tuple[str, ...] | None
    options: DriftOptions
    cache_dir: Path | None
    model_name: str
    config_key: tuple[str | int, ...] | None = None


def run_drift(request: DriftRequest) -> DriftResult:
    """Resolve the request against mlgate.yaml (when there is one), compare, write the verdict."""
    config, model = _project(request)
    inputs, out_dir = _resolve(request, config, model)
    verdict, report, hit = drift_gate(inputs)
    if request.production:
        from dataclasses import replace

        verdict = replace(verdict, kind=MONITOR_KIND)
    if model is not None:
        from dataclasses import replace

        from mlgate.repro import judged

        verdict = replace(verdict, context={**verdict.context, judged.KEY: judged.take(model)})
    written = None
    if out_dir is not None:
        from mlgate.verdict import write_verdict

        name = MONITOR_FILE if request.production else VERDICT_FILE
        written = write_verdict(out_dir / name, verdict)
    return DriftResult(verdict, report, written, hit, config, model)


def _resolve(
    request: DriftRequest, config: Config | None, model: ModelConfig | None
) -> tuple[DriftInputs, Path | None]:
    settings = model.drift if model is not None and config is not None else None
    reference = request.reference or (settings.reference if settings else None)
    current = request.current or (settings.current if settings else None)
    if reference is None or current is None:
        missing = " and ".join(
            f"--{n}" for n, v in (("reference", reference), ("current", current)) if v is None
        )
        raise UsageError(
            f"drift needs {missing}",
            hint="pass the files, or run inside a project whose mlgate.yaml sets data.train and "
            "data.eval (or gates.drift.reference/current)",
        )
    options = DriftOptions.of(settings) if settings else DriftOptions()
    overrides: dict[str, Any] = {
        k: v
        for k, v in (
            ("p_value", request.p_value),
            ("distance", request.distance),
            ("max_drifted_share", request.max_drifted_share),
        )
        if v is not None
    }
    if request.methods:
        overrides["methods"] = {**options.methods, **request.methods}
    options = replace(options, **overrides)
    columns = request.columns
    if columns is None and settings is not None and model is not None:
        columns = settings.columns or _features(model, reference)
    from mlgate import paths

    cache_dir = None
    root = config.root if config is not None else request.cache_root
    if request.cache and root is not None and (settings is None or settings.cache):
        cache_dir = paths.cache_dir(root)
    out_dir = request.out
    if out_dir is None and config is not None and model is not None:
        out_dir = paths.out_dir(config.root, model.tag_name)
    name = model.name if model is not None else current.stem
    key = ("gates", "drift") if model is not None and model.gates.drift is not None else None
    return DriftInputs(reference, current, columns, options, cache_dir, name, key), out_dir


def _project(request: DriftRequest) -> tuple[Config | None, ModelConfig | None]:
    """The configuration and model whose settings apply.

    With both files on the command line and no ``--model`` the comparison stands alone; a
    project found around it only provides the cache folder.
    """
    standalone = request.reference is not None and request.current is not None
    config = request.config
    if config is None:
        return None, None
    if standalone and request.model is None:
        return config, None
    return config, config.model(request.model)


def _features(model: ModelConfig, reference: Path) -> tuple[str, ...]:
    from mlgate.tabular import table_columns

    present = table_columns(reference, what="reference data")
    if model.data.features is not None:
        return tuple(model.data.features)
    excluded = {model.data.target, *model.data.sensitive}
    return tuple(c for c in present if c not in excluded)


def drift_gate(
    inputs: DriftInputs,
    *,
    reference_frame: pd.DataFrame | None = None,
    current_frame: pd.DataFrame | None = None,
) -> tuple[Verdict, DriftReport, bool]:
    """Compare current with reference (frames given are used instead of reading the files)."""
    from mlgate.tabular import table_columns

    ref_cols = (
        [str(c) for c in reference_frame.columns]
        if reference_frame is not None
        else table_columns(inputs.reference, what="reference data")
    )
    columns = list(inputs.columns) if inputs.columns is not None else ref_cols
    if reference_frame is None:
        _check_joined(inputs.reference, "reference data", ref_cols, columns)
    _check_columns(columns, ref_cols)
    summaries, hit = _reference_summaries(inputs, columns, reference_frame)
    rows = next(iter(summaries.values())).rows if summaries else 0
    points = current_points(inputs.options, summaries)
    if current_frame is None:
        cur_cols = table_columns(inputs.current, what="current data")
        _check_joined(inputs.current, "current data", cur_cols, columns)
        present = set(cur_cols)
        wanted = [c for c in columns if c in present]
        current, current_rows = summarise_table(
            inputs.current, wanted, what="current data", max_points=points
        )
    else:
        present = {str(c) for c in current_frame.columns}
        current = summarise_frame(
            current_frame, [c for c in columns if c in present], max_points=points
        )
        current_rows = len(current_frame)
    report = compare_summaries(
        summaries,
        current,
        columns,
        inputs.options,
        reference_rows=rows,
        current_rows=current_rows,
    )
    checks = drift_checks(report, config_key=inputs.config_key)
    notes = []
    if hit:
        notes.append("reference summaries read from the cache")
    verdict = Verdict(
        kind="drift",
        model=inputs.model_name,
        checks=tuple(checks),
        notes=tuple(notes),
        context={
            "reference": str(inputs.reference),
            "current": str(inputs.current),
            "reference_rows": report.reference_rows,
            "current_rows": report.current_rows,
            "drifted_share": report.share,
            "dataset_drift": report.dataset_drift,
            "options": {
                "p_value": inputs.options.p_value,
                "distance": inputs.options.distance,
                "max_drifted_share": inputs.options.max_drifted_share,
                "methods": dict(inputs.options.methods),
                "critical": list(inputs.options.critical),
            },
        },
    )
    return verdict, report, hit


def _check_columns(columns: Sequence[str], present: Sequence[str]) -> None:
    for name in columns:
        if name not in present:
            from mlgate.config.validate import suggest  # imports yaml: only for a wrong column

            guess = suggest(name, present)
            raise UsageError(
                f"column {name!r} is not in the reference data",
                hint=f"did you mean {guess!r}?" if guess else "columns: " + ", ".join(present),
            )


def _check_joined(path: Path, what: str, present: Sequence[str], columns: Sequence[str]) -> None:
    """Refuse a text table read with the wrong delimiter: a header that is one column such as
    ``x;k;i``, or none of the tested columns present while a header name holds them joined."""
    from mlgate.tabular import joined_header

    found = joined_header(path, present, columns)
    if found is None:
        return
    name, delimiter = found
    raise UsageError(
        f"{what} {path}: column {name!r} looks like several columns joined by {delimiter!r}: "
        "the file was read with another delimiter",
        hint="write the reference and current data with the same delimiter (or set "
        "data.options.delimiter)",
    )


def _reference_summaries(
    inputs: DriftInputs, columns: Sequence[str], frame: pd.DataFrame | None
) -> tuple[dict[str, Any], bool]:
    points = inputs.options.summary_points
    target = None
    found: dict[str, Any] = {}
    if inputs.cache_dir is not None:
        digest = cache.data_digest(inputs.reference, inputs.cache_dir)
        target = cache.cache_file(inputs.cache_dir, digest, points)
        found = cache.load(target)
    need = [c for c in columns if c not in found]
    if not need:
        return {c: found[c] for c in columns}, True
    if frame is None:
        read, _ = summarise_table(inputs.reference, need, what="reference data", max_points=points)
        found.update(read)
    else:
        found.update(summarise_frame(frame, need, max_points=points))
    if target is not None:
        cache.save(target, found)
    return {c: found[c] for c in columns}, False
