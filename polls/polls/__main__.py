"""``python -m polls`` and the ``polls-admin`` console script: manage.py, installed."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a Django management command; a configuration error is one line."""
    from django.core.exceptions import ImproperlyConfigured

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "polls.settings")
    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - import settings to validate them
    except ImproperlyConfigured as exc:
        sys.exit(f"polls: {exc}")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv if argv is not None else sys.argv)


if __name__ == "__main__":
    main()
