from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from polls.models import Question

SAMPLE = {
    "What's your favourite way to run Django?": [
        "gunicorn + UvicornWorker (ASGI)",
        "gunicorn sync (WSGI)",
        "uvicorn alone",
    ],
    "Which database for one host?": ["SQLite", "PostgreSQL"],
}


class Command(BaseCommand):
    help = "Create a few sample questions when the database has none."

    def handle(self, *args: object, **options: object) -> None:
        if Question.objects.exists():
            self.stdout.write("polls: questions exist, nothing seeded")
            return
        with transaction.atomic():
            for text, choices in SAMPLE.items():
                question = Question.objects.create(
                    question_text=text, pub_date=timezone.now()
                )
                for choice in choices:
                    question.choice_set.create(choice_text=choice)
        self.stdout.write(self.style.SUCCESS(f"polls: seeded {len(SAMPLE)} questions"))
