"""Django's middleware stack, without a thread hop per hook under ASGI.

Under ASGI, Django runs every ``process_request``, ``process_view`` and
``process_response`` of a ``MiddlewareMixin`` middleware through
``sync_to_async``: a trip to the request's worker thread and back, about a
dozen per request for the default stack. Most of those hooks only read
headers and set attributes; none of that blocks. The classes below run such
hooks on the event loop and hand a hook to a thread only when it may touch the
database (a session to save, messages stored in the session, CSRF tokens kept
in the session).

settings.MIDDLEWARE keeps naming Django's classes (``check --deploy`` looks
for them by name, and WSGI runs them); PollsASGIHandler loads the twin of
each one listed in ``TWINS`` (fastpath.upstream.load_middleware). The twins
are subclasses and only replace the async path, so the behaviour is Django's;
the test suite runs the views through both handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.messages.middleware import (
    MessageMiddleware as DjangoMessageMiddleware,
)
from django.contrib.sessions.middleware import (
    SessionMiddleware as DjangoSessionMiddleware,
)
from django.http import HttpRequest, HttpResponseBase
from django.middleware.clickjacking import (
    XFrameOptionsMiddleware as DjangoXFrameOptionsMiddleware,
)
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfViewMiddleware
from django.middleware.security import (
    SecurityMiddleware as DjangoSecurityMiddleware,
)


class InlineHooksMixin:
    """Run a MiddlewareMixin's hooks on the event loop unless they may block.

    A subclass says when a hook may do I/O by overriding ``request_blocks`` or
    ``response_blocks``; such a call goes through ``sync_to_async`` exactly as
    Django would have sent it.
    """

    async_mode: bool
    get_response: Callable[..., Any]

    def __init__(self, get_response: Callable[..., Any]) -> None:
        super().__init__(get_response)  # type: ignore[call-arg]
        if self.async_mode and hasattr(self, "process_view"):
            # The handler adapts process_view to its own mode: a coroutine
            # here keeps it on the event loop.
            self.process_view = self._process_view_inline  # type: ignore[method-assign]

    def request_blocks(self, request: HttpRequest) -> bool:
        return False

    def response_blocks(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return False

    async def _process_view_inline(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        hook = type(self).process_view.__get__(self)  # type: ignore[attr-defined]
        if self.request_blocks(request):
            return await sync_to_async(hook, thread_sensitive=True)(
                request, view, args, kwargs
            )
        return hook(request, view, args, kwargs)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = None
        if hasattr(self, "process_request"):
            if self.request_blocks(request):
                response = await sync_to_async(
                    self.process_request, thread_sensitive=True
                )(request)
            else:
                response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self.response_blocks(request, response):
                response = await sync_to_async(
                    self.process_response, thread_sensitive=True
                )(request, response)
            else:
                response = self.process_response(request, response)
        return response


class SecurityMiddleware(InlineHooksMixin, DjangoSecurityMiddleware):
    """Headers and the HTTPS redirect: never blocks."""


class SessionMiddleware(InlineHooksMixin, DjangoSessionMiddleware):
    """Creates a lazy session; only saving one touches the database."""

    def response_blocks(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        session = getattr(request, "session", None)
        return bool(
            session is not None
            and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)
        )


class CommonMiddleware(InlineHooksMixin, DjangoCommonMiddleware):
    """Slash redirects and Content-Length: URL resolving, never blocks."""


class CsrfViewMiddleware(InlineHooksMixin, DjangoCsrfViewMiddleware):
    """Token checks read the cookie and the already-read body.

    With CSRF_USE_SESSIONS the token lives in the session: a database read.
    """

    def request_blocks(self, request: HttpRequest) -> bool:
        return settings.CSRF_USE_SESSIONS

    def response_blocks(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return settings.CSRF_USE_SESSIONS


class AuthenticationMiddleware(InlineHooksMixin, DjangoAuthenticationMiddleware):
    """Sets a lazy request.user; the user is loaded where it is used."""


class MessageMiddleware(InlineHooksMixin, DjangoMessageMiddleware):
    """Messages read or added in this request may be stored in the session."""

    def response_blocks(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        storage = getattr(request, "_messages", None)
        return bool(storage is not None and (storage.used or storage.added_new))


class XFrameOptionsMiddleware(InlineHooksMixin, DjangoXFrameOptionsMiddleware):
    """One response header: never blocks."""


# Django's class -> its twin here, for PollsASGIHandler.
TWINS = {
    f"{django.__module__}.{django.__qualname__}": f"{__name__}.{twin.__qualname__}"
    for twin in (
        SecurityMiddleware,
        SessionMiddleware,
        CommonMiddleware,
        CsrfViewMiddleware,
        AuthenticationMiddleware,
        MessageMiddleware,
        XFrameOptionsMiddleware,
    )
    for django in twin.__bases__[1:]
}
# Already a twin of itself: it reads headers only, on either path.
TWINS["polls.charset.FormCharsetMiddleware"] = "polls.charset.FormCharsetMiddleware"
