"""``mlgate monitor``: drift, prediction drift and live metric gates on production data."""

from __future__ import annotations

from pathlib import Path

import click

from mlgate.cli._common import config_option, echo, emit_json, json_option, load, style


@click.command()
@click.option(
    "--data",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="The capture folder mlgate serve writes (or one of its files), or any table of "
    "production inputs (CSV, Parquet, ...).",
)
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=True, path_type=Path),
    default=None,
    help="A table of labels: request_id, the target column (and row for requests of several "
    "rows). Turns on the live metric gates.",
)
@click.option(
    "--since", default=None, metavar="TIME", help="Only rows at or after (ISO 8601, UTC)."
)
@click.option("--until", default=None, metavar="TIME", help="Only rows before (ISO 8601, UTC).")
@click.option(
    "--time-column",
    default=None,
    metavar="COLUMN",
    help="The time column of a table (the capture's is ts).",
)
@config_option
@click.option("--model", "model_name", default=None, metavar="NAME",
              help="Which model (default: the only one).")  # fmt: skip
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where monitor.json and monitor.md go (default .mlgate/out/<model>/).",
)
@json_option
def monitor(
    *,
    data: Path,
    labels: Path | None,
    since: str | None,
    until: str | None,
    time_column: str | None,
    config_path: str | None,
    model_name: str | None,
    out: Path | None,
    as_json: bool,
) -> int:
    """Production data against the model's reference: the drift gate, prediction drift, and
    with labels the metric gates on live data. Exit 1 when a check fails."""
    from mlgate.gates.render import render_verdict
    from mlgate.monitor.core import MonitorRequest, run_monitor

    config = load(config_path)
    request = MonitorRequest(
        config=config,
        data=data,
        model=model_name,
        labels=labels,
        since=since,
        until=until,
        time_column=time_column,
        out=out,
    )
    result = run_monitor(request)
    if as_json:
        emit_json({**result.verdict.to_dict(),
                   "written": {k: str(v) for k, v in result.written.items()}})  # fmt: skip
    else:
        echo(
            render_verdict(result.verdict, style=style, title=f"monitor of {result.verdict.model}")
        )
        for path in result.written.values():
            echo(f"wrote {path}")
    return result.exit_code
