"""Django's test client, answered by polls.asgi's own handler.

``ASGIClient`` has the calls and responses of ``django.test.Client`` (cookies,
``force_login``, ``response.context``, raised view exceptions), but each
request is an ASGI call of a ``PollsASGIHandler``: its ``handle()``, its
middleware twins, its URLconf. Two things differ from a server, both for the
test's database transaction: the request's sync code runs on the test's own
thread (``CallerThread`` stands in for the lent threads, which
test_fastpath.py drives with a real database), and CSRF checks are off
unless asked for, as with Django's client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpResponse
from django.test import AsyncClient

from polls.fastpath import PollsASGIHandler


class CallerThread:
    """RequestThreads' interface, lending the thread that called the client."""

    close_after = False

    @asynccontextmanager
    async def lend(self) -> AsyncIterator[None]:
        yield None


class ClientHandler(PollsASGIHandler):
    """PollsASGIHandler with the test client's CSRF switch."""

    def __init__(self, enforce_csrf_checks: bool = False) -> None:
        self.enforce_csrf_checks = enforce_csrf_checks
        super().__init__()
        self.threads = CallerThread()  # type: ignore[assignment]

    def create_request(self, scope: dict[str, Any], body_file: Any) -> Any:
        request, error_response = super().create_request(scope, body_file)
        if request is not None:
            request._dont_enforce_csrf_checks = not self.enforce_csrf_checks
        return request, error_response

    async def respond(self, scope: dict[str, Any]) -> HttpResponse:
        """AsyncClient's handler call: one ASGI request, its response rebuilt."""
        payload = scope.pop("_body_file", None)
        body = payload.read() if payload is not None else b""
        sent: list[dict[str, Any]] = []
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # connected until cancelled
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self(scope, receive, send)
        return rebuild(sent, self.urlconf)


def rebuild(messages: list[dict[str, Any]], urlconf: str) -> HttpResponse:
    """An HttpResponse from the ASGI messages a handler sent."""
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    response = HttpResponse(body, status=start["status"])
    del response.headers["Content-Type"]
    for name, value in start["headers"]:
        name, value = name.decode("latin1"), value.decode("latin1")
        if name.lower() == "set-cookie":
            response.cookies.load(value)
        else:
            response.headers[name] = value
    # What AsyncClient reads to resolve response.resolver_match.
    response.asgi_request = SimpleNamespace(urlconf=urlconf)
    return response


class ASGIClient:
    """A sync facade over AsyncClient on ClientHandler: Client's calls."""

    METHODS = {"get", "post", "head", "options", "put", "patch", "delete"}

    def __init__(self, enforce_csrf_checks: bool = False) -> None:
        self.handler = ClientHandler(enforce_csrf_checks)
        self._client = AsyncClient()
        self._client.handler = self.handler.respond

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        return async_to_sync(attribute) if name in self.METHODS else attribute
