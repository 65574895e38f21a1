"""Read each benchmark script's own JSON into comparable rows (medians, ratios, targets).

One function per area, registered in ``COLLECTORS``; the scripts keep their formats. Targets are
the capability issues' (they apply at the size they name; smaller runs say so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

AREAS = ("registry", "drift", "hashing", "startup", "serve", "check", "publish")


@dataclass(frozen=True)
class Row:
    area: str
    case: str
    measure: str
    mlgate: float | None
    unit: str
    peer: str | None = None
    peer_value: float | None = None
    ratio: float | None = None  # peer time / mlgate time, or mlgate / peer for throughput
    target: str | None = None
    met: bool | None = None

    def markdown(self) -> str:
        def num(value: float | None) -> str:
            if value is None:
                return "-"
            return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"

        met = {True: "yes", False: "**no**", None: "-"}[self.met]
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}x"
        return (
            f"| {self.area} | {self.case} | {self.measure} | {num(self.mlgate)} {self.unit} | "
            f"{self.peer or '-'} | {num(self.peer_value)} | {ratio} | {self.target or '-'} | "
            f"{met} |"
        )


def _ratio(peer: float | None, mine: float | None) -> float | None:
    if peer is None or not mine:
        return None
    return round(peer / mine, 2)


def registry(raw: dict[str, Any]) -> list[Row]:
    rows = []
    targets = raw.get("targets", {})
    show_s, speedup = targets.get("show_s", 0.3), targets.get("show_speedup", 100.0)
    register_s = targets.get("register_s", 0.5)
    for result in raw["results"]:
        tags = result["tags"]
        case = f"{tags:,} tags"
        at_target = tags >= 5000
        for op in ("show", "history", "resolve", "register"):
            mine = result[f"mlgate_{op}_s"]
            theirs = result.get(f"gto_{op}_s")
            target, met = None, None
            if op == "show":
                target = f"<= {show_s} s at 5,000 tags"
                met = mine <= show_s if at_target else None
            if op == "register":
                target = f"<= {register_s} s at 5,000 tags"
                met = mine <= register_s if at_target else None
            ratio = _ratio(theirs, mine)
            rows.append(Row("registry", case, op, mine, "s", "gto", theirs, ratio, target, met))
            if op == "show" and ratio is not None:
                rows.append(
                    Row(
                        "registry",
                        case,
                        "show: speed-up over GTO",
                        ratio,
                        "x",
                        None,
                        None,
                        None,
                        f">= {speedup:g}x at 5,000 tags",
                        ratio >= speedup if at_target else None,
                    )
                )
        rows += _registry_cpu(result, case, at_target, targets)
    return rows


def _registry_cpu(
    result: dict[str, Any], case: str, at_target: bool, targets: dict[str, Any]
) -> list[Row]:
    """The CPU rows the targets are stated in (raw results from before the CPU accounting
    have none): ``show`` against its floor (``git for-each-ref`` + ``python -c pass``) and
    against ``gto show``, with its remembered answer and without."""
    floor, gto = result.get("floor_cpu_s"), result.get("gto_show_cpu_s")
    floor_limit = targets.get("show_floor_ratio", 1.5)
    speedup = targets.get("show_speedup", 100.0)
    rows = []
    shown = {
        "mlgate_show_cpu_s": "show CPU",
        "mlgate_show_uncached_cpu_s": "show CPU, uncached",
        "mlgate_show_fresh_cpu_s": "show CPU, fresh clone",
    }
    for key, label in shown.items():
        mine = result.get(key)
        if mine is None or not floor:
            continue
        over = mine / floor
        rows.append(Row("registry", case, f"{label} (peer: the floor)", mine, "s", "floor",
                        floor, _ratio(floor, mine), f"<= {floor_limit:g}x the floor",
                        over <= floor_limit if at_target else None))  # fmt: skip
        if gto:
            rows.append(Row("registry", case, f"{label} (peer: gto show)", mine, "s", "gto",
                            gto, _ratio(gto, mine), f">= {speedup:g}x less CPU than GTO",
                            gto / mine >= speedup if at_target else None))  # fmt: skip
    return rows


def drift(raw: dict[str, Any]) -> list[Row]:
    """End-to-end rows: CPU of whole processes against the pandas + SciPy floor and Evidently."""
    rows = []
    targets = raw.get("targets", {})
    for size in raw["results"]:
        n, fmt, tools, ratio = size["rows"], size["format"], size["tools"], size["ratios"]
        case = f"{n:,} rows x 20 cols, {fmt}"
        at_target = n >= 1_000_000
        floor = tools.get("floor", {}).get("cpu_median")
        for tool, key, limit in (
            ("mlgate", "cold_over_floor_cpu", targets.get("cold_over_floor", 0.15)),
            ("mlgate-cached", "cached_over_floor_cpu", targets.get("cached_over_floor", 0.05)),
        ):
            if tool not in tools or key not in ratio:
                continue
            label = "cold" if tool == "mlgate" else "reference cached"
            rows.append(
                Row(
                    "drift",
                    case,
                    f"CPU end to end, {label} (peer: pandas + SciPy floor)",
                    tools[tool]["cpu_median"],
                    "s",
                    "pandas+scipy",
                    floor,
                    _ratio(floor, tools[tool]["cpu_median"]),
                    f"mlgate <= {limit:g}x the floor at 1M rows (measured {ratio[key]:.3g}x)",
                    ratio[key] <= limit if at_target else None,
                )
            )
        if "evidently_over_mlgate_cpu" in ratio:
            limit = targets.get("evidently_over_mlgate", 50.0)
            value = ratio["evidently_over_mlgate_cpu"]
            rows.append(
                Row(
                    "drift",
                    case,
                    "CPU end to end, cold (peer: Evidently 0.7)",
                    tools["mlgate"]["cpu_median"],
                    "s",
                    "evidently",
                    tools["evidently"]["cpu_median"],
                    value,
                    f">= {limit:g}x at 100k and 1M rows",
                    value >= limit if n >= 100_000 else None,
                )
            )
            same = tools["evidently"]["drifted"] == tools["mlgate"]["drifted"]
            rows.append(
                Row(
                    "drift",
                    case,
                    "drifted columns equal to Evidently's",
                    len(tools["mlgate"]["drifted"]),
                    "columns",
                    "evidently",
                    len(tools["evidently"]["drifted"]),
                    None,
                    "the same columns",
                    same,
                )
            )
    floors = {
        (s["rows"], s["format"]): s["tools"]["floor"]["cpu_median"]
        for s in raw["results"]
        if "floor" in s["tools"]
    }
    for read in raw.get("reads", []):
        floor = floors.get((read["rows"], read["format"]))
        share = f" = {read['cpu_median'] / floor:.3g}x the floor" if floor else ""
        rows.append(
            Row(
                "drift",
                f"{read['rows']:,} rows x 20 cols, {read['format']}",
                f"CPU of a bare process reading the current file alone ({read['reader']})",
                read["cpu_median"],
                "s",
                "pandas+scipy",
                floor,
                _ratio(floor, read["cpu_median"]),
                f"context: what any tool pays to read one file{share}",
                None,
            )
        )
    for m in raw.get("memory", []):
        limit = targets.get("memory_over_frame", 1.0)
        rows.append(
            Row(
                "drift",
                f"{m['rows']:,} rows x 20 cols, {m['format']}",
                "peak memory above interpreter + libraries / one input frame",
                m["memory_over_frame"],
                "x",
                None,
                None,
                None,
                f"<= {limit:g}x at 10M rows",
                m["memory_over_frame"] <= limit if m["rows"] >= 10_000_000 else None,
            )
        )
    return rows


def hashing(raw: dict[str, Any]) -> list[Row]:
    gb = raw["dataset"]["bytes"] / 1e9
    at_target = gb >= 1.9
    case = f"{gb:.2f} GB, {raw['dataset']['files']:,} files"
    throughput = raw["throughput_mb_s"]
    ratio = raw["ratio_vs_sha256sum"]
    relock = raw["mlgate_relock_median_s"]
    sizes = raw["max_rss_kb"]["hash_file_by_size"]
    peaks = list(sizes.values())
    flat = max(peaks) / min(peaks) if peaks else None
    return [
        Row(
            "hashing",
            case,
            "cold lock throughput (whole command)",
            throughput["mlgate_cold_lock"],
            "MB/s",
            "sha256sum",
            throughput["sha256sum"],
            round(ratio, 2),
            ">= 0.8x sha256sum at 2 GB",
            ratio >= 0.8 if at_target else None,
        ),
        Row(
            "hashing",
            case,
            "hasher throughput, all threads",
            throughput["mlgate_hasher_threads"],
            "MB/s",
            f"sha256sum x{raw['workers']} processes",
            throughput["sha256sum_parallel"],
            round(throughput["mlgate_hasher_threads"] / throughput["sha256sum_parallel"], 2),
        ),
        Row(
            "hashing",
            case,
            "unchanged re-lock (whole command)",
            relock,
            "s",
            None,
            None,
            None,
            "< 0.5 s at 2 GB",
            relock < 0.5 if at_target else None,
        ),
        Row(
            "hashing",
            case,
            "peak memory, largest / smallest file hashed",
            round(flat, 2) if flat else None,
            "x",
            None,
            None,
            None,
            "flat (<= 1.2x)",
            (flat is not None and flat <= 1.2) if at_target else None,
        ),
    ]


def startup(raw: dict[str, Any]) -> list[Row]:
    med = raw["median_s"]
    mine = med["mlgate --help"]
    rows = [
        Row(
            "startup",
            "fresh process",
            "`mlgate --help`",
            mine,
            "s",
            None,
            None,
            None,
            f"< {raw['target_s']} s",
            mine < raw["target_s"],
        ),
    ]
    rows += [
        Row(
            "startup",
            "fresh process",
            f"`mlgate --help` vs `{peer}`",
            mine,
            "s",
            peer.split()[0],
            med[peer],
            _ratio(med[peer], mine),
        )
        for peer in ("gto --help", "mlflow --help")
        if peer in med
    ]
    return rows


def serve(raw: dict[str, Any]) -> list[Row]:
    """One row per done-when measure of issue 17, condition, request shape and concurrency."""
    rows = []
    for v in raw["verdicts"]:
        case = f"{v['condition']}, {v['shape']}, {v['connections']} conn. (load {v['load_1m'][0]})"
        (rps, peer_rps), (p99, peer_p99) = v["rps"], v["p99_ms"]
        (cpu, peer_cpu), (timeouts, peer_timeouts) = v["cpu_ms_per_request"], v["timeouts"]
        met = v["met"]
        rows += [
            Row("serve", case, "throughput", rps, "req/s", "mlflow", peer_rps, v["rps_ratio"],
                ">= 1.5x MLflow", met["rps"]),
            Row("serve", case, "latency p99", p99, "ms", "mlflow", peer_p99, _ratio(peer_p99, p99),
                "<= MLflow", met["p99"]),
            Row("serve", case, "server CPU per request", cpu, "ms", "mlflow", peer_cpu,
                v["cpu_ratio"], "<= 0.6x MLflow", met["cpu"]),
        ]  # fmt: skip
        if v["connections"] == 32:
            rows.append(Row("serve", case, "client timeouts", timeouts, "", "mlflow",
                            peer_timeouts, None, "0", met["timeouts"]))  # fmt: skip
    return rows


def check(raw: dict[str, Any]) -> list[Row]:
    rows = []
    for case, m in raw["median"].items():
        label = f"starter project, {case}"
        if "load_1m" in m:  # the median 1-minute load average of its runs
            label += f" (load {m['load_1m']:.1f})"
        rows += [
            Row("check", label, "wall time", m["wall_s"], "s"),
            Row("check", label, "of which training (train + re-runs)", m["training_s"], "s"),
            Row("check", label, "of which mlgate's own overhead", m["overhead_s"], "s",
                target="<= 2 s", met=m["overhead_s"] <= 2.0),
        ]  # fmt: skip
        if "cpu_s" in m:  # runs before the CPU accounting have none
            rows.append(Row("check", label, "CPU, training included", m["cpu_s"], "s"))
        if "own_cpu_s" in m:  # the check process alone: every child (training, git) excluded
            own = m["own_cpu_s"]
            rows.append(Row("check", label, "mlgate's own CPU (children excluded)", own, "s",
                            target="<= 2 s", met=own <= 2.0))  # fmt: skip
    return rows


def publish(raw: dict[str, Any]) -> list[Row]:
    ratio = raw["ratio_total"]
    return [
        Row("publish", "starter image", "cold build (total)", raw["cold"]["total_s"], "s"),
        Row(
            "publish",
            "starter image",
            "rebuild after a model-only change / cold",
            round(ratio * 100, 1),
            "%",
            None,
            None,
            None,
            "<= 20%",
            ratio <= 0.2,
        ),
        Row("publish", "starter image", "image size", raw["image_size_mb"], "MB"),
    ]


COLLECTORS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "registry": registry,
    "drift": drift,
    "hashing": hashing,
    "startup": startup,
    "serve": serve,
    "check": check,
    "publish": publish,
}


def collect(area: str, raw: dict[str, Any]) -> list[Row]:
    return COLLECTORS[area](raw)
