"""Process and container control: the servers started here, the sandbox's.

Direct: a scratch directory with a seeded SQLite file (``prepare``), servers
started in their own session and pinned to a core (``serving``), stopped with
everything they started. Stack: the sandbox container's live instance switched
to a configuration by a runtime drop-in (``stack_configure``), its processes
pinned (``stack_pin``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

import deployment  # bench/deployment.py
from catalogue import Server

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "polls"

# The deployed stack: the sandbox container of `make demo`.
CONTAINER = deployment.sandbox_container()
STACK_URL = deployment.sandbox_url()
# A drop-in for the template reaches both instances; only the running (live)
# one is restarted.
DROPIN = "/run/systemd/system/polls@.service.d/50-bench.conf"

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


def prepare(tmp: Path, **extra: str) -> dict[str, str]:
    """A migrated, seeded database (a SQLite file in ``tmp``, or the one
    ``POLLS_DATABASE_URL`` names in ``extra``) and static files; the app's env."""
    database = tmp / "bench.sqlite3"
    env = {**bench_env(database), **extra}
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
    return env


@contextmanager
def serving(
    server: Server,
    env: dict[str, str],
    tmp: Path,
    workers: int,
    server_pin: list[str],
    ready_path: str,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start one server here; its base URL and process once ``ready_path`` answers."""
    port = free_port()
    fill = {"port": port, "workers": workers, "tmp": tmp}
    command = [part.format(**fill) for part in server.command]
    if server.nginx_conf:
        conf = NGINX_CONF.replace("@PORT@", str(port))
        conf = conf.replace("@WORKERS@", str(workers)).replace("@TMP@", str(tmp))
        (tmp / "nginx-run.conf").write_text(conf)
    log_path = tmp / f"server-{port}.log"
    log = log_path.open("w")
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
        try:
            wait_ready(base + ready_path, process)
        except RuntimeError as exc:
            tail = log_path.read_text()[-2000:]
            raise SystemExit(f"bench: {server.name}: {exc}\n{tail}") from None
        yield base, process
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen) -> None:
    """Stop a server and everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


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
    """Exit unless the sandbox container runs and answers a command."""
    probe = subprocess.run(
        ["podman", "exec", CONTAINER, "true"], capture_output=True, text=True
    )
    if probe.returncode:
        sys.exit(f"bench: the sandbox container {CONTAINER} is not running (make demo)")
