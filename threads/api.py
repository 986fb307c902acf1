"""Read-only JSON API: the thread list and one thread with its comment tree."""

import re
from collections import defaultdict

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from threads.models import Comment, Thread

BLANK_RUN_RE = re.compile(r"\n{3,}")
# What JsonResponse(..., json_dumps_params={"ensure_ascii": False}) encodes with.
ENCODER = DjangoJSONEncoder(ensure_ascii=False)


def plain_body(text):
    """Paragraphs joined by exactly one blank line (a dump's double blank
    marks a horizontal rule, which the API does not carry)."""
    return BLANK_RUN_RE.sub("\n\n", text)


def iso(moment):
    return moment.isoformat() if moment else None


@require_GET
def thread_list(request):
    threads = Thread.objects.for_listing().order_by("-created_at", "-pk")
    return JsonResponse(
        {
            "threads": [
                {
                    **thread_json(request, thread),
                    "comment_count": thread.comment_count,
                    "created_at": iso(thread.created_at),
                }
                for thread in threads
            ]
        }
    )


@require_GET
def thread_detail(request, pk):
    thread = get_object_or_404(Thread.objects.select_related("author"), pk=pk)
    comments = Comment.objects.filter(thread=thread).select_related("author").order_by("position", "pk")
    fields = {
        **thread_json(request, thread),
        "body": plain_body(thread.body),
        "captured_at": iso(thread.captured_at),
    }
    text = f'{ENCODER.encode(fields)[:-1]}, "comments": {comment_tree_json(comments)}}}'
    return HttpResponse(text, content_type="application/json")


def comment_tree_json(comments):
    """The comments as nested JSON text (each node's replies in its
    ``"children"``), written with an explicit stack.

    ``json.dumps`` recurses once per level of nesting and fails past about
    500, and imports accept any depth; this writes the same text as
    ``JsonResponse`` would (same encoder, same separators) for any depth.
    """
    children = defaultdict(list)
    for comment in comments:
        children[comment.parent_id].append(comment)
    out, first = ["["], True
    stack = [iter(children[None])]
    while stack:
        comment = next(stack[-1], None)
        if comment is None:
            stack.pop()
            out.append("]}" if stack else "]")
            first = False
            continue
        if not first:
            out.append(", ")
        out.append(f'{ENCODER.encode(comment_json(comment))[:-1]}, "children": [')
        first = True
        stack.append(iter(children[comment.pk]))
    return "".join(out)


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
    """An author, or ``None`` for none (a placeholder, or an author the page hid)."""
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
        "author": person_json(comment.author if comment.author_id else None, comment.badges),
        "language": comment.language or None,
        **votes_json(comment),
        "edited": comment.is_edited,
        "created_at": iso(comment.created_at),
        "body": comment.gone_text or plain_body(comment.body),
    }
