"""The ``POLLS_UVICORN_*`` variables of polls.workers.UvicornWorker, read and
checked without importing uvicorn: gunicorn's master checks them before it
forks (only when the worker class is polls.workers'), and so does preflight.
"""

import os

from polls import environ

WORKER_MODULE = "polls.workers"
CHOICES = {
    "lifespan": ("off", {"off", "on", "auto"}),
    "loop": ("auto", {"auto", "uvloop", "asyncio"}),
    "http": ("auto", {"auto", "httptools", "h11"}),
    "interface": ("auto", {"auto", "asgi3", "asgi2", "wsgi"}),
}


def uvicorn_options(env: environ.Environ = os.environ) -> dict[str, str]:
    """uvicorn Config keyword arguments from ``POLLS_UVICORN_*`` variables."""
    return {
        option: environ.choice(f"POLLS_UVICORN_{option.upper()}", default, allowed, env)
        for option, (default, allowed) in CHOICES.items()
    }


def require_valid_options(worker_class: str) -> None:
    """Raise InvalidVariable for a bad ``POLLS_UVICORN_*`` variable, when
    ``worker_class`` is one of polls.workers' (gunicorn's master and preflight)."""
    if worker_class.startswith(WORKER_MODULE + "."):
        uvicorn_options()
