"""Read-only JSON API: the thread list and one thread with its comment tree."""

import re

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from threads.models import Comment, Thread

BLANK_RUN_RE = re.compile(r"\n{3,}")


def plain_body(text):
    """Paragraphs joined by exactly one blank line (a dump's double blank
    marks a horizontal rule, which the API does not carry)."""
    return BLANK_RUN_RE.sub("\n\n", text)


def iso(moment):
    return moment.isoformat() if moment else None


@require_GET
def thread_list(request):
    threads = Thread.objects.order_by("-created_at", "-pk")
    return JsonResponse(
        {
            "threads": [
                {
                    "id": thread.pk,
                    "title": thread.title,
                    "url": request.build_absolute_uri(thread.get_absolute_url()),
                    "upvotes": thread.upvotes,
                    "downvotes": thread.downvotes,
                    "score": thread.score,
                    "comment_count": thread.comment_count,
                    "created_at": iso(thread.created_at),
                }
                for thread in threads
            ]
        }
    )


@require_GET
def thread_detail(request, pk):
    thread = get_object_or_404(Thread, pk=pk)
    comments = Comment.objects.filter(thread=thread).select_related("author").order_by("position", "pk")
    nodes, roots = {}, []
    for comment in comments:
        nodes[comment.pk] = (comment.parent_id, comment_json(comment))
    for parent_id, node in nodes.values():
        (nodes[parent_id][1]["children"] if parent_id else roots).append(node)
    return JsonResponse(
        {
            "id": thread.pk,
            "title": thread.title,
            "body": plain_body(thread.body),
            "url": request.build_absolute_uri(thread.get_absolute_url()),
            "captured_at": iso(thread.captured_at),
            "upvotes": thread.upvotes,
            "downvotes": thread.downvotes,
            "score": thread.score,
            "comments": roots,
        },
        json_dumps_params={"ensure_ascii": False},
    )


def comment_json(comment):
    author = None
    if comment.author_id:
        author = {
            "name": comment.author.name,
            "instance": comment.author.instance or None,
            "badges": comment.badge_list,
            "bot": comment.author.is_bot or "bot" in comment.badge_list,
        }
    return {
        "id": comment.pk,
        "placeholder": comment.is_placeholder,
        "status": comment.status,
        "author": author,
        "language": comment.language or None,
        "upvotes": comment.upvotes,
        "downvotes": comment.downvotes,
        "score": comment.score,
        "edited": comment.is_edited,
        "created_at": iso(comment.created_at),
        "body": comment.gone_text or plain_body(comment.body),
        "children": [],
    }
