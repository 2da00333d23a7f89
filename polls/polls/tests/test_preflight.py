"""``polls-admin preflight``, the import check a deploy runs on a new release."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def test_preflight_imports_what_gunicorn_runs() -> None:
    """The ASGI handler, the WSGI app and the project's worker class import."""
    out = StringIO()
    call_command("preflight", stdout=out)
    assert "polls.asgi:application (PollsASGIHandler)" in out.getvalue()
    assert "worker polls.workers.UvicornWorker" in out.getvalue()


def test_preflight_refuses_a_worker_class_that_does_not_import() -> None:
    """A worker class that cannot load is one line naming the cause."""
    with pytest.raises(CommandError, match="No module named 'nope'"):
        call_command("preflight", "--worker-class", "nope.Worker")


def test_preflight_refuses_a_uvicorn_option_the_worker_would_refuse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bad POLLS_UVICORN_* value refuses the release before a worker boots."""
    monkeypatch.setenv("POLLS_UVICORN_HTTP", "h3")
    with pytest.raises(CommandError, match="POLLS_UVICORN_HTTP must be one of"):
        call_command("preflight")
