import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create a superuser unless it exists. The password is read from the "
        "systemd credential admin_password ($CREDENTIALS_DIRECTORY/admin_password), "
        "never from the command line."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")

    def handle(self, *args: object, username: str, email: str, **options: object):
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            self.stdout.write(f"polls: user {username} exists, unchanged")
            return
        directory = os.environ.get("CREDENTIALS_DIRECTORY", "")
        path = Path(directory) / "admin_password"
        if not directory or not path.is_file():
            raise CommandError("the credential admin_password is not available")
        password = path.read_text().strip()
        if len(password) < 12:
            raise CommandError("the admin password must be at least 12 characters")
        user_model.objects.create_superuser(username, email, password)
        self.stdout.write(self.style.SUCCESS(f"polls: created superuser {username}"))
