"""A gunicorn worker class for the polls ASGI application.

gunicorn's command line has no way to pass uvicorn's own options, so this
subclass of ``uvicorn_worker.UvicornWorker`` reads them from the environment
when the worker starts::

    POLLS_UVICORN_LIFESPAN  off (default) | on | auto
    POLLS_UVICORN_LOOP      auto (default) | uvloop | asyncio
    POLLS_UVICORN_HTTP      auto (default) | httptools | h11
    POLLS_UVICORN_INTERFACE auto (default) | asgi3 | asgi2 | wsgi

Django does not implement the ASGI lifespan protocol, so ``off`` is the default:
it spares a useless startup round-trip and a log line per worker.

Run it with ``gunicorn polls.asgi -k polls.workers.UvicornWorker``. Pointed at
``polls.wsgi``, uvicorn's ``auto`` mistakes Django's WSGIHandler (a callable
instance) for an ASGI 2 app and every request fails with 500; set
``POLLS_UVICORN_INTERFACE=wsgi`` to serve a WSGI app through uvicorn's own
WSGI adapter (a thread per request).
"""

import os
from typing import Any

from uvicorn_worker import UvicornWorker as BaseUvicornWorker

CHOICES = {
    "lifespan": ("off", {"off", "on", "auto"}),
    "loop": ("auto", {"auto", "uvloop", "asyncio"}),
    "http": ("auto", {"auto", "httptools", "h11"}),
    "interface": ("auto", {"auto", "asgi3", "asgi2", "wsgi"}),
}


def uvicorn_options(environ: os._Environ[str] | dict[str, str]) -> dict[str, str]:
    """uvicorn Config keyword arguments from ``POLLS_UVICORN_*`` variables."""
    options = {}
    for option, (default, allowed) in CHOICES.items():
        name = f"POLLS_UVICORN_{option.upper()}"
        value = environ.get(name, "").strip().lower() or default
        if value not in allowed:
            choices = ", ".join(sorted(allowed))
            raise ValueError(f"{name} must be one of {choices}, not {value!r}")
        options[option] = value
    return options


class UvicornWorker(BaseUvicornWorker):
    """``uvicorn_worker.UvicornWorker`` with lifespan, loop, parser and interface
    selectable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.CONFIG_KWARGS = {**BaseUvicornWorker.CONFIG_KWARGS}
        self.CONFIG_KWARGS.update(uvicorn_options(os.environ))
        super().__init__(*args, **kwargs)
