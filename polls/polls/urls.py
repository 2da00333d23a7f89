from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView

from . import views


def build(async_views: bool) -> list[URLPattern | URLResolver]:
    """The site's URLs, with the sync or the async views of the pages.

    Both sets answer the same URLs with the same templates and queries:
    polls.wsgi serves the sync ones (this module, ROOT_URLCONF), polls.asgi
    the async ones (polls.urls_async, set per request by its handler).
    """
    if async_views:
        index, detail, results = views.index, views.detail, views.results
        healthz = views.healthz_async
    else:
        index, detail = views.IndexView.as_view(), views.DetailView.as_view()
        results, healthz = views.ResultsView.as_view(), views.healthz
    poll_patterns = [
        path("", index, name="index"),
        path("<int:pk>/", detail, name="detail"),
        path("<int:pk>/results/", results, name="results"),
        path("<int:question_id>/vote/", views.vote, name="vote"),
    ]
    patterns = [
        path("", RedirectView.as_view(pattern_name="polls:index")),
        path("polls/", include((poll_patterns, "polls"))),
        path("healthz", healthz, name="healthz"),
        path("admin/", admin.site.urls),
    ]
    if settings.BENCH_VIEWS:
        patterns += [
            path("bench/slow-sync", views.slow_sync, name="slow-sync"),
            path("bench/slow-async", views.slow_async, name="slow-async"),
        ]
    return patterns


urlpatterns = build(async_views=False)
