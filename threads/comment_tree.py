"""A page's comments as a tree of plain rows, read in one query and nested in O(n).

The thread page is the site's hot path and its cost grows with the number
of comments. Model instances cost five times a ``values_list`` of the same
columns (docs/performance.md), so a page reads rows, wraps each in a slotted
``Node`` and nests the nodes by ``parent_id``; ``threads.rendering`` writes
them as HTML. ``Node`` takes what a comment shows and who may act on it
from ``CommentRules``, the same definitions ``Comment`` uses.
"""

from threads.models import CommentRules
from threads.ranking import sort_key

NODE_FIELDS = (
    "pk",
    "parent_id",
    "lft",
    "rght",
    "level",
    "position",
    "is_placeholder",
    "status",
    "origin",
    "badges",
    "body_html",
    "imported_upvotes",
    "imported_downvotes",
    "local_upvotes",
    "local_downvotes",
    "votes_shown",
    "created_at",
    "edited_at",
    "age_text",
    "author__name",
    "author__instance",
    "author__instance_known",
    "author__is_bot",
    "author__user_id",
)


class Node(CommentRules):
    """One comment row, with its children once the tree is built."""

    __slots__ = (*(name.replace("author__", "author_") for name in NODE_FIELDS), "upvotes", "downvotes", "children")

    def __init__(self, row):
        (
            self.pk,
            self.parent_id,
            self.lft,
            self.rght,
            self.level,
            self.position,
            self.is_placeholder,
            self.status,
            self.origin,
            self.badges,
            self.body_html,
            imported_up,
            imported_down,
            local_up,
            local_down,
            self.votes_shown,
            self.created_at,
            self.edited_at,
            self.age_text,
            self.author_name,
            self.author_instance,
            self.author_instance_known,
            self.author_is_bot,
            self.author_user_id,
        ) = row
        self.upvotes = imported_up + local_up
        self.downvotes = imported_down + local_down
        self.children = []

    @property
    def size(self):
        return self.descendant_count + 1


def fetch_nodes(comments):
    """Read a comment queryset as ``Node``s, in one query."""
    return [Node(row) for row in comments.values_list(*NODE_FIELDS)]


def build_forest(nodes, sort, now):
    """Nest nodes under their parents and order every sibling list by ``sort``.

    The roots are the nodes whose parent is not among them: the top-level
    comments of a thread page, or the comment a comment page shows.
    """
    by_pk = {node.pk: node for node in nodes}
    roots = []
    for node in nodes:
        parent = by_pk.get(node.parent_id)
        (parent.children if parent is not None else roots).append(node)
    key = sort_key(sort, now)

    def order(siblings):
        siblings.sort(key=lambda n: key(n.upvotes, n.downvotes, n.created_at, n.position))

    order(roots)
    for node in nodes:
        if len(node.children) > 1:
            order(node.children)
    return roots
