"""Export a thread back into the dump format it was imported from.

Imported comments are written from their stored text; members' replies,
stored as Markdown, are written as lemmy-ui's converter would show their
rendered HTML. Counts are imported plus local votes, and ages are printed
relative to ``as_of`` exactly as lemmy-ui prints them, so importing a dump
captured at T and exporting it as of T gives the same text back. Threads
from older lemmy-ui pages are written in the current layout: a score-only
comment's score as its upvotes (or downvotes), an author of an unknown host
by name alone.
"""

from django.utils import timezone

from threads.dump.formats import INDETERMINATE, STATUS_TEXTS, format_age
from threads.dump.parsed import DumpComment, ParsedDump
from threads.dump.writer import write_dump
from threads.markup import html_to_dump_text
from threads.models import Comment


def export_thread(thread, as_of=None):
    """Return the thread's dump text."""
    as_of = as_of or timezone.now()
    rows = Comment.objects.filter(thread=thread).select_related("author").order_by("position", "pk")
    nodes, roots = {}, []
    for comment in rows:
        nodes[comment.pk] = (comment, dump_comment(comment, thread, as_of))
    for comment, node in nodes.values():
        siblings = nodes[comment.parent_id][1].children if comment.parent_id else roots
        siblings.append(node)
    for root in roots:
        for node in root.walk():
            for child in node.children:
                child.depth = node.depth + 1
    return write_dump(ParsedDump(source=thread.title, article=thread.body, comments=roots))


def dump_comment(comment, thread, as_of):
    if comment.is_placeholder:
        return DumpComment(depth=0, is_placeholder=True)
    shown_at = comment.edited_at or comment.created_at
    author = comment.author
    instance = author.instance if author and author.instance != thread.source_instance else ""
    if comment.is_gone:
        body = STATUS_TEXTS[comment.status] if comment.origin == Comment.Origin.LOCAL else comment.body
    elif comment.origin == Comment.Origin.LOCAL:
        body = html_to_dump_text(comment.body_html)
    else:
        body = comment.body
    return DumpComment(
        depth=0,
        author_name=author.name if author else "",
        author_instance=instance,
        author_shown=comment.author_shown,
        badges=tuple(comment.badge_list),
        is_cake_day=comment.is_cake_day,
        is_distinguished=comment.is_distinguished,
        language=comment.language,
        upvotes=comment.upvotes,
        downvotes=comment.downvotes,
        edited=comment.is_edited,
        age=format_age((as_of - shown_at).total_seconds()) if shown_at else INDETERMINATE,
        body=body,
    )
