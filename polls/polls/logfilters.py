"""Logging filters of the polls project (settings.LOGGING)."""

import logging


class OneLineRefusals(logging.Filter):
    """A request Django refused with a 4xx (``django.security.*``: too many
    fields, a disallowed Host; ``django.request`` with a 4xx status: a body it
    cannot parse) is expected from scanners: one line each, without the
    traceback that would bury a real error in the journal. A 5xx keeps its
    traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        refused = record.name.startswith("django.security.") or (
            getattr(record, "status_code", 500) < 500
        )
        if refused:
            record.exc_info = None
            record.exc_text = None
        return True
