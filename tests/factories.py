"""Small factories for tests: users, threads, comments built through the tree lock."""

import itertools

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery

from tests.conftest import CAPTURED_AT, SEED_DUMPS
from threads.db import allocate_tree_ids
from threads.importer import import_dump_file
from threads.markup import render_dump_text
from threads.models import Comment, Person, Thread
from threads.replies import create_reply
from threads.trees import rebuild_thread_trees, tree_write

PASSWORD = "a-long-test-password-42"
_fingerprints = itertools.count(1)


def make_user(username="alice", *, staff=False):
    return get_user_model().objects.create_user(username, password=PASSWORD, is_staff=staff)


def make_thread(title="A thread about things", body="The article.", **fields):
    return Thread.objects.create(
        title=title,
        body=body,
        body_html=render_dump_text(body),
        fingerprint=f"test-{next(_fingerprints)}",
        **fields,
    )


def make_person(name="someone", instance="lemmy.world"):
    return Person.objects.get_or_create(name=name, instance=instance, user=None)[0]


def make_comment(thread, parent=None, *, body="Imported text.", author=None, up=0, down=0, **fields):
    """An imported comment, added as its parent's last child under the tree lock."""
    with tree_write(thread.pk):
        parent = Comment.objects.get(pk=parent.pk) if parent else None
        comment = Comment(
            thread=thread,
            parent=parent,
            position=Comment.objects.filter(thread=thread, parent=parent).count(),
            origin=Comment.Origin.IMPORTED,
            author=None if fields.get("is_placeholder") else author or make_person(),
            body=body,
            body_html=render_dump_text(body),
            imported_upvotes=up,
            imported_downvotes=down,
            **fields,
        )
        comment.save()
        if not comment.is_placeholder:
            Thread.objects.filter(pk=thread.pk).update(comment_count=thread.comments.real().count())
    return comment


def make_chain(thread, length, parent=None):
    """A reply chain ``length`` comments deep; returns them top first."""
    chain = []
    for depth in range(length):
        parent = make_comment(thread, parent, body=f"Depth {depth}.")
        chain.append(parent)
    return chain


def make_deep_chain(depth):
    """A thread whose comments form one reply chain ``depth`` levels deep;
    returns the thread and the chain, top first.

    Bulk-inserted with the tree fields laid out: ``make_chain`` adds one
    reply at a time, and each shifts every ancestor, so thousands of levels
    would cost millions of row updates."""
    thread = make_thread(title=f"A chain {depth} levels deep")
    author = make_person("deep")
    with tree_write(thread.pk):
        tree_id = allocate_tree_ids(Comment, 1)[0]
        chain = Comment.objects.bulk_create(
            Comment(
                thread=thread,
                author=author,
                origin=Comment.Origin.IMPORTED,
                body=f"Depth {level}.",
                body_html=f"<p>Depth {level}.</p>",
                tree_id=tree_id,
                lft=level + 1,
                rght=2 * depth - level,
                level=level,
            )
            for level in range(depth)
        )
        # In a chain each comment's parent is the one just before it in tree order.
        parent = Comment.objects.filter(tree_id=tree_id, lft=OuterRef("lft") - 1).values("pk")
        Comment.objects.filter(tree_id=tree_id, level__gt=0).update(parent=Subquery(parent))
        for above, below in itertools.pairwise(chain):
            below.parent_id = above.pk
        Thread.objects.filter(pk=thread.pk).update(comment_count=depth)
    thread.refresh_from_db()
    return thread, chain


def make_reply(user, target, body="A reply from a member."):
    """A member's reply to a thread or a comment, through the real writer."""
    if isinstance(target, Thread):
        return create_reply(user, target, None, body)[0]
    return create_reply(user, target.thread, target.pk, body)[0]


def make_big_thread(size, top_level=20):
    """A thread of ``size`` comments, ``top_level`` of them top-level, the
    rest spread over earlier comments; bulk-inserted, then laid out."""
    thread = make_thread(title=f"A thread of {size} comments")
    author = make_person("prolific")
    rows, positions = [], {}

    def add(parent, tree_id, level):
        position = positions.get(parent and parent.pk, 0)
        positions[parent and parent.pk] = position + 1
        return Comment(
            thread=thread,
            parent=parent,
            position=position,
            author=author,
            origin=Comment.Origin.IMPORTED,
            body=f"Comment {len(rows) + 1}.",
            body_html=f"<p>Comment {len(rows) + 1}.</p>",
            imported_upvotes=len(rows) % 7,
            imported_downvotes=len(rows) % 3,
            tree_id=tree_id,
            lft=0,
            rght=0,
            level=level,
        )

    with tree_write(thread.pk):
        tree_ids = allocate_tree_ids(Comment, top_level)
        rows = Comment.objects.bulk_create([add(None, tree_id, 0) for tree_id in tree_ids])
        while len(rows) < size:
            wave = [
                add(parent, parent.tree_id, parent.level + 1) for parent in rows[: min(len(rows), size - len(rows))]
            ]
            rows += Comment.objects.bulk_create(wave)
        Thread.objects.filter(pk=thread.pk).update(comment_count=len(rows))
    rebuild_thread_trees(thread.pk)
    thread.refresh_from_db()
    return thread


def import_seed_dumps():
    """Import the two seed dumps, as ``make run`` does; return the thread."""
    for path in SEED_DUMPS:
        import_dump_file(path, captured_at=CAPTURED_AT)
    return Thread.objects.get()
