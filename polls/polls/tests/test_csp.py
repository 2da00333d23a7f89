"""The pages work under the Content-Security-Policy nginx sends.

roles/nginx's policy allows scripts, styles and images from the site itself
and nothing inline: no <script> or <style> element with a body, no style=
attribute, no on*= handler, no javascript: URL. Each page the polls site and
its admin serve is rendered here and read for any of those, so a template
(ours or Django's admin, after an upgrade) that needs more fails here before a
browser refuses it.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse

from polls.models import Choice

from .factories import create_question

pytestmark = pytest.mark.django_db


class InlineCode(HTMLParser):
    """Collects what a `script-src 'self'; style-src 'self'` policy blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self._open = "inline <script>"
        if tag == "style":
            self._open = "inline <style>"
        for name, value in attrs:
            if name == "style":
                self.found.append(f"<{tag} style={value!r}>")
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.found.append(f"{self._open}: {data.strip()[:60]!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._open = None


def blocked(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_parser_finds_what_the_policy_blocks() -> None:
    """The check itself sees each kind of inline code."""
    html = (
        '<script>alert(1)</script><style>p{}</style><p style="x"></p>'
        '<a href="javascript:x" onclick="y"></a><script src="/s.js"></script>'
    )
    assert len(blocked(html)) == 5


def test_polls_pages_have_no_inline_code(client: Any) -> None:
    """The index, a question, a refused vote and the results."""
    question = create_question("Inline?", days=-1)
    Choice.objects.create(question=question, choice_text="No")
    pages = [
        (200, client.get(reverse("polls:index"))),
        (200, client.get(reverse("polls:detail", args=(question.pk,)))),
        (400, client.post(reverse("polls:vote", args=(question.pk,)), {"choice": "x"})),
        (200, client.get(reverse("polls:results", args=(question.pk,)))),
    ]
    for status, response in pages:
        assert response.status_code == status
        assert blocked(response.text) == [], response.request["PATH_INFO"]


def test_admin_pages_have_no_inline_code(client: Any, admin_client: Any) -> None:
    """The admin's login, index, lists, forms (with inlines and popups)."""
    question = create_question("Admin?", days=-1)
    Choice.objects.create(question=question, choice_text="Yes")
    pages = {
        client: [reverse("admin:login")],
        admin_client: [
            reverse("admin:index"),
            reverse("admin:polls_question_changelist"),
            reverse("admin:polls_question_changelist") + "?q=Admin",
            reverse("admin:polls_question_add"),
            reverse("admin:polls_question_change", args=(question.pk,)),
            reverse("admin:polls_question_delete", args=(question.pk,)),
            reverse("admin:polls_question_history", args=(question.pk,)),
            reverse("admin:auth_user_add") + "?_popup=1",
            reverse("admin:auth_group_add"),
            reverse("admin:auth_user_changelist"),
            reverse("admin:password_change"),
        ],
    }
    for each, paths in pages.items():
        for path in paths:
            response = each.get(path)
            assert response.status_code == 200, path
            assert blocked(response.text) == [], path
