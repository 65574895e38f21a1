"""``mlgate init --adopt``: a commented mlgate.yaml draft for a repository that exists already.

It looks at what is there (a DVC pipeline, an MLproject, requirements and lock files, model
files, metrics files, data tables, training scripts), writes what it could tell, marks every
value it could not with ``FILL`` and the key to fill, and adds ``.mlgate/cache/`` and
``.mlgate/out/`` to ``.gitignore``. It never overwrites: an existing mlgate.yaml is an error.
The draft passes ``mlgate config check`` as written.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config.model import CONFIG_FILENAME
from mlgate.errors import UsageError
from mlgate.fsio import atomic_write_text
from mlgate.integrations import dvc
from mlgate.repro.environment import CANDIDATES
from mlgate.tabular import read_table, table_kind

IGNORED = (".mlgate/cache/", ".mlgate/out/")
SKIPPED = frozenset(
    {".git", ".venv", "venv", ".nox", ".tox", "__pycache__", ".mlgate", "node_modules", ".dvc"}
)
SKIPPED_PREFIXES = ("mlruns", "mlartifacts", "site-packages")
MODEL_SUFFIXES = (
    ".skops", ".joblib", ".pkl", ".pickle", ".onnx", ".ubj", ".cbm", ".xgb", ".bst", ".lgb",
)  # fmt: skip
TRAIN_SCRIPTS = ("train.py", "src/train.py", "scripts/train.py", "training/train.py")
PARAMS_FILES = ("params.yaml", "params.yml", "params.json", "config/params.yaml")
TARGET_NAMES = ("label", "target", "y", "class", "outcome", "quality", "churn", "churned")
FILL = "FILL"


@dataclass(frozen=True)
class AdoptRequest:
    target: Path


@dataclass(frozen=True)
class ModelDraft:
    """What was found for one model (paths relative to its folder) and what is unknown."""

    name: str
    path: str
    command: str | None = None
    entry_point: str | None = None
    mlflow: bool = False
    params: tuple[str, ...] = ()
    metrics: str | None = None
    train_data: str | None = None
    eval_data: str | None = None
    split: bool = False
    target: str | None = None
    model_file: str | None = None
    task: str | None = None
    why: tuple[str, ...] = ()  # one comment line per finding
    split_arguments: dict[str, str] | None = None  # train_test_split's, read from the script


@dataclass(frozen=True)
class AdoptResult:
    target: Path
    written: tuple[str, ...]
    models: tuple[ModelDraft, ...]
    found: dict[str, list[str]] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": str(self.target),
            "written": list(self.written),
            "models": [m.name for m in self.models],
            "found": self.found,
            "unknown": list(self.unknown),
        }


def adopt(request: AdoptRequest) -> AdoptResult:
    """Write the draft mlgate.yaml and the .gitignore lines into ``request.target``."""
    root = request.target.resolve()
    if not root.is_dir():
        raise UsageError(f"{request.target} is not a folder")
    config = root / CONFIG_FILENAME
    if config.exists():
        raise UsageError(
            f"{config} exists; --adopt never overwrites it",
            hint="edit it, or move it away to draft a new one",
        )
    files = _files(root)
    found = _inventory(files)
    drafts = _drafts(root, files, found)
    text = render(drafts, found)
    atomic_write_text(config, text)
    written = [CONFIG_FILENAME]
    if _ignore(root):
        written.append(".gitignore")
    unknown = tuple(re.findall(r"# FILL ([a-z_.]+):", text))
    return AdoptResult(root, tuple(written), tuple(drafts), found, unknown)


def _files(root: Path) -> list[str]:
    """Files of the repository (tracked and untracked, not ignored folders), POSIX relative."""
    out: list[str] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED and not d.startswith(SKIPPED_PREFIXES))
        here = Path(folder).relative_to(root)
        out.extend((here / n).as_posix() for n in sorted(names))
        if len(out) > 50_000:
            break
    return [f.removeprefix("./") for f in out]


def _inventory(files: Sequence[str]) -> dict[str, list[str]]:
    def named(names: Iterable[str]) -> list[str]:
        wanted = {n.lower() for n in names}
        return [f for f in files if Path(f).name.lower() in wanted or f.lower() in wanted]

    return {
        "dvc": [f for f in files if Path(f).name in ("dvc.yaml", "dvc.lock")],
        "mlproject": named(["MLproject"]),
        "requirements": named(CANDIDATES),
        "models": [
            f for f in files if f.lower().endswith(MODEL_SUFFIXES) and "/tests/" not in f"/{f}"
        ],
        "metrics": [f for f in files if re.search(r"(^|/)[^/]*metrics[^/]*\.json$", f.lower())],
        "tables": [f for f in files if table_kind(Path(f)) is not None and "/." not in f"/{f}"],
        "scripts": [f for f in files if Path(f).name in ("train.py", "training.py")],
        "params": named(PARAMS_FILES),
    }


def _drafts(root: Path, files: Sequence[str], found: dict[str, list[str]]) -> list[ModelDraft]:
    if "dvc.yaml" in files:
        return [_dvc_draft(root, found)]
    if "MLproject" in files:
        return [_mlflow_draft(root, found)]
    folders = _model_folders(found["scripts"])
    if len(folders) > 1:
        return [_plain_draft(root, found, folder) for folder in folders]
    return [_plain_draft(root, found, folders[0] if folders else ".")]


def _model_folders(scripts: Sequence[str]) -> list[str]:
    """One model per folder with its own training script (src/, scripts/ count as the root)."""
    folders: list[str] = []
    for script in scripts:
        folder = Path(script).parent.as_posix()
        if folder in (".", "src", "scripts", "training"):
            folder = "."
        if folder not in folders:
            folders.append(folder)
    return sorted(folders)


def _within(files: Sequence[str], folder: str) -> list[str]:
    if folder == ".":
        return list(files)
    prefix = folder.rstrip("/") + "/"
    return [f[len(prefix) :] for f in files if f.startswith(prefix)]


def _plain_draft(root: Path, found: dict[str, list[str]], folder: str) -> ModelDraft:
    why: list[str] = []
    scripts = _within(found["scripts"], folder)
    script = next((s for s in TRAIN_SCRIPTS if s in scripts), scripts[0] if scripts else None)
    command = f"python {script}" if script else None
    if script:
        why.append(f"training script: {script}")
    tables = _within(found["tables"], folder)
    if folder == ".":
        # Tables in another model's folder are not this one's.
        others = {Path(s).parent.as_posix() for s in found["scripts"]} - {".", "src", "scripts"}
        tables = [t for t in tables if not any(t.startswith(o + "/") for o in others)]
    train, evaluation, split = _pick_tables(tables)
    models = _within(found["models"], folder) or _written_by(root / folder, script)
    metrics = _within(found["metrics"], folder) or [
        m for m in _written_by(root / folder, script, ".json") if "metric" in m.lower()
    ]
    params = [p for p in PARAMS_FILES if p in _within(found["params"], folder)]
    name = Path(root if folder == "." else root / folder).resolve().name
    return _finish(
        root / folder,
        ModelDraft(
            name=_name(name),
            path=folder,
            command=command,
            params=tuple(params[:1]),
            metrics=metrics[0] if metrics else None,
            train_data=train,
            eval_data=evaluation,
            split=split,
            model_file=models[0] if models else None,
            why=tuple(why),
        ),
    )


def _written_by(folder: Path, script: str | None, *suffixes: str) -> list[str]:
    """Paths the training script names in string literals with a model file's (or the given)
    suffix: where it will write, before anything was trained."""
    if script is None:
        return []
    try:
        text = (folder / script).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    endings = suffixes or MODEL_SUFFIXES
    literals = re.findall(r"[\"']([\w./-]+)[\"']", text)
    return list(dict.fromkeys(x for x in literals if x.lower().endswith(endings)))


def _dvc_draft(root: Path, found: dict[str, list[str]]) -> ModelDraft:
    pipeline = dvc.load_pipeline(root / dvc.PIPELINE_FILE)
    outs = [o for s in pipeline.stages.values() for o in s.outs]
    rel = [o.relative_to(root).as_posix() for o in outs if o.is_relative_to(root)]
    model_file = next((o for o in rel if o.lower().endswith(MODEL_SUFFIXES)), None)
    # Tables written by the stages (folders listed as outs hold them), else those in git.
    tables = [f for f in found["tables"] if any(f == o or f.startswith(o + "/") for o in rel)]
    tables += [o for o in rel if table_kind(Path(o)) is not None and o not in tables]
    if not tables:
        tables = found["tables"]
    train, evaluation, split = _pick_tables(_last_stage_first(tables, rel))
    why = [
        "DVC pipeline: dvc.yaml stages " + ", ".join(pipeline.stages) + " (mlgate locks them "
        "with dvc.lock's hashes; metrics come from the pipeline's metrics file)"
    ]
    return _finish(
        root,
        ModelDraft(
            name=_name(root.name),
            path=".",
            command="dvc repro",
            train_data=train,
            eval_data=evaluation,
            split=split,
            model_file=model_file,
            why=tuple(why),
        ),
    )


def _last_stage_first(tables: list[str], outs: list[str]) -> list[str]:
    """Tables in later stages' outputs first: features, not raw data, feed the model."""
    order = {o: i for i, o in enumerate(outs)}

    def rank(table: str) -> int:
        return -max(
            (i for o, i in order.items() if table == o or table.startswith(o + "/")), default=-1
        )

    return sorted(tables, key=rank)


def _mlflow_draft(root: Path, found: dict[str, list[str]]) -> ModelDraft:
    import yaml

    try:
        project = yaml.safe_load((root / "MLproject").read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError):
        project = {}
    points = list((project.get("entry_points") or {}) if isinstance(project, dict) else {})
    entry = "main" if "main" in points else (points[0] if points else None)
    train, evaluation, split = _pick_tables(found["tables"])
    why = [
        (
            f"MLproject entry point {entry!r}: its command and parameters train the model; each "
            "run logs into its own store under .mlgate/, and the model it logs is copied to "
            "model.file"
        )
    ]
    return _finish(
        root,
        ModelDraft(
            name=_name(str(project.get("name") or root.name)),
            path=".",
            entry_point=entry,
            mlflow=True,
            train_data=train,
            eval_data=evaluation,
            split=split,
            model_file="model",
            why=tuple(why),
        ),
    )


def _pick_tables(tables: Sequence[str]) -> tuple[str | None, str | None, bool]:
    """(train, eval, split?): tables named for training and testing, else one table split."""

    def first(*words: str) -> str | None:
        for table in tables:
            stem = Path(table).name.lower()
            if any(w in stem for w in words):
                return table
        return None

    train = first("train")
    evaluation = first("test", "eval", "valid", "holdout")
    if train and evaluation and train != evaluation:
        return train, evaluation, False
    if tables:
        return tables[0], None, True
    return None, None, False


def _finish(folder: Path, draft: ModelDraft) -> ModelDraft:
    """Target column and task guessed from the evaluation (or only) table."""
    table = draft.eval_data or draft.train_data
    if table is None or not (folder / table).is_file():
        return draft

    try:
        frame = read_table(folder / table)
    except Exception:  # noqa: BLE001 - a guess only: an unreadable table leaves FILL marks
        return draft
    columns = [str(c) for c in frame.columns]
    target = next((c for c in columns if c.lower() in TARGET_NAMES), None)
    if target is None:
        return draft
    values = frame[target].dropna()
    task = "regression"
    if values.nunique() == 2:
        task = "binary-classification"
    elif values.dtype.kind not in "iuf":
        task = "multiclass-classification"
    split = _split_arguments(folder) if draft.split else None
    return ModelDraft(
        **{**draft.__dict__, "target": target, "task": task, "split_arguments": split}
    )


_SPLIT_ARGS = {
    "test_size": re.compile(r"train_test_split\([^)]*?test_size\s*=\s*([0-9.]+)", re.S),
    "seed": re.compile(r"train_test_split\([^)]*?random_state\s*=\s*(\d+)", re.S),
    "stratify": re.compile(r"train_test_split\([^)]*?stratify\s*=\s*\w+\[\s*[\"']([^\"']+)", re.S),
}
_GLOBAL_SEED = re.compile(r"np\.random\.seed\(\s*(\d+)\s*\)")


def _split_arguments(folder: Path) -> dict[str, str] | None:
    """``train_test_split``'s arguments as the training scripts pass them (a seed set with
    ``np.random.seed`` counts when the call has no random_state), or None when no call is seen."""
    found: dict[str, str] = {}
    for script in sorted(folder.glob("*.py")) + sorted(folder.glob("src/*.py")):
        try:
            text = script.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "train_test_split(" not in text:
            continue
        for key, pattern in _SPLIT_ARGS.items():
            match = pattern.search(text)
            if match:
                found.setdefault(key, match.group(1))
        seed = _GLOBAL_SEED.search(text)
        if seed and "seed" not in found:
            found["seed"] = seed.group(1)
        return found
    return None


def _name(text: str) -> str:
    cleaned = re.sub(r"[^a-zA-Z0-9_/-]+", "-", text).strip("-_/")
    return cleaned or "model"


def render(drafts: Sequence[ModelDraft], found: dict[str, list[str]]) -> str:
    """The draft as YAML with comments: what was found, and ``# FILL key`` where unknown."""
    lines = [
        "# mlgate configuration drafted by `mlgate init --adopt` from what this repository has.",
        "# Check every value; lines marked '# FILL key' need yours. `mlgate config check`",
        "# validates, `mlgate schema` prints every key.",
    ]
    lines += _found_comments(found)
    lines += ["version: 1", "models:"]
    for draft in drafts:
        lines += _model_lines(draft)
    return "\n".join(lines) + "\n"


def _found_comments(found: dict[str, list[str]]) -> list[str]:
    labels = {
        "dvc": "DVC files",
        "mlproject": "MLflow project",
        "requirements": "environment (found by name; repro.requirements overrides)",
        "models": "model files",
        "metrics": "metrics files",
        "tables": "data tables",
    }
    out = ["#", "# Found:"]
    for key, label in labels.items():
        items = found.get(key) or []
        shown = ", ".join(items[:6]) + (f" and {len(items) - 6} more" if len(items) > 6 else "")
        out.append(f"#   {label}: {shown or 'none'}")
    return out


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _model_lines(d: ModelDraft) -> list[str]:
    out = [f"  - name: {_q(d.name)}", f"    path: {_q(d.path)}"]
    import textwrap

    out += [f"    # {line}" for why in d.why for line in textwrap.wrap(why, 90)]
    out.append("    train:")
    if d.entry_point:
        out.append(f"      entry_point: {_q(d.entry_point)}")
        out.append("      # parameters: {alpha: 0.5}      # MLproject parameters to override")
    else:
        command = d.command or "python train.py"
        mark = "" if d.command else "  # FILL train.command: how the model is trained"
        out.append(f"      command: {_q(command)}{mark}")
    if d.mlflow:
        out.append("      mlflow: true")
    if d.params:
        out.append(f"      params: [{', '.join(map(_q, d.params))}]")
    if d.metrics:
        out.append(f"      metrics: {_q(d.metrics)}")
    out += _data_lines(d)
    out.append("    model:")
    model_file = d.model_file or "model.skops"
    mark = "" if d.model_file else "  # FILL model.file: the file training writes"
    out.append(f"      file: {_q(model_file)}{mark}")
    if model_file.lower().endswith((".pkl", ".pickle", ".joblib")):
        out.append(
            "      # FILL model.trusted: pickle and joblib files run code when loaded; mlgate loads"
        )
        out.append("      # them only with 'trusted: true' (models this repository trains itself)")
    task = d.task or "binary-classification"
    mark = (
        f"  # guessed from {d.target}'s values: check"
        if d.task
        else "  # FILL model.task: binary-, multiclass-classification or regression"
    )
    out.append(f"      task: {task}{mark}")
    out += [
        "    gates:",
        "      # FILL gates.metrics: the metrics that decide, e.g.",
        "      # metrics: {roc_auc: {direction: higher, min: 0.7, max_regression: 0.01}}",
        "      champion: {stage: prod}   # compared with the version in stage prod, when one is",
    ]
    return out


def _data_lines(d: ModelDraft) -> list[str]:
    if d.train_data is None:
        return [
            "    # FILL data: the tables the model is trained and evaluated on, e.g.",
            "    # data: {train: data/train.csv, eval: data/test.csv, target: label}",
        ]
    out = ["    data:", f"      train: {_q(d.train_data)}"]
    if d.eval_data:
        out.append(f"      eval: {_q(d.eval_data)}")
    elif d.split:
        args = d.split_arguments or {}
        if "seed" in args:
            shown = ", ".join(f"{k}: {_q(v) if k == 'stratify' else v}" for k, v in args.items())
            out.append(f"      split: {{{shown}}}  # as the training script calls train_test_split")
        else:
            out.append(
                "      split: {test_size: 0.25, seed: 0}  # FILL data.split: the script's "
                "train_test_split arguments (random_state)"
            )
    if d.target:
        out.append(f"      target: {_q(d.target)}")
    else:
        out.append('      target: "label"  # FILL data.target: the label column')
    return out


def _ignore(root: Path) -> bool:
    """Add ``.mlgate/cache/`` and ``.mlgate/out/`` to .gitignore; True when it changed."""
    path = root / ".gitignore"
    text = path.read_text("utf-8") if path.is_file() else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [p for p in IGNORED if p not in present and p.rstrip("/") not in present]
    if not missing:
        return False
    prefix = text if not text or text.endswith("\n") else text + "\n"
    atomic_write_text(
        path, prefix + "# mlgate: local caches and outputs\n" + "\n".join(missing) + "\n"
    )
    return True
