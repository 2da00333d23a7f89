"""Bad role variables: each run fails in validation, before any change.

Each case runs a playbook against the sandbox with one bad value (a wrong
type, a value outside a documented choice, half of a certificate, a release
that is not on the host). It must fail, in the task that checks the values,
with every host at changed=0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import sandbox

CASES = [
    ("wrong type: gunicorn_workers=many", "site.yml", ["-e", "gunicorn_workers=many"]),
    (
        "not a choice: gunicorn_uvicorn_loop=tornado",
        "site.yml",
        ["-e", "gunicorn_uvicorn_loop=tornado"],
    ),
    (
        "not a choice: nginx_tls_source=self-signed",
        "site.yml",
        ["-e", "nginx_tls_source=self-signed"],
    ),
    (
        "missing value: a certificate without its key",
        "site.yml",
        ["-e", "nginx_tls_certificate_src=/nonexistent/polls.crt"],
    ),
    (
        "missing value: an ACME certificate without a contact address",
        "site.yml",
        ["-e", "nginx_tls_source=acme", "-e", "nginx_acme_terms_agreed=true"],
    ),
    (
        "secret in the open: a password inside polls_database_url",
        "site.yml",
        ["-e", "polls_database_url=postgres://polls:hunter2@db.invalid/polls"],
    ),
    (
        "unknown release: rollback.yml -e polls_release=no-such-release",
        "ansible/rollback.yml",
        ["-e", "polls_release=no-such-release"],
    ),
]


@dataclass
class Refusal:
    case: str
    failed_task: str
    changed: int
    returncode: int

    @property
    def clean(self) -> bool:
        return self.returncode != 0 and self.changed == 0 and bool(self.failed_task)


def failed_task(output: str) -> str:
    """The name of the task that failed (the TASK header above `fatal:`, or
    above `failed:` for an item of a loop)."""
    task = ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK [") :].split("]", 1)[0]
        elif line.startswith(("fatal:", "failed:")):
            return task
    return ""


def run(workdir: Path) -> list[Refusal]:
    refusals = []
    for index, (case, playbook, extra) in enumerate(CASES):
        result = sandbox.playbook(
            playbook, *extra, log=workdir / f"refusal-{index}.log"
        )
        changed = sum(int(n) for n in re.findall(r"\bchanged=(\d+)", result.output))
        refusals.append(
            Refusal(case, failed_task(result.output), changed, result.returncode)
        )
    return refusals


def table(refusals: list[Refusal]) -> str:
    lines = [
        "| bad input | failed at | changed | verdict |",
        "| --- | --- | ---: | --- |",
    ]
    for refusal in refusals:
        verdict = "refused before any change" if refusal.clean else "FAILED"
        lines.append(
            f"| {refusal.case} | {refusal.failed_task or '(did not fail)'} "
            f"| {refusal.changed} | {verdict} |"
        )
    return "\n".join(lines)
