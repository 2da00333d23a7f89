"""Running wrk and reading what it prints.

Shared by the benchmark (bench/run.py, bench/load.py, bench/cpu_profile.py)
and the drills (ansible/drills/load.py): one reader of wrk's output.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

SOCKET_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)
NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def to_ms(value: str) -> float:
    """A wrk duration (``812.00us``, ``1.20ms``, ``2.01s``, ``1.00m``) in ms."""
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"not a wrk duration: {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def socket_errors(output: str) -> dict[str, int]:
    """wrk's socket error counts by kind (connect, read, write, timeout)."""
    match = SOCKET_ERRORS.search(output)
    counts = [int(n) for n in match.groups()] if match else [0, 0, 0, 0]
    return dict(zip(("connect", "read", "write", "timeout"), counts, strict=True))


def non_2xx(output: str) -> int:
    match = NON_2XX.search(output)
    return int(match[1]) if match else 0


def requests_per_second(output: str) -> float:
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", output)[1])


def percentile_ms(output: str, percent: int) -> float:
    """A percentile of ``--latency``'s distribution, in ms."""
    return to_ms(re.search(rf"\s{percent}%\s+([0-9.]+\w+)", output)[1])


def max_latency_ms(output: str) -> float:
    """The worst latency of the run (the Max column of the Latency line)."""
    match = re.search(r"Latency\s+\S+\s+\S+\s+([0-9.]+\w+)", output)
    return to_ms(match[1]) if match else 0.0


def requests(output: str) -> int:
    """How many requests the run completed."""
    match = re.search(r"(\d+) requests in", output)
    return int(match[1]) if match else 0


def run(
    prefix: list[str], url: str, seconds: int, connections: int, script: Path | None
) -> dict[str, float]:
    """One wrk run (one thread): req/s, p50, p99 and the errors it counted.

    Errors: non-2xx/3xx answers and connect, write and timeout socket errors.
    A read error is a keep-alive connection the server closed when wrk stopped
    or between requests, which wrk retries; it is not a failed request.
    """
    command = [*prefix, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    sockets = socket_errors(output)
    return {
        "rps": requests_per_second(output),
        "p50_ms": percentile_ms(output, 50),
        "p99_ms": percentile_ms(output, 99),
        "errors": non_2xx(output)
        + sockets["connect"]
        + sockets["write"]
        + sockets["timeout"],
    }
