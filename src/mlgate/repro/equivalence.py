"""Do two trainings agree? Outputs compared bitwise, by predictions on the evaluation set, or by
metrics, as ``repro.mode`` says; every check names the output and how far apart the two are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mlgate.config.model import ModelConfig
from mlgate.config.sections import ReproSettings
from mlgate.formats.legacy import archive_digest
from mlgate.repro.artifacts import first_difference
from mlgate.verdict import Check, Status

ARCHIVE_NOTE = (
    "compared by archive content (member names and contents): zip-based model files such as "
    "skops embed timestamps and object ids, so their bytes differ even for identical models"
)


@dataclass(frozen=True)
class RunSnapshot:
    """The outputs of one training run: repository-relative name -> hashes, and where they are."""

    label: str  # "run 1", "the working tree"
    outputs: dict[str, dict[str, Any]]
    files: dict[str, Path]
    metrics: dict[str, float] | None


PredictFn = Callable[[Path], Any]  # model file -> predictions (numpy array)


@dataclass(frozen=True)
class Comparison:
    """Two runs to compare and what the model's configuration says about them."""

    reference: RunSnapshot
    other: RunSnapshot
    model: ModelConfig
    settings: ReproSettings
    model_file: str  # repository-relative, like the snapshots' keys
    metrics_file: str | None
    predict: PredictFn | None
    prefix: str  # check ids start with it


class Mode(Protocol):
    """What must match for a re-run to count as reproducing (``repro.mode``)."""

    compares_metrics: bool

    def output(self, rel: str, bitwise: Check, c: Comparison) -> Check | None:
        """The check for one output present in both runs, given its bitwise comparison."""


class Bitwise:
    """Every output identical (zip-based files by archive content)."""

    compares_metrics = False

    def output(self, rel: str, bitwise: Check, c: Comparison) -> Check | None:  # noqa: ARG002
        return bitwise


class Predictions:
    """The model predicts the same on data.eval within tolerance; metrics agree."""

    compares_metrics = True

    def output(self, rel: str, bitwise: Check, c: Comparison) -> Check | None:
        if rel == c.model_file and c.predict is not None:
            # Identical content means identical predictions: no need to load both models.
            return bitwise if not bitwise.failed else _predictions(rel, c)
        return Metrics().output(rel, bitwise, c)


class Metrics:
    """The metrics file agrees within tolerance; other outputs only warn when they differ."""

    compares_metrics = True

    def output(self, rel: str, bitwise: Check, c: Comparison) -> Check | None:
        if rel == c.metrics_file:
            return None  # compared metric by metric
        return _as_warning(bitwise, c.settings.mode) if bitwise.failed else None


MODES: dict[str, Mode] = {"bitwise": Bitwise(), "predictions": Predictions(), "metrics": Metrics()}


def compare_runs(c: Comparison) -> list[Check]:
    """Checks comparing ``c.other`` with ``c.reference`` under ``repro.mode``."""
    mode = MODES[c.settings.mode]
    checks: list[Check] = []
    for rel in sorted(c.reference.files.keys() | c.other.files.keys()):
        if rel not in c.reference.files or rel not in c.other.files:
            absent = c.reference if rel not in c.reference.files else c.other
            checks.append(
                Check(
                    f"{c.prefix}.output:{rel}",
                    "repro",
                    Status.FAIL,
                    f"{rel} is missing from {absent.label}",
                    details={"output": rel},
                    config_key=("train", "outputs"),
                )
            )
            continue
        check = mode.output(rel, _bitwise(rel, c.reference, c.other, c.prefix), c)
        if check is not None:
            checks.append(check)
    if mode.compares_metrics and c.reference.metrics is not None:
        checks.extend(_metrics(c))
    return checks


def _bitwise(rel: str, reference: RunSnapshot, other: RunSnapshot, prefix: str) -> Check:
    a, b = reference.outputs[rel], other.outputs[rel]
    cid = f"{prefix}.output:{rel}"
    if a["sha256"] == b["sha256"]:
        return Check(cid, "repro", Status.PASS, f"{rel}: identical bytes", details={"output": rel})
    if a.get("content_sha256") and a.get("content_sha256") == b.get("content_sha256"):
        return Check(
            cid,
            "repro",
            Status.PASS,
            f"{rel}: identical {a.get('content_kind')} content (bytes differ only in archive "
            "metadata)",
            details={"output": rel, "note": ARCHIVE_NOTE},
        )
    details: dict[str, Any] = {
        "output": rel,
        "sha256": {reference.label: a["sha256"], other.label: b["sha256"]},
        "size": {reference.label: a["size"], other.label: b["size"]},
    }
    if a.get("kind") == "directory" or b.get("kind") == "directory":
        return _folder_difference(rel, reference, other, cid, details)
    archive_a, archive_b = archive_digest(reference.files[rel]), archive_digest(other.files[rel])
    if archive_a is not None and archive_b is not None:
        names = sorted(archive_a.members.keys() | archive_b.members.keys())
        differing = [n for n in names if archive_a.members.get(n) != archive_b.members.get(n)]
        details["differing_members"] = differing
        details["note"] = ARCHIVE_NOTE
        shown = ", ".join(differing[:5]) + (
            f" and {len(differing) - 5} more" * (len(differing) > 5)
        )
        message = (
            f"{rel} differs between {reference.label} and {other.label}: {len(differing)} of "
            f"{len(names)} archive members differ ({shown})"
        )
    else:
        offset = first_difference(reference.files[rel], other.files[rel])
        details["first_difference_at_byte"] = offset
        message = (
            f"{rel} differs between {reference.label} and {other.label}: first at byte {offset} "
            f"({a['size']} vs {b['size']} bytes)"
        )
    return Check(cid, "repro", Status.FAIL, message, details=details, config_key=("repro", "mode"))


def _folder_difference(
    rel: str, reference: RunSnapshot, other: RunSnapshot, cid: str, details: dict[str, Any]
) -> Check:
    from mlgate.repro.hashing import Hasher, list_files

    def manifest(folder: Path) -> dict[str, str]:
        if not folder.is_dir():
            return {}
        files = list_files(folder)
        hashes = Hasher().hash_files(files, what="output file")
        return {f.relative_to(folder).as_posix(): hashes[f].sha256 for f in files}

    first, second = manifest(reference.files[rel]), manifest(other.files[rel])
    names = sorted(first.keys() | second.keys())
    differing = [n for n in names if first.get(n) != second.get(n)]
    details["differing_files"] = differing
    shown = ", ".join(differing[:5]) + (f" and {len(differing) - 5} more" * (len(differing) > 5))
    return Check(
        cid,
        "repro",
        Status.FAIL,
        f"{rel} differs between {reference.label} and {other.label}: {len(differing)} of "
        f"{len(names)} files differ ({shown})",
        details=details,
        config_key=("repro", "mode"),
    )


def _as_warning(check: Check, mode: str) -> Check:
    return Check(
        check.id,
        check.kind,
        Status.WARN,
        check.message + f" (not required to match in repro.mode {mode})",
        details=check.details,
        config_key=check.config_key,
    )


def _predictions(rel: str, c: Comparison) -> Check:
    import numpy as np

    assert c.predict is not None  # Predictions.output checked it
    reference, other = c.reference, c.other
    tolerance = c.settings.tolerance_predictions
    first = np.asarray(c.predict(reference.files[rel]))
    second = np.asarray(c.predict(other.files[rel]))
    cid = f"{c.prefix}.predictions:{rel}"
    if first.shape != second.shape:
        return Check(
            cid,
            "repro",
            Status.FAIL,
            f"{rel}: predictions have different shapes ({first.shape} vs {second.shape})",
            threshold=tolerance,
            details={"output": rel},
            config_key=("repro", "tolerance", "predictions"),
        )
    if first.dtype.kind in "fiub" and second.dtype.kind in "fiub":
        diff = np.abs(first.astype(float) - second.astype(float))
    else:
        diff = (first != second).astype(float)  # labels: 1 where they disagree
    rows = diff.reshape(len(diff), -1).max(axis=1) if diff.size else diff
    worst = int(np.argmax(rows)) if rows.size else 0
    max_diff = float(rows.max()) if rows.size else 0.0
    over = int((rows > tolerance).sum())
    details: dict[str, Any] = {
        "output": rel,
        "rows": len(rows),
        "rows_over_tolerance": over,
        "max_abs_diff": max_diff,
    }
    if rows.size:
        details.update(
            worst_row=worst,
            values={
                reference.label: first[worst].tolist(),
                other.label: second[worst].tolist(),
            },
        )
    ok = max_diff <= tolerance
    message = (
        f"{rel}: predictions on the evaluation set agree within {tolerance:g} "
        f"(max |difference| {max_diff:.3g} over {len(rows)} rows)"
        if ok
        else f"{rel}: predictions of {other.label} differ from {reference.label} by up to "
        f"{max_diff:.3g} (tolerance {tolerance:g}); {over} of {len(rows)} evaluation rows "
        f"differ, the most at row {worst}"
    )
    return Check(
        cid,
        "repro",
        Status.PASS if ok else Status.FAIL,
        message,
        observed=max_diff,
        threshold=tolerance,
        details=details,
        config_key=("repro", "tolerance", "predictions"),
    )


def _metrics(c: Comparison) -> list[Check]:
    reference, other, prefix = c.reference, c.other, c.prefix
    tolerance = c.settings.tolerance_metrics
    a, b = reference.metrics or {}, other.metrics or {}
    shown = c.metrics_file or ""
    checks = []
    for name in sorted(a.keys() | b.keys()):
        cid = f"{prefix}.metric:{name}"
        if name not in a or name not in b:
            absent = reference if name not in a else other
            checks.append(
                Check(
                    cid,
                    "repro",
                    Status.FAIL,
                    f"metric {name} is missing from {absent.label}'s {shown}",
                    details={"metric": name},
                    config_key=("train", "metrics"),
                )
            )
            continue
        diff = abs(a[name] - b[name])
        ok = diff <= tolerance
        message = (
            f"metric {name}: {b[name]:.6g} in {other.label}, {a[name]:.6g} in {reference.label} "
            f"(|difference| {diff:.3g}, tolerance {tolerance:g})"
        )
        checks.append(
            Check(
                cid,
                "repro",
                Status.PASS if ok else Status.FAIL,
                message,
                observed=diff,
                threshold=tolerance,
                details={"metric": name, reference.label: a[name], other.label: b[name]},
                config_key=("repro", "tolerance", "metrics"),
            )
        )
    return checks


def likely_causes(model: ModelConfig, entry: dict[str, Any], failed: list[Check]) -> list[str]:
    """Hints on the usual causes of a training that does not reproduce, most specific first."""
    hints: list[str] = []
    seed = model.train.seed if model.train else None
    if seed is None:
        hints.append(
            "train.seed is not set, so MLGATE_SEED and PYTHONHASHSEED are not exported: set it "
            "in mlgate.yaml and seed every generator from it"
        )
    hints.append(
        "unseeded randomness: pass random_state=int(os.environ['MLGATE_SEED']) to every "
        "estimator, splitter and sampler, and seed random, numpy (and torch) the same way"
    )
    hints.append(
        "thread nondeterminism: parallel reductions (n_jobs, OpenMP/BLAS threads, GPU kernels) "
        "add numbers in varying order; try OMP_NUM_THREADS: '1' under train.env, or declare a "
        "tolerance with repro.mode: predictions or metrics"
    )
    folders = any(d.get("kind") == "directory" for d in entry.get("data", {}).values())
    read_order = (
        "data read order: os.listdir and glob return files in filesystem order; sort file "
        "lists, and sort rows if the model depends on their order"
    )
    if folders:
        hints.insert(0, read_order + " (this model reads data folders)")
    else:
        hints.append(read_order)
    if any(c.details.get("differing_members") == [] for c in failed) or any(
        "first_difference_at_byte" in c.details for c in failed
    ):
        hints.append(
            "outputs that embed timestamps, absolute paths or object ids never match bitwise; "
            "compare with repro.mode: predictions or metrics"
        )
    return hints
