"""The ASGI fast path: what polls.asgi adds to Django's ASGI handler, in one place.

    handler.py     PollsASGIHandler, the application of polls.asgi
    threads.py     RequestThreads: a thread lent to each request for its life
    middleware.py  twins of Django's middleware whose hooks stay on the event loop
    upstream.py    the only code copied from Django, with its diff marked, and
                   what a Django upgrade requires

Measured in bench/README.md; each part can be switched off by using Django's
own class instead, and the test suite runs every view through this handler
and through the WSGI one.
"""

from .handler import PollsASGIHandler

__all__ = ["PollsASGIHandler"]
