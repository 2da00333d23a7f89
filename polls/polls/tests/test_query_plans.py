"""Every query of a public page and of a vote reads through an index.

The queries are the ones the views really send (captured from a request under
both entry points); each is explained by the database the tests run on, SQLite
or PostgreSQL, and its plan must neither scan a polls table from end to end nor
sort it. That is what keeps a page's cost flat as questions pile up
(bench/datasize.py measures it).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .factories import create_question

pytestmark = pytest.mark.django_db


def plan(sql: str) -> list[str]:
    """The lines of the database's plan for ``sql``."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A test table is tiny, so the planner would rightly scan it; with
            # scans priced out, a plan that still scans or sorts has no index
            # to use.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"EXPLAIN {sql}")
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [row[-1] for row in cursor.fetchall()]


def full_scans(lines: list[str]) -> list[str]:
    """The plan lines that read a polls table whole or sort rows."""
    if connection.vendor == "postgresql":
        # enable_sort = off still lets a Sort through, at a huge price.
        return [
            line
            for line in lines
            if ("Seq Scan on polls_" in line) or line.lstrip(" ->").startswith("Sort")
        ]
    return [
        line
        for line in lines
        if (line.startswith("SCAN polls_") and " USING " not in line)
        or "TEMP B-TREE" in line
    ]


def page_queries(client: Any, method: str, url: str, **data: Any) -> list[str]:
    """The SQL of the polls tables that one request sends."""
    with CaptureQueriesContext(connection) as captured:
        response = (
            getattr(client, method)(url, data) if data else getattr(client, method)(url)
        )
    assert response.status_code in {200, 302}, response.status_code
    queries = [query["sql"] for query in captured.captured_queries]
    return [sql for sql in queries if "polls_" in sql]


@pytest.fixture
def question() -> Any:
    for days in range(1, 8):
        create_question(f"Older {days}", days=-days - 1)
    question = create_question("Newest?", days=-1)
    for text in ("Yes", "No"):
        question.choice_set.create(choice_text=text)
    return question


@pytest.mark.parametrize(
    ("page", "method"),
    [
        ("polls:index", "get"),
        ("polls:detail", "get"),
        ("polls:results", "get"),
        ("polls:vote", "post"),
    ],
)
def test_page_reads_through_indexes(
    client: Any, question: Any, page: str, method: str
) -> None:
    """No query of the page scans or sorts a whole polls table."""
    args = () if page == "polls:index" else (question.pk,)
    data = {"choice": question.choice_set.first().pk} if method == "post" else {}
    queries = page_queries(client, method, reverse(page, args=args), **data)
    assert queries, "the page sent no query to the polls tables"
    for sql in queries:
        lines = plan(sql)
        assert not full_scans(lines), f"{sql}\n" + "\n".join(lines)


def test_index_walks_the_pub_date_index(client: Any, question: Any) -> None:
    """The index page reads the newest entries of polls_question_pub_date."""
    (sql,) = page_queries(client, "get", reverse("polls:index"))
    text = "\n".join(plan(sql))
    assert "polls_question_pub_date" in text, text
