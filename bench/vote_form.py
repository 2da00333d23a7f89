"""What a vote needs from the question page: the CSRF token and a choice.

The benchmark's vote script and the drills' voters both post the tutorial's
form as a browser would; they read it here.
"""

import re

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHOICE = re.compile(r'name="choice" id="choice1" value="([0-9]+)"')


def csrf_token(page: str) -> str:
    """The form's CSRF token."""
    return _find(TOKEN, page, "CSRF token")


def first_choice(page: str) -> int:
    """The id of the form's first choice."""
    return int(_find(CHOICE, page, "first choice"))


def _find(pattern: re.Pattern[str], page: str, what: str) -> str:
    match = pattern.search(page)
    if match is None:
        raise ValueError(f"the question page has no {what} (is it the vote form?)")
    return match[1]
