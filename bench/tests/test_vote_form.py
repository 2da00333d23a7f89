import pytest
import vote_form

PAGE = """
<form action="/polls/1/vote/" method="post">
<input type="hidden" name="csrfmiddlewaretoken" value="abc123">
<input type="radio" name="choice" id="choice1" value="7">
</form>
"""


def test_reads_token_and_first_choice() -> None:
    assert vote_form.csrf_token(PAGE) == "abc123"
    assert vote_form.first_choice(PAGE) == 7


def test_page_without_form_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no CSRF token"):
        vote_form.csrf_token("<p>Not Found</p>")
