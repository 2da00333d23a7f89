"""PollsASGIHandler: the ASGI handler polls.asgi serves.

Django's ASGIHandler with four changes, each in its own module:

- the sync code of a request runs on a thread lent for the request's lifetime
  (fastpath.threads), so database connections last as under WSGI;
- the middleware are the twins of fastpath.middleware, whose hooks run on the
  event loop unless they may touch the database;
- signals and response closing take no thread trip (fastpath.upstream);
- the pages are the async views: the handler sets ``request.urlconf`` (Django's
  own per-request URLconf), so settings.ROOT_URLCONF, which the WSGI handler
  serves, stays the sync views.

Building one has no effect outside it: no setting, signal or global is changed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

from . import upstream
from .threads import RequestThreads

# The async views of the pages, with the same URLs and names as ROOT_URLCONF.
ASYNC_URLCONF = "polls.urls_async"


class PollsASGIHandler(ASGIHandler):
    """Django's ASGIHandler on lent threads, with the middleware twins, no thread
    trip for signals or closing, and the async views."""

    def __init__(self, threads: int | None = None, urlconf: str = ASYNC_URLCONF):
        self.urlconf = urlconf
        super().__init__()
        per_request = any(
            not database.get("CONN_MAX_AGE", 0)
            for database in settings.DATABASES.values()
        )
        self.threads = RequestThreads(
            threads or settings.ASGI_THREADS, close_after=per_request
        )

    def load_middleware(self, is_async: bool = False) -> None:
        upstream.load_middleware(self, is_async)

    def create_request(self, scope: dict[str, Any], body_file: Any) -> Any:
        request, error_response = super().create_request(scope, body_file)
        if request is not None:
            request.urlconf = self.urlconf
        return request, error_response

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            # Django's own answer to other scopes (an error).
            return await super().__call__(scope, receive, send)
        async with self.threads.lend():
            await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await upstream.handle(self, scope, receive, send)
