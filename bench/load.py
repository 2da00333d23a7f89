"""Load held: the deployed stack under many concurrent connections.

wrk opens 100, 1,000 and 4,000 keep-alive connections to the sandbox's nginx
(TLS, as deployed) and asks for the index for a fixed time. Every answer is
counted by status: 200 served, 503 shed (and whether it carried Retry-After),
anything else a failure, like a socket error (a connection refused or reset,
a request that timed out). The stack holds the load when every request is
either served or shed with a fast 503 and Retry-After: never a reset, a hang
or a 502.

    python bench/load.py                       # 100, 1000, 4000 connections, 15 s
    python bench/load.py --quick               # 100 and 1000, 3 s: checks the harness
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import deployment  # bench/deployment.py
import report  # bench/report.py
import wrk  # bench/wrk.py

URL = deployment.sandbox_url() + "/polls/"
LEVELS = (100, 1000, 4000)
QUICK_LEVELS = (100, 1000)

# Counts every status, and the 503s that carry Retry-After, over all threads.
COUNTER = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {}; retry_after = 0 end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and headers["Retry-After"] then retry_after = retry_after + 1 end
end
function done(summary, latency, requests)
  local total, shed_with_retry = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
    shed_with_retry = shed_with_retry + thread:get("retry_after")
  end
  for status, n in pairs(total) do
    io.write(string.format("status %d %d\\n", status, n))
  end
  io.write(string.format("retry-after %d\\n", shed_with_retry))
end
"""


def raise_open_files(wanted: int) -> None:
    """wrk needs a descriptor per connection: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def run(connections: int, seconds: int, script: Path) -> dict[str, float]:
    threads = 2 if connections >= 2 else 1
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
        URL,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    statuses = {
        int(status): int(count)
        for status, count in re.findall(r"^status (\d+) (\d+)$", output, re.M)
    }
    served = sum(n for s, n in statuses.items() if 200 <= s < 400)
    shed = statuses.get(503, 0)
    return {
        "connections": connections,
        "rps": wrk.requests_per_second(output),
        "served": served,
        "shed": shed,
        "shed_with_retry_after": int(
            re.search(r"^retry-after (\d+)$", output, re.M)[1]
        ),
        "other_status": sum(statuses.values()) - served - shed,
        **wrk.socket_errors(output),
        "p50_ms": wrk.percentile_ms(output, 50),
        "p99_ms": wrk.percentile_ms(output, 99),
        "max_ms": wrk.max_latency_ms(output),
    }


def failures(row: dict[str, float]) -> int:
    """Answers that are neither served nor deliberately shed."""
    return int(
        row["other_status"]
        + (row["shed"] - row["shed_with_retry_after"])
        + row["connect"]
        + row["read"]
        + row["write"]
        + row["timeout"]
    )


def table(rows: list[dict[str, float]]) -> str:
    lines = [
        "| connections | req/s | served | shed 503 (Retry-After) | other status"
        " | socket errors c/r/w/t | failed | p50 ms | p99 ms | max ms |",
        "| ---: " * 10 + "|",
    ]
    for row in rows:
        lines.append(
            f"| {row['connections']:,} | {row['rps']:.0f} | {row['served']:,}"
            f" | {row['shed']:,} ({row['shed_with_retry_after']:,})"
            f" | {row['other_status']:,}"
            f" | {row['connect']}/{row['read']}/{row['write']}/{row['timeout']}"
            f" | {failures(row):,} | {row['p50_ms']:.0f} | {row['p99_ms']:.0f}"
            f" | {row['max_ms']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two levels, 3 s each")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument(
        "--connections",
        default="",
        help="comma-separated levels (default 100,1000,4000)",
    )
    parser.add_argument("--output", type=Path, default=report.RESULTS)
    args = parser.parse_args()

    levels = (
        tuple(int(n) for n in args.connections.split(","))
        if args.connections
        else QUICK_LEVELS if args.quick else LEVELS
    )
    seconds = 3 if args.quick else args.seconds
    raise_open_files(max(levels) + 256)
    with tempfile.TemporaryDirectory(prefix="polls-load-") as scratch:
        script = Path(scratch) / "count.lua"
        script.write_text(COUNTER)
        rows = []
        for connections in levels:
            rows.append(run(connections, seconds, script))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = table(rows)
    print(text)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "load.md").write_text(
        f"wrk -t2 through the sandbox's nginx (TLS), GET /polls/, {seconds} s per"
        " level, keep-alive connections.\n\n" + text + "\n"
    )
    failed = [row for row in rows if failures(row)]
    if failed:
        levels_failed = ", ".join(f"{row['connections']:,}" for row in failed)
        sys.exit(
            f"load: requests neither served nor shed at {levels_failed} connections"
        )


if __name__ == "__main__":
    main()
