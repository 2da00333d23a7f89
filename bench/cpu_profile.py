#!/usr/bin/env python3
"""Where the time of one index request goes, under each server.

    bench/cpu_profile.py [--quick] [--duration S] [--only NAME,...]

Starts each configuration of bench/run.py as the benchmark does (one worker,
pinned to CPU 1), loads the index with wrk from CPU 0, and samples the server's
processes with py-spy meanwhile (the thread holding the GIL, 500 samples/s). Each
sample is charged to the innermost frame that belongs to a known part: the
database driver, the ORM, templates, middleware, Django's request handling,
the hand-off between the event loop and a thread (asgiref, futures), or the
server itself (HTTP parsing, event loop, worker). With the server's core busy,
a part's share times the CPU time of a request (1 / req/s) is what it costs a
request.

Writes bench/results/profile.md and prints it.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import catalogue
import control
import wrk
from report import RESULTS

# (part, path fragments); the innermost frame matching any fragment wins.
PARTS = [
    ("database driver", ("sqlite3", "django/db/backends", "psycopg")),
    ("ORM", ("django/db/models", "django/db/transaction", "django/db/utils")),
    ("templates", ("django/template", "django/templatetags", "django/utils/html")),
    (
        "middleware",
        (
            "django/middleware",
            "django/contrib/sessions",
            "django/contrib/auth",
            "django/contrib/messages",
            "polls/fastpath/middleware",
            "django/utils/deprecation",
        ),
    ),
    ("URL resolving", ("django/urls",)),
    ("thread hand-off", ("asgiref/", "concurrent/futures", "threading.py")),
    (
        "Django request/response",
        ("django/core/handlers", "django/http", "django/dispatch", "django/utils"),
    ),
    ("polls views + handler", ("polls/views", "polls/fastpath")),
    (
        "server, event loop",
        (
            "gunicorn",
            "uvicorn",
            "granian",
            "h11",
            "httptools",
            "asyncio",
            "uvloop",
            "selectors",
            "socket",
        ),
    ),
]


def part_of(stack: str) -> str:
    """The part a collapsed stack (root;...;leaf) is charged to."""
    for frame in reversed(stack.split(";")):
        for part, fragments in PARTS:
            if any(fragment in frame for fragment in fragments):
                return part
    return "other"


def parse_raw(path: Path) -> collections.Counter[str]:
    """py-spy --format raw: 'frame;frame;frame count' per line."""
    parts: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            parts[part_of(stack)] += int(count)
    return parts


def profile(
    server: catalogue.Server,
    env: dict[str, str],
    tmp: Path,
    seconds: int,
    pins: tuple[list[str], list[str]],
) -> tuple[float, collections.Counter[str]]:
    server_pin, load_pin = pins
    raw = tmp / "profile.txt"
    with control.serving(server, env, tmp, 1, server_pin, "/polls/") as (base, process):
        wrk.run(load_pin, base + "/polls/", 1, 32, None)  # warm-up
        spy = subprocess.Popen(
            [
                str(catalogue.BIN / "py-spy"),
                *("record", "--pid", str(process.pid), "--subprocesses"),
                *("--rate", "500", "--duration", str(seconds), "--gil"),
                *("--format", "raw", "--output", str(raw), "--nonblocking"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.5)  # py-spy attaches
        result = wrk.run(load_pin, base + "/polls/", seconds, 32, None)
        _, errors = spy.communicate(timeout=seconds + 30)
        if spy.returncode or not raw.exists():
            raise SystemExit(f"bench: py-spy failed on {server.name}: {errors}")
        return result["rps"], parse_raw(raw)


def table(results: dict[str, tuple[float, collections.Counter[str]]]) -> str:
    names = [part for part, _ in PARTS] + ["other"]
    lines = [
        "CPU time of one index request (ms), by part; the server's core is busy, so "
        "1000 / req/s is the CPU time of a request, shared out by py-spy's samples.",
        "",
        "| server | req/s | ms/request | " + " | ".join(names) + " |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in names) + " |",
    ]
    for server, (rps, parts) in results.items():
        total = sum(parts.values()) or 1
        per_request = 1000 / rps if rps else 0.0
        cells = [f"{per_request * parts[n] / total:.2f}" for n in names]
        lines.append(
            f"| {server} | {rps:.0f} | {per_request:.2f} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 s per server")
    parser.add_argument("--duration", type=int, default=8, help="seconds sampled")
    parser.add_argument("--only", default="", help="comma-separated server names")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    seconds = 1 if args.quick else args.duration
    if not (catalogue.BIN / "py-spy").exists() or not shutil.which("wrk"):
        sys.exit("bench: py-spy and wrk are needed (make bench installs them)")
    # Every application configuration of bench/run.py (the floors have no Django).
    apps = [s for s in catalogue.servers() if s.kind == "app"]
    chosen = catalogue.pick(apps, args.only)
    server_pin, load_pin, _ = control.cpu_split()
    results = {}
    with tempfile.TemporaryDirectory(prefix="polls-profile-") as scratch:
        tmp = Path(scratch)
        env = control.prepare(tmp)
        for server in chosen:
            print(f"profile: {server.name}", flush=True)
            results[server.name] = profile(
                server, env, tmp, seconds, (server_pin, load_pin)
            )
    text = table(results)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "profile.md").write_text(text)
    print(text)


if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parent)
    main()
