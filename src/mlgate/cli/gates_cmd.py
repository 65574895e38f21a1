"""``mlgate validate`` and ``mlgate drift``: parse flags, call the core, render."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mlgate.cli._common import config_option, echo, emit_json, json_option, load, style
from mlgate.cli.entry import drift_document, numpy_without_blas_threads, project_folder

if TYPE_CHECKING:
    from mlgate.config.model import Config, ModelConfig
    from mlgate.errors import Location
    from mlgate.gates.validate import ValidateResult
    from mlgate.verdict import Check

F = TypeVar("F", bound=Callable[..., Any])


def verbose_option(func: Any) -> Any:
    return click.option(
        "--verbose",
        "-v",
        is_flag=True,
        help="List every check (by default a long verdict lists failures, warnings and skips, "
        "and counts the passes).",
    )(func)


def _out_option(func: F) -> F:
    return click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder for the verdict files (default: .mlgate/out/<model>/).",
    )(func)


@click.command()
@config_option
@click.option(
    "--model",
    "model_name",
    default=None,
    metavar="NAME",
    help="Which model (default: every model in mlgate.yaml).",
)
@click.option(
    "--champion",
    default=None,
    metavar="PATH|STAGE",
    help="Champion model file, or a registry stage/version (default: gates.champion.stage).",
)
@verbose_option
@json_option
@_out_option
def validate(
    *,
    config_path: str | None,
    model_name: str | None,
    champion: str | None,
    as_json: bool,
    out: Path | None,
    verbose: bool,
) -> int:
    """Gate the challenger against the champion.

    Metrics and their change versus the champion, slices and fairness gaps, data checks,
    budgets and drift, on the same evaluation data. Exit 1 when any check fails; every check
    is listed with its reason.
    """
    from mlgate.gates.validate import ValidateRequest
    from mlgate.gates.validate import validate as run
    from mlgate.github.client import GitHubClient

    # GitHub is reached only for a champion whose model file is a release asset.
    request = ValidateRequest(load(config_path), model_name, champion, out, GitHubClient.from_env)
    result = run(request)
    if as_json:
        emit_json(
            {
                "exit_code": result.exit_code,
                "models": [
                    {
                        "model": m.model,
                        "ok": m.ok,
                        "validation": m.validation.to_dict(),
                        "drift": m.drift.to_dict() if m.drift else None,
                        "written": [str(p) for p in m.written],
                    }
                    for m in result.models
                ],
            }
        )
    else:
        from mlgate.gates.render import render_verdict

        for m in result.models:
            model = result.config.model(m.model)
            for verdict in m.verdicts:
                locate = _locator(result.config, model)
                echo(render_verdict(verdict, style=style, locate=locate, verbose=verbose))
                echo()
            echo("wrote " + ", ".join(str(p) for p in m.written))
    _annotate(result)
    return result.exit_code


def _locator(config: Config, model: ModelConfig) -> Callable[[Check], Location | None]:
    from dataclasses import replace

    def locate(check: Check) -> Location | None:
        if not check.config_key:
            return None
        where = config.locate(model, *check.config_key)
        return replace(where, file=_relative(where.file, Path.cwd()))

    return locate


def _annotate(result: ValidateResult) -> None:
    """On GitHub Actions, failed checks become error annotations on their mlgate.yaml line."""
    from mlgate.github import actions

    if not actions.in_actions():
        return
    found = []
    for m in result.models:
        model = result.config.model(m.model)
        for verdict in m.verdicts:
            for check in verdict.failures:
                where = result.config.locate(model, *(check.config_key or ()))
                found.append(
                    actions.Annotation(
                        "error",
                        check.message,
                        where.file,
                        where.line,
                        where.column,
                        title=f"mlgate {check.id}",
                    )
                )
    actions.annotate(found, more=actions.MORE_IN_VERDICTS)


def _relative(file: str, root: Path) -> str:
    try:
        return Path(file).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return file


@click.command()
@click.option(
    "--reference",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Reference data, CSV or Parquet file or folder (default: data.train).",
)
@click.option(
    "--current",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Current data (default: data.eval).",
)
@click.option(
    "--columns",
    multiple=True,
    metavar="COL[,COL...]",
    help="Columns to test (default: the model's features, or every reference column).",
)
@click.option(
    "--method",
    "methods",
    multiple=True,
    metavar="COL=TEST",
    help="Force a test for a column: ks, wasserstein, chi2, z, jensenshannon, psi.",
)
@click.option(
    "--p-value",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=None,
    help="p-value tests flag drift below this (default 0.05).",
)
@click.option(
    "--distance",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Distance tests flag drift at or above this (default 0.1).",
)
@click.option(
    "--max-drifted-share",
    type=click.FloatRange(0, 1),
    default=None,
    help="Dataset drift when this share of columns drifted (default 0.5).",
)
@click.option("--no-cache", is_flag=True, help="Do not read or write cached reference summaries.")
@click.option(
    "--production",
    is_flag=True,
    help="CURRENT is production data (a scheduled monitor): the verdict's kind is 'monitor', "
    "written as monitor.json, the evidence the report counts as production monitoring.",
)
@config_option
@click.option(
    "--model",
    "model_name",
    default=None,
    metavar="NAME",
    help="Which model's settings to use (default: the only one).",
)
@verbose_option
@json_option
@_out_option
def drift(
    *,
    production: bool,
    reference: Path | None,
    current: Path | None,
    columns: tuple[str, ...],
    methods: tuple[str, ...],
    p_value: float | None,
    distance: float | None,
    max_drifted_share: float | None,
    no_cache: bool,
    config_path: str | None,
    model_name: str | None,
    as_json: bool,
    out: Path | None,
    verbose: bool,
) -> int:
    """Data drift of current against reference data, column by column.

    Exit 1 on dataset drift (or drift in a critical column).
    """
    numpy_without_blas_threads()
    from mlgate.gates.drift.run import DriftRequest, run_drift
    from mlgate.gates.render import render_verdict

    config = cache_root = None
    if reference is not None and current is not None and not config_path and not model_name:
        # No --config or --model: a comparison that takes no setting from mlgate.yaml, so it is
        # not loaded; the project around it only provides the cache (cli.entry runs the plain
        # --json form of this without click: standalone_drift, the same request).
        cache_root = project_folder(Path.cwd())
    elif config_path or model_name:
        config = load(config_path)
    else:
        from mlgate.config.loader import load_if_found

        config = load_if_found()
    request = DriftRequest(
        reference=reference,
        current=current,
        columns=_split(columns),
        config=config,
        cache_root=cache_root,
        model=model_name,
        out=out,
        p_value=p_value,
        distance=distance,
        max_drifted_share=max_drifted_share,
        methods=_methods(methods),
        cache=not no_cache,
        production=production,
    )
    result = run_drift(request)
    if as_json:
        emit_json(drift_document(result))
    else:
        locate = None
        if result.config is not None and result.model is not None:
            locate = _locator(result.config, result.model)
        echo(render_verdict(result.verdict, style=style, locate=locate, verbose=verbose))
        if result.written:
            echo(f"\nwrote {result.written}")
    return result.exit_code


def _split(values: tuple[str, ...]) -> tuple[str, ...] | None:
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return tuple(names) if names else None


def _methods(values: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for value in values:
        column, sep, test = value.partition("=")
        if not sep or not column or not test:
            raise click.BadParameter(f"expected COLUMN=TEST, got {value!r}", param_hint="--method")
        found[column.strip()] = test.strip()
    return found
