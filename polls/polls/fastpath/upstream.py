"""The code of Django's that the fast path copies: here, and nowhere else.

Each function below is a Django 5.2 method, statement for statement, except
the lines marked ``# polls:``. polls/tests/test_fastpath.py keeps a digest of
each upstream source and fails when Django's changes.

What a Django upgrade requires: run the tests; for each digest that fails,
diff the new upstream method against the copy here (``inspect.getsource``),
bring its changes in, keep the marked lines, and update the digest.

- ``load_middleware``: ``BaseHandler.load_middleware``, reading the twin of
  each class in settings.MIDDLEWARE that has one (fastpath.middleware.TWINS).
  settings.MIDDLEWARE keeps naming Django's classes: ``check --deploy`` looks
  for them by name, and the WSGI handler loads them.
- ``handle``: ``ASGIHandler.handle``. request_started is sent without
  django.db's two receivers (the request's thread runs them, see
  fastpath.threads), and the response is closed on the event loop instead of
  in a thread: closing sends request_finished, whose receivers here (django.db's
  ``close_old_connections``, which has no connection to look after on the
  event loop's thread, and the URLconf reset) do not block.
- ``asend``: ``Signal.asend`` minus some receivers, for the above, and, when
  none is left (request_started has no other by default), returning at once
  instead of gathering a task that does nothing: one loop iteration less per
  request. It calls ``Signal._live_receivers``, a private method; its
  behaviour is pinned by a test.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import (
    ImproperlyConfigured,
    MiddlewareNotUsed,
    RequestAborted,
)
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.db import close_old_connections, reset_queries
from django.dispatch import Signal
from django.urls import set_script_prefix
from django.utils.module_loading import import_string

from .middleware import TWINS

logger = logging.getLogger("django.request")

# Run by the request's thread before its first job, not sent.
DJANGO_DB_RECEIVERS = (reset_queries, close_old_connections)

# The sources these copy, by digest (sha256 of inspect.getsource, 16 digits).
UPSTREAM = {
    "django.core.handlers.base.BaseHandler.load_middleware": "a1fb7ee5f8586195",
    "django.core.handlers.asgi.ASGIHandler.handle": "98faeb5bef800331",
    "django.dispatch.dispatcher.Signal.asend": "b27a0e4474a61569",
}


async def asend(
    signal: Signal, skip: Collection[Callable[..., Any]], sender: Any, **named: Any
) -> None:
    """``Signal.asend`` without the receivers in ``skip``; responses dropped."""
    sync_receivers, async_receivers = signal._live_receivers(sender)
    sync_receivers = [r for r in sync_receivers if r not in skip]  # polls: skip
    if not sync_receivers and not async_receivers:
        return None  # polls: nothing left to send, no task to schedule
    if sync_receivers:

        @sync_to_async
        def sync_send() -> None:
            for receiver in sync_receivers:
                receiver(signal=signal, sender=sender, **named)

    else:

        async def sync_send() -> None:
            return None

    await asyncio.gather(
        sync_send(),
        asyncio.gather(
            *(
                receiver(signal=signal, sender=sender, **named)
                for receiver in async_receivers
            )
        ),
    )


def load_middleware(handler: Any, is_async: bool = False) -> None:
    """``BaseHandler.load_middleware``, loading the twins of fastpath.middleware."""
    handler._view_middleware = []
    handler._template_response_middleware = []
    handler._exception_middleware = []

    get_response = handler._get_response_async if is_async else handler._get_response
    chain = convert_exception_to_response(get_response)
    chain_is_async = is_async
    # polls: the twin of each class that has one.
    for middleware_path in reversed([TWINS.get(p, p) for p in settings.MIDDLEWARE]):
        middleware = import_string(middleware_path)
        middleware_can_sync = getattr(middleware, "sync_capable", True)
        middleware_can_async = getattr(middleware, "async_capable", False)
        if not middleware_can_sync and not middleware_can_async:
            raise RuntimeError(
                "Middleware %s must have at least one of "
                "sync_capable/async_capable set to True." % middleware_path
            )
        elif not chain_is_async and middleware_can_sync:
            middleware_is_async = False
        else:
            middleware_is_async = middleware_can_async
        try:
            adapted = handler.adapt_method_mode(
                middleware_is_async,
                chain,
                chain_is_async,
                debug=settings.DEBUG,
                name="middleware %s" % middleware_path,
            )
            mw_instance = middleware(adapted)
        except MiddlewareNotUsed as exc:
            if settings.DEBUG:
                if str(exc):
                    logger.debug("MiddlewareNotUsed(%r): %s", middleware_path, exc)
                else:
                    logger.debug("MiddlewareNotUsed: %r", middleware_path)
            continue
        else:
            chain = adapted

        if mw_instance is None:
            raise ImproperlyConfigured(
                "Middleware factory %s returned None." % middleware_path
            )

        if hasattr(mw_instance, "process_view"):
            handler._view_middleware.insert(
                0,
                handler.adapt_method_mode(is_async, mw_instance.process_view),
            )
        if hasattr(mw_instance, "process_template_response"):
            handler._template_response_middleware.append(
                handler.adapt_method_mode(
                    is_async, mw_instance.process_template_response
                ),
            )
        if hasattr(mw_instance, "process_exception"):
            handler._exception_middleware.append(
                handler.adapt_method_mode(False, mw_instance.process_exception),
            )

        chain = convert_exception_to_response(mw_instance)
        chain_is_async = middleware_is_async

    chain = handler.adapt_method_mode(is_async, chain, chain_is_async)
    handler._middleware_chain = chain


async def handle(
    handler: ASGIHandler, scope: dict[str, Any], receive: Any, send: Any
) -> None:
    """``ASGIHandler.handle``: request_started without django.db's receivers,
    responses closed on the event loop."""
    try:
        body_file = await handler.read_body(receive)
    except RequestAborted:
        return
    set_script_prefix(get_script_prefix(scope))
    # polls: django.db's receivers run on the request's thread instead.
    await asend(
        signals.request_started,
        DJANGO_DB_RECEIVERS,
        sender=handler.__class__,
        scope=scope,
    )
    request, error_response = handler.create_request(scope, body_file)
    if request is None:
        body_file.close()
        await handler.send_response(error_response, send)
        error_response.close()  # polls: on the event loop
        return

    async def process_request(request: Any, send: Any) -> Any:
        response = await handler.run_get_response(request)
        try:
            await handler.send_response(response, send)
        except asyncio.CancelledError:
            # Client disconnected during send_response (ignore exception).
            pass
        return response

    tasks = [
        asyncio.create_task(handler.listen_for_disconnect(receive)),
        asyncio.create_task(process_request(request, send)),
    ]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task.done():
            try:
                task.result()
            except RequestAborted:
                pass
            except AssertionError:
                body_file.close()
                raise
        else:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    try:
        response = tasks[1].result()
    except asyncio.CancelledError:
        await signals.request_finished.asend(sender=handler.__class__)
    else:
        response.close()  # polls: on the event loop

    body_file.close()
