"""Every view test runs twice: as polls.wsgi serves it and as polls.asgi does.

The ``client`` and ``admin_client`` fixtures are Django's test client for
``wsgi``, and for ``asgi`` an AsyncClient whose handler loads the middleware
twins (polls.handlers.TwinMiddlewareMixin) and whose URLs route to the async
views, driven through a sync facade so that one test body serves both.
"""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from django.test.client import AsyncClientHandler

from polls.handlers import TwinMiddlewareMixin


class TwinAsyncClientHandler(TwinMiddlewareMixin, AsyncClientHandler):
    """Django's async test handler with polls.asgi's middleware stack."""


class ASGIClient:
    """A sync facade over AsyncClient: same calls, same responses as Client."""

    METHODS = {"get", "post", "head", "options", "put", "patch", "delete"}

    def __init__(self, enforce_csrf_checks: bool = False) -> None:
        self._client = AsyncClient()
        self._client.handler = TwinAsyncClientHandler(enforce_csrf_checks)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        return async_to_sync(attribute) if name in self.METHODS else attribute


@pytest.fixture(params=["wsgi", "asgi"])
def entry_point(request: pytest.FixtureRequest, settings: Any) -> str:
    """``wsgi``: the tutorial's sync views; ``asgi``: the async ones."""
    if request.param == "asgi":
        settings.ROOT_URLCONF = "polls.tests.urls_async"
    return request.param


@pytest.fixture
def make_client(entry_point: str) -> Any:
    def make(enforce_csrf_checks: bool = False) -> Client | ASGIClient:
        if entry_point == "asgi":
            return ASGIClient(enforce_csrf_checks)
        return Client(enforce_csrf_checks=enforce_csrf_checks)

    return make


@pytest.fixture
def client(make_client: Any) -> Client | ASGIClient:
    return make_client()


@pytest.fixture
def admin_client(make_client: Any, admin_user: Any) -> Client | ASGIClient:
    client = make_client()
    client.force_login(admin_user)
    return client
