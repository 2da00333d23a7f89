#!/usr/bin/env python3
"""ASGI or WSGI? Run the polls app under each server and measure it with wrk.

    bench/run.py [--quick] [--rounds N] [--duration S] [--only NAME,...] [--no-stack]

Every configuration serves the same app, the same SQLite file and the same
number of worker processes, measured two ways:

- direct: wrk -> the server's TCP port, the server started here;
- stack: wrk -> nginx (TLS) -> unix socket -> the live polls@ instance in the
  sandbox container (`make demo`), the worker class switched by a runtime
  drop-in (/run/systemd/system/polls@.service.d/, removed afterwards), the
  container's processes pinned to the server's core.

On a machine with two cores or more, the servers are pinned to one core and
wrk to another (taskset), so they do not fight over a core. The direct servers
are all started first and stay up (idle ones cost nothing), so that one
workload is measured on every configuration back to back; the stack switches
its configuration once per round. Each round runs every cell, in an order
rotated from round to round; each cell has a warm-up run that is discarded.
The report (bench/report.py) gives the median over rounds, the spread
(min-max), and each configuration's ratio to the best of the same workload in
the same round, as a median over the rounds: paired, so that the machine's
drift moves both sides of a ratio alike.

    catalogue.py  the configurations and workloads
    control.py    the servers started here, the sandbox container's instance
    wrk.py        running wrk and reading its output
    report.py     paired ratios, the tables and the charts

Writes bench/results/: runs.csv (every run), results.md (the table) and
PNG charts; with --tuning, tuning-runs.csv and tuning-results.md. --quick runs
one short round: it checks the harness, not speed.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Callable
from contextlib import ExitStack
from http.cookiejar import CookieJar
from pathlib import Path

import catalogue
import control
import report
import vote_form
import wrk
from catalogue import DEFAULT, LIMIT_WORKLOAD, WORKLOADS, Server, Workload


def vote_script(tmp: Path, base: str) -> Path:
    """A wrk script that posts votes with a real CSRF token and cookie."""
    jar = CookieJar()
    page = control.opener(jar).open(base + "/polls/1/", timeout=10).read().decode()
    token, choice = vote_form.csrf_token(page), vote_form.first_choice(page)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    script = tmp / f"vote-{base.rsplit(':', 1)[-1]}.lua"
    script.write_text(textwrap.dedent(f"""\
            wrk.method = "POST"
            wrk.body = "csrfmiddlewaretoken={token}&choice={choice}"
            wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
            wrk.headers["Cookie"] = "{cookie}"
            wrk.headers["Referer"] = "{base}/polls/1/"
            """))
    return script


def limit_workload(server: Server, base: str) -> Workload:
    """A floor's one workload: its path, the stylesheet's hashed name filled in."""
    path = server.limit_path
    if "{stylesheet}" in path:
        page = control.opener().open(base + "/polls/", timeout=10).read().decode()
        stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page)[1]
        path = path.format(stylesheet=stylesheet)
    return Workload(LIMIT_WORKLOAD, path)


def measure(
    server: Server,
    via: str,
    base: str,
    workload: Workload,
    tmp: Path,
    args: argparse.Namespace,
    load_pin: list[str],
) -> dict:
    """One cell: a discarded warm-up, then the measured run."""
    script = vote_script(tmp, base) if workload.method == "POST" else None
    url = base + workload.path
    wrk.run(load_pin, url, args.warmup, workload.connections, script)
    result = wrk.run(load_pin, url, args.duration, workload.connections, script)
    return {"via": via, "server": server.name, "workload": workload.name, **result}


def run_direct(
    chosen: list[Server],
    env: dict[str, str],
    tmp: Path,
    args: argparse.Namespace,
    pins: tuple[list[str], list[str]],
    record: Callable[[int, dict], None],
) -> None:
    """Start every chosen server here, then measure each workload on all of them,
    back to back, round after round."""
    server_pin, load_pin = pins
    workloads = [w for w in WORKLOADS if w.name in args.workloads]
    with ExitStack() as stack:
        bases = {}
        for server in chosen:
            ready = workloads[0].path if server.kind == "app" else server.limit_path
            base, _ = stack.enter_context(
                control.serving(server, env, tmp, args.workers, server_pin, ready)
            )
            bases[server.name] = base
        apps = [s for s in chosen if s.kind == "app"]
        limits = [s for s in chosen if s.kind == "limit"]
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_}/{args.rounds}: direct", flush=True)
            for workload in workloads:
                for server in report.rotated(apps, round_):
                    base = bases[server.name]
                    row = measure(server, "direct", base, workload, tmp, args, load_pin)
                    record(round_, row)
            for server in limits:
                base = bases[server.name]
                workload = limit_workload(server, base)
                row = measure(server, "direct", base, workload, tmp, args, load_pin)
                record(round_, row)


def run_stack(
    stacked: list[Server],
    tmp: Path,
    args: argparse.Namespace,
    pins: tuple[list[str], list[str]],
    record: Callable[[int, dict], None],
) -> None:
    """Switch the live instance to each configuration in turn, round after round,
    and measure every workload through nginx."""
    base = control.STACK_URL
    workloads = [w for w in WORKLOADS if w.name in args.workloads]
    for round_ in range(1, args.rounds + 1):
        for server in report.rotated(stacked, round_):
            print(
                f"round {round_}/{args.rounds}: {server.name} via nginx TLS", flush=True
            )
            if server.kind == "app":
                environment = {**catalogue.STACK_COMMON, **server.env}
                control.stack_configure(
                    {k: v.format(workers=args.workers) for k, v in environment.items()}
                )
                cells = workloads
            else:
                cells = [limit_workload(server, base)]
            for workload in cells:
                record(
                    round_,
                    measure(server, "nginx TLS", base, workload, tmp, args, pins[1]),
                )


def add_cell_arguments(parser: argparse.ArgumentParser) -> None:
    """How many rounds of how long a cell, and --quick for one short round
    (here and in postgres.py); see quick()."""
    parser.add_argument("--quick", action="store_true", help="one short round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=4, help="seconds per cell")
    parser.add_argument("--warmup", type=int, default=1, help="seconds, discarded")
    parser.add_argument("--workers", type=int, default=1)


def quick(args: argparse.Namespace) -> None:
    """--quick: one round of one-second cells, to check the harness."""
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 1, 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_cell_arguments(parser)
    parser.add_argument("--only", default="", help="comma-separated server names")
    parser.add_argument("--output", type=Path, default=report.RESULTS)
    parser.add_argument(
        "--no-stack", action="store_true", help="skip the sandbox (direct only)"
    )
    parser.add_argument(
        "--from-csv",
        type=Path,
        help="no measuring: rewrite the table and charts from a runs.csv",
    )
    parser.add_argument(
        "--tuning",
        action="store_true",
        help="only the deployed default's settings, one change at a time, via nginx",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(w.name for w in WORKLOADS),
        help="comma-separated workload names (default: all)",
    )
    args = parser.parse_args()
    quick(args)
    args.workloads = [w.strip() for w in args.workloads.split(",")]
    unknown = set(args.workloads) - {w.name for w in WORKLOADS}
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(sorted(unknown))}")

    chosen = catalogue.servers()
    stacked = [] if args.no_stack else catalogue.stack_servers()
    if args.tuning:
        chosen, stacked = [], catalogue.tuning_servers()
    chosen = catalogue.pick(chosen, args.only)
    stacked = catalogue.pick(stacked, args.only)
    server_pin, load_pin, pin_note = control.cpu_split()
    args.output.mkdir(parents=True, exist_ok=True)
    if args.from_csv:
        with args.from_csv.open() as handle:
            rows = [
                {
                    **row,
                    "round": int(row["round"]),
                    "rps": float(row["rps"]),
                    "p50_ms": float(row["p50_ms"]),
                    "p99_ms": float(row["p99_ms"]),
                    "errors": int(row["errors"]),
                }
                for row in csv.DictReader(handle)
            ]
        args.rounds = max(row["round"] for row in rows)
        known = catalogue.servers() + catalogue.stack_servers()
        write_report(rows, args, pin_note, known + catalogue.tuning_servers())
        return
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is not installed (apt-get install wrk nginx)")
    if stacked:
        control.stack_check()

    rows: list[dict] = []

    def record(round_: int, row: dict) -> None:
        rows.append({"round": round_, **row})

    with tempfile.TemporaryDirectory(prefix="polls-bench-") as scratch:
        tmp = Path(scratch)
        env = control.prepare(tmp)
        if chosen:
            run_direct(chosen, env, tmp, args, (server_pin, load_pin), record)
        if stacked:
            try:
                if server_pin:
                    control.stack_pin("1")
                run_stack(stacked, tmp, args, (server_pin, load_pin), record)
            finally:
                print(
                    "bench: the sandbox's polls instance back as deployed", flush=True
                )
                control.stack_configure({})
                control.stack_pin(f"0-{(os.cpu_count() or 1) - 1}")

    prefix = "tuning-" if args.tuning else ""
    with (args.output / f"{prefix}runs.csv").open("w", newline="") as handle:
        fields = ["round", "via", "server", "workload", "rps", "p50_ms", "p99_ms"]
        writer = csv.DictWriter(handle, fieldnames=[*fields, "errors"])
        writer.writeheader()
        writer.writerows(rows)
    write_report(rows, args, pin_note, [*chosen, *stacked])


def write_report(
    rows: list[dict], args: argparse.Namespace, pin_note: str, servers: list[Server]
) -> None:
    """Write the table and the charts; exit non-zero if the harness failed."""
    prefix = "tuning-" if args.tuning else ""
    limits = {s.name for s in servers if s.kind == "limit"}
    wsgi = {s.name for s in servers if s.interface == "wsgi"}
    supported = wsgi - {s.name for s in servers if s.deprecated}
    summary = report.summarise(rows, limits)
    against = {"every WSGI": wsgi, "supported WSGI": supported}
    goals = [] if args.tuning else report.parity(rows, against)
    meta = (
        f"{args.rounds} round(s) x {args.duration:g}s per cell after a "
        f"{args.warmup:g}s warm-up; {args.workers} worker process(es) each; "
        f"wrk -t1, 32 connections (64 for the I/O views), keep-alive on; "
        f"{pin_note}; {os.cpu_count()} CPUs; SQLite (WAL); 20 ms upstream delay "
        f"in the I/O views. x best: the ratio to the best configuration of the "
        f"same round, median over rounds. Through nginx: the sandbox container's "
        f"processes on the server's CPU, gunicorn's access log off, nginx's as "
        f"deployed."
    )
    table = report.markdown(summary, goals, meta, servers)
    (args.output / f"{prefix}results.md").write_text(table)
    if not args.tuning:
        report.charts(summary, limits, args.output)
    print(table)
    failed = [f"{s['server']} / {s['workload']}" for s in summary if s["errors"]]
    if failed:
        # A configuration that answers errors under a load is a finding (the
        # table shows how many); the harness is broken when the deployed
        # default fails, or every configuration.
        print("bench: errors (non-2xx/3xx or socket errors) in: " + ", ".join(failed))
        default = [s for s in summary if s["server"] == DEFAULT and s["errors"]]
        if default or len(failed) == len(summary):
            sys.exit("bench: the deployed default or every configuration failed")


if __name__ == "__main__":
    main()
