"""The renderings our thread page is measured against, served through the
same middleware stack: the plain-Python lower bound and naive django-mptt.

Both use the minimal markup of the experiment that chose the renderer
(docs/performance.md), so their figures compare with its measurements.
"""

from html import escape

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.urls import include, path

from threads.models import Comment, Thread

RECURSETREE = engines["django"].from_string(
    "{% load mptt_tags %}<!doctype html><html><head><title>{{ thread.title }}</title></head><body>"
    '<h1>{{ thread.title }}</h1><div class="comments">{% recursetree comments %}'
    '<div class="comment" id="c{{ node.id }}"><div class="meta"><a href="/u/{{ node.author.name }}">'
    "{{ node.author.name }}</a> {{ node.score }} points <time>{{ node.created_at|date:'Y-m-d H:i' }}</time>"
    '</div><div class="body">{{ node.body_html|safe }}</div><a class="reply" href="/comments/{{ node.id }}/reply/">'
    'reply</a>{% if not node.is_leaf_node %}<div class="children">{{ children }}</div>{% endif %}</div>'
    "{% endrecursetree %}</div></body></html>"
)


def lower_bound(request, pk):
    """The same rows fetched with ``values_list`` and joined in plain Python."""
    thread = get_object_or_404(Thread, pk=pk)
    rows = (
        Comment.objects.filter(thread=thread)
        .order_by("tree_id", "lft")
        .values_list(
            "id",
            "level",
            "author__name",
            "body_html",
            "imported_upvotes",
            "local_upvotes",
            "imported_downvotes",
            "local_downvotes",
            "created_at",
        )
    )
    title = escape(thread.title)
    out = [f'<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1><div class="comments">']
    append = out.append
    open_levels = []
    rows = list(rows)
    for index, (pk_, level, name, body_html, up, local_up, down, local_down, created) in enumerate(rows):
        while open_levels and open_levels[-1] >= level:
            open_levels.pop()
            append("</div></div>")
        name = escape(name or "")
        stamp = f"{created:%Y-%m-%d %H:%M}" if created else ""
        append(
            f'<div class="comment" id="c{pk_}"><div class="meta"><a href="/u/{name}">{name}</a> '
            f"{up + local_up - down - local_down} points <time>{stamp}</time></div>"
            f'<div class="body">{body_html}</div><a class="reply" href="/comments/{pk_}/reply/">reply</a>'
        )
        if index + 1 < len(rows) and rows[index + 1][1] > level:
            append('<div class="children">')
            open_levels.append(level)
        else:
            append("</div>")
    append("</div></div>" * len(open_levels))
    append("</div></body></html>")
    return HttpResponse("".join(out))


def recursetree(request, pk):
    """django-mptt's ``{% recursetree %}`` with ``select_related``: one query."""
    thread = get_object_or_404(Thread, pk=pk)
    comments = Comment.objects.filter(thread=thread).select_related("author")
    return HttpResponse(RECURSETREE.render({"thread": thread, "comments": comments}, request))


urlpatterns = [
    path("bench/lower-bound/<int:pk>/", lower_bound),
    path("bench/recursetree/<int:pk>/", recursetree),
    path("", include("forum.urls")),
]
