"""Refuse form posts in a charset other than UTF-8, before Django reads them.

WORKAROUND (Django 5.2, django/http/request.py, _load_post_and_files): a
request whose Content-Type is ``application/x-www-form-urlencoded`` with a
charset other than UTF-8 raises BadRequest every time ``request.POST`` is
read, without marking the body as unparseable (as the multipart branch does).
CsrfViewMiddleware reads it, the 400 handler's CSRF decorator reads it again,
and under the ASGI entry point the second BadRequest escapes: a 500. This
middleware answers such a request 400 before anything reads it. Found by the
drills' bad-input storm (ansible/drills/storm.py), which sends such a post
through the deployed stack: Django's test client does not reproduce the
escape. To see whether a Django upgrade still needs this, take it out of
MIDDLEWARE and run the storm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

FORM = "application/x-www-form-urlencoded"


def refused(request: HttpRequest) -> HttpResponse | None:
    """400 for a form post that names a charset other than UTF-8."""
    if request.content_type != FORM:
        return None
    charset = request.content_params.get("charset")
    if charset is None or charset.strip('"').lower() in ("utf-8", "utf8"):
        return None
    return HttpResponseBadRequest(
        f"{FORM} must be UTF-8, not {charset}.\n", content_type="text/plain"
    )


class FormCharsetMiddleware:
    """The check above, first in the stack, for WSGI and ASGI alike."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return refused(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return refused(request) or await self.get_response(request)
