"""Members' votes: one row per member and item, counters kept equal to the rows.

A vote is one statement, an upsert or a delete of the member's ``Vote``
row; the database's triggers (migration 0005) move the target's ``local_*``
counters in that same statement, so two votes on one comment can never
adjust the counters from a stale read (the race Lobsters documents in its
recount), and no transaction, lock or earlier read is needed. Votes are the
busiest writes a forum takes, so they are written in SQL rather than through
three ORM queries. On PostgreSQL the vote and the read of the new counts are
one call to a function (migration 0006, refusing gone comments since 0008,
naming the thread since 0009), which also commits the vote without waiting
for the WAL flush; SQLite, in the process, runs the two statements itself.
A vote then retires the visitors' cached pages that show its counts
(``threads.page_cache``).
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from threads.models import Comment, Thread, Vote
from threads.page_cache import thread_changed

VOTE_VALUES = (1, -1, 0)

VOTE_REFUSED = "This comment takes no votes: it is deleted, removed or not available."


@dataclass(frozen=True)
class VoteResult:
    upvotes: int
    downvotes: int
    vote: int

    @property
    def score(self):
        return self.upvotes - self.downvotes

    def as_json(self):
        return {"upvotes": self.upvotes, "downvotes": self.downvotes, "score": self.score, "vote": self.vote}


def _sqlite_statements():
    """SQLite's SQL for each kind of target, built from the models' table names;
    migration 0009 holds PostgreSQL's, the same statements in one function."""
    vote, comment, thread = Vote._meta.db_table, Comment._meta.db_table, Thread._meta.db_table
    upsert = (
        f"INSERT INTO {vote} (user_id, thread_id, comment_id, value, created_at) {{select}} "
        f"ON CONFLICT {{conflict}} DO UPDATE SET value = excluded.value, created_at = excluded.created_at "
        f"WHERE {vote}.value <> excluded.value"
    )
    counts = (
        "SELECT imported_upvotes + local_upvotes, imported_downvotes + local_downvotes, {extra}, {thread} "
        "FROM {table} WHERE id = %s"
    )
    votable = f"NOT is_placeholder AND status = '{Comment.Status.NORMAL}'"
    return {
        Comment: {
            "upsert": upsert.format(
                select=f"SELECT %s, thread_id, id, %s, %s FROM {comment} WHERE id = %s AND {votable}",
                conflict="(user_id, comment_id) WHERE comment_id IS NOT NULL",
            ),
            "delete": (
                f"DELETE FROM {vote} WHERE user_id = %s "
                f"AND comment_id = (SELECT id FROM {comment} WHERE id = %s AND {votable})"
            ),
            "counts": counts.format(extra=f"NOT ({votable})", thread="thread_id", table=comment),
        },
        Thread: {
            "upsert": upsert.format(
                select=f"SELECT %s, id, NULL, %s, %s FROM {thread} WHERE id = %s",
                conflict="(user_id, thread_id) WHERE comment_id IS NULL",
            ),
            "delete": f"DELETE FROM {vote} WHERE user_id = %s AND thread_id = %s AND comment_id IS NULL",
            "counts": counts.format(extra="FALSE", thread="id", table=thread),
        },
    }


SQLITE_STATEMENTS = _sqlite_statements()
POSTGRESQL_FUNCTIONS = {
    Comment: "SELECT * FROM threads_cast_comment_vote(%s, %s, %s::smallint, %s, %s)",
    Thread: "SELECT * FROM threads_cast_thread_vote(%s, %s, %s::smallint, %s, %s)",
}


def cast_vote(user, model, pk, value):
    """Set ``user``'s vote on the thread or comment ``pk`` to 1, -1 or 0 (no vote).

    Voting the same way twice changes nothing; switching moves the vote.
    Returns the target's shown counts read just after the vote, so they
    include it and any vote that landed meanwhile. The thread's cached
    visitor pages are retired (the front page's too for a thread vote).
    Raises ``model.DoesNotExist`` for a missing target and ``PermissionDenied``
    for a placeholder or a deleted or removed comment (``Comment.can_vote``),
    whose upsert or delete selected no row and so wrote nothing.
    """
    if value not in VOTE_VALUES:
        raise ValueError(f"a vote is 1, -1 or 0, not {value!r}")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Asynchronous commit only for a vote that is its own transaction,
            # never for writes of a caller's transaction around it.
            commit_async = connection.get_autocommit() and not connection.in_atomic_block
            cursor.execute(POSTGRESQL_FUNCTIONS[model], [user.pk, pk, value, now, commit_async])
        else:
            sql = SQLITE_STATEMENTS[model]
            if value:
                cursor.execute(sql["upsert"], [user.pk, value, now, pk])
            else:
                cursor.execute(sql["delete"], [user.pk, pk])
            cursor.execute(sql["counts"], [pk])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist
    upvotes, downvotes, refused, thread_id = row
    if refused:
        raise PermissionDenied(VOTE_REFUSED)
    thread_changed(thread_id, listed=model is Thread)
    return VoteResult(upvotes, downvotes, value)
