"""backup and restore: a consistent online copy, and a checked swap back."""

import sqlite3
from pathlib import Path

import pytest

from .servers import manage, project_env

VOTES = "SELECT SUM(votes) FROM polls_choice"


@pytest.fixture
def seeded(tmp_path: Path) -> dict[str, str]:
    env = project_env(tmp_path / "db.sqlite3")
    for command in (("migrate", "--verbosity", "0"), ("seed_polls",)):
        result = manage(env, *command)
        assert result.returncode == 0, result.stderr
    return env


def votes(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(VOTES).fetchone()[0]


def vote(database: Path, count: int) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE polls_choice SET votes = votes + ? WHERE id = 1", [count]
        )


def test_backup_keeps_the_newest_and_restore_brings_back_their_counts(
    tmp_path: Path, seeded: dict[str, str]
) -> None:
    """Votes cast after a backup are gone after restoring it; --keep prunes."""
    database = tmp_path / "db.sqlite3"
    directory = tmp_path / "backups"
    directory.mkdir()
    vote(database, 5)
    for _ in range(3):
        result = manage(seeded, "backup", str(directory), "--keep", "2")
        assert result.returncode == 0, result.stderr
        assert "integrity ok" in result.stdout
    kept = sorted(directory.iterdir())
    assert len(kept) == 2, kept
    assert all(path.name.startswith("polls-") for path in kept)
    vote(database, 7)
    assert votes(database) == 12

    result = manage(seeded, "restore", "--check", str(kept[-1]))
    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stdout
    assert votes(database) == 12, "--check changed the database"

    result = manage(seeded, "restore", str(kept[-1]))
    assert result.returncode == 0, result.stderr
    assert votes(database) == 5
    assert not Path(f"{database}-wal").exists()


def test_restore_refuses_a_damaged_backup_and_leaves_the_database(
    tmp_path: Path, seeded: dict[str, str]
) -> None:
    """A backup that fails its integrity check changes nothing."""
    database = tmp_path / "db.sqlite3"
    vote(database, 3)
    damaged = tmp_path / "polls-damaged.sqlite3"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    for check in ([], ["--check"]):
        result = manage(seeded, "restore", *check, str(damaged))
        assert result.returncode != 0
        assert "integrity" in result.stderr or "not a database" in result.stderr
        assert votes(database) == 3


def test_backup_refuses_a_missing_directory(
    tmp_path: Path, seeded: dict[str, str]
) -> None:
    result = manage(seeded, "backup", str(tmp_path / "nowhere"))
    assert result.returncode != 0
    assert "is not a directory" in result.stderr
