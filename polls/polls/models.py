import datetime

from django.contrib import admin
from django.db import models
from django.db.models import F
from django.utils import timezone


class Question(models.Model):
    question_text = models.CharField(max_length=200)
    pub_date = models.DateTimeField("date published")

    class Meta:
        # The index page reads the newest five published questions: with this
        # index it walks five entries whatever the table's size.
        indexes = [models.Index(fields=["pub_date"], name="polls_question_pub_date")]

    def __str__(self) -> str:
        return self.question_text

    @admin.display(boolean=True, ordering="pub_date", description="Published recently?")
    def was_published_recently(self) -> bool:
        """True when the question was published within the last day, not later."""
        now = timezone.now()
        return now - datetime.timedelta(days=1) <= self.pub_date <= now


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE)
    choice_text = models.CharField(max_length=200)
    votes = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.choice_text


def record_vote(question: Question, choice_id: int) -> bool:
    """Add one vote to a choice of ``question`` inside the database.

    The increment is a single ``UPDATE ... SET votes = votes + 1`` (``F()``), so
    concurrent votes never overwrite each other. False when no choice with that
    id belongs to the question.
    """
    updated = Choice.objects.filter(pk=choice_id, question=question).update(
        votes=F("votes") + 1
    )
    return updated == 1
