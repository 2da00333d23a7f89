from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

poll_patterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("<int:pk>/", views.DetailView.as_view(), name="detail"),
    path("<int:pk>/results/", views.ResultsView.as_view(), name="results"),
    path("<int:question_id>/vote/", views.vote, name="vote"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="polls:index")),
    path("polls/", include((poll_patterns, "polls"))),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.BENCH_VIEWS:
    urlpatterns += [
        path("bench/slow-sync", views.slow_sync, name="slow-sync"),
        path("bench/slow-async", views.slow_async, name="slow-async"),
    ]
