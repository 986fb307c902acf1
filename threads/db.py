"""Ids for rows that writers number themselves (comment ids and tree ids),
and the SQL function SQLite needs for stored hot ranks.

Imports bulk-insert comments with ids chosen in advance (a child's row names
its parent's id), and every top-level comment needs a tree id of its own.
Both must be unique even when writers of different threads run at once:
- on PostgreSQL they come from sequences, which never hand out a value twice;
- on SQLite every writer holds the database's only write lock (IMMEDIATE
  transactions), so the values after the highest one in use are free.

This module imports no model: ``threads.models`` and ``threads.trees`` both
use it, and pass the model whose table they number.
"""

from datetime import UTC, datetime

from django.db import connections

from threads.ranking import hot_rank


def stored_hot_rank(score, created_at, epoch):
    """``threads_hot_rank`` for SQLite: ``threads.ranking.hot_rank`` itself,
    over the UTC text SQLite stores times as; no epoch means now."""
    if created_at is None:
        return 0.0
    now = datetime.fromisoformat(epoch) if epoch else datetime.now(UTC).replace(tzinfo=None)
    return hot_rank(score, datetime.fromisoformat(created_at), now)


def register_sqlite_functions(sender, connection, **kwargs):
    """Give each new SQLite connection ``threads_hot_rank``, which the
    triggers and refreshes of stored hot ranks call (migration 0009).

    PostgreSQL has its own in PL/pgSQL; on SQLite the formula stays the one
    in ``threads.ranking``, exact to the microsecond, where SQLite's own
    ``julianday`` arithmetic would round times to tens of microseconds and
    could order near-ties differently from the pages' Python sorts. A tool
    without Django (the ``sqlite3`` shell) lacks it: a vote or count change
    made there fails instead of storing a wrong rank.
    """
    if connection.vendor == "sqlite":
        connection.connection.create_function("threads_hot_rank", 3, stored_hot_rank)


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
