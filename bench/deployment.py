"""What the deployment already says, read from it rather than restated.

The sandbox container's name (inventory/sandbox/hosts.yml), the address its
nginx is published on (inventory/sandbox/group_vars/sandbox.yml) and the
gunicorn role's defaults (roles/gunicorn/defaults/main.yml).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = ROOT / "inventory" / "sandbox"


@cache
def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def gunicorn_default(name: str) -> Any:
    """A default of the gunicorn role, e.g. ``gunicorn_threads``."""
    return _yaml(ROOT / "roles" / "gunicorn" / "defaults" / "main.yml")[name]


def sandbox_container() -> str:
    """The one host of the sandbox inventory's ``sandbox`` group."""
    hosts = _yaml(SANDBOX / "hosts.yml")["all"]["children"]["sandbox"]["hosts"]
    (name,) = hosts
    return name


def sandbox_url() -> str:
    """https://ADDRESS:PORT where the sandbox publishes its nginx's port 443."""
    ports = _yaml(SANDBOX / "group_vars" / "sandbox.yml")["sandbox_published_ports"]
    for mapping in ports:
        address, port, inside = mapping.rsplit(":", 2)
        if inside == "443":
            return f"https://{address}:{port}"
    raise SystemExit("bench: the sandbox publishes no port for nginx's 443")
