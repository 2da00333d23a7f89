"""The middleware twins: a thread hop only where a hook may touch the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.urls import reverse

from polls.fastpath.middleware import TWINS

from .factories import create_question

pytestmark = pytest.mark.django_db
HOOKS = (".process_request", ".process_view", ".process_response")


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The middleware hooks sent to a thread (by anyone), by name."""
    sent: list[str] = []
    real = SyncToAsync.__init__

    def recording(self: SyncToAsync, func: Callable[..., Any], **kwargs: Any) -> None:
        name = getattr(func, "__qualname__", "")
        if name.endswith(HOOKS):
            sent.append(name)
        real(self, func, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__init__", recording)
    return sent


def test_the_probe_sees_django_hooks(hops: list[str]) -> None:
    """Django's own classes hop for every hook: the probe above sees them."""
    from asgiref.sync import async_to_sync
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpResponse
    from django.test import RequestFactory

    async def view(request: Any) -> HttpResponse:
        return HttpResponse()

    middleware = SessionMiddleware(view)
    async_to_sync(middleware)(RequestFactory().get("/"))
    assert hops == [
        "SessionMiddleware.process_request",
        "SessionMiddleware.process_response",
    ]


def test_every_middleware_of_the_stack_has_a_twin(settings: Any) -> None:
    assert set(settings.MIDDLEWARE) <= set(TWINS)


@pytest.mark.parametrize("entry_point", ["asgi"], indirect=True)
def test_reading_pages_sends_no_hook_to_a_thread(client, hops: list[str]) -> None:
    question = create_question("Q?", days=-1)
    question.choice_set.create(choice_text="yes")
    for url in (
        reverse("polls:index"),
        reverse("polls:detail", args=(question.id,)),
        reverse("polls:results", args=(question.id,)),
    ):
        assert client.get(url).status_code == 200
    assert hops == []


@pytest.mark.parametrize("entry_point", ["asgi"], indirect=True)
def test_saving_a_session_goes_to_a_thread(make_client, admin_user, hops) -> None:
    client = make_client()
    token = client.get("/admin/login/").cookies["csrftoken"].value
    response = client.post(
        "/admin/login/",
        {"username": "admin", "password": "password", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert "SessionMiddleware.process_response" in hops
