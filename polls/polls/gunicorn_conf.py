"""gunicorn settings for polls, tunable from the environment.

Load it with ``gunicorn -c python:polls.gunicorn_conf``; ``gunicorn.conf.py``
beside ``manage.py`` imports it, so ``cd polls && gunicorn polls.wsgi`` uses it
too. Options given on the command line win over these.

    GUNICORN_APP              the application when none is on the command line
                              (polls.asgi or polls.wsgi)
    GUNICORN_WORKER_CLASS     worker class (default sync; polls.workers.UvicornWorker,
                              asgi, gthread)
    GUNICORN_BIND             where to listen when systemd passes no socket
                              (default 127.0.0.1:8000)
    GUNICORN_WORKERS          worker processes (default one per CPU, as the
                              benchmark chose)
    GUNICORN_THREADS          threads per worker for gthread (default 1)
    GUNICORN_TIMEOUT          seconds before a silent worker is killed (30)
    GUNICORN_GRACEFUL_TIMEOUT seconds a worker gets to finish on stop (30)
    GUNICORN_KEEPALIVE        seconds to hold an idle keep-alive connection (5)
    GUNICORN_BACKLOG          listen backlog (2048)
    GUNICORN_MAX_REQUESTS     recycle a worker after this many requests (0: never)
    GUNICORN_LOG_LEVEL        gunicorn's log level (info)
    GUNICORN_ACCESS_LOG       1 to log each request to stdout (default 1)
    GUNICORN_CONTROL_SOCKET   path of gunicorn's control socket; empty: none

With systemd socket activation (``LISTEN_FDS`` set), gunicorn serves the
sockets systemd hands it and ignores ``bind``.
"""

import ctypes
import multiprocessing
import os
import signal
import sys

from polls import environ

LOG_LEVELS = {"debug", "info", "warning", "error", "critical"}


# A bad value stops the master in one line naming the variable.
try:
    wsgi_app = environ.text("GUNICORN_APP") or None
    worker_class = environ.text("GUNICORN_WORKER_CLASS", "sync")
    bind = [environ.text("GUNICORN_BIND", "127.0.0.1:8000")]
    workers = environ.integer("GUNICORN_WORKERS", multiprocessing.cpu_count(), 1)
    threads = environ.integer("GUNICORN_THREADS", 1, minimum=1)
    timeout = environ.integer("GUNICORN_TIMEOUT", 30, minimum=0)
    graceful_timeout = environ.integer("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=0)
    keepalive = environ.integer("GUNICORN_KEEPALIVE", 5, minimum=0)
    backlog = environ.integer("GUNICORN_BACKLOG", 2048, minimum=1)
    max_requests = environ.integer("GUNICORN_MAX_REQUESTS", 0, minimum=0)
    max_requests_jitter = max_requests // 10

    # journald-friendly: errors to stderr, one access line per request to stdout.
    loglevel = environ.choice("GUNICORN_LOG_LEVEL", "info", LOG_LEVELS)
    errorlog = "-"
    accesslog = "-" if environ.boolean("GUNICORN_ACCESS_LOG", True) else None
    access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms'

    # gunicorn >= 25 opens a control socket by default; keep it where the
    # service may write (its RuntimeDirectory) or switch it off.
    control_socket = environ.text("GUNICORN_CONTROL_SOCKET") or None
    control_socket_disable = control_socket is None

    # nginx talks to us over a unix socket and sets X-Forwarded-*.
    forwarded_allow_ips = environ.text("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    proxy_allow_ips = forwarded_allow_ips
except environ.InvalidVariable as exc:
    sys.exit(f"polls: {exc}")


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def post_fork(server: object, worker: object) -> None:
    """Make each worker die with its master.

    If the master is killed (``kill -9``, the OOM killer), its workers would
    otherwise live on until systemd's stop timeout, keeping the service from
    restarting; the kernel now sends them SIGTERM, which they handle
    gracefully.
    """
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        worker.log.warning("prctl(PR_SET_PDEATHSIG) failed: %s", ctypes.get_errno())
    elif os.getppid() != worker.ppid:
        os.kill(os.getpid(), signal.SIGTERM)  # the master died before prctl


def on_starting(server: object) -> None:
    """Refuse to start, in one line, when the Django settings are invalid."""
    from polls import require_valid_settings

    require_valid_settings()
    if worker_class.startswith("polls.workers."):
        from polls.workers import uvicorn_options

        try:
            uvicorn_options()
        except environ.InvalidVariable as exc:
            sys.exit(f"polls: {exc}")
