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
    GUNICORN_WORKERS          worker processes (default 2 * cores - 1)
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


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = os.environ.get("GUNICORN_APP") or None
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or "sync"
bind = [os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"]
workers = _int("GUNICORN_WORKERS", max(2 * multiprocessing.cpu_count() - 1, 1))
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
backlog = _int("GUNICORN_BACKLOG", 2048)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# journald-friendly: errors to stderr, one access line per request to stdout.
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
errorlog = "-"
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") == "1" else None
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms'

# gunicorn >= 25 opens a control socket by default; keep it where the service
# may write (its RuntimeDirectory) or switch it off.
_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
if _control:
    control_socket = _control
else:
    control_socket_disable = True

# nginx talks to us over a unix socket and sets X-Forwarded-*.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips


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
