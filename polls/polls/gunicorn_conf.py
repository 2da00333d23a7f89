"""gunicorn settings for polls, tunable from the environment.

Load it with ``gunicorn -c python:polls.gunicorn_conf``; ``gunicorn.conf.py``
beside ``manage.py`` imports it, so ``cd polls && gunicorn polls.wsgi`` uses it
too. Options given on the command line win over these.

Each variable sets one gunicorn setting; an unset one leaves gunicorn's own
default (https://docs.gunicorn.org/en/stable/settings.html), so no default is
restated here. The deployment's values are the gunicorn role's
(roles/gunicorn/defaults/main.yml), which its unit sets in these variables.

    GUNICORN_APP              wsgi_app: the application when none is on the
                              command line (polls.asgi or polls.wsgi)
    GUNICORN_WORKER_CLASS     worker_class (polls.workers.UvicornWorker, asgi,
                              gthread, sync)
    GUNICORN_BIND             bind, when systemd passes no socket
    GUNICORN_WORKERS          workers
    GUNICORN_THREADS          threads (gthread)
    GUNICORN_TIMEOUT          timeout: seconds before a silent worker is killed
    GUNICORN_GRACEFUL_TIMEOUT graceful_timeout: seconds a worker gets to finish
    GUNICORN_KEEPALIVE        keepalive: seconds an idle connection stays open
    GUNICORN_BACKLOG          backlog
    GUNICORN_MAX_REQUESTS     max_requests: recycle a worker after this many
                              requests (with a jitter of a tenth)
    GUNICORN_LOG_LEVEL        loglevel
    GUNICORN_ACCESS_LOG       true: one line per request to stdout (the journal)
    GUNICORN_CONTROL_SOCKET   control_socket; unset or empty: none
    GUNICORN_FORWARDED_ALLOW_IPS  forwarded_allow_ips and proxy_allow_ips

With systemd socket activation (``LISTEN_FDS`` set), gunicorn serves the
sockets systemd hands it and ignores ``bind``.
"""

import ctypes
import os
import signal
import sys

from polls import environ

LOG_LEVELS = {"debug", "info", "warning", "error", "critical"}
TEXTS = {
    "wsgi_app": "GUNICORN_APP",
    "worker_class": "GUNICORN_WORKER_CLASS",
    "bind": "GUNICORN_BIND",
    "forwarded_allow_ips": "GUNICORN_FORWARDED_ALLOW_IPS",
    "proxy_allow_ips": "GUNICORN_FORWARDED_ALLOW_IPS",
}
INTEGERS = {  # setting: (variable, minimum)
    "workers": ("GUNICORN_WORKERS", 1),
    "threads": ("GUNICORN_THREADS", 1),
    "timeout": ("GUNICORN_TIMEOUT", 0),
    "graceful_timeout": ("GUNICORN_GRACEFUL_TIMEOUT", 0),
    "keepalive": ("GUNICORN_KEEPALIVE", 0),
    "backlog": ("GUNICORN_BACKLOG", 1),
    "max_requests": ("GUNICORN_MAX_REQUESTS", 0),
}


def from_environment(env: environ.Environ = os.environ) -> dict[str, object]:
    """The gunicorn settings the set ``GUNICORN_*`` variables ask for."""
    settings: dict[str, object] = {
        setting: value
        for setting, variable in TEXTS.items()
        if (value := environ.text(variable, environ=env))
    }
    for setting, (variable, minimum) in INTEGERS.items():
        if environ.text(variable, environ=env):
            settings[setting] = environ.integer(variable, 0, minimum, env)
    if "max_requests" in settings:
        settings["max_requests_jitter"] = settings["max_requests"] // 10
    if environ.text("GUNICORN_LOG_LEVEL", environ=env):
        settings["loglevel"] = environ.choice("GUNICORN_LOG_LEVEL", "", LOG_LEVELS, env)
    if environ.boolean("GUNICORN_ACCESS_LOG", False, env):
        settings["accesslog"] = "-"
    # gunicorn >= 25 opens a control socket by default; keep it where the
    # service may write (its RuntimeDirectory) or switch it off.
    control_socket = environ.text("GUNICORN_CONTROL_SOCKET", environ=env)
    if control_socket:
        settings["control_socket"] = control_socket
    else:
        settings["control_socket_disable"] = True
    return settings


# journald-friendly: errors to stderr, access lines (when on) to stdout, each
# with the client nginx saw.
errorlog = "-"
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms'

# gunicorn reads this module's names: the settings from the environment join
# them. A bad value stops the master in one line naming the variable.
try:
    SETTINGS = from_environment()
except environ.InvalidVariable as exc:
    sys.exit(f"polls: {exc}")
globals().update(SETTINGS)


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
    from polls.uvicorn_options import require_valid_options

    try:
        require_valid_options(str(SETTINGS.get("worker_class", "")))
    except environ.InvalidVariable as exc:
        sys.exit(f"polls: {exc}")
