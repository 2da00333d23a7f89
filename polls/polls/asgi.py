"""ASGI entry point: ``uvicorn polls.asgi:application``.

Serves the async views of the pages (see polls.urls; POLLS_ASYNC_VIEWS=false
serves the sync ones) through polls.handlers.PollsASGIHandler, which runs
sync code on POLLS_ASGI_THREADS long-lived threads per process.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "polls.settings")
os.environ.setdefault("POLLS_ASYNC_VIEWS", "true")
django.setup(set_prefix=False)

from polls.handlers import PollsASGIHandler  # noqa: E402 - needs settings

application = PollsASGIHandler()
