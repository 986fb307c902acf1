"""Which comments a thread page or a comment page shows, in a fixed number of queries.

Like Lemmy and Reddit, a big thread is shown a page of top-level subtrees at
a time, cut at ``PAGE_DEPTH`` levels ("continue this thread") and at
``COMMENTS_PER_PAGE`` comments ("load more replies"): Lemmy capped tree
fetches at 300 comments after huge threads were used to take instances
down (docs/performance.md). Sizes come from the mptt fields, so paging needs
no count query. ``?all=1`` shows a thread whole.
"""

from contextlib import suppress
from dataclasses import dataclass

from django.http import Http404

from forum.cache import CacheUnavailable, shared
from threads.comment_tree import build_forest, fetch_nodes
from threads.models import Comment, Vote
from threads.ranking import sort_key
from threads.rendering import Viewer

TOP_LEVEL_PER_PAGE = 50
COMMENTS_PER_PAGE = 300
PAGE_DEPTH = 8
LAYOUT_SECONDS = 60


@dataclass
class CommentPage:
    """One page of comments: its top-level nodes, which page of how many, and
    how many comments the renderer may write (``None``: all of them)."""

    roots: list
    number: int = 1
    page_count: int = 1
    budget: int = None


def split_pages(sizes):
    """Group top-level subtrees, given as ``(tree_id, size)`` in display order,
    into pages of at most ``TOP_LEVEL_PER_PAGE`` subtrees and, unless one
    subtree alone is bigger, ``COMMENTS_PER_PAGE`` comments."""
    pages, current, used = [], [], 0
    for tree_id, size in sizes:
        if current and (len(current) == TOP_LEVEL_PER_PAGE or used + size > COMMENTS_PER_PAGE):
            pages.append(current)
            current, used = [], 0
        current.append(tree_id)
        used += size
    return [*pages, current] if current else pages or [[]]


def thread_comments(thread, sort, now, *, page=None, show_all=False, new_id=None):
    """Return the ``CommentPage`` for a thread: two queries (one when the
    top-level layout is cached), or one with ``show_all``.

    Without a page number, a page showing ``new_id`` (a reply just posted)
    is chosen, at the cost of one more query.
    """
    if show_all:
        return CommentPage(build_forest(fetch_nodes(Comment.objects.filter(thread=thread)), sort, now))
    pages = split_pages(top_level_layout(thread, sort, now))
    if page is None:
        page = _page_showing(pages, new_id) if new_id else 1
    if not 1 <= page <= len(pages):
        raise Http404("No such page of comments.")
    comments = Comment.objects.in_trees(thread, pages[page - 1]).above_level(PAGE_DEPTH)
    roots = build_forest(fetch_nodes(comments), sort, now)
    return CommentPage(roots, page, len(pages), COMMENTS_PER_PAGE)


def top_level_layout(thread, sort, now):
    """The thread's top-level subtrees in ``sort`` order, as ``(tree_id, size)``.

    Ordering them reads every top-level row, which grows with the thread, so
    the result is cached per sort for ``LAYOUT_SECONDS``, as Reddit caches
    comment orders and Lemmy refreshes hot ranks only every few minutes. The
    key holds the thread's tree version, which every tree write bumps, so a
    new reply or import shows at once; only reordering by votes waits.
    While the cache is unavailable it is computed on every request.
    """
    cache_key = f"thread-layout:{thread.pk}:{sort}:{thread.tree_version}"
    try:
        layout = shared.get(cache_key)
    except CacheUnavailable:
        layout = None
    if layout is None:
        key = sort_key(sort, now)
        tops = Comment.objects.top_level(thread).values_list(
            "tree_id",
            "lft",
            "rght",
            "imported_upvotes",
            "local_upvotes",
            "imported_downvotes",
            "local_downvotes",
            "created_at",
            "position",
        )
        tops = sorted(tops, key=lambda t: key(t[3] + t[4], t[5] + t[6], t[7], t[8]))
        layout = [(top[0], (top[2] - top[1] + 1) // 2) for top in tops]
        with suppress(CacheUnavailable):
            shared.set(cache_key, layout, LAYOUT_SECONDS)
    return layout


def _page_showing(pages, comment_id):
    tree_id = Comment.objects.filter(pk=comment_id).values_list("tree_id", flat=True).first()
    return next((number for number, trees in enumerate(pages, 1) if tree_id in trees), 1)


def subtree_comments(comment, sort, now, *, show_all=False):
    """Return the ``CommentPage`` for one comment and its replies, in one query."""
    level = None if show_all else comment.level + PAGE_DEPTH
    nodes = fetch_nodes(Comment.objects.subtree_of(comment).above_level(level))
    return CommentPage(build_forest(nodes, sort, now), budget=None if show_all else COMMENTS_PER_PAGE)


def votes_by(user, thread):
    """The member's votes in a thread, ``{comment_id or None: value}``: one query."""
    if not user.is_authenticated:
        return {}
    return dict(Vote.objects.filter(user=user, thread=thread).values_list("comment_id", "value"))


def viewer_for(request, thread, now, *, csrf_token, new_id=None, with_votes=True):
    """What this request may see and do on a page of ``thread``; its forms
    carry ``csrf_token`` (a placeholder on pages cached for visitors,
    ``threads.page_cache``).

    Anonymous visitors see the reply links of an open thread; they lead to
    the login page.
    """
    user = request.user
    return Viewer(
        now=now,
        csrf_token=csrf_token,
        user=user,
        can_reply=thread.can_reply(user) or not (user.is_authenticated or thread.is_locked),
        votes=votes_by(user, thread) if with_votes else {},
        new_id=new_id,
    )
