"""The merged tree of a thread: its stored comments, and where a capture's
new comments and moves go among them.

Every walk here is iterative: imports allow any depth, and a chain of
placeholders a thousand levels deep is as valid as a flat thread.
"""

from django.db.models import BooleanField, ExpressionWrapper, Q

from threads.db import allocate_tree_ids
from threads.importer.identity import stored_key
from threads.importer.store import LOADED
from threads.models import Comment
from threads.trees import lay_out


class Node:
    """A comment of the merged tree: a stored row, or one this capture adds.

    ``children`` is the merged order; ``stored`` keeps the children as
    loaded, the only candidates a capture's comments can match (a capture
    never matches itself), indexed on first use by ``Matcher.index_of``.
    """

    __slots__ = (
        "ancestry_unknown",
        "changes",
        "children",
        "index",
        "is_placeholder",
        "key",
        "layout",
        "moved",
        "origin",
        "parent",
        "parsed",
        "pk",
        "position",
        "row",
        "stored",
        "tree_id",
    )

    def __init__(self, row=None, parsed=None):
        self.row = row
        self.pk = row.pk if row else None
        self.parent = None
        self.children = []
        self.stored = []
        self.index = None
        self.parsed = parsed
        self.changes = None
        self.moved = False
        self.layout = None
        if row:
            self.is_placeholder = row.is_placeholder
            self.origin = row.origin
            self.key = None if row.is_placeholder else stored_key(row)
            self.position = row.position
            self.ancestry_unknown = row.ancestry_unknown
            self.tree_id = row.tree_id
        else:
            self.is_placeholder = parsed is not None and parsed.is_placeholder
            self.origin = Comment.Origin.IMPORTED
            self.key = None
            self.position = None
            self.ancestry_unknown = False
            self.tree_id = None

    @property
    def is_new(self):
        return self.pk is None

    @property
    def matchable(self):
        return self.origin == Comment.Origin.IMPORTED


class MergeTree:
    """A thread's comments as loaded, under a root that stands for the thread."""

    def __init__(self, thread, captured_at):
        # Whether a later capture wrote the row is all the merge needs of its
        # capture time, and asking the database is cheaper than converting
        # every row's time (a third of loading a large thread).
        captured_later = ExpressionWrapper(Q(captured_at__gt=captured_at), output_field=BooleanField())
        rows = (
            Comment.objects.filter(thread=thread)
            .order_by("position", "pk")
            .annotate(captured_later=captured_later)
            .values_list(*LOADED, "captured_later", named=True)
        )
        self.root = Node()
        self.nodes = {row.pk: Node(row) for row in rows}
        self.by_key = {}
        for node in self.nodes.values():
            parent = self.nodes.get(node.row.parent_id, self.root)
            node.parent = parent
            parent.children.append(node)
            parent.stored.append(node)
            if node.matchable and not node.is_placeholder:
                self.by_key.setdefault(node.key, []).append(node)

    def walk(self, top=None):
        """``top``'s descendants in pre-order; every comment by default."""
        stack = list(reversed((top or self.root).children))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def is_ancestor(self, node, descendant):
        while descendant is not None and descendant is not self.root:
            if descendant is node:
                return True
            descendant = descendant.parent
        return False

    def place(self, node, parent, after):
        """Put ``node`` among ``parent``'s children right after ``after``, the
        sibling the capture shows before it (first if none); local replies
        and siblings missing from this capture keep their relative order."""
        node.parent = parent
        siblings = parent.children
        if after is not None and siblings and siblings[-1] is after:
            siblings.append(node)
        else:
            siblings.insert(siblings.index(after) + 1 if after is not None else 0, node)

    def reattach(self, node, parent, after):
        """Move a context root whose ancestry was unknown under its real parent."""
        node.parent.children.remove(node)
        self.place(node, parent, after)
        node.moved = True
        node.ancestry_unknown = False

    def lay_out(self):
        """Number siblings and lay out every tree this capture touched."""
        touched = []
        for position, root in enumerate(self.root.children):
            root.position = position
            if self.renumber(root) or root.is_new or root.moved:
                touched.append(root)
        new_roots = [root for root in self.root.children if root.tree_id is None]
        for root, tree_id in zip(new_roots, allocate_tree_ids(Comment, len(new_roots))):
            root.tree_id = tree_id
        for root in touched:
            for node, lft, rght, level in lay_out(root, _children):
                node.layout = (root.tree_id, lft, rght, level)

    def renumber(self, root):
        """Number the siblings in ``root``'s tree; return whether the tree has
        a new, moved or renumbered comment below its root."""
        changed = False
        for parent in (root, *self.walk(root)):
            for position, child in enumerate(parent.children):
                if child.position != position:
                    child.position = position
                    changed = True
                changed = changed or child.is_new or child.moved
        return changed

    def moved_nodes(self):
        """Stored comments whose parent, position, ancestry mark or tree place changed."""
        for node in self.nodes.values():
            row = node.row
            if (
                node.parent.pk != row.parent_id
                or node.position != row.position
                or node.ancestry_unknown != row.ancestry_unknown
                or (node.layout is not None and node.layout != (row.tree_id, row.lft, row.rght, row.level))
            ):
                yield node


def _children(node):
    return node.children
