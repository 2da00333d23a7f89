"""Settings come from the environment and refuse bad production input in one line."""

import subprocess
import sys
from pathlib import Path

import pytest

from .servers import PROJECT_DIR, manage, project_env

KEY = "k" * 20 + "-0123456789abcdefghijklmnopqrstuvwxyz"


def settings_of(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    """Evaluate ``expression`` on the settings module under ``env``."""
    code = f"from polls import settings as s; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def production(tmp_path: Path, **extra: str) -> dict[str, str]:
    return project_env(
        tmp_path / "db.sqlite3",
        POLLS_ENV="production",
        POLLS_ALLOWED_HOSTS="polls.example.com",
        **extra,
    )


def test_production_without_secret_key_refuses_in_one_line(tmp_path: Path) -> None:
    """Production with no secret key exits non-zero naming the variable."""
    result = manage(production(tmp_path), "check")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "POLLS_SECRET_KEY" in result.stderr


def test_production_without_allowed_hosts_refuses(tmp_path: Path) -> None:
    """Production with no host names exits non-zero naming the variable."""
    env = production(tmp_path, POLLS_SECRET_KEY=KEY)
    del env["POLLS_ALLOWED_HOSTS"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "polls: POLLS_ALLOWED_HOSTS is not set; production needs the site's host names"
    )


def test_production_passes_check_deploy_with_zero_issues(tmp_path: Path) -> None:
    """A production configuration passes check --deploy, warnings included.

    The one silenced check is HSTS (security.W004): nginx sends that header.
    """
    result = manage(
        production(tmp_path, POLLS_SECRET_KEY=KEY),
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_secret_key_from_systemd_credential(tmp_path: Path) -> None:
    """$CREDENTIALS_DIRECTORY/secret_key wins over the environment variable."""
    (tmp_path / "secret_key").write_text("from-the-credential\n")
    env = production(
        tmp_path, POLLS_SECRET_KEY="from-env", CREDENTIALS_DIRECTORY=str(tmp_path)
    )
    result = settings_of(env, "s.SECRET_KEY, s.DEBUG")
    assert result.stdout.strip() == "from-the-credential False"


def test_development_defaults_need_nothing(tmp_path: Path) -> None:
    """With no variables, development mode starts with DEBUG on and SQLite."""
    result = settings_of(
        project_env(tmp_path / "db.sqlite3"),
        "s.DEBUG, s.DATABASES['default']['ENGINE']",
    )
    assert result.stdout.strip() == "True django.db.backends.sqlite3"


def test_sqlite_is_tuned_for_concurrent_writers(tmp_path: Path) -> None:
    """SQLite uses WAL, IMMEDIATE transactions and a busy timeout."""
    result = settings_of(
        project_env(tmp_path / "db.sqlite3"), "s.DATABASES['default']['OPTIONS']"
    )
    assert "'transaction_mode': 'IMMEDIATE'" in result.stdout
    assert "'timeout': 5" in result.stdout
    assert "journal_mode=WAL" in result.stdout


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    """A postgres:// URL configures psycopg with its parts decoded."""
    env = project_env(
        tmp_path / "db.sqlite3",
        POLLS_DATABASE_URL="postgres://polls:p%40ss@db.internal:5433/polls?sslmode=require",
    )
    result = settings_of(env, "sorted(s.DATABASES['default'].items())")
    out = result.stdout
    assert "'ENGINE', 'django.db.backends.postgresql'" in out
    assert "'PASSWORD', 'p@ss'" in out
    assert "'HOST', 'db.internal'" in out
    assert "'PORT', '5433'" in out
    assert "'sslmode': 'require'" in out


def test_database_pool_turns_off_persistent_connections(tmp_path: Path) -> None:
    """With POLLS_DB_POOL, psycopg's pool is used and CONN_MAX_AGE is 0."""
    env = project_env(
        tmp_path / "db.sqlite3",
        POLLS_DATABASE_URL="postgresql://polls@db/polls",
        POLLS_DB_POOL="true",
        POLLS_DB_CONN_MAX_AGE="60",
    )
    result = settings_of(
        env, "s.DATABASES['default']['CONN_MAX_AGE'], s.DATABASES['default']['OPTIONS']"
    )
    assert result.stdout.startswith("0 {'pool': {")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("POLLS_ENV", "prod", "POLLS_ENV must be one of development, production"),
        ("POLLS_DEBUG", "maybe", "POLLS_DEBUG must be a boolean"),
        ("POLLS_SQLITE_TIMEOUT", "soon", "POLLS_SQLITE_TIMEOUT must be an integer"),
        ("POLLS_DATABASE_URL", "mysql://x/y", "POLLS_DATABASE_URL must look like"),
    ],
)
def test_bad_values_are_named(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    """A malformed variable stops the program with a line naming it."""
    env = project_env(tmp_path / "db.sqlite3", **{variable: value})
    result = manage(env, "check")
    assert result.returncode != 0
    assert result.stderr.startswith(f"polls: {message}")


def test_gunicorn_refuses_a_bad_variable_in_one_line(tmp_path: Path) -> None:
    """gunicorn's settings read the environment as Django's do, same message."""
    env = project_env(tmp_path / "db.sqlite3", GUNICORN_WORKERS="many")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "polls.wsgi"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "polls: GUNICORN_WORKERS must be an integer, not 'many'"
    )


def test_gunicorn_keeps_its_own_defaults_for_what_is_not_set() -> None:
    """gunicorn_conf restates no default: an unset variable sets nothing."""
    from polls.gunicorn_conf import from_environment

    assert from_environment({}) == {"control_socket_disable": True}
    settings = from_environment(
        {
            "GUNICORN_WORKER_CLASS": "gthread",
            "GUNICORN_THREADS": "8",
            "GUNICORN_MAX_REQUESTS": "1000",
            "GUNICORN_ACCESS_LOG": "true",
            "GUNICORN_CONTROL_SOCKET": "/run/polls-blue/gunicorn.ctl",
        }
    )
    assert settings == {
        "worker_class": "gthread",
        "threads": 8,
        "max_requests": 1000,
        "max_requests_jitter": 100,
        "accesslog": "-",
        "control_socket": "/run/polls-blue/gunicorn.ctl",
    }


def test_every_gunicorn_variable_names_a_gunicorn_setting() -> None:
    """A renamed or removed gunicorn setting fails here, not silently in service."""
    from gunicorn.config import KNOWN_SETTINGS

    from polls.gunicorn_conf import INTEGERS, TEXTS

    known = {setting.name for setting in KNOWN_SETTINGS}
    extra = {"accesslog", "loglevel", "control_socket", "control_socket_disable"}
    extra |= {"max_requests_jitter", "errorlog", "access_log_format"}
    assert {*TEXTS, *INTEGERS, *extra} <= known
