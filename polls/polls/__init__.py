"""The polls app from the Django tutorial, packaged for production."""

import os
import sys


def require_valid_settings() -> None:
    """Load the Django settings, or exit with a one-line message naming the fault.

    manage.py, ``polls-admin`` and gunicorn's master call it before anything
    else, so a bad variable never ends in a traceback.
    """
    from django.core.exceptions import ImproperlyConfigured

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "polls.settings")
    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - evaluating settings validates them
    except ImproperlyConfigured as exc:
        sys.exit(f"polls: {exc}")
