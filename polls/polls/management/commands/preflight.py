"""``polls-admin preflight``: import what the service will run, before it runs.

A deploy calls it on a new release before starting it, so a release that
cannot import its ASGI application, its handler, its worker class or
gunicorn's settings is refused before it is started, not found out by a
crash-looping service.
"""

import importlib

from django.core.management.base import BaseCommand, CommandError, CommandParser

# What gunicorn imports when it starts the service (polls.asgi builds the
# handler, polls.PollsASGIHandler, when imported).
MODULES = ("polls.gunicorn_conf", "polls.asgi", "polls.wsgi", "polls.urls")


class Command(BaseCommand):
    help = (
        "Import the ASGI and WSGI applications, the worker class and gunicorn's "
        "settings, as the service will."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--worker-class",
            default="polls.workers.UvicornWorker",
            help="gunicorn worker class, as gunicorn's --worker-class takes it",
        )

    def handle(self, *args: object, worker_class: str, **options: object) -> None:
        from gunicorn.util import load_class

        loaded = []
        for name in MODULES:
            try:
                module = importlib.import_module(name)
            except (Exception, SystemExit) as exc:  # any failure refuses it
                raise CommandError(
                    f"cannot import {name}: {type(exc).__name__}: {exc}"
                ) from exc
            application = getattr(module, "application", None)
            loaded.append(
                f"{name}:application ({type(application).__name__})"
                if application is not None
                else name
            )
        try:
            worker = load_class(
                worker_class,
                default="gunicorn.workers.sync.SyncWorker",
                section="gunicorn.workers",
            )
        except Exception as exc:
            # gunicorn puts the whole traceback in the message: keep its last line.
            cause = str(exc).strip().rstrip("]").splitlines()[-1].strip()
            raise CommandError(
                f"cannot load worker class {worker_class}: {cause}"
            ) from exc
        loaded.append(f"worker {worker.__module__}.{worker.__qualname__}")
        from polls.environ import InvalidVariable
        from polls.uvicorn_options import require_valid_options

        try:
            require_valid_options(worker_class)
        except InvalidVariable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("preflight: imported " + ", ".join(loaded))
