"""The app's cost as its data grows: each public page and the vote, in-process.

For every size, a fresh SQLite database (WAL, the deployed settings) is migrated
and filled with that many questions, ten choices each with votes, by bulk
inserts; then a child process with a cold Django asks each page many times with
Django's test client (one client, no server, no network: the app's own cost)
under both view sets, the sync views polls.wsgi serves and the async views of
polls.asgi. The sizes are measured in rounds, each round every size in an
order rotated from round to round, and each ratio is paired: a page's cost at
a size over its cost at the smallest size in the same round, the median over
the rounds (these VMs change speed by a fifth from second to second; a ratio
of two measurements minutes apart would measure that). Reported: the median
time of a request and the median paired ratio. The goal is a flat cost: at
most 1.5x at 1,000,000 questions.

    python bench/datasize.py                 # 10, 10k and 1M questions
    python bench/datasize.py --quick         # 10 and 1k: checks the harness
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import control  # bench/control.py
import report  # bench/report.py

SIZES = (10, 10_000, 1_000_000)
QUICK_SIZES = (10, 1_000)
CHOICES = 10
# Public pages and the vote; the admin's list is reported, not held to it.
GOAL = 1.5
PAGES = ("index", "detail", "results", "vote")
VIEW_SETS = ("sync", "async")


# ------------------------------------------------------------------ child ---


def fill(size: int) -> None:
    """``size`` questions published one minute apart, ten choices each."""
    from django.db import connection, transaction

    rng = random.Random(size)  # noqa: S311 - vote counts, not secrets
    start = datetime.now(UTC) - timedelta(minutes=size + 1)
    batch = 50_000
    with connection.cursor() as cursor:
        # A bulk load: no write-ahead log of half a gigabyte, no fsync.
        cursor.execute("PRAGMA journal_mode=DELETE")
        cursor.execute("PRAGMA synchronous=OFF")
    with transaction.atomic(), connection.cursor() as cursor:
        for first in range(1, size + 1, batch):
            ids = range(first, min(first + batch, size + 1))
            cursor.executemany(
                "INSERT INTO polls_question (id, question_text, pub_date)"
                " VALUES (%s, %s, %s)",
                [(i, f"Question {i}?", start + timedelta(minutes=i)) for i in ids],
            )
            cursor.executemany(
                "INSERT INTO polls_choice (question_id, choice_text, votes)"
                " VALUES (%s, %s, %s)",
                [
                    (i, f"Choice {c} of {i}", rng.randrange(1000))
                    for i in ids
                    for c in range(CHOICES)
                ],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("PRAGMA journal_mode=WAL")


def median_ms(request: object, seconds: float, least: int) -> float:
    """The median time of ``request()`` in ms, over ``seconds`` or ``least`` calls."""
    for _ in range(5):
        request()  # warm: templates compiled, connection open
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < least or time.perf_counter() < deadline:
        began = time.perf_counter()
        request()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def expect(response: Any, status: int, url: str) -> None:
    """Stop the run when a page does not answer as it should."""
    if response.status_code != status:
        raise SystemExit(f"datasize: {url} answered {response.status_code}")


def child(size: int, seconds: float) -> dict[str, dict[str, float]]:
    """Median ms per view set and page, with the database already filled."""
    import django
    from django.test import Client

    django.setup()
    from django.contrib.auth.models import User

    from polls.models import Question
    from polls.tests.asgi_client import ASGIClient

    newest = Question.objects.order_by("-pub_date").first()
    choice = newest.choice_set.values_list("id", flat=True)[0]
    urls = {
        "index": "/polls/",
        "detail": f"/polls/{newest.pk}/",
        "results": f"/polls/{newest.pk}/results/",
        "vote": f"/polls/{newest.pk}/vote/",
    }
    # The sync views through Django's test handler, the async ones through
    # polls.asgi's handler.
    view_sets = {"sync": Client(), "async": ASGIClient()}

    def requester(client: Any, page: str) -> Any:
        url = urls[page]
        if page == "vote":
            return lambda: expect(client.post(url, {"choice": choice}), 302, url)
        return lambda: expect(client.get(url), 200, url)

    out: dict[str, dict[str, float]] = {}
    for view_set, client in view_sets.items():
        out[view_set] = {
            page: median_ms(requester(client, page), seconds, least=20)
            for page in PAGES
        }

    admin = Client()
    # One superuser per database, made by the first round that needs it.
    user = User.objects.filter(username="bench").first()
    admin.force_login(user or User.objects.create_superuser("bench", password=None))
    url = "/admin/polls/question/"
    out["admin"] = {
        "question list": median_ms(
            lambda: expect(admin.get(url), 200, url), seconds, least=5
        )
    }
    return out


# ----------------------------------------------------------------- parent ---


def environment(database: Path) -> dict[str, str]:
    """bench/control.py's production app, answering Django's test client's host."""
    return control.app_env(
        database,
        DJANGO_SETTINGS_MODULE="polls.settings",
        POLLS_ALLOWED_HOSTS="testserver,127.0.0.1",
    )


def run_child(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        cwd=control.PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"datasize: {' '.join(args)}:\n{result.stderr[-3000:]}")
    return result.stdout


def measure(
    sizes: tuple[int, ...], seconds: float, rounds: int
) -> list[dict[int, dict]]:
    """Fill a database per size, then measure every size once per round."""
    measured: list[dict[int, dict]] = []
    with tempfile.TemporaryDirectory(prefix="polls-datasize-") as scratch:
        envs = {}
        for size in sizes:
            envs[size] = environment(Path(scratch) / f"{size}.sqlite3")
            began = time.monotonic()
            run_child(["--fill", str(size)], envs[size])
            filled = time.monotonic() - began
            print(f"datasize: {size:,} questions filled in {filled:.0f} s", flush=True)
        for round_ in range(rounds):
            order = report.rotated(list(sizes), round_)
            print(f"datasize: round {round_ + 1}/{rounds}", flush=True)
            measured.append(
                {
                    size: json.loads(
                        run_child(
                            ["--measure", str(size), "--seconds", str(seconds)],
                            envs[size],
                        )
                    )
                    for size in order
                }
            )
    return measured


def summarise(measured: list[dict[int, dict]]) -> dict[int, dict]:
    """Per size, view set and page: the median ms and the median paired ratio."""
    sizes = sorted(measured[0])
    base = sizes[0]
    out: dict[int, dict] = {}
    for size in sizes:
        out[size] = {}
        for view_set, pages in measured[0][base].items():
            out[size][view_set] = {}
            for page in pages:
                costs = [one[size][view_set][page] for one in measured]
                ratios = [
                    one[size][view_set][page] / one[base][view_set][page]
                    for one in measured
                ]
                out[size][view_set][page] = {
                    "ms": statistics.median(costs),
                    "ratio": statistics.median(ratios),
                }
    return out


def table(results: dict[int, dict]) -> str:
    sizes = sorted(results)
    base = sizes[0]
    head = "| view set | page | " + " | ".join(f"{s:,} q (ms)" for s in sizes)
    head += " | " + " | ".join(f"{s:,} / {base:,}" for s in sizes[1:]) + " |"
    rule = "| --- " * (2 + 2 * len(sizes) - 1) + "|"
    rows = [head, rule]
    for view_set, pages in results[base].items():
        for page in pages:
            cells = [results[s][view_set][page] for s in sizes]
            rows.append(
                f"| {view_set} | {page} | "
                + " | ".join(f"{c['ms']:.2f}" for c in cells)
                + " | "
                + " | ".join(f"{c['ratio']:.2f}x" for c in cells[1:])
                + " |"
            )
    return "\n".join(rows)


def over_goal(results: dict[int, dict]) -> list[str]:
    """The public pages whose cost at the largest size exceeds GOAL x the smallest."""
    largest = results[max(results)]
    failing = []
    for view_set in VIEW_SETS:
        for page in PAGES:
            ratio = largest[view_set][page]["ratio"]
            if ratio > GOAL:
                failing.append(f"{view_set} {page}: {ratio:.2f}x")
    return failing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 1k questions")
    parser.add_argument("--seconds", type=float, default=1.0, help="per page")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=report.RESULTS)
    parser.add_argument("--fill", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.fill is not None:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        fill(args.fill)
        return
    if args.measure is not None:
        print(json.dumps(child(args.measure, args.seconds)))
        return

    sizes = QUICK_SIZES if args.quick else SIZES
    if args.quick:
        args.seconds, args.rounds = 0.3, 1
    results = summarise(measure(sizes, args.seconds, args.rounds))
    text = table(results)
    print(text)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "datasize.md").write_text(
        "Median ms of one request, in-process (Django test client, SQLite),"
        f" {CHOICES} choices per question, over {args.rounds} rounds; ratio to"
        f" {sizes[0]:,} questions in the same round, median over the rounds.\n\n"
        + text
        + "\n"
    )
    failing = over_goal(results)
    if failing and not args.quick:
        raise SystemExit(f"datasize: over {GOAL}x: " + ", ".join(failing))


if __name__ == "__main__":
    main()
