"""``python -m polls`` and the ``polls-admin`` console script: manage.py, installed."""

import sys

from polls import require_valid_settings


def main(argv: list[str] | None = None) -> None:
    """Run a Django management command; a configuration error is one line."""
    require_valid_settings()
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv if argv is not None else sys.argv)


if __name__ == "__main__":
    main()
