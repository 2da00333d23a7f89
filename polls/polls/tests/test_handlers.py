"""PollsASGIHandler: long-lived threads for sync code, connections that last."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import threading
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.core.handlers.asgi import ASGIHandler
from django.db.backends.signals import connection_created

import polls.handlers
from polls.handlers import HOUSEKEEPING, PollsASGIHandler, RequestThreads

# Other threads than the test's read the database: no wrapping transaction.
pytestmark = pytest.mark.django_db(transaction=True)


async def get(app: Any, path: str) -> int:
    """One GET through the ASGI app; the response status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    body_sent = asyncio.Event()
    messages: list[dict] = []

    async def receive() -> dict:
        if not body_sent.is_set():
            body_sent.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect
        return {}

    async def send(message: dict) -> None:
        messages.append(message)

    await app(scope, receive, send)
    return messages[0]["status"]


@pytest.fixture
def opened() -> Any:
    """The threads on which database connections were opened, one per opening."""
    threads: list[int] = []

    def record(**kwargs: Any) -> None:
        threads.append(threading.get_ident())

    connection_created.connect(record, dispatch_uid="test-handlers")
    yield threads
    connection_created.disconnect(dispatch_uid="test-handlers")


@pytest.fixture
def app(settings: Any) -> Any:
    settings.ROOT_URLCONF = "polls.tests.urls_async"
    yield PollsASGIHandler(threads=2)
    for signal, receiver in HOUSEKEEPING:  # as other tests expect them
        signal.connect(receiver)


def test_requests_reuse_one_thread_and_one_connection(app, opened) -> None:
    """One after the other, requests run on one thread and one connection."""

    async def three() -> list[int]:
        return [await get(app, "/healthz") for _ in range(3)]

    assert asyncio.run(three()) == [200, 200, 200]
    assert len(opened) == 1, opened
    assert opened[0] != threading.get_ident()


def test_concurrent_requests_share_at_most_size_threads(app, opened) -> None:
    async def many() -> list[int]:
        return await asyncio.gather(*(get(app, "/healthz") for _ in range(12)))

    assert asyncio.run(many()) == [200] * 12
    assert 1 <= len(opened) <= 2, opened


def test_housekeeping_runs_once_per_request_on_its_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """close_old_connections runs before the first job of each request, there."""
    calls: list[int] = []
    monkeypatch.setattr(
        polls.handlers,
        "close_old_connections",
        lambda: calls.append(threading.get_ident()),
    )
    threads = RequestThreads(1)

    async def request() -> int:
        async with threads.lend():
            await SyncToAsync(threading.get_ident)()
            return await SyncToAsync(threading.get_ident)()

    async def two() -> list[int]:
        return [await request(), await request()]

    first, second = asyncio.run(two())
    assert calls == [first, second]


def test_handle_is_still_djangos() -> None:
    """PollsASGIHandler.handle copies Django 5.2's; a new Django needs a look."""
    source = inspect.getsource(ASGIHandler.handle)
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert digest == "98faeb5bef800331", (
        "django.core.handlers.asgi.ASGIHandler.handle changed: bring its changes "
        "into polls.handlers.PollsASGIHandler.handle, then update this digest"
    )


def test_a_lent_thread_is_what_sync_to_async_uses() -> None:
    """Pins the asgiref behaviour RequestThreads relies on."""
    threads = RequestThreads(1)

    async def inside() -> tuple[int, int]:
        async with threads.lend():
            first = await SyncToAsync(threading.get_ident)()
            second = await SyncToAsync(threading.get_ident)()
        return first, second

    first, second = asyncio.run(inside())
    assert first == second != threading.get_ident()
    assert asyncio.run(inside())[0] == first


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RequestThreads(0)


def test_no_request_started_receiver_is_left_to_hop(app) -> None:
    """With django.db's receivers taken over, request_started costs no thread."""
    from django.core.signals import request_started

    assert not request_started.has_listeners()


def test_connections_that_must_not_outlive_a_request_are_closed_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With close_after (CONN_MAX_AGE 0, pools), the request's thread closes."""
    calls: list[str] = []
    monkeypatch.setattr(polls.handlers, "reset_queries", lambda: None)
    monkeypatch.setattr(
        polls.handlers, "close_old_connections", lambda: calls.append("close")
    )
    threads = RequestThreads(1, close_after=True)

    async def request() -> None:
        async with threads.lend() as executor:
            await SyncToAsync(lambda: calls.append("job"))()
        await asyncio.get_running_loop().run_in_executor(executor, lambda: None)

    asyncio.run(request())
    assert calls == ["close", "job", "close"]


def test_a_persistent_database_means_no_close_after(app) -> None:
    assert app.threads.close_after is False  # SQLite: CONN_MAX_AGE 600
