"""Schema changes that are safe to run on a large table the live release serves.

A migration using these sets ``atomic = False``: on PostgreSQL the index is
built with ``CREATE INDEX CONCURRENTLY``, which takes no lock that blocks reads
or writes but cannot run in a transaction. On SQLite, ``CREATE INDEX`` holds the
database's write lock while it builds (about a second per million rows here);
readers go on under WAL, writers wait on the busy timeout.
"""

from django.db import migrations


class AddIndexOnline(migrations.AddIndex):
    """``AddIndex``, built concurrently on PostgreSQL."""

    def _builder(self, schema_editor) -> migrations.AddIndex:
        """The operation that builds the index on this database."""
        if schema_editor.connection.vendor == "postgresql":
            from django.contrib.postgres.operations import AddIndexConcurrently

            return AddIndexConcurrently(self.model_name, self.index)
        return migrations.AddIndex(self.model_name, self.index)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._builder(schema_editor).database_forwards(
            app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._builder(schema_editor).database_backwards(
            app_label, schema_editor, from_state, to_state
        )

    def describe(self) -> str:
        return super().describe() + " (concurrently on PostgreSQL)"
