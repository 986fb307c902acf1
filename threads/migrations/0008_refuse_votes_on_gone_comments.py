"""Votes on a deleted or removed comment are refused, as on a placeholder.

Replaces migration 0006's ``threads_cast_comment_vote``: its upsert and its
delete now touch only a comment that takes votes (not a placeholder, status
normal), and its third column, ``refused`` (was ``is_placeholder``), says the
target takes none. A vote stays one call, and the refusal is decided in the
same statement as the write, so no removal can slip between a check and the
vote. ``threads/voting.py`` holds SQLite's version of the same statements.
"""

from importlib import import_module

from django.db import migrations

PREVIOUS = import_module("threads.migrations.0006_vote_functions")
SIGNATURE = "threads_cast_comment_vote(integer, bigint, smallint, timestamptz, boolean)"
VOTABLE = "NOT c.is_placeholder AND c.status = 'normal'"

FUNCTION = f"""
CREATE FUNCTION threads_cast_comment_vote(
    voter integer, target bigint, choice smallint, voted_at timestamptz, commit_async boolean
)
RETURNS TABLE (upvotes bigint, downvotes bigint, refused boolean)
LANGUAGE plpgsql AS $$
BEGIN
    IF commit_async THEN
        SET LOCAL synchronous_commit = off;
    END IF;
    IF choice = 0 THEN
        DELETE FROM threads_vote
         WHERE user_id = voter
           AND comment_id = (SELECT c.id FROM threads_comment c WHERE c.id = target AND {VOTABLE});
    ELSE
        INSERT INTO threads_vote AS vote (user_id, thread_id, comment_id, value, created_at)
        SELECT voter, c.thread_id, c.id, choice, voted_at FROM threads_comment c WHERE c.id = target AND {VOTABLE}
        ON CONFLICT (user_id, comment_id) WHERE comment_id IS NOT NULL
        DO UPDATE SET value = excluded.value, created_at = excluded.created_at
        WHERE vote.value <> excluded.value;
    END IF;
    RETURN QUERY
        SELECT c.imported_upvotes::bigint + c.local_upvotes, c.imported_downvotes::bigint + c.local_downvotes,
               NOT ({VOTABLE})
          FROM threads_comment c WHERE c.id = target;
END
$$;
"""


def refuse_gone_comments(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP FUNCTION {SIGNATURE}")
    schema_editor.execute(FUNCTION)


def accept_gone_comments(apps, schema_editor):
    """Back to migration 0006's function."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP FUNCTION {SIGNATURE}")
    table, select, conflict, delete = PREVIOUS.TARGETS["threads_cast_comment_vote"]
    schema_editor.execute(
        PREVIOUS.FUNCTION.format(
            name="threads_cast_comment_vote",
            table=table,
            select=select,
            conflict=conflict,
            delete=delete,
            placeholder="t.is_placeholder",
        )
    )


class Migration(migrations.Migration):
    dependencies = [("threads", "0007_link_posts_full_pages_and_older_layouts")]

    operations = [migrations.RunPython(refuse_gone_comments, accept_gone_comments, elidable=False)]
