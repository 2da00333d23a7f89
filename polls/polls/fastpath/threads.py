"""Long-lived threads for the sync code of ASGI requests.

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

The thread of a request also runs django.db's per-request housekeeping
(``reset_queries``, ``close_old_connections``) just before the first job it
gets: those receivers look after the connections of the thread they run on.

It uses the two class attributes of asgiref's SyncToAsync that
ThreadSensitiveContext itself uses (a context variable and a map from context
to executor); polls/tests/test_fastpath.py pins that behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.db import close_old_connections, reset_queries


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
