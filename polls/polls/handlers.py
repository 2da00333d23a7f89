"""The ASGI handler of polls.asgi: Django's, with long-lived threads for sync code.

Django's ASGIHandler gives every request a thread of its own for the sync
code it calls (sync views, signal receivers, each query of the async ORM), and
that thread ends with the request. A database connection belongs to a thread,
so under ASGI every request opens a new one and closes it: on SQLite that is
about half a millisecond, more than the query itself; on PostgreSQL a new
backend process unless a pool is configured.

``RequestThreads`` keeps a few threads per worker process instead, and lends
one to each request for its lifetime, the way gunicorn's gthread worker lends
its threads. The rules Django relies on still hold: all sync code of one
request runs in one thread, in order. Connections then live as long as
CONN_MAX_AGE allows, as under WSGI. When more requests are in flight than
there are threads, requests share the least busy thread: sync code of at most
``size`` requests runs at once, as in a gthread worker with ``size`` threads.

It uses the two class attributes of asgiref's SyncToAsync that
ThreadSensitiveContext itself uses (a context variable and a map from context
to executor); polls/tests/test_handlers.py pins that behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

from .middleware import TWINS


class RequestThreads:
    """A fixed set of single-thread executors, lent to requests."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"RequestThreads needs at least 1 thread, not {size}")
        self.size = size
        self._executors: list[ThreadPoolExecutor] = []
        self._busy: dict[ThreadPoolExecutor, int] = {}

    def _take(self) -> ThreadPoolExecutor:
        # The event loop is single-threaded: no lock needed. Prefer an idle
        # thread that served recently (its connection is warm), then a new
        # one, then the least busy.
        for executor in reversed(self._executors):
            if not self._busy[executor]:
                break
        else:
            if len(self._executors) < self.size:
                executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="polls-request"
                )
                self._executors.append(executor)
                self._busy[executor] = 0
            else:
                executor = min(self._executors, key=self._busy.__getitem__)
        self._busy[executor] += 1
        # Most recently used last.
        self._executors.remove(executor)
        self._executors.append(executor)
        return executor

    @asynccontextmanager
    async def lend(self) -> AsyncIterator[None]:
        """Run the sync code of the enclosed request on one pooled thread."""
        executor = self._take()
        key = ThreadSensitiveContext()  # only a key here; never entered
        token = SyncToAsync.thread_sensitive_context.set(key)
        SyncToAsync.context_to_thread_executor[key] = executor
        try:
            yield
        finally:
            SyncToAsync.context_to_thread_executor.pop(key, None)
            SyncToAsync.thread_sensitive_context.reset(token)
            self._busy[executor] -= 1


class TwinMiddlewareMixin:
    """Load the twins of polls.middleware in place of Django's classes."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Runs once, at start-up, before any request: the swap is not seen by
        # anything else.
        configured = settings.MIDDLEWARE
        settings.MIDDLEWARE = [TWINS.get(path, path) for path in configured]
        try:
            super().load_middleware(is_async)  # type: ignore[misc]
        finally:
            settings.MIDDLEWARE = configured


class PollsASGIHandler(TwinMiddlewareMixin, ASGIHandler):
    """Django's ASGIHandler with RequestThreads instead of a thread per request,
    and the middleware twins of polls.middleware instead of Django's classes."""

    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        self.threads = RequestThreads(threads or settings.ASGI_THREADS)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            # Django's own answer to other scopes (an error).
            return await super().__call__(scope, receive, send)
        async with self.threads.lend():
            await self.handle(scope, receive, send)
