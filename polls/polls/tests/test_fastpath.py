"""polls.fastpath: lent threads, connections that last, the copied Django code."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import threading
from importlib import import_module
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.db.backends.signals import connection_created

import polls.fastpath.threads
from polls.fastpath import PollsASGIHandler, upstream
from polls.fastpath.threads import RequestThreads

# Other threads than the test's read the database: no wrapping transaction.
pytestmark = pytest.mark.django_db(transaction=True)


async def get(app: Any, path: str, disconnect: bool = False) -> int | None:
    """One GET through the ASGI app; the response status (None: none sent).

    ``disconnect``: the client goes away as soon as its request is read.
    """
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
        if not disconnect:
            await asyncio.Event().wait()  # stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        messages.append(message)

    await app(scope, receive, send)
    return messages[0]["status"] if messages else None


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
def app() -> Any:
    return PollsASGIHandler(threads=2)


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
        polls.fastpath.threads,
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


@pytest.mark.parametrize("dotted", sorted(upstream.UPSTREAM))
def test_copied_django_code_is_still_djangos(dotted: str) -> None:
    """fastpath.upstream copies these Django 5.2 methods; a new Django needs a look."""
    module, cls, method = dotted.rsplit(".", 2)
    source = inspect.getsource(getattr(getattr(import_module(module), cls), method))
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert digest == upstream.UPSTREAM[dotted], (
        f"{dotted} changed: bring its changes into polls.fastpath.upstream, "
        "then update the digest in UPSTREAM"
    )


def test_live_receivers_are_sync_then_async() -> None:
    """Pins the private Signal._live_receivers that upstream.asend calls."""
    from django.dispatch import Signal

    signal = Signal()

    def sync_receiver(**kwargs: Any) -> None: ...

    async def async_receiver(**kwargs: Any) -> None: ...

    signal.connect(sync_receiver)
    signal.connect(async_receiver)
    assert signal._live_receivers(None) == ([sync_receiver], [async_receiver])


def test_asend_skips_only_the_receivers_it_is_told() -> None:
    from django.dispatch import Signal

    signal, calls = Signal(), []

    def skipped(**kwargs: Any) -> None:
        calls.append("skipped")

    def kept(**kwargs: Any) -> None:
        calls.append("kept")

    async def kept_async(**kwargs: Any) -> None:
        calls.append("kept async")

    for receiver in (skipped, kept, kept_async):
        signal.connect(receiver)
    asyncio.run(upstream.asend(signal, {skipped}, sender=None))
    assert sorted(calls) == ["kept", "kept async"]


def test_asend_with_every_receiver_skipped_schedules_nothing() -> None:
    from django.dispatch import Signal

    signal, calls = Signal(), []

    def skipped(**kwargs: Any) -> None:
        calls.append("skipped")

    signal.connect(skipped)

    async def send() -> int:
        before = len(asyncio.all_tasks())
        pending = asyncio.ensure_future(upstream.asend(signal, {skipped}, sender=None))
        await asyncio.sleep(0)  # asend ran to its end in this one step
        assert pending.done()
        return len(asyncio.all_tasks()) - before

    assert asyncio.run(send()) == 0
    assert calls == []


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


def test_building_a_handler_changes_nothing_outside_it(settings: Any) -> None:
    """No setting, signal receiver or URLconf of the process is touched."""
    from django.core.signals import request_finished, request_started

    before = (
        list(settings.MIDDLEWARE),
        settings.ROOT_URLCONF,
        list(request_started.receivers),
        list(request_finished.receivers),
    )
    PollsASGIHandler(threads=1)
    after = (
        list(settings.MIDDLEWARE),
        settings.ROOT_URLCONF,
        list(request_started.receivers),
        list(request_finished.receivers),
    )
    assert after == before


def test_the_handler_serves_the_async_views(app) -> None:
    """ROOT_URLCONF is the sync views; the handler's requests get the async ones
    (the async index renders its own context, without ListView's ``view``)."""
    from django.test.signals import template_rendered

    contexts: list[Any] = []
    template_rendered.connect(
        lambda context, **kwargs: contexts.append(context),
        dispatch_uid="fastpath",
        weak=False,
    )
    try:
        assert asyncio.run(get(app, "/polls/")) == 200
    finally:
        template_rendered.disconnect(dispatch_uid="fastpath")
    assert "latest_question_list" in contexts[0]
    assert "view" not in contexts[0]


def test_a_client_gone_mid_request_leaves_nothing_behind(app) -> None:
    """A disconnect before the answer: no error, the thread is free again and
    the next request is served."""

    async def gone_then_back() -> tuple[int | None, int | None]:
        gone = await get(app, "/polls/", disconnect=True)
        return gone, await get(app, "/polls/")

    gone, back = asyncio.run(gone_then_back())
    assert gone in {None, 200}  # cancelled, or answered before the disconnect
    assert back == 200
    assert not any(app.threads._busy.values())


def test_connections_that_must_not_outlive_a_request_are_closed_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With close_after (CONN_MAX_AGE 0, pools), the request's thread closes."""
    calls: list[str] = []
    monkeypatch.setattr(polls.fastpath.threads, "reset_queries", lambda: None)
    monkeypatch.setattr(
        polls.fastpath.threads, "close_old_connections", lambda: calls.append("close")
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
