"""``mlgate repro``: compare the working tree with the lock and/or re-run training; one verdict
(kind ``repro``) per model, written to ``<out>/repro.json``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import paths
from mlgate.config.loader import require_files
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import EXIT_CHECK_FAILED, EXIT_OK, Location
from mlgate.repro import environment, judged
from mlgate.repro.diff import CATEGORIES, Difference, diff_entries
from mlgate.repro.hashing import Hasher, Progress, StatCache
from mlgate.repro.inputs import Inputs, collect_inputs
from mlgate.repro.lockfile import Lock, read_lock
from mlgate.verdict import Check, Status, Verdict, write_verdict

LineSink = Callable[[str], None]
VERDICT_FILE = "repro.json"
# Where a difference of each category is configured, for CI annotations on mlgate.yaml.
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "data": ("data",),
    "code": ("repro", "code"),
    "params": ("train", "params"),
    "train": ("train",),
    "environment": ("repro", "requirements"),
    "dvc": ("train",),
}


@dataclass(frozen=True)
class ReproRequest:
    # Loaded with ``missing_data_ok`` for a check without re-runs: a locked data file that is
    # gone is then a difference to list, not a configuration error.
    config: Config
    model_name: str | None = None
    check: bool = True
    rerun: bool = False
    runs: int | None = None  # default: repro.runs of each model
    out: Path | None = None
    keep: bool = False
    # mlgate check trains first: that run, in the working tree, counts as the first run, so
    # one re-run fewer is made and each is compared with the working tree's outputs.
    first_run_in_tree: bool = False
    # Training was skipped by the run cache: an agreement remembered for these inputs and
    # outputs (repro.agreed) stands in for the re-run.
    reuse_agreed: bool = False


@dataclass(frozen=True)
class ModelReport:
    verdict: Verdict
    path: Path
    differences: tuple[Difference, ...] = ()
    # Where each failing check is configured in mlgate.yaml (for CI annotations).
    locations: dict[str, Location] = field(default_factory=dict)


@dataclass(frozen=True)
class ReproResult:
    reports: tuple[ModelReport, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(r.verdict.ok for r in self.reports)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_CHECK_FAILED

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "verdicts": [{"path": str(r.path), **r.verdict.to_dict()} for r in self.reports],
        }


def repro(
    request: ReproRequest,
    *,
    on_line: LineSink | None = None,
    on_event: LineSink | None = None,
    progress: Progress | None = None,
) -> ReproResult:
    """Run the requested checks on every selected model and write their verdicts."""
    from mlgate.repro.rerun import check_mode_prerequisites

    config = request.config
    models = config.select(request.model_name)
    if request.rerun:  # configuration problems surface before anything long runs
        for model in models:
            check_mode_prerequisites(config, model, model.repro)
    lock = read_lock(paths.lock_path(config.root)) if request.check else None
    if (
        request.check
        and not request.rerun
        and any(lock is None or lock.entry(m.name) is None for m in models)
    ):
        require_files(config)  # nothing locked to compare with: a missing file is exit 2
    cache = StatCache(paths.cache_dir(config.root) / "hashes.json")
    hasher = Hasher(cache, progress=progress)
    reports = []
    try:
        for model in models:
            target = _verdict_path(config, model, request.out, several=len(models) > 1)
            # A verdict from an earlier run must not outlive a run that fails before writing one.
            target.unlink(missing_ok=True)
            inputs = collect_inputs(config, model, hasher, missing_data_ok=request.check)
            checks: list[Check] = []
            notes: list[str] = list(inputs.notes)
            context: dict[str, Any] = {"fingerprint": inputs.fingerprint, "checked": []}
            differences: list[Difference] = []
            if request.check:
                context["checked"].append("lock")
                differences = _lock_checks(config.root, model, lock, inputs, checks, context)
            if request.rerun:
                context["checked"].append("rerun")
                found, told, context["rerun"] = _rerun_checks(
                    request, config, model, inputs, hasher, on_line=on_line, on_event=on_event
                )
                checks.extend(found)
                notes.extend(told)
            context[judged.KEY] = judged.take(model)
            verdict = Verdict("repro", model.name, tuple(checks), tuple(notes), context)
            write_verdict(target, verdict)
            locations = {
                c.id: config.locate(model, *c.config_key)
                for c in verdict.failures
                if c.config_key is not None
            }
            reports.append(ModelReport(verdict, target, tuple(differences), locations))
    finally:
        cache.save()
    return ReproResult(tuple(reports))


def _rerun_checks(
    request: ReproRequest,
    config: Config,
    model: ModelConfig,
    inputs: Inputs,
    hasher: Hasher,
    *,
    on_line: LineSink | None,
    on_event: LineSink | None,
) -> tuple[list[Check], list[str], dict[str, Any]]:
    """Re-run training (or reuse an agreement for the same inputs): checks, notes, context."""
    from mlgate.repro import agreed, runs
    from mlgate.repro.rerun import rerun
    from mlgate.repro.train import outputs_of

    settings = model.repro
    wanted = request.runs or settings.runs
    if request.first_run_in_tree:
        wanted = max(1, wanted - 1)
    if request.reuse_agreed:
        current = runs.hash_outputs(config.root, outputs_of(model), hasher)
        record = agreed.recall(config.root, inputs.fingerprint, settings, current)
        if record is not None:
            reused = Check(
                "repro.rerun",
                "repro",
                Status.PASS,
                "re-run not repeated: training was skipped by the run cache, and an "
                f"isolated re-run of the same inputs agreed with these outputs "
                f"({record.get('at')}, {settings.mode} mode)",
                details={"fingerprint": inputs.fingerprint, "agreed_at": record.get("at")},
            )
            context = {**record.get("rerun", {}), "runs": 0, "reused": record.get("at")}
            return [reused], [], context
    outcome = rerun(
        config,
        model,
        inputs,
        runs_wanted=wanted,
        keep=request.keep,
        on_line=on_line,
        on_event=on_event,
        against_working_tree=request.first_run_in_tree,
    )
    if outcome.reference_outputs and not any(c.failed for c in outcome.checks):
        agreed.remember(
            config.root, inputs.fingerprint, settings, outcome.reference_outputs, outcome.context
        )
    return list(outcome.checks), list(outcome.notes), outcome.context


def _verdict_path(config: Config, model: ModelConfig, out: Path | None, *, several: bool) -> Path:
    if out is None:
        return paths.out_dir(config.root, model.tag_name) / VERDICT_FILE
    return (out / model.tag_name if several else out) / VERDICT_FILE


def _lock_checks(
    root: Path,
    model: ModelConfig,
    lock: Lock | None,
    inputs: Inputs,
    checks: list[Check],
    context: dict[str, Any],
) -> list[Difference]:
    lock_name = paths.LOCK_FILE
    entry = lock.entry(model.name) if lock else None
    if entry is None:
        where = (
            f"no {lock_name}" if lock is None else f"{lock_name} has no entry for {model.name!r}"
        )
        checks.append(
            Check(
                "repro.lock",
                "repro",
                Status.FAIL,
                f"{where}: the model's inputs are not pinned",
                details={"hint": "run 'mlgate lock' and commit mlgate.lock"},
            )
        )
        return []
    context["locked_fingerprint"] = entry["fingerprint"]
    differences = diff_entries(entry, inputs.entry, functools.partial(inputs.listing, root))
    for category in CATEGORIES:
        if category == "dvc" and "dvc" not in entry and "dvc" not in inputs.entry:
            continue
        found = [d for d in differences if d.category == category]
        checks.append(_category_check(category, found, inputs.entry, model))
    checks.extend(_installed_check(inputs.entry, environment.training_environment(model)))
    return differences


def _category_check(
    category: str, found: list[Difference], entry: dict[str, Any], model: ModelConfig
) -> Check:
    key = CONFIG_KEYS[category]
    if category == "code" and not model.repro.code:
        key = ("repro",) if model.repro.given else ()
    if found:
        listed = "; ".join(d.describe() for d in found[:3])
        more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
        message = (
            f"{category}: {len(found)} difference{'s' * (len(found) > 1)} from "
            f"{paths.LOCK_FILE}: {listed}{more}"
        )
        python = next((d for d in found if d.subject == "python"), None)
        if python is not None:
            message += (
                f". The lock was made with Python {python.old}; train with Python "
                f"{python.old} (setup-python's python-version, or train.python), or relock "
                f"with Python {python.new} ('mlgate lock')"
            )
        return Check(
            f"repro.lock.{category}",
            "repro",
            Status.FAIL,
            message,
            observed=len(found),
            threshold=0,
            details={"differences": [d.to_dict() for d in found]},
            config_key=key or None,
        )
    return Check(
        f"repro.lock.{category}",
        "repro",
        Status.PASS,
        f"{category}: {_matching(category, entry)} as locked",
        observed=0,
        threshold=0,
        config_key=key or None,
    )


def _matching(category: str, entry: dict[str, Any]) -> str:
    if category == "train":
        train = entry.get("train")
        if train is None:
            return "no training command"
        return f"command {train['command']!r}, seed {train['seed']}, env and outputs"
    if category == "environment":
        env = entry["environment"]
        return f"Python {env['python']} and {len(env['packages'])} packages ({env['source']})"
    if category == "dvc":
        stages = entry.get("dvc", {}).get("stages", {})
        return f"{len(stages)} DVC stage{'s' * (len(stages) != 1)} ({', '.join(stages)})"
    count = len(entry[category])
    noun = {"data": "data input", "code": "code file", "params": "parameter file"}[category]
    return f"{count} {noun}{'s' * (count != 1)}"


def _installed_check(entry: dict[str, Any], trains: environment.TrainingEnvironment) -> list[Check]:
    """Warnings when the training environment breaks the pins (results may differ from the
    lock's) or lacks packages the requirements list without a pin."""
    env = entry["environment"]
    if env["source"] == environment.INSTALLED:
        return []
    installed = trains.packages
    broken = environment.installed_mismatches(env["packages"], installed)
    missing = environment.unpinned_missing(env["packages"], installed)
    where = trains.describe()
    checks: list[Check] = []
    if missing:
        checks.append(
            Check(
                "repro.environment.unpinned",
                "repro",
                Status.WARN,
                f"{env['source']} lists {len(missing)} package{'s' * (len(missing) > 1)} "
                f"without a pin that the training environment lacks: {', '.join(missing)}",
                observed=len(missing),
                details={
                    "missing": missing,
                    "interpreter": trains.interpreter,
                    "hint": (
                        f"install {env['source']} into {where}, or set train.python to the "
                        "interpreter that has them"
                    ),
                },
                config_key=CONFIG_KEYS["environment"],
            )
        )
    if not broken:
        ok = "pinned packages match" if not missing else "the pinned packages match"
        checks.append(
            Check(
                "repro.environment.installed",
                "repro",
                Status.PASS,
                f"{ok} {env['source']} in the training environment ({where})",
            )
        )
        return checks
    shown = ", ".join(f"{n} {have or 'not installed'} (pinned {pin})" for n, pin, have in broken)
    checks.append(
        Check(
            "repro.environment.installed",
            "repro",
            Status.WARN,
            f"the training environment ({where}) differs from {env['source']}: {shown}",
            observed=len(broken),
            details={
                "mismatches": [{"package": n, "pinned": p, "installed": h} for n, p, h in broken],
                "interpreter": trains.interpreter,
            },
            config_key=CONFIG_KEYS["environment"],
        )
    )
    return checks
