"""One operation under load: GETs and votes before, during and after it."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from .load import VoteLoad, Voters, Wrk
from .report import Row, table

# What an operation says it did; an operation that also voted (a burst of
# concurrent votes) hands back those votes to be counted with the rest.
Outcome = str | tuple[str, VoteLoad]


@dataclass
class Site:
    """Where the load goes and how the database's count is read."""

    base_url: str
    question: int
    choice: int
    vote_count: Callable[[int], int]


@dataclass
class Load:
    """How much load runs around each operation."""

    connections: int
    voters: int
    settle: float
    limit: int


def measure(
    site: Site, load: Load, operation: str, action: Callable[[], Outcome]
) -> Row:
    """Run ``action`` with GETs and votes flowing before, during and after."""
    before = site.vote_count(site.choice)
    wrk = Wrk(site.base_url + "/polls/", load.connections, load.limit)
    voters = Voters(site.base_url, site.question, site.choice, load.voters)
    voters.start()
    time.sleep(load.settle)
    started = time.monotonic()
    extra = VoteLoad()
    try:
        outcome = action()
        if isinstance(outcome, tuple):
            outcome, extra = outcome
    except Exception as exc:  # the table still prints
        outcome = f"FAILED: {type(exc).__name__}: {exc}"
    seconds = time.monotonic() - started
    time.sleep(load.settle)
    gets, votes = wrk.stop(), voters.stop()
    votes.add(extra)
    counted = site.vote_count(site.choice) - before
    row = Row(operation, seconds, gets, votes, counted, outcome, load.voters == 0)
    print(table([row]).splitlines()[-1], flush=True)
    return row
