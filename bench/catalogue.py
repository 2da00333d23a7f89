"""What the benchmark measures: the server configurations and the workloads.

``servers()`` are started here (direct), ``stack_servers()`` are what the
deployment offers and run as the sandbox's live instance (through nginx),
``tuning_servers()`` are the deployed default with one setting changed at a
time. Values the deployment already has (the threads, the worker class) are
read from it (bench/deployment.py), not restated.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import deployment  # bench/deployment.py

BIN = Path(sys.executable).parent
BENCH_DIR = Path(__file__).resolve().parent
# Threads per process for gthread and for the ASGI request threads: the
# deployed default (gunicorn_threads), so both kinds get the same.
THREADS = deployment.gunicorn_default("gunicorn_threads")
UVICORN_WORKER = deployment.gunicorn_default("gunicorn_worker_class")
# The deployed configuration: the gunicorn role's worker class on polls.asgi.
DEFAULT = "gunicorn UvicornWorker (asgi)"
# uvicorn warns that its own WSGI adapter is deprecated; the gunicorn role
# does not offer it. It stays measured: it was the fastest WSGI configuration.
UVICORN_WSGI = "uvicorn's WSGI adapter is deprecated upstream"
# The ASGI request threads: as many as gthread's.
ASGI_THREADS = {"POLLS_ASGI_THREADS": str(THREADS)}


@dataclass
class Server:
    name: str
    command: list[str]  # {port}, {workers} and {tmp} are filled in
    kind: str = "app"  # app: the polls app | limit: a floor without Django
    interface: str = "asgi"  # asgi | wsgi | none: what the app is served as
    env: dict[str, str] = field(default_factory=dict)
    persistent_db: str = "yes, one per thread"
    # A floor's one path; {stylesheet} is the stylesheet the index links.
    limit_path: str = "/"
    # The command is nginx and reads {tmp}/nginx-run.conf, written from
    # control.NGINX_CONF for this server's port.
    nginx_conf: bool = False
    # Why the configuration is measured but not one to run, if it is not.
    deprecated: str = ""


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
# What a floor's cells are called in the table.
LIMIT_WORKLOAD = "hello"


@dataclass
class Gunicorn:
    """A gunicorn configuration as the variables the gunicorn role's unit sets
    (polls/gunicorn_conf.py reads them): the same for a server started here
    and for the sandbox's live instance."""

    name: str
    app: str
    worker_class: str
    interface: str = "asgi"
    extra: dict[str, str] = field(default_factory=dict)
    deprecated: str = ""

    def variables(self) -> dict[str, str]:
        return {
            "GUNICORN_APP": self.app,
            "GUNICORN_WORKER_CLASS": self.worker_class,
            **self.extra,
        }

    def server(self, command: list[str], **extra: str) -> Server:
        """This configuration run by ``command`` ([] for the stack's instance)."""
        return Server(
            self.name,
            command,
            interface=self.interface,
            env=self.variables(),
            deprecated=self.deprecated,
            **extra,
        )


# The configurations the deployment offers (gunicorn_worker_class), measured
# directly and through the stack.
GUNICORN = [
    Gunicorn("gunicorn sync (wsgi)", "polls.wsgi", "sync", "wsgi"),
    Gunicorn(
        f"gunicorn gthread x{THREADS} (wsgi)",
        "polls.wsgi",
        "gthread",
        "wsgi",
        {"GUNICORN_THREADS": str(THREADS)},
    ),
    Gunicorn(DEFAULT, "polls.asgi", UVICORN_WORKER, extra=ASGI_THREADS),
    # uvicorn's "auto" takes Django's WSGIHandler for ASGI 2 and answers 500
    # to everything; the project's worker can say it is WSGI.
    Gunicorn(
        "gunicorn UvicornWorker (wsgi)",
        "polls.wsgi",
        UVICORN_WORKER,
        "wsgi",
        {"POLLS_UVICORN_INTERFACE": "wsgi"},
        deprecated=UVICORN_WSGI,
    ),
    Gunicorn("gunicorn asgi worker (asgi)", "polls.asgi", "asgi", extra=ASGI_THREADS),
]
# Where the ASGI path started: Django's own handler, middleware and class
# views, a thread and a database connection per request (direct only).
STOCK_DJANGO = Gunicorn(
    "gunicorn UvicornWorker, stock Django handler (asgi)",
    "django.core.asgi:get_asgi_application()",
    UVICORN_WORKER,
    extra={"DJANGO_SETTINGS_MODULE": "polls.settings", "POLLS_DB_CONN_MAX_AGE": "0"},
)


def servers() -> list[Server]:
    # Run in polls/, gunicorn reads polls/gunicorn.conf.py (the deployment's
    # polls.gunicorn_conf) and so the variables of a Gunicorn configuration.
    gunicorn = [str(BIN / "gunicorn"), "--bind", "127.0.0.1:{port}"]
    gunicorn += ["--workers", "{workers}", "--no-control-socket"]

    def uvicorn(app: str, *extra: str) -> list[str]:
        return [
            str(BIN / "uvicorn"),
            app,
            *extra,
            *("--port", "{port}", "--workers", "{workers}", "--lifespan", "off"),
            *("--no-access-log", "--log-level", "warning"),
        ]

    def granian(interface: str, app: str) -> list[str]:
        # A WSGI app's requests run on granian's blocking threads: as many as
        # every other threaded configuration gets (its default is far more).
        threads = ["--blocking-threads", str(THREADS)] if interface == "wsgi" else []
        return [
            str(BIN / "granian"),
            *("--interface", interface, "--port", "{port}"),
            *("--workers", "{workers}", *threads, "--no-ws", app),
        ]

    nothing = "no database"
    return [
        *(config.server(gunicorn) for config in GUNICORN),
        STOCK_DJANGO.server(gunicorn, persistent_db="no, one per request"),
        Server("uvicorn (asgi)", uvicorn("polls.asgi:application")),
        Server(
            "granian (wsgi)",
            granian("wsgi", "polls.wsgi:application"),
            interface="wsgi",
        ),
        Server("granian (asgi)", granian("asgi", "polls.asgi:application")),
        # The floors: how fast each kind of server answers without Django.
        Server(
            "limit: raw ASGI hello (uvicorn)",
            uvicorn("hello:asgi", "--app-dir", str(BENCH_DIR)),
            kind="limit",
            interface="none",
            persistent_db=nothing,
        ),
        Server(
            "limit: raw WSGI hello (gunicorn)",
            [*gunicorn, "--chdir", str(BENCH_DIR), "hello:wsgi"],
            kind="limit",
            interface="none",
            persistent_db=nothing,
        ),
        Server(
            "limit: nginx return 200",
            ["nginx", "-p", "{tmp}", "-c", "{tmp}/nginx-run.conf", "-g", "daemon off;"],
            kind="limit",
            interface="none",
            persistent_db=nothing,
            nginx_conf=True,
        ),
    ]


# What the stack's live instance runs with for every configuration: a drop-in
# sets these (control.stack_configure).
STACK_COMMON = {
    "GUNICORN_WORKERS": "{workers}",
    "GUNICORN_ACCESS_LOG": "0",
    "POLLS_BENCH_VIEWS": "true",
    "POLLS_BENCH_DELAY_MS": "20",
}


def stack_servers() -> list[Server]:
    """The gunicorn configurations the deployment offers (gunicorn_worker_class)."""

    return [
        *(config.server([]) for config in GUNICORN),
        Server(
            "limit: nginx TLS static file",
            [],
            kind="limit",
            interface="none",
            persistent_db="no database",
            limit_path="{stylesheet}",
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


def pick(candidates: list[Server], only: str) -> list[Server]:
    """The servers whose names contain one of the comma-separated ``only``."""
    if not only:
        return candidates
    wanted = [name.strip() for name in only.split(",")]
    return [s for s in candidates if any(w in s.name for w in wanted)]
