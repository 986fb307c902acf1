"""Ids for rows that writers number themselves: comment ids and tree ids.

Imports bulk-insert comments with ids chosen in advance (a child's row names
its parent's id), and every top-level comment needs a tree id of its own.
Both must be unique even when writers of different threads run at once:
- on PostgreSQL they come from sequences, which never hand out a value twice;
- on SQLite every writer holds the database's only write lock (IMMEDIATE
  transactions), so the values after the highest one in use are free.

This module imports no model: ``threads.models`` and ``threads.trees`` both
use it, and pass the model whose table they number.
"""

from django.db import connections


def allocate_ids(model, count):
    """Reserve ``count`` primary keys of ``model`` for rows inserted with explicit ids.

    On SQLite, AUTOINCREMENT remembers ids of deleted rows in
    ``sqlite_sequence``; those are skipped too, as the table itself would.
    """
    if not count:
        return []
    connection = connections[model.objects.db]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        remembered = cursor.fetchone()
    start = max(highest, remembered[0] if remembered else 0) + 1
    return list(range(start, start + count))


def tree_id_sequence(model):
    """The PostgreSQL sequence of ``model``'s tree ids (migration 0002 creates it)."""
    return f"{model._meta.db_table}_tree_id_seq"


def allocate_tree_ids(model, count):
    """Return ``count`` tree ids of ``model`` that no other writer can be given.

    django-mptt's own choice, ``MAX(tree_id) + 1``, can be read by two
    concurrent writers on PostgreSQL, which then share a tree (docs/trees.md).
    """
    if not count:
        return []
    connection = connections[model.objects.db]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [tree_id_sequence(model), count])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT MAX(tree_id) FROM {connection.ops.quote_name(model._meta.db_table)}")
        top = cursor.fetchone()[0] or 0
    return list(range(top + 1, top + 1 + count))
