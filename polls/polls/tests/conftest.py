"""Every view test runs twice: as polls.wsgi serves it and as polls.asgi does.

The ``client`` and ``admin_client`` fixtures are Django's test client for
``wsgi``, and for ``asgi`` the same client answered by polls.asgi's own handler
(PollsASGIHandler: its handle(), middleware twins and async views; see
asgi_client.py), so that one test body serves both.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from .asgi_client import ASGIClient


@pytest.fixture(params=["wsgi", "asgi"])
def entry_point(request: pytest.FixtureRequest) -> str:
    """``wsgi``: the tutorial's sync views; ``asgi``: polls.asgi's handler."""
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
