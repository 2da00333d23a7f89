"""``polls-admin backup DIRECTORY``: a consistent copy of the SQLite database.

Taken online, while the service writes: SQLite's ``VACUUM INTO`` reads the
database in one read transaction, so the copy is the database as of one
moment, the write-ahead log's committed pages included (a plain copy of
db.sqlite3 misses them). The copy is written under a temporary name, checked
with ``PRAGMA integrity_check``, flushed to disk and only then given its
final name, ``polls-<UTC time>.sqlite3``; the newest ``--keep`` are kept.

A PostgreSQL database is dumped on its own host (roles/postgresql), where
pg_dump matches the server's version; this command refuses it.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

PREFIX = "polls-"
SUFFIX = ".sqlite3"


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of a database file: 'ok', or what is wrong."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as database:
            rows = database.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return "; ".join(str(row[0]) for row in rows)


def backups(directory: Path) -> list[Path]:
    """The backups in ``directory``, oldest first (their names sort by time)."""
    return sorted(directory.glob(f"{PREFIX}*{SUFFIX}"))


class Command(BaseCommand):
    help = "Write a consistent copy of the SQLite database into DIRECTORY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--keep",
            type=int,
            default=14,
            help="backups to keep, the newest (default 14)",
        )

    def handle(self, *args: object, directory: Path, keep: int, **options: object):
        if connection.vendor != "sqlite":
            raise CommandError(
                f"the database is {connection.vendor}: back it up on its own host "
                "(roles/postgresql's dump timer)"
            )
        if keep < 1:
            raise CommandError("--keep must be at least 1")
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        final = directory / f"{PREFIX}{stamp}{SUFFIX}"
        partial = directory / f".{final.name}.partial"
        try:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(partial)])
            verdict = integrity(partial)
            if verdict != "ok":
                raise CommandError(f"the copy fails its integrity check: {verdict}")
            descriptor = os.open(partial, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
        directory_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)
        kept = backups(directory)
        for old in kept[:-keep]:
            old.unlink()
        self.stdout.write(
            f"backup: {final} ({final.stat().st_size} bytes, integrity ok, "
            f"{min(len(kept), keep)} kept)"
        )
