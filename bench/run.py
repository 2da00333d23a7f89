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

On a machine with two cores or more, the server is pinned to one core and wrk
to another (taskset), so they do not fight over a core. Configurations are
interleaved over the rounds (round 1 runs all of them, then round 2, ...) so
that drift of the machine spreads over all of them; each cell has a warm-up
run that is discarded. The report gives the median over rounds, the spread
(min-max), and each median as a ratio to the best configuration of the same
workload in the same run.

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
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

import deployment  # bench/deployment.py

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "polls"
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
BENCH_DIR = Path(__file__).resolve().parent
# The deployed configuration (roles/gunicorn/defaults/main.yml).
DEFAULT = "gunicorn UvicornWorker (asgi)"
# Threads per process for gthread and for the ASGI request threads: the
# deployed default (gunicorn_threads), so both kinds get the same.
THREADS = deployment.gunicorn_default("gunicorn_threads")


@dataclass
class Server:
    name: str
    command: list[str]  # {port} and {workers} are filled in
    kind: str = "app"  # app | limit
    env: dict[str, str] = field(default_factory=dict)
    persistent_db: str = "yes, one per thread"


def servers() -> list[Server]:
    gunicorn = [str(BIN / "gunicorn"), "--bind", "127.0.0.1:{port}"]
    gunicorn += ["--workers", "{workers}", "--no-control-socket"]
    uvworker = "polls.workers.UvicornWorker"

    def uvicorn(app: str, *extra: str) -> list[str]:
        return [
            str(BIN / "uvicorn"),
            app,
            *extra,
            *("--port", "{port}", "--workers", "{workers}", "--lifespan", "off"),
            *("--no-access-log", "--log-level", "warning"),
        ]

    def granian(interface: str, app: str) -> list[str]:
        return [
            str(BIN / "granian"),
            *("--interface", interface, "--port", "{port}"),
            *("--workers", "{workers}", "--no-ws", app),
        ]

    nothing = "no database"
    return [
        Server("gunicorn sync (wsgi)", [*gunicorn, "polls.wsgi"]),
        Server(
            f"gunicorn gthread x{THREADS} (wsgi)",
            [*gunicorn, "-k", "gthread", "--threads", str(THREADS), "polls.wsgi"],
        ),
        Server(
            "gunicorn UvicornWorker (asgi)", [*gunicorn, "-k", uvworker, "polls.asgi"]
        ),
        # uvicorn's "auto" takes Django's WSGIHandler for ASGI 2 and answers
        # 500 to everything; the project's worker can say it is WSGI.
        Server(
            "gunicorn UvicornWorker (wsgi)",
            [*gunicorn, "-k", uvworker, "polls.wsgi"],
            env={"POLLS_UVICORN_INTERFACE": "wsgi"},
        ),
        Server("gunicorn asgi worker (asgi)", [*gunicorn, "-k", "asgi", "polls.asgi"]),
        # Where the ASGI path started: Django's own handler, middleware and
        # class views, a thread and a database connection per request.
        Server(
            "gunicorn UvicornWorker, stock Django handler (asgi)",
            [*gunicorn, "-k", uvworker, "django.core.asgi:get_asgi_application()"],
            env={
                "DJANGO_SETTINGS_MODULE": "polls.settings",
                "POLLS_DB_CONN_MAX_AGE": "0",
            },
            persistent_db="no, one per request",
        ),
        Server("uvicorn (asgi)", uvicorn("polls.asgi:application")),
        Server("granian (wsgi)", granian("wsgi", "polls.wsgi:application")),
        Server("granian (asgi)", granian("asgi", "polls.asgi:application")),
        # The floors: how fast each kind of server answers without Django.
        Server(
            "limit: raw ASGI hello (uvicorn)",
            uvicorn("hello:asgi", "--app-dir", str(BENCH_DIR)),
            kind="limit",
            persistent_db=nothing,
        ),
        Server(
            "limit: raw WSGI hello (gunicorn)",
            [*gunicorn, "--chdir", str(BENCH_DIR), "hello:wsgi"],
            kind="limit",
            persistent_db=nothing,
        ),
        Server(
            "limit: nginx return 200",
            ["nginx", "-p", "{tmp}", "-c", "{tmp}/nginx.conf", "-g", "daemon off;"],
            kind="limit",
            persistent_db=nothing,
        ),
    ]


# The deployed stack: the sandbox container of `make demo`.
CONTAINER = deployment.sandbox_container()
STACK_URL = deployment.sandbox_url()
# A drop-in for the template reaches both instances; only the running (live)
# one is restarted.
DROPIN = "/run/systemd/system/polls@.service.d/50-bench.conf"
STACK_COMMON = {
    "GUNICORN_WORKERS": "{workers}",
    "GUNICORN_ACCESS_LOG": "0",
    "POLLS_BENCH_VIEWS": "true",
    "POLLS_BENCH_DELAY_MS": "20",
}


def stack_servers() -> list[Server]:
    """The gunicorn configurations the deployment offers (gunicorn_worker_class)."""

    def gunicorn(app: str, worker_class: str, **extra: str) -> dict[str, str]:
        return {"GUNICORN_APP": app, "GUNICORN_WORKER_CLASS": worker_class, **extra}

    uvworker = "polls.workers.UvicornWorker"
    return [
        Server("gunicorn sync (wsgi)", [], env=gunicorn("polls.wsgi", "sync")),
        Server(
            f"gunicorn gthread x{THREADS} (wsgi)",
            [],
            env=gunicorn("polls.wsgi", "gthread", GUNICORN_THREADS=str(THREADS)),
        ),
        Server(
            "gunicorn UvicornWorker (asgi)",
            [],
            env=gunicorn("polls.asgi", uvworker, POLLS_ASGI_THREADS=str(THREADS)),
        ),
        Server(
            "gunicorn UvicornWorker (wsgi)",
            [],
            env=gunicorn("polls.wsgi", uvworker, POLLS_UVICORN_INTERFACE="wsgi"),
        ),
        Server(
            "gunicorn asgi worker (asgi)",
            [],
            env=gunicorn("polls.asgi", "asgi", POLLS_ASGI_THREADS=str(THREADS)),
        ),
        Server(
            "limit: nginx TLS static file",
            [],
            kind="limit",
            persistent_db="no database",
        ),
    ]


def tuning_servers() -> list[Server]:
    """The deployed default and one change at a time, for its settings."""
    deployed = next(s for s in stack_servers() if s.name == DEFAULT)
    # What `auto` picks with uvloop and httptools installed, said outright.
    default = {
        **deployed.env,
        "POLLS_UVICORN_LOOP": "uvloop",
        "POLLS_UVICORN_HTTP": "httptools",
    }
    variants = [
        (f"default: uvloop, httptools, {THREADS} threads", {}),
        ("loop asyncio", {"POLLS_UVICORN_LOOP": "asyncio"}),
        ("parser h11", {"POLLS_UVICORN_HTTP": "h11"}),
        ("1 thread", {"POLLS_ASGI_THREADS": "1"}),
        ("4 threads", {"POLLS_ASGI_THREADS": "4"}),
        ("32 threads", {"POLLS_ASGI_THREADS": "32"}),
        ("no keep-alive from nginx", {"GUNICORN_KEEPALIVE": "0"}),
        # On the one pinned core: what more processes cost, not what they gain.
        ("3 workers on the one core", {"GUNICORN_WORKERS": "3"}),
    ]
    return [
        Server(f"UvicornWorker (asgi), {name}", [], env={**default, **change})
        for name, change in variants
    ]


@dataclass
class Workload:
    name: str
    path: str
    method: str = "GET"
    connections: int = 32


WORKLOADS = [
    Workload("index", "/polls/"),
    Workload("vote", "/polls/1/vote/", method="POST"),
    Workload("healthz", "/healthz"),
    Workload("io sync view", "/bench/slow-sync", connections=64),
    Workload("io async view", "/bench/slow-async", connections=64),
]
LIMIT_PATH = "/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_split() -> tuple[list[str], list[str], str]:
    """taskset prefixes for the server and the load generator."""
    if os.cpu_count() and os.cpu_count() >= 2 and shutil.which("taskset"):
        return (
            ["taskset", "-c", "1"],
            ["taskset", "-c", "0"],
            "server on CPU 1, wrk on 0",
        )
    return [], [], "not pinned (fewer than 2 CPUs)"


def app_env(database: Path, **extra: str) -> dict[str, str]:
    """This tree's app in production mode on ``database``, nothing inherited
    from the caller's POLLS_, GUNICORN_ or DJANGO_ variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POLLS_", "GUNICORN_", "DJANGO_"))
    }
    env.update(
        POLLS_ENV="production",
        POLLS_SECRET_KEY="bench-" + "x" * 60,
        POLLS_ALLOWED_HOSTS="127.0.0.1,localhost",
        POLLS_SSL_REDIRECT="false",
        POLLS_SQLITE_PATH=str(database),
        POLLS_STATIC_ROOT=str(database.parent / "static"),
        POLLS_LOG_LEVEL="WARNING",
        # The app of this tree, whatever the venv has installed.
        PYTHONPATH=str(PROJECT),
    )
    env.update(extra)
    return env


def bench_env(database: Path) -> dict[str, str]:
    return app_env(
        database,
        POLLS_BENCH_VIEWS="true",
        POLLS_BENCH_DELAY_MS="20",
        GUNICORN_ACCESS_LOG="0",  # no server logs a line per request
    )


# The floor of the front end: nginx answering without any upstream.
NGINX_CONF = """\
worker_processes @WORKERS@;
error_log @TMP@/nginx-error.log warn;
pid @TMP@/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path @TMP@/body;
    proxy_temp_path @TMP@/proxy;
    fastcgi_temp_path @TMP@/fastcgi;
    uwsgi_temp_path @TMP@/uwsgi;
    scgi_temp_path @TMP@/scgi;
    server {
        listen 127.0.0.1:@PORT@;
        location / { return 200 "hello\\n"; }
    }
}
"""


def prepare(tmp: Path) -> dict[str, str]:
    database = tmp / "bench.sqlite3"
    env = bench_env(database)
    for command in (
        ["migrate", "--no-input"],
        ["seed_polls"],
        ["collectstatic", "--no-input"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=PROJECT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    (tmp / "nginx.conf").write_text(NGINX_CONF)
    return env


# The sandbox's certificate is self-signed; everything here is loopback.
INSECURE = ssl.create_default_context()
INSECURE.check_hostname = False
INSECURE.verify_mode = ssl.CERT_NONE


def opener(jar: CookieJar | None = None) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [
        urllib.request.HTTPSHandler(context=INSECURE)
    ]
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    return urllib.request.build_opener(*handlers)


def wait_ready(
    url: str, process: subprocess.Popen | None = None, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            opener().open(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def vote_script(tmp: Path, base: str) -> Path:
    """A wrk script that posts votes with a real CSRF token and cookie."""
    jar = CookieJar()
    page = opener(jar).open(base + "/polls/1/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    choice = re.search(r'name="choice" id="choice1" value="([0-9]+)"', page)[1]
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    script = tmp / "vote.lua"
    script.write_text(textwrap.dedent(f"""\
            wrk.method = "POST"
            wrk.body = "csrfmiddlewaretoken={token}&choice={choice}"
            wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
            wrk.headers["Cookie"] = "{cookie}"
            wrk.headers["Referer"] = "{base}/polls/1/"
            """))
    return script


def to_ms(value: str) -> float:
    number, unit = re.match(r"([0-9.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    prefix: list[str], url: str, seconds: int, connections: int, script: Path | None
) -> dict[str, float]:
    command = [*prefix, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match[1])
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += int(match[1]) + int(match[3]) + int(match[4])
    return {
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", output)[1]),
        "p50_ms": to_ms(re.search(r"\s50%\s+([0-9.]+\w+)", output)[1]),
        "p99_ms": to_ms(re.search(r"\s99%\s+([0-9.]+\w+)", output)[1]),
        "errors": errors,
    }


def measure(
    server: Server,
    via: str,
    base: str,
    tmp: Path,
    args: argparse.Namespace,
    load_pin: list[str],
) -> list[dict]:
    """Every workload of one running configuration, each after a warm-up."""
    if server.kind == "app":
        workloads = [w for w in WORKLOADS if w.name in args.workloads]
    else:
        workloads = [limit_workload(server, base)]
    rows = []
    for workload in workloads:
        script = vote_script(tmp, base) if workload.method == "POST" else None
        url = base + workload.path
        wrk(load_pin, url, args.warmup, workload.connections, script)
        result = wrk(load_pin, url, args.duration, workload.connections, script)
        rows.append(
            {"via": via, "server": server.name, "workload": workload.name, **result}
        )
    return rows


def limit_workload(server: Server, base: str) -> Workload:
    if "static file" in server.name:
        # The stylesheet under its hashed name, as the pages link it.
        page = opener().open(base + "/polls/", timeout=10).read().decode()
        return Workload("hello", re.search(r'href="(/static/[^"]+\.css)"', page)[1])
    return Workload("hello", LIMIT_PATH)


@contextmanager
def serving(
    server: Server,
    env: dict[str, str],
    tmp: Path,
    workers: int,
    server_pin: list[str],
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start one server here; its base URL and process once it answers."""
    port = free_port()
    fill = {"port": port, "workers": workers, "tmp": tmp}
    command = [part.format(**fill) for part in server.command]
    if server.name.startswith("limit: nginx"):
        conf = (tmp / "nginx.conf").read_text().replace("@PORT@", str(port))
        conf = conf.replace("@WORKERS@", str(workers)).replace("@TMP@", str(tmp))
        (tmp / "nginx-run.conf").write_text(conf)
        command = [c.replace("nginx.conf", "nginx-run.conf") for c in command]
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen(
        [*server_pin, *command],
        cwd=PROJECT,
        env={**env, **server.env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        path = WORKLOADS[0].path if server.kind == "app" else LIMIT_PATH
        try:
            wait_ready(base + path, process)
        except RuntimeError as exc:
            tail = (tmp / "server.log").read_text()[-2000:]
            raise SystemExit(f"bench: {server.name}: {exc}\n{tail}") from None
        yield base, process
    finally:
        stop(process)
        log.close()


def run_cell(
    server: Server,
    env: dict[str, str],
    tmp: Path,
    workers: int,
    args: argparse.Namespace,
    pins: tuple[list[str], list[str]],
) -> list[dict]:
    """Start one server here, measure every workload on it, stop it."""
    server_pin, load_pin = pins
    with serving(server, env, tmp, workers, server_pin) as (base, _):
        return measure(server, "direct", base, tmp, args, load_pin)


def podman(*command: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["podman", *command], input=stdin, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(f"bench: podman {' '.join(command)}: {result.stderr.strip()}")
    return result.stdout


def stack_configure(environment: dict[str, str]) -> None:
    """Run the live instance with these variables (a drop-in), or as deployed."""
    if environment:
        text = "[Service]\n" + "".join(
            f"Environment={k}={v}\n" for k, v in environment.items()
        )
        podman(
            "exec",
            "-i",
            CONTAINER,
            "sh",
            "-c",
            f"mkdir -p {Path(DROPIN).parent} && cat > {DROPIN}",
            stdin=text,
        )
    else:
        podman("exec", CONTAINER, "rm", "-f", DROPIN)
    podman("exec", CONTAINER, "systemctl", "daemon-reload")
    podman("exec", CONTAINER, "systemctl", "try-restart", "polls@*.service")
    try:
        wait_ready(STACK_URL + "/healthz", timeout=60)
    except RuntimeError as exc:
        log = podman("exec", CONTAINER, "journalctl", "-u", "polls@*", "-n", "30")
        raise SystemExit(f"bench: the stack did not come back: {exc}\n{log}") from None


def stack_pin(cpus: str) -> None:
    """Pin every process of the container (and so their children) to ``cpus``."""
    for line in podman("top", CONTAINER, "hpid").splitlines()[1:]:
        subprocess.run(
            ["taskset", "-a", "-p", "-c", cpus, line.strip()],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def stack_check() -> None:
    state = subprocess.run(
        ["podman", "inspect", "-f", "{{.State.Running}}", CONTAINER],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if state != "true":
        sys.exit(f"bench: the sandbox container {CONTAINER} is not running (make demo)")


def run_stack_cell(
    server: Server,
    tmp: Path,
    workers: int,
    args: argparse.Namespace,
    pins: tuple[list[str], list[str]],
) -> list[dict]:
    """Switch the live instance to one configuration and measure it via nginx."""
    if server.kind == "app":
        environment = {**STACK_COMMON, **server.env}
        stack_configure({k: v.format(workers=workers) for k, v in environment.items()})
    return measure(server, "nginx TLS", STACK_URL, tmp, args, pins[1])


def stop(process: subprocess.Popen) -> None:
    """Stop a server and everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


VIAS = ["direct", "nginx TLS"]


def summarise(rows: list[dict]) -> list[dict]:
    cells: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        cells.setdefault((row["via"], row["workload"], row["server"]), []).append(row)
    summary = []
    for (via, workload, server), runs in cells.items():
        rps = [r["rps"] for r in runs]
        summary.append(
            {
                "via": via,
                "workload": workload,
                "server": server,
                "rps": statistics.median(rps),
                "rps_min": min(rps),
                "rps_max": max(rps),
                "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                "errors": sum(r["errors"] for r in runs),
            }
        )
    for key in {(s["via"], s["workload"]) for s in summary}:
        group = [s for s in summary if (s["via"], s["workload"]) == key]
        # Ratios compare servers of the app; the floors compare among themselves;
        # a cell that answered errors is no yardstick.
        clean = [s for s in group if not s["errors"]] or group
        apps = [s["rps"] for s in clean if not s["server"].startswith("limit")]
        best = max(apps or [s["rps"] for s in clean])
        for s in group:
            s["ratio"] = s["rps"] / best if best else 0.0
    order = [w.name for w in WORKLOADS] + ["hello"]
    summary.sort(
        key=lambda s: (VIAS.index(s["via"]), order.index(s["workload"]), -s["rps"])
    )
    return summary


def markdown(summary: list[dict], meta: str, db_notes: dict[str, str]) -> str:
    lines = [
        meta,
        "",
        "| via | workload | server | req/s (median) | spread | x best | p50 ms "
        "| p99 ms | errors | persistent DB connection |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in summary:
        lines.append(
            f"| {s['via']} | {s['workload']} | {s['server']} | {s['rps']:.0f} "
            f"| {s['rps_min']:.0f}-{s['rps_max']:.0f} | {s['ratio']:.2f} "
            f"| {s['p50_ms']:.1f} | {s['p99_ms']:.1f} | {s['errors']} "
            f"| {db_notes.get(s['server'], '')} |"
        )
    # What the front end costs: the same configuration through nginx vs direct.
    direct = {
        (s["workload"], s["server"]): s["rps"] for s in summary if s["via"] == "direct"
    }
    both = [
        s
        for s in summary
        if s["via"] == "nginx TLS" and (s["workload"], s["server"]) in direct
    ]
    if both:
        lines += [
            "",
            "| workload | server | direct req/s | nginx TLS req/s | nginx / direct |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for s in both:
            alone = direct[(s["workload"], s["server"])]
            if not alone:
                continue
            lines.append(
                f"| {s['workload']} | {s['server']} | {alone:.0f} | {s['rps']:.0f} "
                f"| {s['rps'] / alone:.2f} |"
            )
    return "\n".join(lines) + "\n"


def charts(summary: list[dict], directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = [
        w for w in dict.fromkeys(s["workload"] for s in summary) if w != "hello"
    ]
    servers_ = [
        s
        for s in dict.fromkeys(s["server"] for s in summary)
        if not s.startswith("limit")
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
                values = {
                    s["server"]: s[metric]
                    for s in summary
                    if s["workload"] == workload and s["via"] == via
                }
                names = [n for n in servers_ if n in values]
                errors = {
                    s["server"]
                    for s in summary
                    if s["workload"] == workload and s["via"] == via and s["errors"]
                }
                colors = [
                    (
                        "#bbbbbb"
                        if n in errors
                        else "#d9822b" if n == DEFAULT else "#44729e"
                    )
                    for n in names
                ]
                bars = ax.barh(names, [values[n] for n in names], color=colors)
                for bar, server in zip(bars, names, strict=True):
                    if server in errors:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=6, help="seconds per cell")
    parser.add_argument("--warmup", type=int, default=2, help="seconds, discarded")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated server names")
    parser.add_argument("--output", type=Path, default=RESULTS)
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
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 1, 1
    args.workloads = [w.strip() for w in args.workloads.split(",")]
    unknown = set(args.workloads) - {w.name for w in WORKLOADS}
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is not installed (apt-get install wrk nginx)")

    chosen, stacked = servers(), [] if args.no_stack else stack_servers()
    if args.tuning:
        chosen, stacked = [], tuning_servers()
    if args.only:
        wanted = [n.strip() for n in args.only.split(",")]
        chosen = [s for s in chosen if any(w in s.name for w in wanted)]
        stacked = [s for s in stacked if any(w in s.name for w in wanted)]
    server_pin, load_pin, pin_note = cpu_split()
    pins = (server_pin, load_pin)
    args.output.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    if args.from_csv:
        chosen, stacked = servers(), stack_servers()
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
        report(rows, args, pin_note, chosen, stacked)
        return
    if stacked:
        stack_check()
    with tempfile.TemporaryDirectory(prefix="polls-bench-") as scratch:
        tmp = Path(scratch)
        env = prepare(tmp)
        try:
            if stacked and server_pin:
                stack_pin("1")
            for round_ in range(1, args.rounds + 1):
                for server in chosen:
                    print(f"round {round_}/{args.rounds}: {server.name}", flush=True)
                    for row in run_cell(server, env, tmp, args.workers, args, pins):
                        rows.append({"round": round_, **row})
                for server in stacked:
                    print(
                        f"round {round_}/{args.rounds}: {server.name} via nginx TLS",
                        flush=True,
                    )
                    for row in run_stack_cell(server, tmp, args.workers, args, pins):
                        rows.append({"round": round_, **row})
        finally:
            if stacked:
                print(
                    "bench: the sandbox's polls instance back as deployed", flush=True
                )
                stack_configure({})
                stack_pin(f"0-{(os.cpu_count() or 1) - 1}")

    prefix = "tuning-" if args.tuning else ""
    with (args.output / f"{prefix}runs.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report(rows, args, pin_note, chosen, stacked)


def report(
    rows: list[dict],
    args: argparse.Namespace,
    pin_note: str,
    chosen: list[Server],
    stacked: list[Server],
) -> None:
    """Write the table and the charts; exit non-zero if the harness failed."""
    prefix = "tuning-" if args.tuning else ""
    summary = summarise(rows)
    meta = (
        f"{args.rounds} round(s) x {args.duration:g}s per cell after a "
        f"{args.warmup:g}s warm-up; {args.workers} worker process(es) each; "
        f"wrk -t1, 32 connections (64 for the I/O views), keep-alive on; "
        f"{pin_note}; {os.cpu_count()} CPUs; SQLite (WAL); 20 ms upstream delay "
        f"in the I/O views. Through nginx: the sandbox container's processes on "
        f"the server's CPU, gunicorn's access log off, nginx's as deployed."
    )
    db_notes = {s.name: s.persistent_db for s in [*chosen, *stacked]}
    table = markdown(summary, meta, db_notes)
    (args.output / f"{prefix}results.md").write_text(table)
    if not args.tuning:
        charts(summary, args.output)
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
