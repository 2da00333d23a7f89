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

Each trip from the event loop to a thread and back costs a request about as
much CPU as rendering its template (see bench/README.md). Django makes two per
request that do no work of the request: one to run django.db's receivers of
``request_started`` (``reset_queries``, ``close_old_connections``), one for
``response.close()``, whose ``request_finished`` runs ``close_old_connections``
again. Those receivers look after the connections *of the thread they run on*.
``PollsASGIHandler`` runs them on the request's thread, just before the first
job it sends there, and closes the response on the event loop.

It uses the two class attributes of asgiref's SyncToAsync that
ThreadSensitiveContext itself uses (a context variable and a map from context
to executor), and a copy of ASGIHandler.handle from Django 5.2;
polls/tests/test_handlers.py pins both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from typing import Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import close_old_connections, reset_queries
from django.urls import set_script_prefix

from .middleware import TWINS


def fresh_request(job: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """django.db's per-request housekeeping on this thread, then the job."""
    reset_queries()
    close_old_connections()
    return job(*args, **kwargs)


class RequestExecutor(ThreadPoolExecutor):
    """One thread; the first job after ``new_request()`` does the housekeeping."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="polls-request")
        self.housekeeping_due = False

    def new_request(self) -> None:
        self.housekeeping_due = True

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self.housekeeping_due:
            self.housekeeping_due = False
            return super().submit(fresh_request, fn, *args, **kwargs)
        return super().submit(fn, *args, **kwargs)


class RequestThreads:
    """A fixed set of single-thread executors, lent to requests.

    ``close_after``: also run close_old_connections when a request ends, as
    Django does, for databases whose connections must not outlive a request
    (CONN_MAX_AGE 0, and connection pools, which get them back that way). The
    job is queued on the thread, not awaited: the response does not wait.
    """

    def __init__(self, size: int, close_after: bool = False) -> None:
        if size < 1:
            raise ValueError(f"RequestThreads needs at least 1 thread, not {size}")
        self.size = size
        self.close_after = close_after
        self._executors: list[RequestExecutor] = []
        self._busy: dict[RequestExecutor, int] = {}

    def _take(self) -> RequestExecutor:
        # The event loop is single-threaded: no lock needed. Prefer an idle
        # thread that served recently (its connection is warm), then a new
        # one, then the least busy.
        for executor in reversed(self._executors):
            if not self._busy[executor]:
                break
        else:
            if len(self._executors) < self.size:
                executor = RequestExecutor()
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
    async def lend(self) -> AsyncIterator[RequestExecutor]:
        """Run the sync code of the enclosed request on one pooled thread."""
        executor = self._take()
        executor.new_request()
        key = ThreadSensitiveContext()  # only a key here; never entered
        token = SyncToAsync.thread_sensitive_context.set(key)
        SyncToAsync.context_to_thread_executor[key] = executor
        try:
            yield executor
        finally:
            SyncToAsync.context_to_thread_executor.pop(key, None)
            SyncToAsync.thread_sensitive_context.reset(token)
            self._busy[executor] -= 1
            if self.close_after and not executor.housekeeping_due:
                executor.submit(close_old_connections)


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


# django.db's receivers, which RequestExecutor runs on the request's thread.
HOUSEKEEPING = [
    (signals.request_started, reset_queries),
    (signals.request_started, close_old_connections),
    (signals.request_finished, close_old_connections),
]


def take_over_housekeeping() -> None:
    """Disconnect django.db's request receivers from the signals (idempotent).

    Under this handler they would run on a thread of their own, looking after
    connections that thread does not have; RequestExecutor runs them where
    the connections are.
    """
    for signal, receiver in HOUSEKEEPING:
        signal.disconnect(receiver)


class PollsASGIHandler(TwinMiddlewareMixin, ASGIHandler):
    """Django's ASGIHandler with RequestThreads instead of a thread per request,
    the middleware twins of polls.middleware instead of Django's classes, and
    no thread trip for signals or for closing the response."""

    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        per_request = any(
            not database.get("CONN_MAX_AGE", 0)
            for database in settings.DATABASES.values()
        )
        self.threads = RequestThreads(
            threads or settings.ASGI_THREADS, close_after=per_request
        )
        take_over_housekeeping()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            # Django's own answer to other scopes (an error).
            return await super().__call__(scope, receive, send)
        async with self.threads.lend():
            await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """ASGIHandler.handle of Django 5.2, closing responses on the event loop.

        ``response.close()`` closes the response's files and sends
        request_finished, whose receivers are now non-blocking (django.db's
        run on the request's thread). Otherwise Django's, statement for statement.
        """
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        # Without django.db's receivers, no sync receiver is left: no thread.
        await signals.request_started.asend(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            error_response.close()
            return

        async def process_request(request: Any, send: Any) -> Any:
            response = await self.run_get_response(request)
            # A client gone during send_response is not an error.
            with suppress(asyncio.CancelledError):
                await self.send_response(response, send)
            return response

        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            response.close()
        body_file.close()
