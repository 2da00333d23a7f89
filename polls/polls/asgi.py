"""ASGI entry point: ``uvicorn polls.asgi:application``.

Serves the async views of the pages (polls.urls_async) through
polls.fastpath.PollsASGIHandler, which runs sync code on POLLS_ASGI_THREADS
long-lived threads per process.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "polls.settings")
django.setup(set_prefix=False)

from polls.fastpath import PollsASGIHandler  # noqa: E402 - needs settings

application = PollsASGIHandler()
