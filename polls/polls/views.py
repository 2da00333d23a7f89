import asyncio
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import generic
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .forms import VoteForm
from .models import Question, record_vote


class IndexView(generic.ListView):
    template_name = "polls/index.html"
    context_object_name = "latest_question_list"

    def get_queryset(self) -> QuerySet[Question]:
        """The last five published questions, not those set in the future."""
        return Question.objects.filter(pub_date__lte=timezone.now()).order_by(
            "-pub_date"
        )[:5]


class DetailView(generic.DetailView):
    model = Question
    template_name = "polls/detail.html"

    def get_queryset(self) -> QuerySet[Question]:
        """Questions that are already published."""
        return Question.objects.filter(pub_date__lte=timezone.now())


class ResultsView(generic.DetailView):
    model = Question
    template_name = "polls/results.html"

    def get_queryset(self) -> QuerySet[Question]:
        """Questions that are already published."""
        return Question.objects.filter(pub_date__lte=timezone.now())


@require_POST
def vote(request: HttpRequest, question_id: int) -> HttpResponse:
    """Count one vote, then redirect to the results (POST/redirect/GET).

    A missing, malformed or foreign choice re-renders the form with an error
    and status 400; the count changes only through ``record_vote``.
    """
    question = get_object_or_404(Question, pk=question_id, pub_date__lte=timezone.now())
    form = VoteForm(request.POST)
    if form.is_valid():
        if record_vote(question, form.cleaned_data["choice"]):
            return redirect(reverse("polls:results", args=(question.id,)))
        form.add_error("choice", "That choice does not belong to this question.")
    error = form.errors["choice"][0]
    return render(
        request,
        "polls/detail.html",
        {"question": question, "error_message": error},
        status=400,
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers a real query, 503 when it does not.

    Touches no session and no CSRF token, so polling it every second is cheap.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM django_migrations LIMIT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "error", "database": type(exc).__name__}, status=503
        )
    return JsonResponse({"status": "ok"})


# Benchmark views, routed only when POLLS_BENCH_VIEWS is on: a request that
# waits on a slow upstream (a fixed delay), written as a sync and as an async
# view, to measure what each server model does with I/O-bound work.


def slow_sync(request: HttpRequest) -> HttpResponse:
    """Wait POLLS_BENCH_DELAY_MS blocking the thread, then answer."""
    time.sleep(settings.BENCH_DELAY_SECONDS)
    return HttpResponse("waited\n", content_type="text/plain")


async def slow_async(request: HttpRequest) -> HttpResponse:
    """Wait POLLS_BENCH_DELAY_MS without blocking the event loop, then answer."""
    await asyncio.sleep(settings.BENCH_DELAY_SECONDS)
    return HttpResponse("waited\n", content_type="text/plain")
