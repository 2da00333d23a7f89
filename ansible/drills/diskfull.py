"""The disk fills under the state directory, then space returns.

The sandbox's state directory is put on a small tmpfs of its own for the
drill: a real filesystem that really fills, without touching the disk the
container lives on. The container may not mount (no CAP_SYS_ADMIN), so the
controller mounts from outside, in the container's mount namespace
(``nsenter``). The live instance is stopped while the database moves onto
the small filesystem and back, each time through SQLite's backup API as the
service's user (so the log starts empty and every vote must grow it).

Passes when, with the disk full, /healthz says so (503, ``storage``), pages
still answer, every vote is either counted and acknowledged or refused with
the form's clear error (503), at least one is refused, the refusal is logged;
and, with space back, /healthz answers 200 and votes count again. The votes
taken on the small filesystem are copied back to the real database.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable

from . import sandbox
from .load import Ballot

STATE = "/var/lib/polls"
DATABASE = f"{STATE}/db.sqlite3"
# The real state directory, seen beneath the small filesystem.
UNDER = "/run/polls-drill-state"
FILLER = f"{STATE}/.drill-filler"
REFUSAL = "Your vote was not counted"
LOGGED = "vote not counted: the database is out of space"
VOTES = 20

# SQLite's online backup from argv[1] to argv[2], run as the service's user.
COPY = (
    "import sqlite3, sys; "
    "source = sqlite3.connect(sys.argv[1]); target = sqlite3.connect(sys.argv[2]); "
    "source.backup(target); target.close(); source.close()"
)


def container_pid() -> str:
    return subprocess.run(
        ["podman", "inspect", "--format", "{{.State.Pid}}", sandbox.CONTAINER],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def mount(*args: str) -> None:
    """Run mount or umount in the container's mount namespace (and its PID
    namespace: umount reads /proc/self/mountinfo)."""
    subprocess.run(
        ["nsenter", "--target", container_pid(), "--mount", "--pid", *args],
        capture_output=True,
        text=True,
        check=True,
    )


def copy_database(source: str, target: str) -> None:
    sandbox.exec_("runuser", "-u", "polls", "--", "python3", "-c", COPY, source, target)


def units() -> list[str]:
    instance = sandbox.live_instance()
    return [f"polls@{instance}.socket", f"polls@{instance}.service"]


def free_mib() -> float:
    available = sandbox.exec_("df", "--output=avail", "-B1", STATE).split()[-1]
    return int(available) / 2**20


class Drill:
    def __init__(self, question: int, choice: int, vote_count: Callable[[int], int]):
        self.question, self.choice, self.vote_count = question, choice, vote_count
        self.checks: dict[str, bool] = {}
        self.units: list[str] = []

    def check(self, what: str, passed: bool) -> None:
        self.checks[what] = passed

    def votes(self, count: int) -> tuple[int, int, list[str]]:
        """Cast ``count`` votes: (acknowledged, counted, other answers)."""
        ballot = Ballot(
            sandbox.BASE_URL, self.question, self.choice, sandbox.tls_context()
        )
        before, acknowledged, others = self.vote_count(self.choice), 0, []
        for _ in range(count):
            status, body = ballot.post()
            if status == 302:
                acknowledged += 1
            elif not (status == 503 and REFUSAL in body):
                others.append(f"HTTP {status}")
        return acknowledged, self.vote_count(self.choice) - before, others

    def run(self) -> None:
        size_mib = int(sandbox.exec_("stat", "-c", "%s", DATABASE)) // 2**20 + 32
        owner = sandbox.exec_("stat", "-c", "%u:%g", STATE).strip().split(":")
        self.units = units()
        sandbox.exec_("systemctl", "stop", *self.units)
        sandbox.exec_("mkdir", "-p", UNDER)
        mount("mount", "--bind", STATE, UNDER)
        mount(
            "mount",
            "-t",
            "tmpfs",
            "-o",
            f"size={size_mib}m,mode=0750,uid={owner[0]},gid={owner[1]}",
            "polls-drill",
            STATE,
        )
        try:
            copy_database(f"{UNDER}/db.sqlite3", DATABASE)
            sandbox.exec_("systemctl", "start", *self.units)
            self.full_then_free(size_mib)
        finally:
            self.restore()

    def full_then_free(self, size_mib: int) -> None:
        status = sandbox.wait_for_200("/healthz", 60)
        acknowledged, counted, _ = self.votes(1)
        self.check(
            f"on a {size_mib} MiB filesystem: /healthz {status}, a vote counted",
            status == 200 and acknowledged == counted == 1,
        )
        since = sandbox.exec_("date", "+%Y-%m-%d %H:%M:%S").strip()
        sandbox.exec_(
            "sh", "-c", f"dd if=/dev/zero of={FILLER} bs=1M 2>/dev/null; true"
        )
        free = free_mib()
        status, body = sandbox.fetch(sandbox.BASE_URL + "/healthz")
        storage = json.loads(body).get("storage", "") if status == 503 else body
        self.check(
            f"full ({free:.1f} MiB free): /healthz {status}: {storage}",
            status == 503 and "MiB free" in storage,
        )
        page = sandbox.fetch(sandbox.BASE_URL + f"/polls/{self.question}/results/")[0]
        self.check(f"full: the results page answers {page}", page == 200)
        acknowledged, counted, others = self.votes(VOTES)
        refused = VOTES - acknowledged - len(others)
        self.check(
            f"full: {VOTES} votes: {acknowledged} acknowledged, {counted} counted, "
            f"{refused} refused with the form's error, other answers {others}",
            not others and counted == acknowledged and refused > 0,
        )
        journal = sandbox.exec_(
            "journalctl", "-u", "polls@*", "--since", since, "--no-pager", "-o", "cat"
        )
        self.check(
            f"full: the journal says '{LOGGED}' ({journal.count(LOGGED)} lines)",
            journal.count(LOGGED) == refused,
        )
        sandbox.exec_("rm", "-f", FILLER)
        started = time.monotonic()
        status = sandbox.wait_for_200("/healthz", 10)
        acknowledged, counted, others = self.votes(VOTES)
        self.check(
            f"space back: /healthz {status} after {time.monotonic() - started:.1f} s, "
            f"{VOTES} votes: {acknowledged} acknowledged, {counted} counted",
            status == 200 and acknowledged == counted == VOTES,
        )

    def restore(self) -> None:
        """The real database takes the small filesystem's, and serves again."""
        before = sandbox.data_digest()
        sandbox.exec_("systemctl", "stop", *self.units)
        sandbox.exec_("rm", "-f", FILLER)
        copy_database(DATABASE, f"{UNDER}/db.sqlite3")
        mount("umount", STATE)
        mount("umount", UNDER)
        sandbox.exec_("rmdir", UNDER)
        sandbox.exec_("systemctl", "start", *self.units)
        status = sandbox.wait_for_200("/healthz", 60)
        after = sandbox.data_digest()
        self.check(
            f"back on the real disk: /healthz {status}, questions, choices, votes "
            f"{before} -> {after}",
            status == 200 and before == after,
        )
