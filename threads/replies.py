"""Members' writes to a thread: replies, edits, deletions, moderation.

A reply is a tree write, so it runs inside ``tree_write`` and reads its
parent only once the lock is held: django-mptt places the new node from the
parent's ``lft``/``rght``, and a copy read before the lock may be stale by
then (docs/trees.md). Edits, deletions and removals change no tree field,
so a single UPDATE is enough for them. Each retires the visitors' cached
pages it changes (``threads.page_cache``); ``tree_write`` does for replies.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.utils import timezone

from threads.markup import render_markdown
from threads.models import Comment, Person, Thread, bump_counter
from threads.page_cache import thread_changed
from threads.trees import tree_write

# A second identical reply this soon after the first is a double submit, or
# a retry after an answer that never arrived (a 503, a dropped connection).
DUPLICATE_WINDOW = timedelta(minutes=10)
REPLY_REFUSED = "No replies here: the thread is locked, or the comment is deleted, removed or too deep."


def check_can_reply(user, thread, parent=None):
    """Raise ``PermissionDenied`` unless ``user`` may reply to ``parent`` (or
    to the thread when ``None``): the thread is open, and the parent is a
    real comment above the depth limit. The reply page asks before it offers
    a form; ``create_reply`` asks again under the tree lock, where the answer
    cannot change before the reply is written."""
    if not (parent or thread).can_reply(user):
        raise PermissionDenied(REPLY_REFUSED)


def create_reply(user, thread, parent_id, body):
    """Add ``user``'s reply under the comment ``parent_id`` (or the thread when
    ``None``) as its last child; return ``(reply, created)``.

    Raises ``PermissionDenied`` when the thread is locked or the parent takes
    no replies (``Comment.can_reply``: a placeholder, deleted, removed, or
    too deep); the parent is read under the lock, so a removal that commits
    first is seen. Submitting the same body to the same parent again within
    ``DUPLICATE_WINDOW`` returns the earlier reply, with ``created`` False,
    instead of a copy: a reply can commit and its answer still be lost (the
    database connection dies before the answer), so clients retry, and the
    retry must not post it twice. The lookup runs under the lock, so a retry
    that overtakes its first attempt waits for it.
    """
    now = timezone.now()
    with tree_write(thread.pk):
        thread = Thread.objects.get(pk=thread.pk)
        parent = Comment.objects.get(pk=parent_id, thread=thread) if parent_id else None
        if parent is not None:
            parent.thread = thread
        check_can_reply(user, thread, parent)
        author = Person.for_user(user)
        siblings = Comment.objects.filter(thread=thread, parent=parent)
        duplicate = siblings.filter(author=author, body=body, created_at__gte=now - DUPLICATE_WINDOW).first()
        if duplicate is not None:
            return duplicate, False
        last = siblings.aggregate(last=Max("position"))["last"]
        comment = Comment(
            thread=thread,
            parent=parent,
            position=0 if last is None else last + 1,
            origin=Comment.Origin.LOCAL,
            author=author,
            body=body,
            body_html=render_markdown(body),
            created_at=now,
        )
        comment.save()
        bump_counter(Thread, thread.pk, comment_count=1)
    return comment, True


def edit_comment(comment, user, body):
    """Replace the text of ``user``'s own comment and mark it edited."""
    if not comment.can_edit(user):
        raise PermissionDenied
    comment.body, comment.body_html, comment.edited_at = body, render_markdown(body), timezone.now()
    Comment.objects.filter(pk=comment.pk).update(
        body=comment.body, body_html=comment.body_html, edited_at=comment.edited_at
    )
    thread_changed(comment.thread_id)


def delete_comment(comment, user):
    """Delete ``user``'s own comment: the text goes, the replies stay."""
    if not comment.can_delete(user):
        raise PermissionDenied
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.DELETED, body="", body_html="")
    thread_changed(comment.thread_id)


def remove_comment(comment, user):
    """Remove any comment as staff; the text is kept for the record but no
    longer shown."""
    if not comment.can_remove(user):
        raise PermissionDenied
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.REMOVED)
    thread_changed(comment.thread_id)


def set_locked(thread, user, locked):
    """Lock a thread against new replies, or unlock it (staff only)."""
    if not thread.can_lock(user):
        raise PermissionDenied
    Thread.objects.filter(pk=thread.pk).update(is_locked=locked)
    thread_changed(thread.pk, listed=True)
