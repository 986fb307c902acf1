"""Store what the front page sorts by and what profiles total, so neither reads every row.

- ``threads_thread.hot_rank``: Lemmy's hot rank (``threads.ranking.hot_rank``)
  as of the one moment in ``threads_hotrankepoch``. Triggers rank a thread
  whenever its counts or creation time change, as of that epoch, so every
  stored rank is the formula at the same moment; ``refresh_ranks`` moves the
  epoch and re-ranks the last week's threads. On PostgreSQL
  ``threads_hot_rank`` is PL/pgSQL below, with the same arithmetic as the
  Python (exact microseconds, C's ``log10`` and ``pow``); on SQLite it is the
  Python function itself (``threads.db.register_sqlite_functions``).
- Indexes for each front-page sort, and profiles' (author, newest) index
  extended by id so that keyset pages need no sort of ties.
- ``threads_person.comment_karma`` plus ``threads_karmachange``: triggers on
  comments append the change of a listed comment's score (a vote, an import,
  a deletion or removal, an edit of counts) instead of updating the person,
  which bulk imports would update once per comment (``KarmaChange``).
- ``threads_cast_comment_vote`` and ``threads_cast_thread_vote`` also return
  the thread voted in, whose cached visitor pages the vote retires.

SQLite remakes ``threads_thread`` to add ``hot_rank``, and its final rename
fails while the vote-counter triggers of migration 0005 name the table; they
are dropped for the remake and created again after it, as in migration 0007.
The new triggers are created after every remake, which would drop them.
"""

import importlib

import django.db.models.deletion
import django.db.models.expressions
from django.db import migrations, models
from django.utils import timezone

# threads.ranking's HOT_RANK_MAX_HOURS and HOT_RANK_GRAVITY, as of this migration
# (tests/test_ranking.py holds the SQL to the Python).
HOT_RANK_MAX_HOURS = 168
HOT_RANK_GRAVITY = 1.8

vote_functions = importlib.import_module("threads.migrations.0006_vote_functions")
gone_comment_votes = importlib.import_module("threads.migrations.0008_refuse_votes_on_gone_comments")
link_posts = importlib.import_module("threads.migrations.0007_link_posts_full_pages_and_older_layouts")

EPOCH = "(SELECT ranked_at FROM threads_hotrankepoch WHERE id = 1)"
COUNTED = ("imported_upvotes", "imported_downvotes", "local_upvotes", "local_downvotes")
KARMA_COLUMNS = (*COUNTED, "status", "is_placeholder", "author_id")


def score(row):
    return f"{row}.imported_upvotes + {row}.local_upvotes - {row}.imported_downvotes - {row}.local_downvotes"


def listed(row):
    """SQL for "a profile lists this comment" (``CommentQuerySet.visible_on_profile``)."""
    return f"{row}.author_id IS NOT NULL AND NOT {row}.is_placeholder AND {row}.status = 'normal'"


POSTGRESQL_CREATE = f"""
CREATE FUNCTION threads_hot_rank(score bigint, created timestamptz, epoch timestamptz)
RETURNS double precision LANGUAGE plpgsql STABLE AS $$
DECLARE
    hours double precision;
BEGIN
    IF created IS NULL THEN
        RETURN 0;
    END IF;
    hours := (extract(epoch FROM COALESCE(epoch, now())) - extract(epoch FROM created))::double precision / 3600;
    IF hours >= {HOT_RANK_MAX_HOURS} THEN
        RETURN 0;
    END IF;
    RETURN log(greatest(2, score + 2)::double precision)
        / power(greatest(hours, 0) + 2, {HOT_RANK_GRAVITY}::double precision);
END
$$;

CREATE FUNCTION threads_thread_hot_rank() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.hot_rank := threads_hot_rank(
        NEW.imported_upvotes::bigint + NEW.local_upvotes - NEW.imported_downvotes - NEW.local_downvotes,
        NEW.created_at,
        {EPOCH}
    );
    RETURN NEW;
END
$$;
CREATE TRIGGER threads_thread_hot_rank
    BEFORE INSERT OR UPDATE OF {", ".join(COUNTED)}, created_at ON threads_thread
    FOR EACH ROW EXECUTE FUNCTION threads_thread_hot_rank();

CREATE FUNCTION threads_comment_karma() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_karma integer := 0;
    new_karma integer := 0;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF {listed("OLD")} THEN
            old_karma := {score("OLD")};
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF {listed("NEW")} THEN
            new_karma := {score("NEW")};
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.author_id IS NOT DISTINCT FROM NEW.author_id THEN
        IF new_karma <> old_karma THEN
            INSERT INTO threads_karmachange (person_id, delta) VALUES (NEW.author_id, new_karma - old_karma);
        END IF;
    ELSE
        IF old_karma <> 0 THEN
            INSERT INTO threads_karmachange (person_id, delta) VALUES (OLD.author_id, -old_karma);
        END IF;
        IF new_karma <> 0 THEN
            INSERT INTO threads_karmachange (person_id, delta) VALUES (NEW.author_id, new_karma);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER threads_comment_karma_added AFTER INSERT ON threads_comment
    FOR EACH ROW WHEN ({listed("NEW")} AND {score("NEW")} <> 0)
    EXECUTE FUNCTION threads_comment_karma();
CREATE TRIGGER threads_comment_karma_changed AFTER UPDATE OF {", ".join(KARMA_COLUMNS)} ON threads_comment
    FOR EACH ROW WHEN (({", ".join(f"OLD.{column}" for column in KARMA_COLUMNS)})
        IS DISTINCT FROM ({", ".join(f"NEW.{column}" for column in KARMA_COLUMNS)}))
    EXECUTE FUNCTION threads_comment_karma();
CREATE TRIGGER threads_comment_karma_removed AFTER DELETE ON threads_comment
    FOR EACH ROW WHEN ({listed("OLD")} AND {score("OLD")} <> 0)
    EXECUTE FUNCTION threads_comment_karma();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS threads_comment_karma_added ON threads_comment;
DROP TRIGGER IF EXISTS threads_comment_karma_changed ON threads_comment;
DROP TRIGGER IF EXISTS threads_comment_karma_removed ON threads_comment;
DROP FUNCTION IF EXISTS threads_comment_karma();
DROP TRIGGER IF EXISTS threads_thread_hot_rank ON threads_thread;
DROP FUNCTION IF EXISTS threads_thread_hot_rank();
DROP FUNCTION IF EXISTS threads_hot_rank(bigint, timestamptz, timestamptz);
"""


def sqlite_karma(row):
    return f"(CASE WHEN {listed(row)} THEN {score(row)} ELSE 0 END)"


SQLITE_RANK = f"threads_hot_rank({score('NEW')}, NEW.created_at, {EPOCH})"
SQLITE_CREATE = [
    "CREATE TRIGGER threads_thread_ranked AFTER INSERT ON threads_thread BEGIN "
    f"UPDATE threads_thread SET hot_rank = {SQLITE_RANK} WHERE id = NEW.id; END",
    f"CREATE TRIGGER threads_thread_reranked AFTER UPDATE OF {', '.join(COUNTED)}, created_at ON threads_thread BEGIN "
    f"UPDATE threads_thread SET hot_rank = {SQLITE_RANK} WHERE id = NEW.id; END",
    f"CREATE TRIGGER threads_comment_karma_added AFTER INSERT ON threads_comment WHEN {sqlite_karma('NEW')} <> 0 "
    f"BEGIN INSERT INTO threads_karmachange (person_id, delta) VALUES (NEW.author_id, {sqlite_karma('NEW')}); END",
    f"CREATE TRIGGER threads_comment_karma_removed AFTER DELETE ON threads_comment WHEN {sqlite_karma('OLD')} <> 0 "
    f"BEGIN INSERT INTO threads_karmachange (person_id, delta) VALUES (OLD.author_id, -{sqlite_karma('OLD')}); END",
    f"CREATE TRIGGER threads_comment_karma_changed AFTER UPDATE OF {', '.join(KARMA_COLUMNS)} ON threads_comment "
    f"WHEN {sqlite_karma('OLD')} <> {sqlite_karma('NEW')} OR OLD.author_id IS NOT NEW.author_id BEGIN "
    "INSERT INTO threads_karmachange (person_id, delta) "
    f"SELECT NEW.author_id, {sqlite_karma('NEW')} - {sqlite_karma('OLD')} WHERE OLD.author_id IS NEW.author_id; "
    "INSERT INTO threads_karmachange (person_id, delta) "
    f"SELECT OLD.author_id, -{sqlite_karma('OLD')} WHERE OLD.author_id IS NOT NEW.author_id "
    f"AND {sqlite_karma('OLD')} <> 0; "
    "INSERT INTO threads_karmachange (person_id, delta) "
    f"SELECT NEW.author_id, {sqlite_karma('NEW')} WHERE OLD.author_id IS NOT NEW.author_id "
    f"AND {sqlite_karma('NEW')} <> 0; END",
]

SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "threads_thread_ranked",
        "threads_thread_reranked",
        "threads_comment_karma_added",
        "threads_comment_karma_removed",
        "threads_comment_karma_changed",
    )
]

# The vote functions of migrations 0006 and 0008, returning the thread voted in too.
VOTE_FUNCTION = """
CREATE FUNCTION {name}(voter integer, target bigint, choice smallint, voted_at timestamptz, commit_async boolean)
RETURNS TABLE (upvotes bigint, downvotes bigint, refused boolean, in_thread bigint)
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
        SELECT t.imported_upvotes::bigint + t.local_upvotes, t.imported_downvotes::bigint + t.local_downvotes,
               {refused}, t.{thread}
          FROM {table} t WHERE t.id = target;
END
$$;
"""
VOTABLE = gone_comment_votes.VOTABLE
VOTE_FUNCTIONS = {
    "threads_cast_comment_vote": {
        "table": "threads_comment",
        "select": f"SELECT voter, c.thread_id, c.id, choice, voted_at FROM threads_comment c "
        f"WHERE c.id = target AND {VOTABLE}",
        "conflict": "(user_id, comment_id) WHERE comment_id IS NOT NULL",
        "delete": f"comment_id = (SELECT c.id FROM threads_comment c WHERE c.id = target AND {VOTABLE})",
        "refused": "NOT (NOT t.is_placeholder AND t.status = 'normal')",
        "thread": "thread_id",
    },
    "threads_cast_thread_vote": {
        "table": "threads_thread",
        "select": "SELECT voter, t.id, NULL, choice, voted_at FROM threads_thread t WHERE t.id = target",
        "conflict": "(user_id, thread_id) WHERE comment_id IS NULL",
        "delete": "thread_id = target AND comment_id IS NULL",
        "refused": "FALSE",
        "thread": "id",
    },
}
VOTE_SIGNATURE = "(integer, bigint, smallint, timestamptz, boolean)"


def store_ranks_and_karma(apps, schema_editor):
    connection = schema_editor.connection
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRESQL_CREATE)
            for name, parts in VOTE_FUNCTIONS.items():
                cursor.execute(f"DROP FUNCTION {name}{VOTE_SIGNATURE}")
                cursor.execute(VOTE_FUNCTION.format(name=name, **parts))
        else:
            for statement in SQLITE_CREATE:
                cursor.execute(statement)
        cursor.execute(
            "INSERT INTO threads_hotrankepoch (id, ranked_at) VALUES (1, %s)",
            [connection.ops.adapt_datetimefield_value(now)],
        )
        cursor.execute(
            f"UPDATE threads_thread SET hot_rank = threads_hot_rank({score('threads_thread')}, created_at, {EPOCH})"
        )
        cursor.execute(
            f"UPDATE threads_person SET comment_karma = COALESCE((SELECT SUM({score('c')}) FROM threads_comment c "
            f"WHERE c.author_id = threads_person.id AND {listed('c')}), 0)"
        )


def forget_ranks_and_karma(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRESQL_DROP)
            for name in VOTE_FUNCTIONS:
                cursor.execute(f"DROP FUNCTION {name}{VOTE_SIGNATURE}")
            table, select, conflict, delete = vote_functions.TARGETS["threads_cast_thread_vote"]
            cursor.execute(
                vote_functions.FUNCTION.format(
                    name="threads_cast_thread_vote",
                    table=table,
                    select=select,
                    conflict=conflict,
                    delete=delete,
                    placeholder="FALSE",
                )
            )
            cursor.execute(gone_comment_votes.FUNCTION)
        else:
            for statement in SQLITE_DROP:
                cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('threads', '0008_refuse_votes_on_gone_comments'),
    ]

    operations = [
        migrations.RunPython(link_posts.drop_sqlite_triggers, link_posts.create_sqlite_triggers, elidable=False),
        migrations.CreateModel(
            name='HotRankEpoch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('ranked_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='KarmaChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('delta', models.IntegerField()),
            ],
        ),
        migrations.RemoveIndex(
            model_name='comment',
            name='threads_com_author__453017_idx',
        ),
        migrations.AddField(
            model_name='person',
            name='comment_karma',
            field=models.IntegerField(default=0, editable=False, help_text='Score of the comments the profile lists, as of the last fold of KarmaChange rows.'),
        ),
        migrations.AddField(
            model_name='thread',
            name='hot_rank',
            field=models.FloatField(default=0, editable=False, help_text="Lemmy's hot rank as of HotRankEpoch; kept by database triggers (migration 0009)."),
        ),
        migrations.AlterField(
            model_name='thread',
            name='tree_version',
            field=models.PositiveIntegerField(default=0, editable=False, help_text="Bumped by every tree write; caches of the tree's shape and of its page key on it."),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['author', '-created_at', '-id'], name='threads_com_author__0b58bd_idx'),
        ),
        migrations.AddIndex(
            model_name='thread',
            index=models.Index(fields=['-hot_rank', '-id'], name='thread_hot'),
        ),
        migrations.AddIndex(
            model_name='thread',
            index=models.Index(fields=['-created_at', '-id'], name='thread_new'),
        ),
        migrations.AddIndex(
            model_name='thread',
            index=models.Index(models.OrderBy(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('imported_upvotes'), '+', models.F('local_upvotes')), '-', models.F('imported_downvotes')), '-', models.F('local_downvotes')), descending=True), models.OrderBy(models.F('id'), descending=True), name='thread_top'),
        ),
        migrations.AddField(
            model_name='karmachange',
            name='person',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='threads.person'),
        ),
        migrations.RunPython(link_posts.create_sqlite_triggers, link_posts.drop_sqlite_triggers, elidable=False),
        migrations.RunPython(store_ranks_and_karma, forget_ranks_and_karma, elidable=False),
    ]
