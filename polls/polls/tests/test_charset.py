"""A form post in another charset is a 400, never a 500 (polls.charset)."""

from typing import Any

import pytest
from django.urls import reverse

from .factories import create_question

pytestmark = pytest.mark.django_db
UTF7 = "application/x-www-form-urlencoded; charset=utf-7"


def test_a_form_post_in_utf7_is_refused_with_400(client: Any) -> None:
    """Under both entry points, the vote answers 400 with a plain reason."""
    question = create_question("Charset?", days=-1)
    response = client.post(
        reverse("polls:vote", args=(question.pk,)), "choice=1", content_type=UTF7
    )
    assert response.status_code == 400
    assert b"must be UTF-8" in response.content


def test_utf8_spelled_any_way_passes(client: Any) -> None:
    question = create_question("Charset?", days=-1)
    for charset in ("utf-8", "UTF-8", '"utf-8"', "utf8"):
        response = client.post(
            reverse("polls:vote", args=(question.pk,)),
            "choice=x",
            content_type=f"application/x-www-form-urlencoded; charset={charset}",
        )
        assert response.status_code == 400  # no such choice: the form's error
        assert b"must be UTF-8" not in response.content


def test_a_refused_request_logs_one_line(client: Any, caplog: Any) -> None:
    """Too many fields: a 400 and one django.security line, no traceback."""
    import logging

    from polls.logfilters import OneLineRefusals

    question = create_question("Fields?", days=-1)
    with caplog.at_level(logging.ERROR, logger="django.security"):
        response = client.post(
            reverse("polls:vote", args=(question.pk,)),
            "&".join(f"f{n}=1" for n in range(200)),
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 400
    records = [r for r in caplog.records if r.name.startswith("django.security.")]
    assert records
    for record in records:
        OneLineRefusals().filter(record)
        assert record.exc_info is None
