"""SQLite or PostgreSQL: the deployed default and the WSGI servers, paired.

The deployed default (gunicorn + UvicornWorker on polls.asgi) and the
supported WSGI configurations it is measured against serve the index and the
vote from SQLite (WAL, the single host's database) and from PostgreSQL, a
throwaway server on this machine (ansible/bin/pg-scratch: Debian's newest
installed PostgreSQL, fsync off, over TCP on 127.0.0.1), each way the app can
hold its connections there:

    persistent  CONN_MAX_AGE 600: one connection per thread, kept (the ASGI
                path lends long-lived threads, so it keeps them too)
    pool        psycopg's pool (POLLS_DB_POOL), a connection borrowed per query
                batch and handed back

Every server is up for the whole run; each workload is measured on all of them
back to back, in rounds with the order rotated, and each ratio is paired within
its round (these VMs change speed by a fifth from second to second). Written to
bench/results/postgres.md.

    python bench/postgres.py            # 5 rounds of 4 s cells
    python bench/postgres.py --quick    # one short round: checks the harness
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import catalogue
import control
import report
import run
from catalogue import DEFAULT, WORKLOADS

PG_SCRATCH = control.ROOT / "ansible" / "bin" / "pg-scratch"
# What each database way sets, beside the database itself.
HANDLING = {
    "SQLite, persistent": {},
    "PostgreSQL, persistent": {"POLLS_DB_CONN_MAX_AGE": "600"},
    "PostgreSQL, pool": {"POLLS_DB_POOL": "true"},
}
# The deployed default and the supported WSGI configurations.
SERVERS = (DEFAULT, f"gunicorn gthread x{catalogue.THREADS} (wsgi)", "granian (wsgi)")


def servers(url: str) -> list[catalogue.Server]:
    """Each chosen configuration once per database way."""
    known = {s.name: s for s in catalogue.servers()}
    chosen = []
    for name in SERVERS:
        for way, env in HANDLING.items():
            database = {"POLLS_DATABASE_URL": url} if "PostgreSQL" in way else {}
            chosen.append(
                replace(
                    known[name],
                    name=f"{name} | {way}",
                    env={**known[name].env, **database, **env},
                    persistent_db=way,
                )
            )
    return chosen


def table(rows: list[dict]) -> str:
    """req/s per configuration and way, and the deployed default over the
    fastest WSGI configuration of each round, per way."""
    by_cell: dict[tuple, dict[str, float]] = defaultdict(dict)
    for row in rows:
        by_cell[(row["workload"], row["round"])][row["server"]] = row["rps"]
    lines = [
        "| workload | server | " + " | ".join(HANDLING) + " |",
        "| --- | --- |" + " ---: |" * len(HANDLING),
    ]
    workloads = [w.name for w in WORKLOADS if w.name in {r["workload"] for r in rows}]
    for workload in workloads:
        cells = [v for (w, _), v in by_cell.items() if w == workload]
        for name in SERVERS:
            rates = [
                statistics.median(c[f"{name} | {way}"] for c in cells)
                for way in HANDLING
            ]
            lines.append(
                f"| {workload} | {name} | "
                + " | ".join(f"{r:.0f}" for r in rates)
                + " |"
            )
        ratios = []
        for way in HANDLING:
            paired = [
                c[f"{DEFAULT} | {way}"]
                / max(c[f"{n} | {way}"] for n in SERVERS if n != DEFAULT)
                for c in cells
            ]
            ratios.append(
                f"{statistics.median(paired):.2f} ({min(paired):.2f}-{max(paired):.2f})"
            )
        lines.append(
            f"| {workload} | deployed / fastest WSGI (paired) | "
            + " | ".join(ratios)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    run.add_cell_arguments(parser)
    parser.add_argument("--output", type=Path, default=report.RESULTS)
    args = parser.parse_args()
    run.quick(args)
    server_pin, load_pin, pin_note = control.cpu_split()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="polls-bench-pg-") as scratch:
        tmp = Path(scratch)
        # Beside the scratch directory, not in it: the postgres user must be
        # able to reach its data directory.
        pg_dir = Path(tempfile.gettempdir()) / f"{tmp.name}-pg"
        started = subprocess.run(
            [PG_SCRATCH, "start", pg_dir], capture_output=True, text=True, check=False
        )
        if started.returncode != 0:
            raise SystemExit(f"bench: pg-scratch did not start: {started.stderr}")
        url = started.stdout.strip()
        try:
            env = control.prepare(tmp)
            control.prepare(tmp, POLLS_DATABASE_URL=url)
            args.workloads = ["index", "vote"]
            run.run_direct(
                servers(url),
                env,
                tmp,
                args,
                (server_pin, load_pin),
                lambda round_, row: rows.append({"round": round_, **row}),
            )
        finally:
            subprocess.run([PG_SCRATCH, "stop", pg_dir], check=False)
    errors = sorted({f"{r['server']} / {r['workload']}" for r in rows if r["errors"]})
    text = (
        f"{args.rounds} round(s) x {args.duration}s per cell after a {args.warmup}s"
        f" warm-up; {args.workers} worker process(es) each, direct; {pin_note}."
        f" PostgreSQL: ansible/bin/pg-scratch on 127.0.0.1 (fsync off).\n\n"
        + table(rows)
        + "\n"
    )
    print(text)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / ("postgres-quick.md" if args.quick else "postgres.md")).write_text(
        text
    )
    if errors:
        raise SystemExit(
            "bench: errors (non-2xx/3xx or socket errors) in: " + ", ".join(errors)
        )


if __name__ == "__main__":
    main()
