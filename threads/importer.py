"""Import dumps: create the thread a dump shows, or merge it into that thread.

A dump has no ids, so everything is matched by content (notes/dump-format.md
A12–A14): a thread by the hash of its normalised article, a comment by its
author, its normalised body and its place (its parent, found the same way).
On top of exact matches the merge recognises
- a comment edited between captures (same author and place, a similar body
  or the same replies),
- a placeholder filled by a fuller capture (the same replies under it),
- the root of a partial "context" view, wherever it sits in the thread, and
  re-attaches a context root once a fuller dump shows its real parent.

Each file is one transaction under the thread's tree lock: it is stored
whole or not at all. New subtrees are laid out in Python and bulk-inserted;
existing rows are updated only where something changed, so importing the
same dump twice writes nothing.
"""

import functools
import gc
import hashlib
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from django.db import connections, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from threads.db import allocate_ids, allocate_tree_ids
from threads.dump.formats import BADGE_ORDER, parse_age
from threads.dump.parser import DumpError, parse_dump
from threads.markup import render_dump_text
from threads.models import Capture, Comment, Person, Thread
from threads.trees import TREE_FIELDS, lay_out, tree_write

TITLE_LENGTH = 100
INSERT_BATCH = 5000
SIMILAR_BODY_RATIO = 0.6
STRUCTURE_FIELDS = ("parent_id", "position", "ancestry_unknown", *TREE_FIELDS)
EXISTING_FIELDS = (
    "pk",
    "parent_id",
    "position",
    "is_placeholder",
    "ancestry_unknown",
    "origin",
    "author__name",
    "author__instance",
    "body_key",
    "tree_id",
    "lft",
    "rght",
    "level",
    "badges",
    "is_distinguished",
    "is_cake_day",
    "status",
    "language",
    "imported_upvotes",
    "imported_downvotes",
    "counts_approximate",
    "edited_at",
    "age_text",
)
# What a stored comment must still hold for a capture to leave it unchanged:
# the fields of ``_Merge.content`` that are loaded with it.
COMPARED_FIELDS = (
    "is_placeholder",
    "origin",
    "badges",
    "is_distinguished",
    "is_cake_day",
    "status",
    "language",
    "body_key",
    "imported_upvotes",
    "imported_downvotes",
    "counts_approximate",
    "edited_at",
    "age_text",
)


@dataclass
class ImportReport:
    """What one file did to the database (or would do, on a dry run)."""

    source: str
    thread_id: int = None
    thread_title: str = ""
    thread_created: bool = False
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    placeholders: int = 0
    filled: int = 0
    reattached: int = 0
    dry_run: bool = False
    warnings: list = field(default_factory=list)

    def summary(self):
        verb = "would create" if self.dry_run else "created"
        if not self.thread_created:
            verb = "would merge into" if self.dry_run else "merged into"
        text = (
            f"{self.source}: {verb} thread {self.thread_id} ({self.thread_title!r}): "
            f"{self.added} comments added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.placeholders} placeholders"
        )
        extras = [f"{self.filled} placeholders filled"] if self.filled else []
        extras += [f"{self.reattached} context roots re-attached"] if self.reattached else []
        return text + (f" ({', '.join(extras)})" if extras else "")


def normalise_text(text):
    """The form of a text used for identity: NFC, and every run of white
    space (NO-BREAK SPACE included) as one plain space."""
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def text_key(text):
    return hashlib.sha1(normalise_text(text).encode()).hexdigest()


def derive_title(article, fallback):
    """The article's first sentence, cut at a word near ``TITLE_LENGTH``."""
    first_paragraph = next((p for p in article.split("\n\n") if p.strip()), "")
    sentence = re.split(r"(?<=[.!?])\s+", normalise_text(first_paragraph.lstrip(" •")), maxsplit=1)[0]
    if not sentence:
        return fallback
    if len(sentence) <= TITLE_LENGTH:
        return sentence
    cut = sentence[: TITLE_LENGTH + 1].rsplit(" ", 1)[0].rstrip(",;:–-")
    return cut + "…"


def decode_dump(data, source):
    """Decode a dump's bytes as UTF-8, naming the line of the first bad byte."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        message = f"bytes that are not UTF-8 (byte {error.start}: {data[error.start]:#04x})"
        raise DumpError(line, message, source) from None


def import_dump_file(path, **options):
    path = Path(path)
    return import_dump(path.read_bytes(), source=str(path), **options)


def import_dump(data, *, source="<dump>", captured_at=None, title=None, instance="", dry_run=False, progress=None):
    """Import one dump (text or bytes) in one transaction; return its report.

    Raises ``DumpError`` for a malformed dump, before anything is written.
    """
    text = decode_dump(data, source) if isinstance(data, bytes) else data
    with _bulk_allocation():
        return _import_parsed(parse_dump(text, source), source, captured_at, title, instance, dry_run, progress)


def _import_parsed(dump, source, captured_at, title, instance, dry_run, progress):
    if not dump.article.strip() and not title:
        raise DumpError(1, "the article is empty, so nothing identifies the thread: name it with --title", source)
    captured_at = captured_at or timezone.now()
    fingerprint = hashlib.sha256(
        (normalise_text(dump.article) or f"title:{normalise_text(title)}").encode()
    ).hexdigest()
    report = ImportReport(source=source, dry_run=dry_run, warnings=list(dump.warnings))
    with transaction.atomic():
        thread, report.thread_created = Thread.objects.get_or_create(
            fingerprint=fingerprint,
            defaults={
                "title": title or derive_title(dump.article, Path(source).stem),
                "body": dump.article,
                "body_html": render_dump_text(dump.article),
                "source_instance": instance,
                "created_at": captured_at,
                "captured_at": captured_at,
            },
        )
        with tree_write(thread.pk):
            _Merge(thread, dump, captured_at, instance, report, progress).apply()
            _update_thread(thread, captured_at, title, instance)
            Capture.objects.create(
                thread=thread,
                source_name=Path(source).name,
                captured_at=captured_at,
                added=report.added,
                updated=report.updated,
                unchanged=report.unchanged,
                placeholders=report.placeholders,
            )
        report.thread_id, report.thread_title = thread.pk, thread.title
        if dry_run:
            transaction.set_rollback(True)
    return report


def _update_thread(thread, captured_at, title, instance):
    """Write the thread fields an import owns, and only those: members' vote
    counters and the lock may have changed since ``thread`` was read."""
    thread.refresh_from_db(fields=["captured_at", "created_at", "source_instance", "author"])
    thread.comment_count = Comment.objects.filter(thread=thread, is_placeholder=False).count()
    thread.captured_at = max(filter(None, [thread.captured_at, captured_at]))
    thread.created_at = min(thread.created_at, captured_at)
    if title:
        thread.title = title
    if instance and not thread.source_instance:
        thread.source_instance = instance
    op = (
        Comment.objects.filter(thread=thread, badges__contains="op", author__isnull=False)
        .values_list("author_id", flat=True)
        .first()
    )
    thread.author_id = op or thread.author_id
    thread.save(update_fields=["comment_count", "captured_at", "created_at", "title", "source_instance", "author"])


class _Node:
    """A comment of the merged tree: a stored row, or one this import adds.

    ``children`` is the merged order; ``stored`` keeps the children as loaded,
    the only candidates a dump's comments can match (a dump never matches
    itself), indexed on first use by ``_Merge.index_of``.
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
        self.changes = {}
        self.moved = False
        self.layout = None
        if row:
            self.is_placeholder = row.is_placeholder
            self.origin = row.origin
            self.key = (row.author__name, row.author__instance, row.body_key)
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


class _Merge:
    def __init__(self, thread, dump, captured_at, instance, report, progress):
        self.thread = thread
        self.dump = dump
        self.captured_at = captured_at
        self.instance = instance
        self.report = report
        self.progress = progress or (lambda stage, done, total: None)
        self.claimed = set()
        self.bodies = {}
        self.parsed_keys = {}
        # Lemmy's context page shows one comment at the top, with its replies.
        self.is_context_view = len(dump.comments) == 1

    def apply(self):
        self.load_existing()
        if not self.existing:
            self.add_thread()
            return
        self.merge_tree()
        self.write()

    def add_thread(self):
        """Store the first capture of a thread. With nothing to match or move,
        its comments go from the parsed tree straight to rows, without merge
        nodes in between: they cost a large import a fifth of its time."""
        roots = self.dump.comments
        authors = []
        for root in roots:
            for parsed in root.walk():
                if parsed.is_placeholder:
                    self.report.placeholders += 1
                else:
                    self.report.added += 1
                    authors.append((self.parsed_key(parsed)[:2], parsed.is_bot))
        people = self.resolve_people(authors)
        layout = {}
        for root, tree_id in zip(roots, allocate_tree_ids(Comment, len(roots))):
            for parsed, lft, rght, level in lay_out(root, _children):
                layout[id(parsed)] = (tree_id, lft, rght, level)
        context_root = roots[0] if self.is_context_view else None
        inserter = _CommentInserter(self, people)
        rows, written = [], 0
        total = self.report.added + self.report.placeholders
        for pk, parent_pk, position, parsed in _numbered(roots, allocate_ids(Comment, total)):
            structure = (pk, parent_pk, position, parsed is context_root, *layout[id(parsed)])
            rows.append(inserter.row(structure, parsed, self.parsed_keys.get(id(parsed))))
            if len(rows) == INSERT_BATCH:
                written += inserter.insert(rows)
                rows = []
                self.progress("written", written, total)
        written += inserter.insert(rows)
        self.progress("written", written, total)

    def parsed_key(self, parsed):
        key = self.parsed_keys.get(id(parsed))
        if key is None:
            key = (parsed.author_name, parsed.author_instance or self.instance, text_key(parsed.body))
            self.parsed_keys[id(parsed)] = key
        return key

    def load_existing(self):
        # Whether a later capture wrote the row is all the merge needs of its
        # capture time, and asking the database is cheaper than converting
        # every row's time (a third of loading a large thread).
        captured_later = ExpressionWrapper(Q(captured_at__gt=self.captured_at), output_field=BooleanField())
        rows = (
            Comment.objects.filter(thread=self.thread)
            .order_by("position", "pk")
            .annotate(captured_later=captured_later)
            .values_list(*EXISTING_FIELDS, "captured_later", named=True)
        )
        self.roots = _Node()  # stands for the thread: the parent of top-level comments
        nodes = {row.pk: _Node(row) for row in rows}
        self.by_key = {}
        for node in nodes.values():
            parent = nodes.get(node.row.parent_id, self.roots)
            node.parent = parent
            parent.children.append(node)
            parent.stored.append(node)
            if node.matchable and not node.is_placeholder:
                self.by_key.setdefault(node.key, []).append(node)
        self.existing = nodes

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

    def merge_tree(self):
        """Walk the dump one sibling group at a time, parents before children."""
        work = [(self.roots, self.dump.comments)]
        done, total = 0, len(self.dump.real_comments())
        while work:
            parent, parsed_children = work.pop()
            for parsed, node in zip(parsed_children, self.merge_siblings(parent, parsed_children)):
                work.append((node, parsed.children))
                done += not parsed.is_placeholder
            self.progress("merged", done, total)

    def merge_siblings(self, parent, parsed_children):
        matches = [self.exact_match(parent, parsed) for parsed in parsed_children]
        for index, parsed in enumerate(parsed_children):
            if matches[index] is not None:
                continue
            if parent.stored:
                matches[index] = self.loose_match(parent, parsed)
            elif not parsed.is_placeholder:
                matches[index] = self.orphan_to_reattach(parent, parsed)
        placed, previous = [], None
        for parsed, node in zip(parsed_children, matches):
            if node is None:
                node = _Node(parsed=parsed)
                self.report.placeholders += parsed.is_placeholder
                self.report.added += not parsed.is_placeholder
                self.fill(node, parsed)
                self.place(node, parent, after=previous)
            else:
                self.update(node, parsed)
                if node.parent is not parent and node.ancestry_unknown and node.parent is self.roots:
                    self.reattach(node, parent, after=previous)
            if node.parent is parent:
                previous = node
            placed.append(node)
        return placed

    def first_unclaimed(self, nodes, accept=lambda node: True):
        for node in nodes:
            if id(node) not in self.claimed and accept(node):
                self.claimed.add(id(node))
                return node
        return None

    def exact_match(self, parent, parsed):
        if parsed.is_placeholder:
            return None
        key = self.parsed_key(parsed)
        match = self.first_unclaimed(self.index_of(parent)[0].get(key, ())) if parent.stored else None
        if match is None and parent is self.roots and self.is_context_view and parsed.status == Comment.Status.NORMAL:
            # A context view's root is a comment from anywhere in the thread.
            match = self.first_unclaimed(self.by_key.get(key, ()))
        return match

    def loose_match(self, parent, parsed):
        """Second chance for what matched nothing exactly: a placeholder, an
        edited comment, a filled placeholder, or a context root to re-attach."""
        _by_key, by_author, placeholders = self.index_of(parent)
        if parsed.is_placeholder:
            return self.first_unclaimed(parent.stored, lambda node: node.matchable and self.share_replies(node, parsed))
        name, instance, _ = self.parsed_key(parsed)
        edited = self.first_unclaimed(
            by_author.get((name, instance), ()),
            lambda node: self.share_replies(node, parsed) or self.similar_body(node, parsed),
        )
        if edited is not None:
            return edited
        filled = self.first_unclaimed(placeholders, lambda node: self.share_replies(node, parsed))
        return filled or self.orphan_to_reattach(parent, parsed)

    def orphan_to_reattach(self, parent, parsed):
        """A stored context root (ancestry unknown) that this dump shows here."""
        return self.first_unclaimed(
            self.by_key.get(self.parsed_key(parsed), ()),
            lambda node: node.ancestry_unknown and node.parent is self.roots and not self.is_ancestor(node, parent),
        )

    def share_replies(self, node, parsed):
        """Whether the two have a reply in common, looking through placeholders
        (a gap of two levels puts a placeholder under a placeholder)."""
        existing = set(self.reply_keys(node))
        return any(key in existing for key in self.parsed_reply_keys(parsed))

    def reply_keys(self, node):
        for child in node.children:
            if child.is_placeholder:
                yield from self.reply_keys(child)
            elif child.key:
                yield child.key

    def parsed_reply_keys(self, parsed):
        for reply in parsed.children:
            if reply.is_placeholder:
                yield from self.parsed_reply_keys(reply)
            else:
                yield self.parsed_key(reply)

    def similar_body(self, node, parsed):
        if node.pk not in self.bodies:
            self.bodies.update(
                Comment.objects.filter(parent_id=node.parent.pk, thread=self.thread).values_list("pk", "body")
            )
        old, new = normalise_text(self.bodies.get(node.pk, "")), normalise_text(parsed.body)
        if old.split(". ")[0] == new.split(". ")[0]:
            return True
        matcher = SequenceMatcher(None, old, new, autojunk=False)
        return matcher.quick_ratio() >= SIMILAR_BODY_RATIO and matcher.ratio() >= SIMILAR_BODY_RATIO

    def is_ancestor(self, node, descendant):
        while descendant is not None and descendant is not self.roots:
            if descendant is node:
                return True
            descendant = descendant.parent
        return False

    def place(self, node, parent, after):
        """Put ``node`` among ``parent``'s children right after ``after``, the
        sibling the dump shows before it (first if none); local replies and
        siblings missing from this dump keep their relative order."""
        node.parent = parent
        siblings = parent.children
        if after is not None and siblings and siblings[-1] is after:
            siblings.append(node)
        else:
            siblings.insert(siblings.index(after) + 1 if after is not None else 0, node)

    def reattach(self, node, parent, after):
        node.parent.children.remove(node)
        self.place(node, parent, after)
        node.moved = True
        node.ancestry_unknown = False
        self.report.reattached += 1

    def fill(self, node, parsed):
        """Give a new comment its identity; its row is built from ``parsed``
        when it is inserted."""
        node.key = None if parsed.is_placeholder else self.parsed_key(parsed)

    def content(self, parsed):
        return {
            "is_placeholder": False,
            "origin": Comment.Origin.IMPORTED,
            "author_key": (parsed.author_name, parsed.author_instance or self.instance, parsed.is_bot),
            "badges": _badge_text(parsed.badges),
            "is_distinguished": parsed.is_distinguished,
            "is_cake_day": parsed.is_cake_day,
            "status": parsed.status,
            "language": parsed.language,
            "body": parsed.body,
            "body_key": self.parsed_key(parsed)[2],
            "imported_upvotes": parsed.upvotes,
            "imported_downvotes": parsed.downvotes,
            "counts_approximate": parsed.counts_approximate,
            "edited_at": self.estimated_time(parsed.age) if parsed.edited else None,
            "age_text": parsed.age,
            "captured_at": self.captured_at,
        }

    def estimated_time(self, age):
        delta = parse_age(age)
        return None if delta is None else self.captured_at - delta

    def update(self, node, parsed):
        """Apply a newer capture's content to a matched comment; an older
        capture never overwrites what a newer one wrote."""
        if parsed.is_placeholder:
            return
        row = node.row
        if row.captured_later:
            self.report.unchanged += 1
            return
        new = self.content(parsed)
        if node.is_placeholder:
            new["created_at"] = new["edited_at"] or self.estimated_time(parsed.age)
            node.changes, node.is_placeholder, node.key = new, False, self.parsed_key(parsed)
            self.report.filled += 1
            self.report.updated += 1
            return
        if row.edited_at and (not parsed.edited or new["body_key"] == row.body_key):
            new["edited_at"] = row.edited_at
        if any(getattr(row, name) != new[name] for name in COMPARED_FIELDS):
            node.changes = new
            self.report.updated += 1
        else:
            self.report.unchanged += 1

    def write(self):
        """Insert the new comments, then update the stored rows that changed,
        grouped by which fields changed."""
        people = self.resolve_people(self.authors())
        self.lay_out_trees()
        self.insert_new(people)
        by_fields = {}
        for node in self.existing.values():
            if node.changes:
                values = self.row_values(node, people)
                by_fields.setdefault(tuple(sorted(values)), []).append(Comment(pk=node.pk, **values))
        for fields, rows in by_fields.items():
            Comment.objects.bulk_update(rows, fields, batch_size=1000)
        moved = [node for node in self.existing.values() if self.structure_changed(node)]
        Comment.objects.bulk_update(
            [
                Comment(
                    pk=node.pk,
                    parent_id=node.parent.pk,
                    position=node.position,
                    ancestry_unknown=node.ancestry_unknown,
                    **dict(
                        zip(TREE_FIELDS, node.layout or (node.row.tree_id, node.row.lft, node.row.rght, node.row.level))
                    ),
                )
                for node in moved
            ],
            STRUCTURE_FIELDS,
            batch_size=1000,
        )

    def insert_new(self, people):
        """Insert new comments with ``executemany``, their ids allocated first so
        a child's row can name its parent."""
        new_nodes = [node for node in self.walk() if node.is_new]
        for node, pk in zip(new_nodes, allocate_ids(Comment, len(new_nodes))):
            node.pk = pk
        inserter = _CommentInserter(self, people)
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

    def row_values(self, node, people):
        """The column values of ``node.changes``: the author resolved to an
        id and the body rendered once, here, never on a page view."""
        values = dict(node.changes)
        author_key = values.pop("author_key", None)
        if author_key:
            values["author_id"] = people[author_key[:2]]
        if "body" in values:
            values["body_html"] = render_dump_text(values["body"])
        return values

    def walk(self, top=None):
        """``top``'s descendants in pre-order; every comment by default."""
        stack = list(reversed((top or self.roots).children))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def lay_out_trees(self):
        """Number siblings and lay out every tree this import touched."""
        touched = []
        for position, root in enumerate(self.roots.children):
            root.position = position
            if self.renumber(root) or root.is_new or root.moved:
                touched.append(root)
        if self.is_context_view and self.report.added:
            root = self.dump.comments[0]
            for node in self.roots.children:
                if node.parsed is root and node.is_new:
                    node.ancestry_unknown = True
        new_roots = [root for root in self.roots.children if root.tree_id is None]
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

    def structure_changed(self, node):
        row = node.row
        return (
            node.parent.pk != row.parent_id
            or node.position != row.position
            or node.ancestry_unknown != row.ancestry_unknown
            or (node.layout is not None and node.layout != (row.tree_id, row.lft, row.rght, row.level))
        )

    def authors(self):
        """``((name, instance), is_bot)`` of every comment this import writes."""
        for node in self.walk():
            if node.is_new:
                if not node.is_placeholder:
                    yield node.key[:2], node.parsed.is_bot
            elif "author_key" in node.changes:
                name, instance, is_bot = node.changes["author_key"]
                yield (name, instance), is_bot

    def resolve_people(self, authors):
        """Map (name, instance) to people, creating imported authors as needed.

        New people are inserted in sorted order, so two imports adding the same
        authors wait for each other instead of deadlocking."""
        wanted = {}
        for author, is_bot in authors:
            wanted[author] = wanted.get(author, False) or is_bot
        people = {}
        names = {name for name, _ in wanted}
        for chunk in _chunks(sorted(names), 500):
            for person in Person.objects.imported().filter(name__in=chunk):
                people[(person.name, person.instance)] = person
        missing = [
            Person(name=name, instance=instance, is_bot=is_bot)
            for (name, instance), is_bot in sorted(wanted.items())
            if (name, instance) not in people
        ]
        Person.objects.bulk_create(missing, batch_size=1000, ignore_conflicts=True)
        if missing:
            for chunk in _chunks(sorted({person.name for person in missing}), 500):
                for person in Person.objects.imported().filter(name__in=chunk):
                    people[(person.name, person.instance)] = person
        new_bots = [people[key].pk for key, is_bot in wanted.items() if is_bot and not people[key].is_bot]
        Person.objects.filter(pk__in=new_bots).update(is_bot=True)
        return {key: person.pk for key, person in people.items()}


class _CommentInserter:
    """Writes new comments with ``executemany``, each row a tuple in column
    order built straight from its parsed comment. Django's ``bulk_create``
    spent most of a large import preparing every field of every model
    instance, and a dict of values per row cost a third of what was left."""

    FILLED = (
        "thread_id",
        "id",
        "parent_id",
        "position",
        "ancestry_unknown",
        *TREE_FIELDS,
        "is_placeholder",
        "origin",
        "author_id",
        "badges",
        "is_distinguished",
        "is_cake_day",
        "status",
        "language",
        "body",
        "body_html",
        "body_key",
        "imported_upvotes",
        "imported_downvotes",
        "counts_approximate",
        "created_at",
        "edited_at",
        "age_text",
        "captured_at",
    )

    def __init__(self, merge, people):
        self.connection = connections[Comment.objects.db]
        self.thread_id = merge.thread.pk
        self.people = people
        fields = {field.attname: field for field in Comment._meta.concrete_fields}
        defaulted = [field for name, field in fields.items() if name not in self.FILLED]
        self.defaults = tuple(field.get_default() for field in defaulted)
        self.placeholder = (
            True,
            Comment.Origin.IMPORTED,
            *(fields[name].get_default() for name in self.FILLED[self.FILLED.index("author_id") :]),
        )
        # Imported times repeat (every "5 months ago" is the same instant), so
        # each distinct one is worked out and adapted for the database once.
        self.adapt = functools.lru_cache(maxsize=4096)(self.connection.ops.adapt_datetimefield_value)
        self.time_of_age = functools.lru_cache(maxsize=4096)(lambda age: self.adapt(merge.estimated_time(age)))
        self.captured_at = self.adapt(merge.captured_at)
        quote = self.connection.ops.quote_name
        names = ", ".join(quote(fields[name].column) for name in self.FILLED) + "".join(
            f", {quote(field.column)}" for field in defaulted
        )
        params = ", ".join(["%s"] * len(fields))
        self.sql = f"INSERT INTO {quote(Comment._meta.db_table)} ({names}) VALUES ({params})"

    def row(self, structure, parsed, key):
        """The row of a new comment: ``structure`` is its id, its parent's id,
        its position, ``ancestry_unknown`` and its tree fields; ``key`` is
        ``_Merge.parsed_key(parsed)``."""
        content = self.placeholder if parsed.is_placeholder else self.content(parsed, key)
        return (self.thread_id, *structure, *content, *self.defaults)

    def insert(self, rows):
        """Insert rows made by ``row``; return how many."""
        if rows:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.sql, rows)
        return len(rows)

    def content(self, parsed, key):
        """The values ``_Merge.content`` gives an update, as insert columns;
        a re-import compares the two, so tests of unchanged re-imports catch
        any drift between them."""
        name, instance, body_key = key
        age_time = self.time_of_age(parsed.age)
        return (
            False,
            Comment.Origin.IMPORTED,
            self.people[name, instance],
            _badge_text(parsed.badges),
            parsed.is_distinguished,
            parsed.is_cake_day,
            parsed.status,
            parsed.language,
            parsed.body,
            render_dump_text(parsed.body),
            body_key,
            parsed.upvotes,
            parsed.downvotes,
            parsed.counts_approximate,
            age_time,
            age_time if parsed.edited else None,
            parsed.age,
            self.captured_at,
        )


def _children(node):
    return node.children


def _numbered(roots, ids):
    """``(id, parent id, position, comment)`` for a parsed forest in
    pre-order, the order ``ids`` are given out in."""
    ids = iter(ids)
    stack = [(root, None, position) for position, root in reversed(list(enumerate(roots)))]
    while stack:
        parsed, parent_pk, position = stack.pop()
        pk = next(ids)
        yield pk, parent_pk, position, parsed
        stack.extend((child, pk, index) for index, child in reversed(list(enumerate(parsed.children))))


@functools.lru_cache(maxsize=64)
def _badge_text(badges):
    return ",".join(badge for badge in BADGE_ORDER if badge in badges)


@contextmanager
def _bulk_allocation():
    """Pause the cyclic garbage collector while a large dump is turned into
    objects: none of them is garbage before the import ends, and collections
    triggered by the allocations alone cost a sizeable share of a big import."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]
