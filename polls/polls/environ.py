"""The environment, read one way: a reader per type, one error style.

``settings``, ``gunicorn_conf`` and ``workers`` read every variable through
these. A variable that is unset or empty takes its default; a bad value raises
``InvalidVariable``, whose message is one line naming the variable and what it
accepts (``POLLS_DEBUG must be a boolean (true/false), not 'maybe'``). The
settings let it surface as Django's ``ImproperlyConfigured`` (it is one);
gunicorn's master and ``polls-admin`` turn it into a one-line exit.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

Environ = Mapping[str, str]

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


class InvalidVariable(ImproperlyConfigured):
    """An environment variable whose value its reader does not accept."""


def text(name: str, default: str = "", environ: Environ = os.environ) -> str:
    """The variable, stripped, or ``default`` when it is unset or empty."""
    return environ.get(name, "").strip() or default


def boolean(name: str, default: bool, environ: Environ = os.environ) -> bool:
    """A yes/no variable: 1, true, yes, on (any case) or 0, false, no, off."""
    value = text(name, environ=environ).lower()
    if not value:
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise InvalidVariable(f"{name} must be a boolean (true/false), not {value!r}")


def integer(
    name: str, default: int, minimum: int | None = None, environ: Environ = os.environ
) -> int:
    """An integer variable, at least ``minimum`` when one is given."""
    value = text(name, environ=environ)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise InvalidVariable(f"{name} must be an integer, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise InvalidVariable(f"{name} must be at least {minimum}, not {number}")
    return number


def items(name: str, default: list[str], environ: Environ = os.environ) -> list[str]:
    """A comma-separated list; ``default`` when it has no item."""
    value = text(name, environ=environ)
    return [item.strip() for item in value.split(",") if item.strip()] or default


def choice(
    name: str, default: str, choices: Collection[str], environ: Environ = os.environ
) -> str:
    """One of ``choices`` (compared in lower case)."""
    value = text(name, environ=environ).lower() or default
    if value not in choices:
        allowed = ", ".join(sorted(choices))
        raise InvalidVariable(f"{name} must be one of {allowed}, not {value!r}")
    return value


def secret(credential: str, variable: str, environ: Environ = os.environ) -> str:
    """The systemd credential ``credential`` when the service has it, else
    ``variable``: credentials live in ``$CREDENTIALS_DIRECTORY``, readable by
    the service alone, never in its environment."""
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if directory:
        path = Path(directory) / credential
        if path.is_file():
            return path.read_text().strip()
    return text(variable, environ=environ)
