"""The releases a drill deploys besides the repository's own.

``changed``: the same app with a backward-compatible migration (a nullable
column), a marker in every page and a changed stylesheet (a new hashed name),
the upgrade path's release B.
``broken``: an app whose ASGI module raises on import, which the deploy must
refuse before it starts.
``failing``: an app that starts and answers /healthz but serves its index
with a 500 (a broken template), which the deploy must refuse before traffic
moves.
"""

import shutil
from pathlib import Path

from .sandbox import ROOT

MARKER = '<meta name="polls-release" content="drill-changed">'

MIGRATION = '''from django.db import migrations, models


class Migration(migrations.Migration):
    """Backward compatible: a nullable column the running release ignores."""

    dependencies = [("polls", "{latest}")]

    operations = [
        migrations.AddField(
            model_name="question",
            name="drill_note",
            field=models.CharField(max_length=200, null=True, blank=True),
        ),
    ]
'''


def _copy(name: str, workdir: Path) -> Path:
    target = workdir / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        ROOT / "polls",
        target,
        ignore=shutil.ignore_patterns(
            "__pycache__", "*.sqlite3*", "staticfiles", "build", "*.egg-info"
        ),
    )
    return target


def changed(workdir: Path) -> Path:
    """Release B: a new migration and a marker in the page head."""
    source = _copy("changed", workdir)
    package = source / "polls"
    models = package / "models.py"
    models.write_text(
        models.read_text().replace(
            '    pub_date = models.DateTimeField("date published")\n',
            '    pub_date = models.DateTimeField("date published")\n'
            "    drill_note = models.CharField("
            "max_length=200, null=True, blank=True)\n",
            1,
        )
    )
    migrations = package / "migrations"
    latest = max(path.stem for path in migrations.glob("[0-9][0-9][0-9][0-9]_*.py"))
    following = int(latest[:4]) + 1
    (migrations / f"{following:04d}_drill_note.py").write_text(
        MIGRATION.replace("{latest}", latest)
    )
    base = package / "templates/polls/base.html"
    base.write_text(base.read_text().replace("<head>\n", f"<head>\n{MARKER}\n", 1))
    style = package / "static/polls/style.css"
    style.write_text(style.read_text() + "\n/* release B */\n")
    return source


def broken(workdir: Path) -> Path:
    """A release that cannot start: its ASGI module fails on import."""
    source = _copy("broken", workdir)
    asgi = source / "polls/asgi.py"
    asgi.write_text(
        asgi.read_text() + '\nraise RuntimeError("drill: this release cannot start")\n'
    )
    return source


def failing(workdir: Path) -> Path:
    """A release that starts, answers /healthz, and fails its index page.

    The template breaks (a URL that does not resolve), so the index answers
    500 under either set of views.
    """
    source = _copy("failing", workdir)
    index = source / "polls/templates/polls/index.html"
    text = index.read_text()
    head = "<h1>Polls</h1>\n"
    if head not in text:
        raise SystemExit(f"drills: {index} has no {head.strip()!r} to break")
    index.write_text(text.replace(head, head + "{% url 'polls:no-such-page' %}\n", 1))
    return source
