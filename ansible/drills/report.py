"""The drill's table: one row per operation."""

import sys
from dataclasses import dataclass

from .load import GetLoad, VoteLoad


@dataclass
class Row:
    """One operation under load, and what it cost."""

    operation: str
    seconds: float
    gets: GetLoad
    votes: VoteLoad
    counted: int
    outcome: str
    # No voters ran (an operation where a vote in flight may fail honestly).
    gets_only: bool = False

    @property
    def lost(self) -> int:
        """Acknowledged votes the database does not have."""
        return max(self.votes.acknowledged - self.counted, 0)

    @property
    def unacknowledged(self) -> int:
        """Votes the database has that nobody was told about."""
        return max(self.counted - self.votes.acknowledged, 0)

    @property
    def clean(self) -> bool:
        return (
            self.gets.failed == 0
            and self.votes.failed == 0
            and self.lost == 0
            and self.unacknowledged == 0
            and self.gets.requests > 0
            and (self.gets_only or self.votes.acknowledged > 0)
            and not self.outcome.startswith("FAILED")
        )


HEADER = (
    "| operation | s | GETs | failed | votes acked | failed | counted | lost "
    "| counted unacked | max ms | outcome |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
)


def table(rows: list[Row]) -> str:
    lines = list(HEADER)
    for row in rows:
        worst = max(row.gets.max_latency_ms, row.votes.max_latency_ms)
        lines.append(
            f"| {row.operation} | {row.seconds:.0f} | {row.gets.requests} "
            f"| {row.gets.failed} | {row.votes.acknowledged} | {row.votes.failed} "
            f"| {row.counted} | {row.lost} | {row.unacknowledged} | {worst:.0f} "
            f"| {row.outcome} |"
        )
    return "\n".join(lines)


def failures(rows: list[Row]) -> list[str]:
    """What went wrong, one line per operation that was not clean."""
    lines = []
    for row in rows:
        if row.clean:
            continue
        notes = [row.outcome]
        if row.gets.detail:
            notes.append(f"wrk: {row.gets.detail}")
        if row.votes.errors:
            notes.append(f"votes: {sorted(set(row.votes.errors))[:5]}")
        if row.gets.requests == 0 or not (row.gets_only or row.votes.acknowledged):
            notes.append("no load reached the site")
        lines.append(f"{row.operation}: " + "; ".join(notes))
    return lines


def verdict(rows: list[Row]) -> int:
    """Print what went wrong and the verdict; the exit status (0: all clean)."""
    problems = failures(rows)
    for line in problems:
        print(f"drills: {line}", file=sys.stderr)
    if problems:
        print("drills: FAILED (every operation must drop 0 requests and 0 votes)")
        return 1
    print("drills: every operation: 0 failed requests, 0 lost votes")
    return 0
