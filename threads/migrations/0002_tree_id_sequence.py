"""A PostgreSQL sequence for comment tree ids (see threads.db.allocate_tree_ids).

SQLite needs none: its writers are serialised, so MAX(tree_id) + 1 is safe there.
"""

from django.db import migrations

SEQUENCE = "threads_comment_tree_id_seq"


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}")
    schema_editor.execute(
        f"SELECT setval('{SEQUENCE}', GREATEST(COALESCE((SELECT MAX(tree_id) FROM threads_comment), 0), 1))"
    )


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("threads", "0001_initial")]

    operations = [migrations.RunPython(create_sequence, drop_sequence)]
