"""The report as one self-contained HTML file: inline CSS, inline SVG charts, no scripts, no
external styles, fonts or images, so it opens offline and from a CI artifact as it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.governance.charts import build_charts
from mlgate.governance.compliance import FACTS
from mlgate.governance.report_model import GATE_TITLES, ReportData
from mlgate.verdict import DELTA_HEADER, DELTA_LEGEND, format_number

if TYPE_CHECKING:
    import jinja2


def environment() -> jinja2.Environment:
    """The jinja2 environment over ``governance/templates/``, autoescaping everything."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    env.filters["signed"] = lambda v: _num(v, signed=True)
    env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, sort_keys=True, default=str)
    return env


def render_html(data: ReportData) -> str:
    from markupsafe import Markup

    charts = [
        {"key": c.key, "title": c.title, "svg": Markup(c.svg), "caption": c.caption}  # noqa: S704 - our own SVG, every text node escaped
        for c in build_charts(data)
    ]

    template = environment().get_template("report.html.j2")
    return template.render(
        d=data,
        delta_header=DELTA_HEADER,
        delta_legend=DELTA_LEGEND,
        charts=charts,
        gate_titles=GATE_TITLES,
        facts=FACTS,
        failures=[(k, c) for k, v in data.verdicts.items() for c in v.failures],
    )


def _num(value: Any, signed: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format_number(float(value), signed=signed)
