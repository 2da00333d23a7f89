import datetime

import pytest
from django.utils import timezone

from polls.models import Question, record_vote

from .factories import create_question


def test_future_question_is_not_recent() -> None:
    """A question dated in the future was not published recently."""
    future = Question(pub_date=timezone.now() + datetime.timedelta(days=30))
    assert future.was_published_recently() is False


def test_old_question_is_not_recent() -> None:
    """A question older than one day was not published recently."""
    old = Question(pub_date=timezone.now() - datetime.timedelta(days=1, seconds=1))
    assert old.was_published_recently() is False


def test_recent_question_is_recent() -> None:
    """A question from the last day was published recently."""
    recent = Question(
        pub_date=timezone.now() - datetime.timedelta(hours=23, minutes=59)
    )
    assert recent.was_published_recently() is True


@pytest.mark.django_db
def test_record_vote_adds_exactly_one() -> None:
    """One vote moves its choice's count by one and no other count."""
    question = create_question("Q?", days=-1)
    a = question.choice_set.create(choice_text="a")
    b = question.choice_set.create(choice_text="b")
    assert record_vote(question, a.pk) is True
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.votes, b.votes) == (1, 0)


@pytest.mark.django_db
def test_record_vote_refuses_a_choice_of_another_question() -> None:
    """A choice id from another question counts nothing."""
    question = create_question("Q?", days=-1)
    other = create_question("Other?", days=-1)
    foreign = other.choice_set.create(choice_text="x")
    assert record_vote(question, foreign.pk) is False
    foreign.refresh_from_db()
    assert foreign.votes == 0
