"""``polls-admin restore BACKUP``: put a backup in place of the SQLite database.

``polls-admin restore --check BACKUP`` only checks it, and changes nothing
(ansible/restore.yml does, before anything stops).

For a stopped application only (ansible/restore.yml stops both instances and
their sockets first, so no request is answered from a half-restored
database). The backup is checked, copied beside the database, checked again,
flushed and renamed over it in one step; the old database's write-ahead log
and shared-memory files go with it, since they belong to the replaced file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from .backup import integrity


class Command(BaseCommand):
    help = "Replace the SQLite database with BACKUP (the application stopped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path)
        parser.add_argument(
            "--check",
            action="store_true",
            help="only check the backup's integrity; change nothing",
        )

    def handle(
        self, *args: object, backup: Path, check: bool, **options: object
    ) -> None:
        database = settings.DATABASES["default"]
        if database["ENGINE"] != "django.db.backends.sqlite3":
            raise CommandError(
                "restore handles SQLite; PostgreSQL restores with pg_restore"
            )
        if not backup.is_file():
            raise CommandError(f"{backup} is not a file")
        verdict = integrity(backup)
        if verdict != "ok":
            raise CommandError(f"{backup} fails its integrity check: {verdict}")
        if check:
            self.stdout.write(f"restore: {backup} integrity ok")
            return
        connections.close_all()
        target = Path(database["NAME"])
        staged = target.with_name(f".{target.name}.restoring")
        try:
            shutil.copyfile(backup, staged)
            verdict = integrity(staged)
            if verdict != "ok":
                raise CommandError(
                    f"the staged copy fails its integrity check: {verdict}"
                )
            descriptor = os.open(staged, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            for companion in ("-wal", "-shm"):
                Path(f"{target}{companion}").unlink(missing_ok=True)
            os.replace(staged, target)
        finally:
            staged.unlink(missing_ok=True)
        verdict = integrity(target)
        if verdict != "ok":
            raise CommandError(
                f"{target} fails its integrity check after the restore: {verdict}"
            )
        self.stdout.write(f"restore: {target} from {backup} (integrity ok)")
