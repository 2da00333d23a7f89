"""polls.urls with the async views, as polls.asgi serves them."""

from polls.urls import build

urlpatterns = build(async_views=True)
