"""The console script's entry point: ``registry show`` and the JSON drift of two files without
click, everything else via click.

``mlgate registry show [NAME] [-d] [--json]`` is the read CI and people run most, and at 5,000
tags importing click and the configuration loader cost more than reading the tags. When the
arguments are exactly of that form and no mlgate.yaml applies (so no policy is needed), this
builds the same ``ShowRequest`` and calls the same core ``show`` as the click command, and
prints what it prints. ``mlgate drift --reference R --current C [--no-cache] --json`` (a
scheduled monitor's form) likewise runs ``standalone_drift``, the request the click command
builds for those arguments, and prints the same document. Any other arguments, a
configuration, or any error go through the click command (``mlgate.cli.main``), which then does
and reports everything as usual.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlgate.gates.drift.run import DriftResult

CONFIG_FILENAME = "mlgate.yaml"  # mlgate.config.model.CONFIG_FILENAME (a test keeps them equal)
# What the BLAS libraries NumPy may be built with read, when loaded, for their thread count.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:2] == ["registry", "show"]:
        code = _quick_show(args[2:])
        if code is not None:
            return code
    if args[:1] == ["drift"]:
        code = _quick_drift(args[1:])
        if code is not None:
            return code
    from mlgate.cli.main import main as full

    return full(args)


def config_applies(start: Path) -> bool:
    """Whether a configuration would be loaded here (``$MLGATE_CONFIG`` or mlgate.yaml upward)."""
    if os.environ.get("MLGATE_CONFIG"):
        return True
    return project_folder(start) is not None


def project_folder(start: Path) -> Path | None:
    """The folder of the nearest mlgate.yaml at or above ``start`` (as the loader finds it)."""
    here = start.resolve()
    return next((f for f in (here, *here.parents) if (f / CONFIG_FILENAME).is_file()), None)


def _quick_show(rest: list[str]) -> int | None:
    """``show`` when ``rest`` is only NAME, -d/--deprecated and --json; None: use click."""
    names = [a for a in rest if not a.startswith("-")]
    flags = {a for a in rest if a.startswith("-")}
    if len(names) > 1 or not flags <= {"--json", "-d", "--deprecated"}:
        return None
    if os.environ.get("MLGATE_DEBUG", "") not in ("", "0"):
        return None
    cwd = Path.cwd()
    if config_applies(cwd):
        return None
    deprecated = bool(flags & {"-d", "--deprecated"})
    as_json = "--json" in flags
    try:
        found = _show(cwd, names[0] if names else None, deprecated, as_json)
    except Exception:  # the click command reports errors (exit codes, hints)
        return None
    out, err = found
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(err)
    return 0


def _show(cwd: Path, name: str | None, deprecated: bool, as_json: bool) -> tuple[str, str]:
    """(stdout, stderr) of ``show``: remembered by the tags' names and object ids when none
    changed (``mlgate.registry.showcache``), else computed by the core ``show``."""
    from mlgate.registry import showcache

    variant = ("json" if as_json else "text") + ("-deprecated" if deprecated else "")
    gitdir = showcache.git_dir(cwd) if name is None else None
    key = None
    if gitdir is not None:
        key = showcache.stamp(cwd, variant)
        hit = showcache.recall(gitdir, variant, key)
        if hit is not None:
            return hit
    from mlgate.registry.queries import ShowRequest, show

    result = show(ShowRequest(repo=cwd, name=name, deprecated=deprecated))
    if as_json:
        import json

        out = json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str) + "\n"
        err = ""
    else:
        from mlgate.registry import render

        out = render.show(result) + "\n"
        err = "".join(f"{w}\n" for w in render.problems(result.state.problems_for(result.name)))
    # Kept only when no tag changed while the answer was computed (else it may be a newer one's).
    if gitdir is not None and key is not None and showcache.stamp(cwd, variant) == key:
        showcache.remember(gitdir, variant, key, out, err)
    return out, err


def standalone_drift(reference: Path, current: Path, *, cache: bool) -> DriftResult:
    """``mlgate drift`` of two files without ``--config`` or ``--model``: no setting comes from
    mlgate.yaml, so it is not loaded; the project around the working folder provides the cache."""
    from mlgate.gates.drift.run import DriftRequest, run_drift

    root = project_folder(Path.cwd())
    return run_drift(
        DriftRequest(reference=reference, current=current, cache_root=root, cache=cache)
    )


def drift_document(result: DriftResult) -> dict[str, Any]:
    """What ``mlgate drift --json`` prints."""
    return {**result.verdict.to_dict(), "written": str(result.written or "")}


def numpy_without_blas_threads() -> None:
    """Import NumPy with its BLAS on one thread, for a command that does no linear algebra (the
    drift comparison: sorts, searches and sums). OpenBLAS starts one thread per core when it is
    loaded, and they cost about 0.08 s of CPU (a third of a 100,000-row comparison) doing
    nothing. A count the user set is kept; the variables set here are removed again once NumPy
    is loaded, so a process started later sees the user's environment."""
    if "numpy" in sys.modules:
        return
    chosen = [name for name in BLAS_THREADS if name not in os.environ]
    os.environ.update(dict.fromkeys(chosen, "1"))
    try:
        import numpy as np  # noqa: F401 - loaded now, while the variables say one thread
    finally:
        for name in chosen:
            os.environ.pop(name, None)


def _quick_drift(rest: list[str]) -> int | None:
    """``drift`` when ``rest`` is exactly ``--reference R --current C [--no-cache] --json`` in
    any order, both files exist and nothing else applies; None: use click."""
    if os.environ.get("MLGATE_DEBUG", "") not in ("", "0") or os.environ.get("MLGATE_CONFIG"):
        return None
    files: dict[str, Path] = {}
    flags: set[str] = set()
    args = iter(rest)
    for arg in args:
        if arg in ("--reference", "--current") and arg not in files:
            value = next(args, None)
            if value is None or value.startswith("-") or not Path(value).exists():
                return None
            files[arg] = Path(value)
        elif arg in ("--no-cache", "--json") and arg not in flags:
            flags.add(arg)
        else:
            return None
    if len(files) != 2 or "--json" not in flags:
        return None
    numpy_without_blas_threads()
    try:
        result = standalone_drift(
            files["--reference"], files["--current"], cache="--no-cache" not in flags
        )
    except Exception:  # the click command reports errors (exit codes, hints)
        return None
    import json

    sys.stdout.write(json.dumps(drift_document(result), indent=2, sort_keys=True, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()
    return result.exit_code
