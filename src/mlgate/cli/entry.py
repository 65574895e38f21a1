"""The console script's entry point: ``registry show`` without click, everything else via click.

``mlgate registry show [NAME] [-d] [--json]`` is the read CI and people run most, and at 5,000
tags importing click and the configuration loader cost more than reading the tags. When the
arguments are exactly of that form and no mlgate.yaml applies (so no policy is needed), this
builds the same ``ShowRequest`` and calls the same core ``show`` as the click command, and
prints what it prints. Any other arguments, a configuration, or any error go through the click
command (``mlgate.cli.main``), which then does and reports everything as usual.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

CONFIG_FILENAME = "mlgate.yaml"  # mlgate.config.model.CONFIG_FILENAME (a test keeps them equal)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:2] == ["registry", "show"]:
        code = _quick_show(args[2:])
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
