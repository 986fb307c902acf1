"""Let the database keep ``local_upvotes``/``local_downvotes`` equal to the vote rows.

A member's vote is then one statement (an upsert or a delete) that is atomic
with its counter change, instead of a locked read, a vote write and a
counter update in a transaction; and every other way a vote row goes (a
member's account deleted, a comment removed with its votes) moves the
counters too. The triggers subtract what a row was and add what it became,
on its comment, or on its thread for a thread vote (``comment_id`` empty).

SQLite drops a table's triggers when Django's schema editor remakes the
table, so a later migration that alters ``threads_vote`` must recreate them
(``tests/test_voting.py`` fails if a vote stops moving the counters).
"""

from django.db import migrations

POSTGRESQL_CREATE = """
CREATE FUNCTION threads_vote_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.comment_id IS NULL THEN
            UPDATE threads_thread
               SET local_upvotes = local_upvotes - (OLD.value = 1)::int,
                   local_downvotes = local_downvotes - (OLD.value = -1)::int
             WHERE id = OLD.thread_id;
        ELSE
            UPDATE threads_comment
               SET local_upvotes = local_upvotes - (OLD.value = 1)::int,
                   local_downvotes = local_downvotes - (OLD.value = -1)::int
             WHERE id = OLD.comment_id;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.comment_id IS NULL THEN
            UPDATE threads_thread
               SET local_upvotes = local_upvotes + (NEW.value = 1)::int,
                   local_downvotes = local_downvotes + (NEW.value = -1)::int
             WHERE id = NEW.thread_id;
        ELSE
            UPDATE threads_comment
               SET local_upvotes = local_upvotes + (NEW.value = 1)::int,
                   local_downvotes = local_downvotes + (NEW.value = -1)::int
             WHERE id = NEW.comment_id;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER threads_vote_counters AFTER INSERT OR UPDATE OR DELETE ON threads_vote
    FOR EACH ROW EXECUTE FUNCTION threads_vote_counters();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS threads_vote_counters ON threads_vote;
DROP FUNCTION IF EXISTS threads_vote_counters();
"""


def sqlite_counter_change(row, sign):
    """The two UPDATEs that apply ``row`` (NEW or OLD) with ``sign`` (+ or -)."""
    change = (
        f"SET local_upvotes = local_upvotes {sign} ({row}.value = 1), "
        f"local_downvotes = local_downvotes {sign} ({row}.value = -1)"
    )
    return (
        f"UPDATE threads_comment {change} WHERE {row}.comment_id IS NOT NULL AND id = {row}.comment_id; "
        f"UPDATE threads_thread {change} WHERE {row}.comment_id IS NULL AND id = {row}.thread_id;"
    )


SQLITE_CREATE = [
    f"CREATE TRIGGER threads_vote_added AFTER INSERT ON threads_vote BEGIN {sqlite_counter_change('NEW', '+')} END",
    "CREATE TRIGGER threads_vote_changed AFTER UPDATE ON threads_vote BEGIN "
    f"{sqlite_counter_change('OLD', '-')} {sqlite_counter_change('NEW', '+')} END",
    f"CREATE TRIGGER threads_vote_removed AFTER DELETE ON threads_vote BEGIN {sqlite_counter_change('OLD', '-')} END",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS threads_vote_added",
    "DROP TRIGGER IF EXISTS threads_vote_changed",
    "DROP TRIGGER IF EXISTS threads_vote_removed",
]


def recount(cursor, table, target):
    """Counters from the rows, where either is non-zero: before the triggers,
    deleting a member's account removed their votes but not their counts."""
    count = f"(SELECT COUNT(*) FROM threads_vote v WHERE {target} AND v.value = %s)"
    cursor.execute(
        f"UPDATE {table} SET local_upvotes = {count}, local_downvotes = {count} "
        f"WHERE local_upvotes <> 0 OR local_downvotes <> 0 OR EXISTS (SELECT 1 FROM threads_vote v WHERE {target})",
        [1, -1],
    )


def create_triggers(apps, schema_editor):
    statements = SQLITE_CREATE if schema_editor.connection.vendor == "sqlite" else [POSTGRESQL_CREATE]
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        recount(cursor, "threads_comment", "v.comment_id = threads_comment.id")
        recount(cursor, "threads_thread", "v.comment_id IS NULL AND v.thread_id = threads_thread.id")


def drop_triggers(apps, schema_editor):
    statements = SQLITE_DROP if schema_editor.connection.vendor == "sqlite" else [POSTGRESQL_DROP]
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("threads", "0004_thread_tree_version")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
