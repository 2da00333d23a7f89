"""gunicorn reads this file from the working directory: the project's settings."""

from polls.gunicorn_conf import *  # noqa: F403
