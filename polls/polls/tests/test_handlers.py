"""PollsASGIHandler: long-lived threads for sync code, connections that last."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.core.signals import request_finished
from django.db import connection

from polls.handlers import PollsASGIHandler, RequestThreads

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
def seen() -> Any:
    """(thread, database connection) of each request, seen as it finishes."""
    records: list[tuple[int, int]] = []

    def record(**kwargs: Any) -> None:
        records.append((threading.get_ident(), id(connection.connection)))

    request_finished.connect(record, dispatch_uid="test-handlers")
    yield records
    request_finished.disconnect(dispatch_uid="test-handlers")


@pytest.fixture
def app(settings: Any) -> PollsASGIHandler:
    settings.ROOT_URLCONF = "polls.tests.urls_async"
    return PollsASGIHandler(threads=2)


def test_requests_reuse_one_thread_and_one_connection(app, seen) -> None:
    """One after the other, requests run on the same thread and connection."""

    async def three() -> list[int]:
        return [await get(app, "/healthz") for _ in range(3)]

    assert asyncio.run(three()) == [200, 200, 200]
    assert len(seen) == 3
    assert len(set(seen)) == 1, seen
    assert seen[0][0] != threading.get_ident()


def test_concurrent_requests_share_at_most_size_threads(app, seen) -> None:
    async def many() -> list[int]:
        return await asyncio.gather(*(get(app, "/healthz") for _ in range(12)))

    assert asyncio.run(many()) == [200] * 12
    threads = {thread for thread, _ in seen}
    assert len(seen) == 12
    assert 1 <= len(threads) <= 2


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
