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

The worker also closes connections the way a proxy's upstream needs: when it
stops (``systemctl restart``, ``reload``, a blue/green switch), uvicorn closes
every connection that has no request in progress at once, and a request nginx
is writing on an idle keep-alive connection at that instant, or one already in
the socket buffer but not yet read, fails (a GET is retried by nginx, a vote is
not). The protocols here close only after answering what arrives, with
``Connection: close``, and leave idle connections to the side that sends
requests on them: nginx's upstream ``keepalive_timeout`` is shorter than the
worker's keep-alive, so nginx closes first.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker as BaseUvicornWorker

from polls.uvicorn_options import uvicorn_options


class DrainingMixin:
    """Shut a connection down without racing the client's next request.

    uvicorn's ``shutdown()`` closes a connection with no request in progress.
    This one marks it draining instead: a request that arrives is served with
    ``Connection: close`` and the connection then closes; one that stays idle
    is closed by its keep-alive timer (armed here for a connection that never
    had a request), normally after the client has closed it.
    """

    draining = False
    cycle: Any
    loop: asyncio.AbstractEventLoop
    timeout_keep_alive: float
    timeout_keep_alive_task: asyncio.TimerHandle | None
    timeout_keep_alive_handler: Any

    def shutdown(self) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
            return
        self.draining = True
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        # The parser made the request's cycle; its response is not started yet.
        if self.draining and self.cycle is not None:
            self.cycle.keep_alive = False


class DrainingHttpToolsProtocol(DrainingMixin, HttpToolsProtocol):
    """uvicorn's httptools protocol, drained on shutdown."""


class DrainingH11Protocol(DrainingMixin, H11Protocol):
    """uvicorn's h11 protocol, drained on shutdown."""


def draining_protocol(http: str) -> type[asyncio.Protocol]:
    """The draining protocol class for a ``POLLS_UVICORN_HTTP`` value."""
    if http == "h11":
        return DrainingH11Protocol
    return DrainingHttpToolsProtocol


class UvicornWorker(BaseUvicornWorker):
    """``uvicorn_worker.UvicornWorker`` with lifespan, loop, parser and interface
    selectable, and connections drained on shutdown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        options: dict[str, Any] = dict(uvicorn_options())
        options["http"] = draining_protocol(options["http"])
        self.CONFIG_KWARGS = {**BaseUvicornWorker.CONFIG_KWARGS, **options}
        super().__init__(*args, **kwargs)
