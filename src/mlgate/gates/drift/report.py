"""Drift outcomes as checks: one per column and one for the dataset."""

from __future__ import annotations

from mlgate.gates.drift.engine import ColumnDrift, DriftReport
from mlgate.gates.drift.stattests import P_VALUE, TESTS
from mlgate.verdict import Check, Status

KIND = "drift"
# Fewer rows than this on either side: the tests' answers mean little, so the verdict warns.
MIN_ROWS = 30


def drift_checks(
    report: DriftReport, *, config_key: tuple[str | int, ...] | None = None
) -> list[Check]:
    """Per-column checks (drift warns; on a critical column it fails) and the dataset check."""
    critical = set(report.options.critical)
    checks = [_column_check(c, c.column in critical, config_key) for c in report.columns]
    tested = report.tested
    drifted = report.drifted_columns
    limit = report.options.max_drifted_share
    share = report.share
    if not tested:
        status, verdict = Status.SKIP, "no column could be tested"
    elif report.dataset_drift:
        status, verdict = Status.FAIL, f"share {share:.3g} >= {limit:g}: dataset drift"
    else:
        status, verdict = Status.PASS, f"share {share:.3g} < {limit:g}: no dataset drift"
    names = ", ".join(c.column for c in drifted[:8]) + (", ..." if len(drifted) > 8 else "")
    message = f"{len(drifted)} of {len(tested)} columns drifted" + (
        f" ({names})" if drifted else ""
    )
    small = [
        f"{side} data has {rows} row{'s' if rows != 1 else ''}"
        for side, rows in (("reference", report.reference_rows), ("current", report.current_rows))
        if rows < MIN_ROWS
    ]
    if small:
        checks.append(
            Check(
                id="drift.sample",
                kind=KIND,
                status=Status.WARN,
                message="; ".join(small)
                + f": too few for a drift test to mean much (fewer than {MIN_ROWS})",
                observed=min(report.reference_rows, report.current_rows),
                threshold=MIN_ROWS,
                details={
                    "op": ">=",
                    "reference_rows": report.reference_rows,
                    "current_rows": report.current_rows,
                },
            )
        )
    checks.append(
        Check(
            id="drift.dataset",
            kind=KIND,
            status=status,
            message=f"{message}; {verdict}",
            observed=round(share, 6),
            threshold=limit,
            details={
                "op": "<",
                "drifted": [c.column for c in drifted],
                "tested": len(tested),
                "reference_rows": report.reference_rows,
                "current_rows": report.current_rows,
            },
            config_key=(*config_key, "max_drifted_share") if config_key else None,
        )
    )
    return checks


def _column_check(
    col: ColumnDrift,
    critical: bool,
    base: tuple[str | int, ...] | None,
) -> Check:
    key: tuple[str | int, ...] | None = None
    if base:
        key = (*base, "method", col.column) if col.forced else (*base, "threshold")
    details = col.to_dict()
    if col.skipped is not None:
        return Check(
            f"drift.column.{col.column}",
            KIND,
            Status.SKIP,
            f"not tested: {col.skipped}",
            details=details,
            config_key=key,
        )
    if col.problem is not None:
        return Check(
            f"drift.column.{col.column}",
            KIND,
            Status.FAIL,
            f"column {col.column!r} {col.problem}; counted as drifted",
            threshold=col.threshold,
            details=details,
            config_key=key,
        )
    test = TESTS[col.test or ""]
    op = "<" if test.score == P_VALUE else ">="
    details["op"] = "<" if op == ">=" else ">="  # what passing means, for renderers
    score = f"{col.score:.4g}"
    if col.drifted:
        status = Status.FAIL if critical else Status.WARN
        message = f"{test.label} {score} {op} {col.threshold:g}: drift" + (
            " in a critical column" if critical else ""
        )
    else:
        status = Status.PASS
        negated = ">=" if op == "<" else "<"
        message = f"{test.label} {score} {negated} {col.threshold:g}: no drift"
    if not col.exact:
        message += " (reference from a quantile summary)"
    return Check(
        f"drift.column.{col.column}",
        KIND,
        status,
        message,
        observed=col.score,
        threshold=col.threshold,
        details=details,
        config_key=key,
    )
