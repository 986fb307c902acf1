"""Read-only JSON API: pages of the thread list, and one thread with its whole comment tree.

The list is paged by cursor (``threads.keyset``), so every page is one
indexed read however many threads there are. A thread's tree is written
as it is read, a few thousand comments at a time, into a streamed
response: a 100,000-comment thread's JSON (tens of megabytes) is never
held whole, and its text is what ``JsonResponse`` would have written.
"""

import re
from collections import defaultdict
from itertools import chain
from typing import NamedTuple
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from threads.keyset import BadCursor, newest_first_page
from threads.models import Comment, CommentRules, ShownVotes, Thread

BLANK_RUN_RE = re.compile(r"\n{3,}")
# What JsonResponse(..., json_dumps_params={"ensure_ascii": False}) encodes with.
ENCODER = DjangoJSONEncoder(ensure_ascii=False)
THREADS_PER_PAGE, MAX_THREADS_PER_PAGE = 50, 200
# Comments read per query (and per fetch of a big tree's server-side cursor),
# and about how much text is sent at a time.
COMMENT_BATCH = 2000
CHUNK_CHARS = 64 * 1024


def plain_body(text):
    """Paragraphs joined by exactly one blank line (a dump's double blank
    marks a horizontal rule, which the API does not carry)."""
    return BLANK_RUN_RE.sub("\n\n", text)


def iso(moment):
    return moment.isoformat() if moment else None


@require_GET
def thread_list(request):
    """Newest threads first, ``limit`` (default 50, at most 200) a page; ``next``
    is the URL of the following page, ``null`` on the last."""
    limit = request.GET.get("limit", str(THREADS_PER_PAGE))
    if not limit.isdigit() or int(limit) < 1:
        return JsonResponse({"error": "limit is a whole number of threads, at least 1"}, status=400)
    size = min(int(limit), MAX_THREADS_PER_PAGE)
    try:
        page = newest_first_page(Thread.objects.for_listing(), "created_at", size, after=request.GET.get("cursor"))
    except BadCursor:
        return JsonResponse({"error": "unknown cursor: follow the next links this API gives"}, status=400)
    following = None
    if page.next_cursor:
        query = {"cursor": page.next_cursor, **({"limit": limit} if "limit" in request.GET else {})}
        following = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
    threads = [
        {**thread_json(request, thread), "comment_count": thread.comment_count, "created_at": iso(thread.created_at)}
        for thread in page.items
    ]
    return JsonResponse({"threads": threads, "next": following})


@require_GET
def thread_detail(request, pk):
    thread = get_object_or_404(Thread.objects.select_related("author"), pk=pk)
    fields = {
        **thread_json(request, thread),
        "body": plain_body(thread.body),
        "captured_at": iso(thread.captured_at),
    }
    head = f'{ENCODER.encode(fields)[:-1]}, "comments": '
    return StreamingHttpResponse(
        _chunks(chain([head], comment_tree_json(thread), ["}"])), content_type="application/json"
    )


class Author(NamedTuple):
    name: str
    instance: str
    is_bot: bool


class CommentRow(ShownVotes, CommentRules):
    """One comment as the API reads it: a row of ``COMMENT_FIELDS``, with the
    model's rules for what it shows."""

    __slots__ = (
        "author",
        "badges",
        "body",
        "created_at",
        "edited_at",
        "imported_downvotes",
        "imported_upvotes",
        "is_placeholder",
        "language",
        "level",
        "local_downvotes",
        "local_upvotes",
        "pk",
        "status",
        "votes_shown",
    )

    def __init__(self, row):
        (
            self.pk,
            self.level,
            self.is_placeholder,
            self.status,
            author_id,
            name,
            instance,
            is_bot,
            self.badges,
            self.language,
            self.imported_upvotes,
            self.imported_downvotes,
            self.local_upvotes,
            self.local_downvotes,
            self.votes_shown,
            self.edited_at,
            self.created_at,
            self.body,
        ) = row
        self.author = Author(name, instance, is_bot) if author_id else None

    @property
    def is_edited(self):
        return self.edited_at is not None


COMMENT_FIELDS = (
    "pk",
    "level",
    "is_placeholder",
    "status",
    "author_id",
    "author__name",
    "author__instance",
    "author__is_bot",
    "badges",
    "language",
    "imported_upvotes",
    "imported_downvotes",
    "local_upvotes",
    "local_downvotes",
    "votes_shown",
    "edited_at",
    "created_at",
    "body",
)


def comments_in_tree_order(thread):
    """Every comment of ``thread`` as a ``CommentRow``, depth first: top-level
    comments in sibling order (``position``, then id), each followed by its
    tree in ``lft`` order, which within a tree is sibling order too
    (``threads.models``).

    Trees are read a batch at a time, up to ``COMMENT_BATCH`` comments per
    query; a bigger tree is read alone through a server-side cursor, so
    memory never holds more than a batch whatever the thread's size.
    """
    comments = Comment.objects.filter(thread=thread)
    tops = comments.filter(parent=None).order_by("position", "pk").values_list("tree_id", "lft", "rght")
    batch, batch_size = [], 0
    for tree_id, lft, rght in [*tops, (None, 0, 0)]:
        size = (rght - lft + 1) // 2
        if batch and (tree_id is None or batch_size + size > COMMENT_BATCH):
            rows = comments.filter(tree_id__in=batch).order_by("tree_id", "lft").values_list("tree_id", *COMMENT_FIELDS)
            if len(batch) == 1:
                yield from (CommentRow(row[1:]) for row in rows.iterator(chunk_size=COMMENT_BATCH))
            else:
                trees = defaultdict(list)
                for row in rows:
                    trees[row[0]].append(CommentRow(row[1:]))
                for batched in batch:
                    yield from trees[batched]
            batch, batch_size = [], 0
        batch.append(tree_id)
        batch_size += size


def comment_tree_json(thread):
    """The thread's comments as nested JSON text (each node's replies in its
    ``"children"``), yielded piece by piece from rows in tree order.

    ``json.dumps`` recurses once per level of nesting and fails past about
    500, and imports accept any depth; this writes the same text as
    ``JsonResponse`` would (same encoder, same separators) for any depth,
    closing a node's list of children when a row at its level or above
    comes next (a row at the level below is its first child).
    """
    yield "["
    open_nodes = 0  # the nodes whose children are being written: levels 0 .. open_nodes - 1
    for comment in comments_in_tree_order(thread):
        if open_nodes > comment.level:
            yield "]}" * (open_nodes - comment.level) + ", "
            open_nodes = comment.level
        yield f'{ENCODER.encode(comment_json(comment))[:-1]}, "children": ['
        open_nodes += 1
    yield "]}" * open_nodes + "]"


def _chunks(pieces):
    """Join small pieces of text into chunks of about ``CHUNK_CHARS``."""
    buffer, length = [], 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= CHUNK_CHARS:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


def thread_json(request, thread):
    """What the list and the detail both say of a thread."""
    return {
        "id": thread.pk,
        "title": thread.title,
        "title_source": thread.title_source,
        "url": request.build_absolute_uri(thread.get_absolute_url()),
        "author": person_json(thread.author, thread.author_badges),
        "community": thread.community or None,
        **votes_json(thread),
    }


def person_json(person, badges):
    """An author (a ``Person`` or an ``Author`` row), or ``None`` for none (a
    placeholder, or an author the page hid)."""
    if person is None:
        return None
    badge_list = [badge for badge in badges.split(",") if badge]
    return {
        "name": person.name,
        "instance": person.instance or None,
        "badges": badge_list,
        "bot": person.is_bot or "bot" in badge_list,
    }


def votes_json(counted):
    """Up, down and score; a page of older lemmy-ui showed the score only,
    so up and down are ``None`` there, and all three when even the score
    could not be told from the page."""
    return {
        "upvotes": counted.upvotes if counted.votes_split_known else None,
        "downvotes": counted.downvotes if counted.votes_split_known else None,
        "score": counted.score if counted.score_known else None,
    }


def comment_json(comment):
    return {
        "id": comment.pk,
        "placeholder": comment.is_placeholder,
        "status": comment.status,
        "author": person_json(comment.author, comment.badges),
        "language": comment.language or None,
        **votes_json(comment),
        "edited": comment.is_edited,
        "created_at": iso(comment.created_at),
        "body": comment.gone_text or plain_body(comment.body),
    }
