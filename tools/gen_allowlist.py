"""Regenerate src/mlgate/safety/allowlist.json from real model files.

    python tools/gen_allowlist.py            # record this environment's run, write the union
    python tools/gen_allowlist.py --check    # exit 1 when the committed files do not hold

Every public estimator and transformer of scikit-learn (``all_estimators``, built as
scikit-learn's own test suite builds them, with random_state 0, fitted where it can be on small
data), NumPy arrays of every dtype kind, scalars, masked arrays, random generators and ufuncs,
SciPy sparse matrices and arrays, frozen distributions and k-d trees, and the scikit-learn
interfaces and Boosters of XGBoost, LightGBM and CatBoost are written with pickle (protocols
0-5), joblib (plain and compressed) and skops. Each file is read by mlgate's own static walkers,
and every (module, qualified name) they use is recorded with how it is used (call, new, ref).
Nothing is added by hand and nothing is a prefix: a name enters the list only because a real
file of these libraries contains it, exactly as written. Names in ``NEVER`` fail the generation.

Library versions differ in the names their files use (scikit-learn 1.7, the newest release for
Python 3.10, pickles its Cython losses as ``_loss.CyHalfBinomialLoss``; 1.9 as
``sklearn._loss._loss.CyHalfBinomialLoss``), so the list is a union. A run is one environment:
its Python, the versions of ``LIBRARIES``, the names with their uses, and the module aliases
among them (a module registered under a name that is not its own, which mlgate resolves through
the real module). ``tools/allowlist_runs.json`` holds every recorded run; writing records this
environment's run (replacing a run of the same Python and versions, keeping the others) and
writes allowlist.json as the union of all runs, with the runs' versions in its header. To retire
old versions, delete their run from allowlist_runs.json and regenerate.

``--check`` writes nothing and fails when allowlist.json is not exactly the union of the
recorded runs (a hand edit), when this environment's versions are recorded but it produces
other names than its run, or when it produces a name or use the list lacks (a library upgrade:
regenerate here and review the new names). An environment whose versions are not recorded
passes when all its names are on the list. ``nox -s lint`` and each ``tests_matrix`` session run
it, so CI checks it on every Python it tests.

Run it after upgrading any of these libraries, in each environment that changed (``nox -s
tests_matrix-3.X --install-only`` builds one; run this script with its Python), review the diff
(every new name: what it can do when called or created) and commit both files.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import pickle
import sys
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "mlgate" / "safety" / "allowlist.json"
RUNS = ROOT / "tools" / "allowlist_runs.json"  # each environment's names; OUT is their union
sys.path.insert(0, str(ROOT / "src"))

# Names that run code, touch files or follow attribute chains: a file that uses one is left
# out of the generation (and reported) instead of listing them.
NEVER = frozenset(
    {
        "builtins.eval", "builtins.exec", "builtins.compile", "builtins.open",
        "builtins.getattr", "builtins.setattr", "builtins.__import__", "builtins.input",
        "builtins.breakpoint", "builtins.globals", "builtins.vars", "numpy.memmap",
        "numpy.load", "numpy.fromfile", "numpy.loadtxt", "joblib.load",
        "joblib.numpy_pickle.load", "pickle.loads", "pickle.load",
    }
)  # fmt: skip
NEVER_MODULES = ("os", "posix", "nt", "subprocess", "sys", "importlib", "runpy", "pty", "ctypes")

Found = dict[tuple[str, str], set[str]]


def _quiet() -> Any:
    catcher = warnings.catch_warnings()
    catcher.__enter__()
    warnings.simplefilter("ignore")
    return catcher


def data() -> tuple[Any, Any, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((60, 4))
    y = np.arange(60) % 2
    return x, y, x[:, 0] * 2.0 + rng.random(60)


def sklearn_objects() -> Iterator[tuple[str, Any]]:
    """Every estimator scikit-learn lists, fitted when possible (unfitted too, in case)."""
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
    from sklearn.utils import all_estimators
    from sklearn.utils._test_common.instance_generator import _construct_instances
    from sklearn.utils._testing import set_random_state

    x, y, y_reg = data()
    multi = np.arange(60) % 3
    texts = [f"word{i % 7} other{i % 3} text" for i in range(60)]
    for name, cls in all_estimators():
        try:
            instances = list(_construct_instances(cls))
        except Exception:  # noqa: BLE001, S112 - some need arguments the generator cannot guess
            continue
        for est in instances:
            set_random_state(est, 0)  # the same files every run (OutputCodeClassifier's codes)
            yield f"{name} (unfitted)", est
            fits: tuple[Callable[[Any], Any], ...] = (
                lambda e: e.fit(x, multi if hasattr(e, "predict_proba") else y),
                lambda e: e.fit(x, y_reg),
                lambda e: e.fit(x, y),
                lambda e: e.fit(x),
                lambda e: e.fit(texts),
                lambda e: e.fit([{"a": i % 3, "b": "x"} for i in range(60)]),
                lambda e: e.fit(y),
                lambda e: e.fit([[str(i % 3)] for i in range(60)]),
            )
            for fit in fits:
                try:
                    fitted = fit(est)
                except Exception:  # noqa: BLE001, S112 - try the next kind of data
                    continue
                yield f"{name} (fitted)", fitted
                break
    frame = pd.DataFrame({"a": x[:, 0], "b": ["u", "v", "w"] * 20})
    yield (
        "column transformer pipeline on a DataFrame",
        make_pipeline(
            ColumnTransformer([("n", StandardScaler(), ["a"]), ("c", OneHotEncoder(), ["b"])]),
            HistGradientBoostingClassifier(max_iter=3),
        ).fit(frame, y),
    )
    from scipy.stats import loguniform, randint, uniform
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    labels = np.zeros((60, 2), dtype=int)
    labels[:, 0] = y  # the second label never occurs: a constant predictor stands in for it
    yield (
        "one-vs-rest with a constant label",
        OneVsRestClassifier(LogisticRegression()).fit(x, labels),
    )
    yield "function transformer", make_pipeline(FunctionTransformer(np.log1p)).fit(x)
    for scoring in ("roc_auc", "accuracy", "neg_log_loss", "f1", "r2"):
        search = GridSearchCV(
            LogisticRegression(), {"C": [0.1, 1.0]}, cv=StratifiedKFold(2), scoring=scoring
        )
        try:
            yield f"grid search {scoring}", search.fit(x, y)
        except Exception:  # noqa: BLE001, S112
            continue
    yield (
        "randomized search",
        RandomizedSearchCV(
            LogisticRegression(),
            {"C": loguniform(0.1, 10), "max_iter": randint(50, 100), "tol": uniform(0, 1)},
            n_iter=2,
            cv=KFold(2),
        ).fit(x, y),
    )


def numpy_objects() -> Iterator[tuple[str, Any]]:
    import numpy as np

    codes = ["?", "b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "e", "f", "d", "g"]
    codes += ["F", "D", "G", "O", "U3", "S3", "V4", "M8[ns]", "m8[s]", "M8[D]"]
    for code in codes:
        array = np.zeros((2, 3), dtype=code)
        yield f"array {code}", array
        yield f"array {code} fortran", np.asfortranarray(array)
        yield f"array {code} 0-d", np.zeros((), dtype=code)
        yield f"scalar {code}", array.flat[0] if code != "O" else array
        yield f"dtype {code}", np.dtype(code)
    yield "object array", np.array([1, "a", None, 2.5], dtype=object)
    yield "masked array", np.ma.masked_array([1.0, 2.0], mask=[False, True])
    yield "matrix", np.matrix([[1.0, 2.0]])
    yield "structured-free record", np.array([1, 2], dtype=">i4")
    yield "RandomState", np.random.RandomState(0)
    yield "Generator", np.random.default_rng(0)
    for bit in ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64"):
        generator = getattr(np.random, bit)(0)
        yield bit, generator
        yield f"Generator({bit})", np.random.Generator(generator)
    yield "SeedSequence", np.random.SeedSequence(0)
    for name in dir(np):
        if isinstance(getattr(np, name), np.ufunc):
            yield f"ufunc {name}", getattr(np, name)


def scipy_objects() -> Iterator[tuple[str, Any]]:
    import numpy as np
    from scipy import sparse, spatial, stats

    dense = np.eye(4)
    for fmt in ("csr", "csc", "coo", "bsr", "dia", "lil", "dok"):
        yield f"{fmt}_matrix", getattr(sparse, f"{fmt}_matrix")(dense)
        yield f"{fmt}_array", getattr(sparse, f"{fmt}_array")(dense)
    for dist in (stats.norm(0, 1), stats.uniform(0, 1), stats.loguniform(0.1, 1.0)):
        yield f"frozen {dist.dist.name}", dist
    yield "randint", stats.randint(0, 5)
    yield "expon", stats.expon()
    yield "KDTree", spatial.KDTree(dense)
    yield "cKDTree", spatial.cKDTree(dense)


def booster_objects() -> Iterator[tuple[str, Any]]:
    x, y, y_reg = data()
    import catboost
    import lightgbm
    import xgboost

    for cls, target in (
        (xgboost.XGBClassifier, y),
        (xgboost.XGBRegressor, y_reg),
        (xgboost.XGBRFClassifier, y),
        (xgboost.XGBRFRegressor, y_reg),
    ):
        yield cls.__name__, cls(n_estimators=3, max_depth=2).fit(x, target)
    yield "xgboost Booster", xgboost.train({"max_depth": 2}, xgboost.DMatrix(x, y), 3)
    for cls, target in ((lightgbm.LGBMClassifier, y), (lightgbm.LGBMRegressor, y_reg)):
        yield cls.__name__, cls(n_estimators=3, verbose=-1).fit(x, target)
    yield (
        "lightgbm Booster",
        lightgbm.train({"verbose": -1}, lightgbm.Dataset(x, y_reg), num_boost_round=3),
    )
    with tempfile.TemporaryDirectory() as tmp:
        for cls, target in ((catboost.CatBoostClassifier, y), (catboost.CatBoostRegressor, y_reg)):
            model = cls(iterations=3, verbose=0, allow_writing_files=False, train_dir=tmp)
            yield cls.__name__, model.fit(x, target)
        yield (
            "CatBoost",
            catboost.CatBoost({"iterations": 3, "verbose": 0, "allow_writing_files": False}).fit(
                x, y_reg
            ),
        )


def writers() -> Iterator[tuple[str, str, Callable[[Any], bytes]]]:
    import joblib

    for protocol in range(6):
        yield (
            f"pickle protocol {protocol}",
            "pickle",
            functools.partial(pickle.dumps, protocol=protocol),
        )
    for compress in (0, 3):

        def dump(obj: Any, compress: int = compress) -> bytes:
            buffer = io.BytesIO()
            joblib.dump(obj, buffer, compress=compress)
            return buffer.getvalue()

        yield f"joblib compress={compress}", "joblib", dump
    try:
        import mlgate.safety.skopsfile  # noqa: F401
    except ImportError:
        return
    yield "skops", "skops", _skops_dump


def _skops_dump(obj: Any) -> bytes:
    import skops.io as sio

    return bytes(sio.dumps(obj))


def collect(found: Found, failures: list[str], label: str, obj: Any) -> None:
    from mlgate.safety.judge import pickle_payload
    from mlgate.safety.picklewalk import Refused, walk

    for how, fmt, write in writers():
        try:
            content = write(obj)
        except Exception:  # noqa: BLE001, S112 - not every object can be written every way
            continue
        try:
            if fmt == "skops":
                from mlgate.safety.skopsfile import schema_references

                references = schema_references(content)
            else:
                references = walk(pickle_payload(content, fmt), joblib=fmt == "joblib")
        except Refused as exc:
            failures.append(f"{label}, {how}: {exc.reason}")
            continue
        never = sorted({r.full for r in references if _never(r.module, r.name)})
        if never:  # e.g. a bound method pickled as getattr(obj, name) by protocols 0 and 1
            failures.append(f"{label}, {how}: left out, it uses {', '.join(never)}")
            continue
        for ref in references:
            found[(ref.module, ref.name)].add(ref.use)


def _never(module: str, name: str) -> bool:
    return f"{module}.{name}" in NEVER or module.split(".", 1)[0] in NEVER_MODULES


LIBRARIES = ("numpy", "scipy", "sklearn", "joblib", "skops", "xgboost", "lightgbm", "catboost")
Entry = tuple[str, str, tuple[str, ...]]


def generate() -> tuple[dict[str, Any], list[str]]:
    """This environment's run: its Python and library versions, the names its files use and
    the module aliases among them; and the files that could not be read."""
    import importlib

    found: Found = defaultdict(set)
    failures: list[str] = []
    catcher = _quiet()
    try:
        for source in (numpy_objects, scipy_objects, sklearn_objects, booster_objects):
            for label, obj in source():
                collect(found, failures, label, obj)
    finally:
        catcher.__exit__(None, None, None)
    # A module registered under a name that is not its own (scikit-learn 1.7's Cython losses
    # say `_loss` for sklearn._loss._loss): mlgate resolves the real module, never the bare
    # name, which Python would otherwise look up on sys.path.
    aliases = {}
    for module in sorted({m for m, _ in found}):
        real = importlib.import_module(module).__name__
        if real != module:
            aliases[module] = real
    run = {
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "versions": {lib: importlib.import_module(lib).__version__ for lib in LIBRARIES},
        "aliases": aliases,
        "names": sorted([m, n, sorted(u)] for (m, n), u in found.items()),
    }
    return run, failures


def _key(run: dict[str, Any]) -> str:
    versions = run["versions"]
    return f"Python {run['python']}, " + ", ".join(f"{k} {versions[k]}" for k in sorted(versions))


def _entries(run: dict[str, Any]) -> set[Entry]:
    return {(m, n, tuple(u)) for m, n, u in run["names"]}


def read_runs() -> list[dict[str, Any]]:
    if not RUNS.exists():
        return []
    runs: list[dict[str, Any]] = json.loads(RUNS.read_text())["runs"]
    return runs


def record(runs: list[dict[str, Any]], run: dict[str, Any]) -> list[dict[str, Any]]:
    """``runs`` with ``run`` in place of a recorded run of the same Python and versions."""
    kept = [r for r in runs if _key(r) != _key(run)]
    return sorted([*kept, run], key=_key)


def union(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The shipped list: every name with every use any recorded run saw, and the runs."""
    uses: dict[tuple[str, str], set[str]] = defaultdict(set)
    aliases: dict[str, str] = {}
    for run in runs:
        for module, name, seen in run["names"]:
            if _never(module, name):
                raise SystemExit(f"{_key(run)} records {module}.{name}, which is never listed")
            uses[(module, name)].update(seen)
        for alias, real in run["aliases"].items():
            if aliases.setdefault(alias, real) != real:
                raise SystemExit(f"{alias} is an alias of both {aliases[alias]} and {real}")
    return {
        "about": "generated by tools/gen_allowlist.py from real model files; do not edit",
        "runs": [{"python": r["python"], **r["versions"]} for r in runs],
        "aliases": dict(sorted(aliases.items())),
        "names": sorted([m, n, sorted(u)] for (m, n), u in uses.items()),
    }


def _names_lines(names: list[list[Any]], indent: str) -> str:
    return ",\n".join(indent + json.dumps(entry) for entry in names)


def render(document: dict[str, Any]) -> str:
    head = {k: v for k, v in document.items() if k != "names"}
    lines = json.dumps(head, indent=2)[:-2] + ',\n  "names": [\n'
    return lines + _names_lines(document["names"], "    ") + "\n  ]\n}\n"


def render_runs(runs: list[dict[str, Any]]) -> str:
    blocks = []
    for run in runs:
        head = {k: v for k, v in run.items() if k != "names"}
        text = json.dumps(head, indent=2).replace("\n", "\n    ")[:-2]
        blocks.append(
            "    "
            + text
            + ',\n      "names": [\n'
            + _names_lines(run["names"], "        ")
            + "\n      ]\n    }"
        )
    about = json.dumps(RUNS_ABOUT)
    return '{\n  "about": ' + about + ',\n  "runs": [\n' + ",\n".join(blocks) + "\n  ]\n}\n"


RUNS_ABOUT = (
    "each environment's names, recorded by tools/gen_allowlist.py; "
    "src/mlgate/safety/allowlist.json is their union"
)


def check(runs: list[dict[str, Any]], run: dict[str, Any]) -> list[str]:
    """Why the committed files do not hold: the list must be the union of the recorded runs,
    this environment's run must be the recorded one (when its versions are recorded), and
    every name and use this environment produces must be on the list."""
    problems = []
    if not OUT.exists() or OUT.read_text() != render(union(runs)):
        problems.append(
            f"{OUT.relative_to(ROOT)} is not the union of the runs in {RUNS.relative_to(ROOT)}"
        )
    recorded = [r for r in runs if _key(r) == _key(run)]
    if recorded and (_entries(recorded[0]), recorded[0]["aliases"]) != (
        _entries(run),
        run["aliases"],
    ):
        problems.append(f"the recorded run of {_key(run)} is not what this environment produces")
    listed = union(runs)
    have = {(m, n, use) for m, n, u in listed["names"] for use in u}
    missing = sorted(
        f"{m}.{n} ({use})" for m, n, u in run["names"] for use in u if (m, n, use) not in have
    )
    if missing:
        problems.append(f"{_key(run)} produces names not on the list: {', '.join(missing)}")
    for alias, real in run["aliases"].items():
        if listed["aliases"].get(alias) != real:
            problems.append(f"{_key(run)}: {alias} is {real}, which the list does not say")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 unless the committed list holds this environment's names and is the union "
        "of the recorded runs (writes nothing)",
    )
    args = parser.parse_args()
    run, failures = generate()
    if not args.check:
        for failure in failures:
            print(f"not read: {failure}", file=sys.stderr)
    runs = read_runs()
    if args.check:
        problems = check(runs, run)
        for problem in problems:
            print(problem)
        if problems:
            print("regenerate: python tools/gen_allowlist.py in this environment, review the diff")
            return 1
        recorded = any(_key(r) == _key(run) for r in runs)
        print(
            f"allowlist.json is up to date: the union of {len(runs)} recorded runs; "
            + (
                f"{_key(run)} is one of them"
                if recorded
                else f"{_key(run)} is not recorded, and its {len(run['names'])} names are on it"
            )
        )
        return 0
    runs = record(runs, run)
    document = union(runs)
    RUNS.write_text(render_runs(runs))
    OUT.write_text(render(document))
    print(
        f"{OUT.relative_to(ROOT)}: {len(document['names'])} names from {len(runs)} runs "
        f"(recorded {_key(run)} in {RUNS.relative_to(ROOT)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
