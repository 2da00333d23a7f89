"""Statistics, tables and charts of bench/run.py's runs.

Every ratio is paired: within one round, each configuration's req/s is divided
by the best application configuration of the same workload measured the same
way in that round; the table gives the median of those ratios over the rounds
and their spread. A drift of the machine between rounds (these are VMs whose
speed varies by a fifth from second to second) then moves both sides of a
ratio alike.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from catalogue import DEFAULT, LIMIT_WORKLOAD, WORKLOADS, Server

# Where every script of the benchmark writes its tables, by default.
RESULTS = Path(__file__).resolve().parent / "results"
VIAS = ["direct", "nginx TLS"]


def rotated(items: list, by: int) -> list:
    """``items`` starting at position ``by``: each round in another order, so no
    configuration or size always runs first or last in its round."""
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]


@dataclass(frozen=True)
class Goal:
    """The deployed default against the fastest WSGI configuration."""

    workload: str
    via: str
    at_least: float
    # The WSGI side's workloads: a WSGI server runs the I/O wait as a sync view.
    wsgi_workloads: tuple[str, ...]


GOALS = [
    Goal("index", "direct", 0.9, ("index",)),
    Goal("vote", "direct", 0.9, ("vote",)),
    Goal("index", "nginx TLS", 0.95, ("index",)),
    Goal("vote", "nginx TLS", 0.95, ("vote",)),
    Goal("io async view", "direct", 2.0, ("io sync view", "io async view")),
    Goal("io async view", "nginx TLS", 2.0, ("io sync view", "io async view")),
]


def rounds_of(rows: Iterable[dict]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["round"], row["via"], row["workload"])
        groups.setdefault(key, []).append(row)
    return groups


def add_ratios(rows: list[dict], limits: set[str]) -> None:
    """Each row's req/s over the best application's in its round (in place).

    A run that answered errors is no yardstick; the floors compare among
    themselves.
    """
    for group in rounds_of(rows).values():
        clean = [r for r in group if not r["errors"]] or group
        apps = [r["rps"] for r in clean if r["server"] not in limits]
        best = max(apps or [r["rps"] for r in clean])
        for row in group:
            row["ratio"] = row["rps"] / best if best else 0.0


def summarise(rows: list[dict], limits: set[str]) -> list[dict]:
    add_ratios(rows, limits)
    cells: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        cells.setdefault((row["via"], row["workload"], row["server"]), []).append(row)
    summary = []
    for (via, workload, server), runs in cells.items():
        rps = [r["rps"] for r in runs]
        ratios = [r["ratio"] for r in runs]
        summary.append(
            {
                "via": via,
                "workload": workload,
                "server": server,
                "rps": statistics.median(rps),
                "rps_min": min(rps),
                "rps_max": max(rps),
                "ratio": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                "errors": sum(r["errors"] for r in runs),
            }
        )
    order = [w.name for w in WORKLOADS] + [LIMIT_WORKLOAD]
    summary.sort(
        key=lambda s: (VIAS.index(s["via"]), order.index(s["workload"]), -s["ratio"])
    )
    return summary


def parity(rows: list[dict], against: dict[str, set[str]]) -> list[dict]:
    """For each goal and each set of WSGI configurations: the deployed default
    over the fastest of the set in each round (paired), the median and spread
    over the rounds."""
    return [
        {**result, "against": name}
        for name, wsgi in against.items()
        for result in parity_with(rows, wsgi)
    ]


def parity_with(rows: list[dict], wsgi: set[str]) -> list[dict]:
    results = []
    for goal in GOALS:
        ratios, fastest, deployed = [], Counter(), []
        for round_ in sorted({r["round"] for r in rows}):
            here = [r for r in rows if r["round"] == round_ and r["via"] == goal.via]
            mine = [
                r
                for r in here
                if r["server"] == DEFAULT and r["workload"] == goal.workload
            ]
            theirs = [
                r
                for r in here
                if r["server"] in wsgi
                and r["workload"] in goal.wsgi_workloads
                and not r["errors"]
            ]
            if not mine or not theirs:
                continue
            best = max(theirs, key=lambda r: r["rps"])
            ratios.append(mine[0]["rps"] / best["rps"])
            deployed.append(mine[0]["rps"])
            fastest[f"{best['server']}, {best['workload']}"] += 1
        if ratios:
            median = statistics.median(ratios)
            results.append(
                {
                    "goal": goal,
                    "deployed_rps": statistics.median(deployed),
                    "fastest": ", ".join(
                        f"{name} ({n}/{len(ratios)})"
                        for name, n in fastest.most_common()
                    ),
                    "ratio": median,
                    "ratio_min": min(ratios),
                    "ratio_max": max(ratios),
                    "met": median >= goal.at_least,
                }
            )
    return results


def markdown(
    summary: list[dict], goals: list[dict], meta: str, servers: list[Server]
) -> str:
    db_notes = {s.name: s.persistent_db for s in servers}
    lines = [
        meta,
        "",
        "| via | workload | server | req/s (median) | spread | x best (median) "
        "| x best spread | p50 ms | p99 ms | errors | persistent DB connection |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in summary:
        lines.append(
            f"| {s['via']} | {s['workload']} | {s['server']} | {s['rps']:.0f} "
            f"| {s['rps_min']:.0f}-{s['rps_max']:.0f} | {s['ratio']:.2f} "
            f"| {s['ratio_min']:.2f}-{s['ratio_max']:.2f} "
            f"| {s['p50_ms']:.1f} | {s['p99_ms']:.1f} | {s['errors']} "
            f"| {db_notes.get(s['server'], '')} |"
        )
    if goals:
        lines += [
            "",
            f"The deployed default ({DEFAULT}) over the fastest WSGI configuration "
            "of each round:",
            "",
            "| against | via | workload | deployed req/s | fastest WSGI (rounds) "
            "| ratio (median) | spread | goal | met |",
            "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | --- |",
        ]
        for g in goals:
            goal = g["goal"]
            lines.append(
                f"| {g['against']} | {goal.via} | {goal.workload} "
                f"| {g['deployed_rps']:.0f} "
                f"| {g['fastest']} | {g['ratio']:.2f} "
                f"| {g['ratio_min']:.2f}-{g['ratio_max']:.2f} "
                f"| {goal.at_least:g}x | {'yes' if g['met'] else 'no'} |"
            )
    # What the front end costs: the same configuration through nginx vs direct.
    direct = {
        (s["workload"], s["server"]): s["rps"] for s in summary if s["via"] == "direct"
    }
    both = [
        s
        for s in summary
        if s["via"] == "nginx TLS" and direct.get((s["workload"], s["server"]))
    ]
    if both:
        lines += [
            "",
            "| workload | server | direct req/s | nginx TLS req/s | nginx / direct |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for s in both:
            alone = direct[(s["workload"], s["server"])]
            lines.append(
                f"| {s['workload']} | {s['server']} | {alone:.0f} | {s['rps']:.0f} "
                f"| {s['rps'] / alone:.2f} |"
            )
    return "\n".join(lines) + "\n"


def charts(summary: list[dict], limits: set[str], directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = [
        w for w in dict.fromkeys(s["workload"] for s in summary) if w != LIMIT_WORKLOAD
    ]
    names_all = [
        s for s in dict.fromkeys(s["server"] for s in summary) if s not in limits
    ]
    vias = [v for v in VIAS if any(s["via"] == v for s in summary)]
    paths = []
    for metric, label, name in [
        ("rps", "requests/s (median)", "throughput.png"),
        ("p50_ms", "p50 latency, ms", "latency-p50.png"),
        ("p99_ms", "p99 latency, ms", "latency-p99.png"),
    ]:
        fig, grid = plt.subplots(
            len(vias),
            len(workloads),
            figsize=(4 * len(workloads), 1.2 + 3.4 * len(vias)),
            squeeze=False,
        )
        for row, via in zip(grid, vias, strict=True):
            for ax, workload in zip(row, workloads, strict=True):
                cells = {
                    s["server"]: s
                    for s in summary
                    if s["workload"] == workload and s["via"] == via
                }
                names = [n for n in names_all if n in cells]
                colors = [
                    (
                        "#bbbbbb"
                        if cells[n]["errors"]
                        else "#d9822b" if n == DEFAULT else "#44729e"
                    )
                    for n in names
                ]
                bars = ax.barh(names, [cells[n][metric] for n in names], color=colors)
                for bar, server in zip(bars, names, strict=True):
                    if cells[server]["errors"]:
                        ax.annotate(
                            "errors",
                            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                            xytext=(3, 0),
                            textcoords="offset points",
                            va="center",
                            fontsize=8,
                        )
                ax.set_title(f"{workload} ({via})")
                ax.set_xlabel(label)
                ax.invert_yaxis()
                if ax is not row[0]:
                    ax.set_yticklabels([])
        fig.suptitle(
            f"{label}; orange: the deployed default ({DEFAULT}); grey: answered errors",
            fontsize=10,
        )
        fig.tight_layout()
        path = directory / name
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths
