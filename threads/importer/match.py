"""Find the stored comment each comment of a capture is, if any.

Exact matches share author, host and normalised body under the same
parent. On top of those the matcher recognises
- a comment edited between captures (same author and place, a similar body
  or the same replies),
- a placeholder filled by a fuller capture (the same replies under it),
- the root of a partial "context" view, wherever it sits in the thread,
  edited or not, and a context root stored earlier that this capture shows
  under its real parent.
"""

from threads.importer.identity import MIN_IDENTIFYING_BODY, is_identifying, normalise_text
from threads.models import Comment

SIMILAR_BODY_RATIO = 0.6
# Bodies are compared on their first words only: comparing whole bodies
# made merging a 40,000-character edit take minutes under the thread lock.
COMPARED_WORDS = 2000


def similar_text(old, new):
    """Whether ``new`` reads as an edit of ``old``: the same first sentence
    (one long enough to say something: "Yes." opens many comments), or at
    least ``SIMILAR_BODY_RATIO`` of their word pairs in common (Dice's
    coefficient over the first ``COMPARED_WORDS`` words of each)."""
    old, new = normalise_text(old), normalise_text(new)
    first = old.split(". ")[0]
    if len(first) >= MIN_IDENTIFYING_BODY and first == new.split(". ")[0]:
        return True
    old_words, new_words = old.split(" ")[:COMPARED_WORDS], new.split(" ")[:COMPARED_WORDS]
    size = 2 if min(len(old_words), len(new_words)) >= 2 else 1
    old_shingles = set(zip(*(old_words[i:] for i in range(size))))
    new_shingles = set(zip(*(new_words[i:] for i in range(size))))
    total = len(old_shingles) + len(new_shingles)
    return total > 0 and 2 * len(old_shingles & new_shingles) / total >= SIMILAR_BODY_RATIO


class Matcher:
    """Matches one capture's comments against a ``MergeTree``; every stored
    comment is matched at most once (``claimed``)."""

    def __init__(self, thread, tree, key_of, is_context_view):
        self.thread = thread
        self.tree = tree
        self.key_of = key_of
        self.is_context_view = is_context_view
        self.claimed = set()
        self.bodies = {}
        self.by_author = None

    def match_siblings(self, parent, parsed_children):
        """The stored node of each parsed child of ``parent``, or ``None``."""
        matches = [self.exact_match(parent, parsed) for parsed in parsed_children]
        for index, parsed in enumerate(parsed_children):
            if matches[index] is not None:
                continue
            if parent.stored:
                matches[index] = self.loose_match(parent, parsed)
            elif not parsed.is_placeholder:
                matches[index] = self.orphan_to_reattach(parent, parsed)
            if matches[index] is None and parent is self.tree.root and self.is_context_view:
                matches[index] = self.edited_context_root(parsed)
        return matches

    def index_of(self, parent):
        """Stored matchable children of ``parent`` by key and by author."""
        if parent.index is None:
            by_key, by_author, placeholders = {}, {}, []
            for child in parent.stored:
                if not child.matchable:
                    continue
                if child.is_placeholder:
                    placeholders.append(child)
                else:
                    by_key.setdefault(child.key, []).append(child)
                    by_author.setdefault(child.key[:2], []).append(child)
            parent.index = (by_key, by_author, placeholders)
        return parent.index

    def first_unclaimed(self, nodes, accept=lambda node: True):
        for node in nodes:
            if id(node) not in self.claimed and accept(node):
                self.claimed.add(id(node))
                return node
        return None

    def exact_match(self, parent, parsed):
        if parsed.is_placeholder:
            return None
        key = self.key_of(parsed)
        match = self.first_unclaimed(self.index_of(parent)[0].get(key, ())) if parent.stored else None
        if (
            match is None
            and parent is self.tree.root
            and self.is_context_view
            and parsed.status == Comment.Status.NORMAL
        ):
            # A context view's root is a comment from anywhere in the thread.
            match = self.first_unclaimed(self.tree.by_key.get(key, ()))
        return match

    def loose_match(self, parent, parsed):
        """Second chance for what matched nothing exactly: a placeholder, an
        edited comment, a filled placeholder, or a context root to re-attach."""
        _, by_author, placeholders = self.index_of(parent)
        if parsed.is_placeholder:
            return self.first_unclaimed(parent.stored, lambda node: node.matchable and self.share_replies(node, parsed))
        if parsed.author_known:
            edited = self.first_unclaimed(by_author.get(self.key_of(parsed)[:2], ()), self.is_edit_of(parsed))
            if edited is not None:
                return edited
        filled = self.first_unclaimed(placeholders, lambda node: self.share_replies(node, parsed))
        return filled or self.orphan_to_reattach(parent, parsed)

    def orphan_to_reattach(self, parent, parsed):
        """A stored context root (ancestry unknown) that this capture shows
        under ``parent``: the same comment, or the same author's edit of it."""

        def reattachable(node):
            return node.ancestry_unknown and node.parent is self.tree.root and not self.tree.is_ancestor(node, parent)

        key = self.key_of(parsed)
        exact = self.first_unclaimed(self.tree.by_key.get(key, ()), reattachable)
        if exact is not None or not parsed.author_known:
            return exact
        is_edit = self.is_edit_of(parsed)
        return self.first_unclaimed(
            (node for node in self.tree.root.stored if node.key is not None and node.key[:2] == key[:2]),
            lambda node: reattachable(node) and is_edit(node),
        )

    def edited_context_root(self, parsed):
        """A context view's root edited, deleted or removed since an earlier
        capture of the thread: the same author's comment anywhere in it, with
        a reply in common or (edited) a similar body. It stays where the
        fuller capture put it."""
        if parsed.is_placeholder or not parsed.author_known:
            return None
        if self.by_author is None:
            self.by_author = {}
            for node in self.tree.nodes.values():
                if node.matchable and not node.is_placeholder:
                    self.by_author.setdefault(node.key[:2], []).append(node)
        candidates = self.by_author.get(self.key_of(parsed)[:2], ())
        if parsed.status != Comment.Status.NORMAL:  # its text is gone: only its replies can tell
            return self.first_unclaimed(candidates, lambda node: self.share_replies(node, parsed))
        return self.first_unclaimed(candidates, self.is_edit_of(parsed))

    def is_edit_of(self, parsed):
        return lambda node: self.share_replies(node, parsed) or self.similar_body(node, parsed)

    def share_replies(self, node, parsed):
        """Whether the two have a reply in common that says something (not a
        bot's, not a short "Thanks!"), looking through placeholders (a gap of
        two levels puts a placeholder under a placeholder)."""
        existing = set(_reply_keys(node.children, lambda child: child.key))
        replies = _reply_keys(parsed.children, lambda reply: self.key_of(reply) if is_identifying(reply) else None)
        return any(key in existing for key in replies)

    def similar_body(self, node, parsed):
        if node.pk not in self.bodies:
            self.bodies.update(
                Comment.objects.filter(parent_id=node.parent.pk, thread=self.thread).values_list("pk", "body")
            )
        return similar_text(self.bodies.get(node.pk, ""), parsed.body)


def _reply_keys(children, key_of):
    """Keys of the real comments among ``children``, and of those under
    placeholders among them, however deep the placeholder chain."""
    stack = list(children)
    while stack:
        child = stack.pop()
        if child.is_placeholder:
            stack.extend(child.children)
        else:
            key = key_of(child)
            if key:
                yield key
