import sqlite3

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from polls.models import Choice

from .factories import create_question

pytestmark = pytest.mark.django_db


def test_no_questions(client: Client) -> None:
    """With no questions, the index says so."""
    response = client.get(reverse("polls:index"))
    assert response.status_code == 200
    assert "No polls are available." in response.text
    assert list(response.context["latest_question_list"]) == []


def test_past_question_is_listed(client: Client) -> None:
    """A question published in the past appears on the index."""
    question = create_question("Past question.", days=-30)
    response = client.get(reverse("polls:index"))
    assert list(response.context["latest_question_list"]) == [question]


def test_future_question_is_hidden(client: Client) -> None:
    """A question dated in the future does not appear on the index."""
    create_question("Future question.", days=30)
    response = client.get(reverse("polls:index"))
    assert "No polls are available." in response.text
    assert list(response.context["latest_question_list"]) == []


def test_future_and_past_question(client: Client) -> None:
    """Only the past question shows when both exist."""
    question = create_question("Past question.", days=-30)
    create_question("Future question.", days=30)
    response = client.get(reverse("polls:index"))
    assert list(response.context["latest_question_list"]) == [question]


def test_index_shows_the_five_latest(client: Client) -> None:
    """The index lists the five latest published questions, newest first."""
    questions = [create_question(f"Q{n}", days=-n) for n in range(1, 8)]
    response = client.get(reverse("polls:index"))
    assert list(response.context["latest_question_list"]) == questions[:5]


def test_detail_of_future_question_is_404(client: Client) -> None:
    """The detail page of a future question is not found."""
    future = create_question("Future question.", days=5)
    response = client.get(reverse("polls:detail", args=(future.id,)))
    assert response.status_code == 404


def test_detail_of_past_question_shows_its_text(client: Client) -> None:
    """The detail page of a past question shows the question."""
    past = create_question("Past Question.", days=-5)
    response = client.get(reverse("polls:detail", args=(past.id,)))
    assert response.status_code == 200
    assert past.question_text in response.text


def test_results_of_future_question_is_404(client: Client) -> None:
    """The results of a future question are not found."""
    future = create_question("Future question.", days=5)
    response = client.get(reverse("polls:results", args=(future.id,)))
    assert response.status_code == 404


def test_vote_redirects_to_results_and_counts(client: Client) -> None:
    """A vote counts once and redirects to the results page (POST/redirect/GET)."""
    question = create_question("Q?", days=-1)
    choice = question.choice_set.create(choice_text="yes")
    response = client.post(
        reverse("polls:vote", args=(question.id,)), {"choice": choice.id}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("polls:results", args=(question.id,))
    choice.refresh_from_db()
    assert choice.votes == 1
    results = client.get(response["Location"])
    assert "yes -- 1 vote" in results.text


def test_vote_without_choice_redisplays_the_form(client: Client) -> None:
    """A vote with no choice shows the form again with the tutorial's message."""
    question = create_question("Q?", days=-1)
    response = client.post(reverse("polls:vote", args=(question.id,)), {})
    assert response.status_code == 400
    assert "You didn&#x27;t select a choice." in response.text


@pytest.mark.parametrize("value", ["abc", "1.5", "-3", "0", "9999999"])
def test_vote_with_bad_choice_is_a_form_error(client: Client, value: str) -> None:
    """A non-integer or unknown choice id is a 400 form error, never a 500."""
    question = create_question("Q?", days=-1)
    choice = question.choice_set.create(choice_text="yes")
    response = client.post(
        reverse("polls:vote", args=(question.id,)), {"choice": value}
    )
    assert response.status_code == 400
    assert 'class="error"' in response.text
    choice.refresh_from_db()
    assert choice.votes == 0


def test_vote_for_choice_of_other_question_is_a_form_error(client: Client) -> None:
    """A choice belonging to another question is refused and counts nothing."""
    question = create_question("Q?", days=-1)
    other = create_question("Other?", days=-1)
    foreign = other.choice_set.create(choice_text="x")
    response = client.post(
        reverse("polls:vote", args=(question.id,)), {"choice": foreign.id}
    )
    assert response.status_code == 400
    assert "does not belong to this question" in response.text
    assert Choice.objects.get(pk=foreign.pk).votes == 0


def test_vote_on_future_question_is_404(client: Client) -> None:
    """Nobody votes on a question before it is published."""
    future = create_question("Future?", days=3)
    choice = future.choice_set.create(choice_text="x")
    response = client.post(
        reverse("polls:vote", args=(future.id,)), {"choice": choice.id}
    )
    assert response.status_code == 404


def test_get_on_vote_is_405(client: Client) -> None:
    """The vote URL accepts POST only."""
    question = create_question("Q?", days=-1)
    response = client.get(reverse("polls:vote", args=(question.id,)))
    assert response.status_code == 405


def test_vote_without_csrf_token_is_403(make_client) -> None:
    """A vote posted without a CSRF token is refused and counts nothing."""
    question = create_question("Q?", days=-1)
    choice = question.choice_set.create(choice_text="yes")
    client = make_client(enforce_csrf_checks=True)
    response = client.post(
        reverse("polls:vote", args=(question.id,)), {"choice": choice.id}
    )
    assert response.status_code == 403
    choice.refresh_from_db()
    assert choice.votes == 0


def test_oversized_vote_is_400(client: Client) -> None:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 400, not a 500."""
    question = create_question("Q?", days=-1)
    choice = question.choice_set.create(choice_text="yes")
    response = client.post(
        reverse("polls:vote", args=(question.id,)),
        {"choice": choice.id, "padding": "x" * (128 * 1024)},
    )
    assert response.status_code == 400
    choice.refresh_from_db()
    assert choice.votes == 0


def sqlite_full_error() -> sqlite3.OperationalError:
    """A real SQLITE_FULL, from a database capped at a few pages."""
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA max_page_count = 3")
    db.execute("CREATE TABLE filler (x BLOB)")
    try:
        for _ in range(10):
            db.execute("INSERT INTO filler VALUES (randomblob(4096))")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        db.close()
    raise AssertionError("the capped database took every row")


def test_vote_refused_for_lack_of_space_is_503_and_says_so(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vote the database cannot store for lack of space: 503, a clear error
    on the form, Retry-After, and nothing counted."""
    question = create_question("Full disk?", days=-1)
    choice = question.choice_set.create(choice_text="Yes")
    cause = sqlite_full_error()

    def refuse(*args: object) -> bool:
        raise OperationalError(str(cause)) from cause

    monkeypatch.setattr("polls.views.record_vote", refuse)
    response = client.post(
        reverse("polls:vote", args=(question.id,)), {"choice": choice.id}
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "Your vote was not counted" in response.text
    choice.refresh_from_db()
    assert choice.votes == 0


def test_other_database_errors_of_a_vote_are_not_called_lack_of_space(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a refusal for space is answered as one; the rest stay errors."""
    question = create_question("Locked?", days=-1)
    choice = question.choice_set.create(choice_text="Yes")

    def refuse(*args: object) -> bool:
        raise OperationalError("database is locked")

    monkeypatch.setattr("polls.views.record_vote", refuse)
    with pytest.raises(OperationalError):
        client.post(reverse("polls:vote", args=(question.id,)), {"choice": choice.id})


def test_healthz_answers_ok_without_cookies(client: Client) -> None:
    """The health check answers 200 and sets no session or CSRF cookie."""
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_healthz_without_schema_is_503(client: Client) -> None:
    """The health check runs a real query: with the table gone, it answers 503."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE django_migrations RENAME TO django_migrations_x")
    try:
        response = client.get(reverse("healthz"))
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE django_migrations_x RENAME TO django_migrations"
            )
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_root_redirects_to_polls(client: Client) -> None:
    """The site root sends visitors to the polls index."""
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("polls:index")


def test_admin_login_page_answers(client: Client) -> None:
    """The admin is installed and answers."""
    response = client.get("/admin/login/")
    assert response.status_code == 200


def test_admin_lists_questions(admin_client: Client) -> None:
    """A superuser sees questions in the admin."""
    create_question("Admin sees me?", days=-1)
    response = admin_client.get("/admin/polls/question/")
    assert response.status_code == 200
    assert "Admin sees me?" in response.text


def test_each_entry_point_serves_its_views(client, entry_point: str) -> None:
    """polls.wsgi routes to the tutorial's class views (ListView puts itself in
    the context), polls.asgi to the async ones."""
    response = client.get(reverse("polls:index"))
    assert ("view" in response.context) is (entry_point == "wsgi")


def test_admin_login_through_the_form(make_client, admin_user) -> None:
    """Logging in saves a session (the one hook that writes to the database)."""
    client = make_client()
    page = client.get("/admin/login/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": "password", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302, response.text[:300]
    assert client.get("/admin/").status_code == 200
