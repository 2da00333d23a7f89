from django import forms


class VoteForm(forms.Form):
    """The one field a vote posts: the id of the chosen choice."""

    choice = forms.IntegerField(
        min_value=1,
        error_messages={
            "required": "You didn't select a choice.",
            "invalid": "That is not a valid choice.",
            "min_value": "That is not a valid choice.",
        },
    )
