import asyncio
import logging
import os
import sqlite3
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, OperationalError, connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import aget_object_or_404, get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import generic
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .forms import VoteForm
from .models import Question, record_vote

logger = logging.getLogger(__name__)


def published() -> QuerySet[Question]:
    """Questions that are already published, not those set in the future."""
    return Question.objects.filter(pub_date__lte=timezone.now())


# The tutorial's views, as the WSGI entry point (polls.wsgi) serves them.


class IndexView(generic.ListView):
    template_name = "polls/index.html"
    context_object_name = "latest_question_list"

    def get_queryset(self) -> QuerySet[Question]:
        """The last five published questions, not those set in the future."""
        return published().order_by("-pub_date")[:5]


class DetailView(generic.DetailView):
    model = Question
    template_name = "polls/detail.html"

    def get_queryset(self) -> QuerySet[Question]:
        """Questions that are already published, with their choices."""
        return published().prefetch_related("choice_set")


class ResultsView(generic.DetailView):
    model = Question
    template_name = "polls/results.html"

    def get_queryset(self) -> QuerySet[Question]:
        """Questions that are already published, with their choices."""
        return published().prefetch_related("choice_set")


@require_POST
def vote(request: HttpRequest, question_id: int) -> HttpResponse:
    """Count one vote, then redirect to the results (POST/redirect/GET).

    A missing, malformed or foreign choice re-renders the form with an error
    and status 400; the count changes only through ``record_vote``. A vote the
    database refused for lack of space re-renders it with status 503: the vote
    was not counted and may be sent again.
    """
    question = get_object_or_404(published(), pk=question_id)
    form = VoteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            if record_vote(question, form.cleaned_data["choice"]):
                return redirect(reverse("polls:results", args=(question.id,)))
            form.add_error("choice", "That choice does not belong to this question.")
        except OperationalError as exc:
            if not out_of_space(exc):
                raise
            logger.error("vote not counted: the database is out of space: %s", exc)
            form.add_error(None, VOTE_NOT_STORED)
            status = 503
    errors = form.errors.get("choice") or form.non_field_errors()
    response = render(
        request,
        "polls/detail.html",
        {"question": question, "error_message": errors[0]},
        status=status,
    )
    if status == 503:
        response["Retry-After"] = "60"
    return response


VOTE_NOT_STORED = (
    "Your vote was not counted: the server has no room to store it. "
    "Please try again later."
)


def out_of_space(exc: DatabaseError) -> bool:
    """Whether the database refused a write for lack of disk space.

    Such a write is rolled back whole (SQLite's SQLITE_FULL, PostgreSQL's
    disk_full), so nothing of it was stored.
    """
    cause = exc.__cause__
    if isinstance(cause, sqlite3.Error):
        return getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return getattr(cause, "sqlstate", None) == "53100"


def health_problems() -> dict[str, str]:
    """What keeps this process from serving, by part: empty when healthy."""
    problems = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM django_migrations LIMIT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        problems["database"] = type(exc).__name__
    if storage := storage_problem():
        problems["storage"] = storage
    return problems


def storage_problem() -> str | None:
    """Why the SQLite database's directory cannot take votes, or None.

    It cannot when it is read-only or has less free space than
    settings.HEALTH_MIN_FREE_BYTES. A database on another host (PostgreSQL)
    or in memory is not looked at.
    """
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return None
    directory = os.path.dirname(os.path.abspath(connection.settings_dict["NAME"]))
    stat = os.statvfs(directory)
    if stat.f_flag & os.ST_RDONLY:
        return f"{directory} is read-only"
    free = stat.f_bavail * stat.f_frsize
    if free < settings.HEALTH_MIN_FREE_BYTES:
        return (
            f"{free / 2**20:.1f} MiB free in {directory}, "
            f"under {settings.HEALTH_MIN_FREE_BYTES / 2**20:.0f} MiB"
        )
    return None


def health_response(problems: dict[str, str]) -> JsonResponse:
    if problems:
        return JsonResponse({"status": "error", **problems}, status=503)
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers a real query and has room to write, else
    503 with what is wrong (``health_problems``).

    Touches no session and no CSRF token, so polling it every second is cheap.
    """
    return health_response(health_problems())


# The same pages as async views, as the ASGI entry point (polls.asgi) serves
# them: the ORM through its async interface, the template rendered on the
# event loop (it reads only what the view fetched), no thread of its own per
# request. Voting stays the sync view above under both entry points: its
# read-then-update runs in one transaction, which the async ORM does not offer.


async def index(request: HttpRequest) -> HttpResponse:
    """The last five published questions, newest first."""
    questions = [q async for q in published().order_by("-pub_date")[:5]]
    return render(request, "polls/index.html", {"latest_question_list": questions})


async def question_page(request: HttpRequest, pk: int, template: str) -> HttpResponse:
    """The question and its choices in two queries, as DetailView fetches them."""
    question = await aget_object_or_404(
        published().prefetch_related("choice_set"), pk=pk
    )
    return render(request, template, {"question": question})


async def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A published question and its voting form."""
    return await question_page(request, pk, "polls/detail.html")


async def results(request: HttpRequest, pk: int) -> HttpResponse:
    """A published question and its counts."""
    return await question_page(request, pk, "polls/results.html")


@never_cache
@require_GET
async def healthz_async(request: HttpRequest) -> HttpResponse:
    """``healthz`` with its query in a worker thread."""
    return health_response(await sync_to_async(health_problems)())


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
