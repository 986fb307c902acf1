"""Merge one parsed capture into its thread's stored comments.

The first capture of a thread goes from the parsed tree straight to rows:
with nothing to match or move, merge nodes in between cost a large import a
fifth of its time. Later captures are matched against the stored tree one
sibling group at a time (``threads.importer.match``), placed and laid out
(``threads.importer.tree``), and only what changed is written: importing
the same capture twice writes nothing.
"""

from threads.db import allocate_ids, allocate_tree_ids
from threads.importer.identity import comment_key
from threads.importer.match import Matcher
from threads.importer.store import (
    COMPARED,
    INSERT_BATCH,
    STRUCTURE,
    Inserter,
    Rows,
    resolve_people,
)
from threads.importer.tree import MergeTree, Node
from threads.models import Comment
from threads.trees import lay_out

UPDATE_BATCH = 1000


class Merge:
    """One capture merged into one thread, counting into ``report``."""

    def __init__(self, thread, dump, captured_at, instance, report, progress):
        self.thread = thread
        self.dump = dump
        self.captured_at = captured_at
        self.instance = instance
        self.report = report
        self.progress = progress or (lambda stage, done, total: None)
        self.keys = {}
        self.rows = Rows(captured_at, people={})

    def key_of(self, parsed):
        key = self.keys.get(id(parsed))
        if key is None:
            key = self.keys[id(parsed)] = comment_key(parsed, self.instance)
        return key

    def apply(self):
        if not Comment.objects.filter(thread=self.thread).exists():
            self.add_thread(self.dump.roots())
            return
        self.dump = self.dump.materialize()
        # Lemmy's context page shows one comment at the top, with its replies.
        self.is_context_view = len(self.dump.comments) == 1
        self.tree = MergeTree(self.thread, self.captured_at)
        self.matcher = Matcher(self.thread, self.tree, self.key_of, self.is_context_view)
        self.merge_tree()
        self.write()

    def add_thread(self, roots):
        """Store the first capture of a thread, straight from the parsed trees.

        With nothing to match or move, merge nodes in between would cost a
        large import a fifth of its time. Top-level comments arrive one by
        one (a large file is streamed) and are written a batch at a time, so
        a dump of any size needs the memory of one batch.
        """
        inserter = Inserter(self.thread.pk, self.rows)
        batch, batch_size, position, first_ids = [], 0, 0, []
        for root in roots:
            batch.append(root)
            batch_size += sum(1 for _ in root.walk())
            if batch_size >= INSERT_BATCH:
                first_ids.append(self.write_new_trees(inserter, batch, position))
                position += len(batch)
                batch, batch_size = [], 0
        if batch:
            first_ids.append(self.write_new_trees(inserter, batch, position))
            position += len(batch)
        done = self.report.added + self.report.placeholders
        self.progress("written", done, done)
        if position == 1:
            # Lemmy's context page shows one comment at the top, with its
            # replies: its real parent is not captured yet.
            Comment.objects.filter(pk=first_ids[0]).update(ancestry_unknown=True)

    def write_new_trees(self, inserter, roots, first_position):
        """Insert whole new top-level trees; return the first one's id."""
        parsed_comments = [parsed for root in roots for parsed in root.walk()]
        keys, authors = {}, []
        for parsed in parsed_comments:
            if parsed.is_placeholder:
                self.report.placeholders += 1
                continue
            self.report.added += 1
            keys[id(parsed)] = key = comment_key(parsed, self.instance)
            if parsed.author_known and key[:2] not in self.rows.people:
                authors.append((key[:2], parsed.is_bot))
        if authors:
            self.rows.people.update(resolve_people(authors))
        layout = {}
        for root, tree_id in zip(roots, allocate_tree_ids(Comment, len(roots))):
            for parsed, lft, rght, level in lay_out(root, _children):
                layout[id(parsed)] = (tree_id, lft, rght, level)
        ids = allocate_ids(Comment, len(parsed_comments))
        rows = [
            inserter.row((pk, parent_pk, position, False, *layout[id(parsed)]), parsed, keys.get(id(parsed)))
            for pk, parent_pk, position, parsed in _numbered(roots, ids, first_position)
        ]
        for start in range(0, len(rows), INSERT_BATCH):
            inserter.insert(rows[start : start + INSERT_BATCH])
        done = self.report.added + self.report.placeholders
        self.progress("written", done, self.dump.expected_comments(done))
        return ids[0]

    def merge_tree(self):
        """Walk the capture one sibling group at a time, parents before children."""
        work = [(self.tree.root, self.dump.comments)]
        done, total = 0, len(self.dump.real_comments())
        while work:
            parent, parsed_children = work.pop()
            for parsed, node in zip(parsed_children, self.merge_siblings(parent, parsed_children)):
                work.append((node, parsed.children))
                done += not parsed.is_placeholder
            self.progress("merged", done, total)

    def merge_siblings(self, parent, parsed_children):
        placed, previous = [], None
        for parsed, node in zip(parsed_children, self.matcher.match_siblings(parent, parsed_children)):
            if node is None:
                node = Node(parsed=parsed)
                node.key = None if parsed.is_placeholder else self.key_of(parsed)
                self.report.placeholders += parsed.is_placeholder
                self.report.added += not parsed.is_placeholder
                self.tree.place(node, parent, after=previous)
            else:
                self.update(node, parsed)
                if node.parent is not parent and node.ancestry_unknown and node.parent is self.tree.root:
                    self.tree.reattach(node, parent, after=previous)
                    self.report.reattached += 1
            if node.parent is parent:
                previous = node
            placed.append(node)
        return placed

    def update(self, node, parsed):
        """Apply a newer capture's content to a matched comment; an older
        capture never overwrites what a newer one wrote."""
        if parsed.is_placeholder:
            return
        row = node.row
        if row.captured_later:
            self.report.unchanged += 1
            return
        node.parsed = parsed
        new = self.rows.content_of(parsed, self.key_of(parsed), to_compare=True)
        if node.is_placeholder:
            node.changes, node.is_placeholder, node.key = new, False, self.key_of(parsed)
            self.report.filled += 1
            self.report.updated += 1
            return
        if row.edited_at and (not parsed.edited or new.body_key == row.body_key):
            new = new._replace(edited_at=row.edited_at)
        if any(getattr(row, name) != getattr(new, name) for name in COMPARED):
            node.changes, node.key = new, self.key_of(parsed)
            self.report.updated += 1
        else:
            self.report.unchanged += 1

    def write(self):
        """Insert the new comments, then update the stored rows that changed,
        grouped by which fields changed, and those that moved."""
        self.rows.people = resolve_people(self.authors())
        if self.is_context_view and self.report.added:
            root = self.dump.comments[0]
            for node in self.tree.root.children:
                if node.parsed is root and node.is_new:
                    node.ancestry_unknown = True
        self.tree.lay_out()
        self.insert_new()
        by_fields = {}
        for node in self.tree.nodes.values():
            if node.changes is not None:
                values = self.changed_values(node)
                by_fields.setdefault(tuple(sorted(values)), []).append(Comment(pk=node.pk, **values))
        for fields, rows in by_fields.items():
            Comment.objects.bulk_update(rows, fields, batch_size=UPDATE_BATCH)
        moved = [
            Comment(
                pk=node.pk,
                parent_id=node.parent.pk,
                position=node.position,
                ancestry_unknown=node.ancestry_unknown,
                **dict(
                    zip(STRUCTURE[4:], node.layout or (node.row.tree_id, node.row.lft, node.row.rght, node.row.level))
                ),
            )
            for node in self.tree.moved_nodes()
        ]
        Comment.objects.bulk_update(moved, STRUCTURE[1:], batch_size=UPDATE_BATCH)

    def changed_values(self, node):
        """The columns to write for a changed stored comment, from the full
        content of its parsed comment (the author resolved, the body rendered
        once, here, never on a page view). A filled placeholder also gets
        its creation time; a stored comment keeps its own estimate."""
        content = self.rows.content_of(node.parsed, self.key_of(node.parsed))
        values = content._asdict()
        values["edited_at"] = node.changes.edited_at
        if not node.row.is_placeholder:
            del values["created_at"]
        return values

    def insert_new(self):
        """Insert new comments with ``executemany``, their ids allocated first
        so a child's row can name its parent."""
        new_nodes = [node for node in self.tree.walk() if node.is_new]
        for node, pk in zip(new_nodes, allocate_ids(Comment, len(new_nodes))):
            node.pk = pk
        inserter = Inserter(self.thread.pk, self.rows)
        for start in range(0, len(new_nodes), INSERT_BATCH):
            batch = new_nodes[start : start + INSERT_BATCH]
            inserter.insert(
                [
                    inserter.row(
                        (node.pk, node.parent.pk, node.position, node.ancestry_unknown, *node.layout),
                        node.parsed,
                        node.key,
                    )
                    for node in batch
                ]
            )
            self.progress("written", start + len(batch), len(new_nodes))

    def authors(self):
        """``((name, host), is_bot)`` of every comment this capture writes."""
        for node in self.tree.walk():
            parsed = node.parsed
            written = node.is_new or node.changes is not None
            if written and parsed is not None and not parsed.is_placeholder and parsed.author_known:
                yield self.key_of(parsed)[:2], parsed.is_bot


def _children(node):
    return node.children


def _numbered(roots, ids, first_position=0):
    """``(id, parent id, position, comment)`` for a parsed forest in
    pre-order, the order ``ids`` are given out in; the roots' positions
    count from ``first_position``."""
    ids = iter(ids)
    stack = [(root, None, first_position + index) for index, root in reversed(list(enumerate(roots)))]
    while stack:
        parsed, parent_pk, position = stack.pop()
        pk = next(ids)
        yield pk, parent_pk, position, parsed
        stack.extend((child, pk, index) for index, child in reversed(list(enumerate(parsed.children))))
