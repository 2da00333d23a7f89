"""The site's URLs with the async views of the pages: polls.asgi's URLconf.

PollsASGIHandler sets it on each request (``request.urlconf``); the names and
paths are those of polls.urls, which serves the sync views.
"""

from polls.urls import build

urlpatterns = build(async_views=True)
