from django.db import migrations, models

from polls.online_schema import AddIndexOnline


class Migration(migrations.Migration):
    """The index page's index, built without blocking the live release."""

    atomic = False

    dependencies = [("polls", "0001_initial")]

    operations = [
        AddIndexOnline(
            model_name="question",
            index=models.Index(fields=["pub_date"], name="polls_question_pub_date"),
        ),
    ]
