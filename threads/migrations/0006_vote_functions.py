"""On PostgreSQL, cast a vote and read the new counts in one call, committed
asynchronously.

A vote was an upsert (or a delete) and then a read of the target's counts:
two round trips, and a WAL flush the member waits for. Under load those
round trips and the flush were most of PostgreSQL's share of a vote. Each
function here runs both statements server-side and, when it is its own
transaction (``commit_async``, set by the caller when it is not inside a
larger one), sets ``synchronous_commit`` off for that transaction: the vote is
visible to everyone at once and the database stays consistent, but a crash
of the server may forget the last fraction of a second of votes
(PostgreSQL's "asynchronous commit", bounded by three times
``wal_writer_delay``, 600 ms by default). A lost vote is a member clicking
again; nothing else is written this way.

SQLite runs in the process, so it has no round trip to save and keeps the
two statements (``threads/voting.py``).
"""

from django.db import migrations

TARGETS = {
    # function: (the table voted on, the upsert's SELECT, its ON CONFLICT target, the delete's condition)
    "threads_cast_comment_vote": (
        "threads_comment",
        "SELECT voter, c.thread_id, c.id, choice, voted_at FROM threads_comment c WHERE c.id = target AND NOT c.is_placeholder",
        "(user_id, comment_id) WHERE comment_id IS NOT NULL",
        "comment_id = target",
    ),
    "threads_cast_thread_vote": (
        "threads_thread",
        "SELECT voter, t.id, NULL, choice, voted_at FROM threads_thread t WHERE t.id = target",
        "(user_id, thread_id) WHERE comment_id IS NULL",
        "thread_id = target AND comment_id IS NULL",
    ),
}

FUNCTION = """
CREATE FUNCTION {name}(voter integer, target bigint, choice smallint, voted_at timestamptz, commit_async boolean)
RETURNS TABLE (upvotes bigint, downvotes bigint, is_placeholder boolean)
LANGUAGE plpgsql AS $$
BEGIN
    IF commit_async THEN
        SET LOCAL synchronous_commit = off;
    END IF;
    IF choice = 0 THEN
        DELETE FROM threads_vote WHERE user_id = voter AND {delete};
    ELSE
        INSERT INTO threads_vote AS vote (user_id, thread_id, comment_id, value, created_at)
        {select}
        ON CONFLICT {conflict} DO UPDATE SET value = excluded.value, created_at = excluded.created_at
        WHERE vote.value <> excluded.value;
    END IF;
    RETURN QUERY
        SELECT t.imported_upvotes::bigint + t.local_upvotes, t.imported_downvotes::bigint + t.local_downvotes, {placeholder}
          FROM {table} t WHERE t.id = target;
END
$$;
"""


def create_functions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, select, conflict, delete) in TARGETS.items():
        placeholder = "t.is_placeholder" if table == "threads_comment" else "FALSE"
        schema_editor.execute(
            FUNCTION.format(
                name=name, table=table, select=select, conflict=conflict, delete=delete, placeholder=placeholder
            )
        )


def drop_functions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TARGETS:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}(integer, bigint, smallint, timestamptz, boolean)")


class Migration(migrations.Migration):
    dependencies = [("threads", "0005_vote_counter_triggers")]

    operations = [migrations.RunPython(create_functions, drop_functions, elidable=False)]
