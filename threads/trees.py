"""Every write to a thread's comment trees goes through ``tree_write``.

django-mptt computes tree positions from values it read earlier, so two
writers in one thread corrupt it unless they take turns (docs/trees.md:
unlocked replies broke half the nodes of a test thread on PostgreSQL and
SQLite). ``tree_write`` opens a transaction and locks the thread's row before
anything reads a tree field: on PostgreSQL with ``SELECT … FOR UPDATE``; on
SQLite the IMMEDIATE transaction mode already holds the database's write lock
from ``BEGIN``. Writers of different threads only meet at the id allocators
of ``threads.db``.
"""

from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q

from threads.db import allocate_tree_ids
from threads.models import Comment, Thread
from threads.page_cache import LISTING, changed

TREE_FIELDS = ("tree_id", "lft", "rght", "level")


@contextmanager
def tree_write(thread_id):
    """Run the block in a transaction that holds the thread's tree lock.

    ``FOR NO KEY UPDATE`` excludes other tree writers but not the key-share
    locks PostgreSQL takes when a vote or a comment row references the thread;
    a plain ``FOR UPDATE`` deadlocks a reply against a vote in the same thread.
    The new ``tree_version`` commits with the write, so cached layouts and the
    thread's cached visitor pages, which key on it, are replaced at once;
    the front page shows comment counts, so its cached copy is retired too.
    """
    with transaction.atomic():
        list(Thread.objects.select_for_update(no_key=True).filter(pk=thread_id).values_list("pk", flat=True))
        yield
        Thread.objects.filter(pk=thread_id).update(tree_version=F("tree_version") + 1)
        changed(LISTING)


def lay_out(root, children_of):
    """Number one tree in pre-order the way django-mptt stores it.

    Yields ``(node, lft, rght, level)``; ``children_of(node)`` returns a
    node's children in sibling order. Iterative, so depth is no limit.
    """
    counter = 1
    numbers = {}
    stack = [(root, 0, iter(children_of(root)))]
    numbers[id(root)] = counter
    while stack:
        node, level, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            counter += 1
            yield node, numbers.pop(id(node)), counter, level
            continue
        counter += 1
        numbers[id(child)] = counter
        stack.append((child, level + 1, iter(children_of(child))))


@dataclass(frozen=True)
class TreeProblem:
    thread_ids: tuple
    description: str

    def __str__(self):
        threads = ", ".join(str(pk) for pk in self.thread_ids)
        return f"thread {threads}: {self.description}"


def find_tree_problems(thread_ids=None):
    """Describe every broken tree, in a few aggregate queries; [] when sound."""
    comments = Comment._tree_manager.all()
    if thread_ids is not None:
        comments = comments.filter(thread_id__in=thread_ids)
    problems = []
    per_tree = comments.values("tree_id").annotate(
        roots=Count("pk", filter=Q(parent=None)),
        nodes=Count("pk"),
        low=Min("lft"),
        high=Max("rght"),
        first_thread=Min("thread_id"),
        last_thread=Max("thread_id"),
    )
    for row in per_tree.order_by("tree_id"):
        threads = tuple(sorted({row["first_thread"], row["last_thread"]}))
        if len(threads) > 1:
            problems.append(TreeProblem(threads, f"tree {row['tree_id']} spans several threads"))
        if row["roots"] != 1:
            problems.append(TreeProblem(threads, f"tree {row['tree_id']} has {row['roots']} roots"))
        if row["low"] != 1 or row["high"] != 2 * row["nodes"]:
            problems.append(
                TreeProblem(
                    threads, f"tree {row['tree_id']}: lft/rght run {row['low']}..{row['high']} for {row['nodes']} nodes"
                )
            )
    duplicates = comments.values("tree_id", "lft").annotate(nodes=Count("pk"), thread=Min("thread_id"))
    for row in duplicates.filter(nodes__gt=1).order_by("tree_id", "lft"):
        problems.append(
            TreeProblem((row["thread"],), f"tree {row['tree_id']}: {row['nodes']} nodes at lft {row['lft']}")
        )
    misplaced_roots = comments.filter(parent=None).exclude(lft=1, level=0)
    for pk, thread_id in misplaced_roots.values_list("pk", "thread_id"):
        problems.append(TreeProblem((thread_id,), f"comment {pk} is a root but not at lft 1, level 0"))
    outside = comments.filter(parent__isnull=False).exclude(
        tree_id=F("parent__tree_id"),
        lft__gt=F("parent__lft"),
        rght__lt=F("parent__rght"),
        level=F("parent__level") + 1,
        thread_id=F("parent__thread_id"),
    )
    for pk, parent_id, thread_id in outside.values_list("pk", "parent_id", "thread_id"):
        problems.append(TreeProblem((thread_id,), f"comment {pk} lies outside its parent {parent_id}"))
    return problems


def rebuild_thread_trees(thread_id):
    """Renumber a thread's trees from its parent links, under the tree lock.

    Children keep their sibling order (``position``, then id); each top-level
    comment keeps its tree id unless another root already claimed it.
    Returns the number of comments whose tree fields changed.
    """
    with tree_write(thread_id):
        rows = list(
            Comment._tree_manager.filter(thread_id=thread_id)
            .order_by("position", "pk")
            .values_list("pk", "parent_id", "tree_id", "lft", "rght", "level")
        )
        children = {}
        for row in rows:
            children.setdefault(row[1], []).append(row)
        roots = children.get(None, [])
        taken_elsewhere = set(
            Comment._tree_manager.exclude(thread_id=thread_id)
            .filter(tree_id__in=[root[2] for root in roots])
            .values_list("tree_id", flat=True)
        )
        needing_ids, seen = [], set()
        for root in roots:
            if root[2] in taken_elsewhere or root[2] in seen:
                needing_ids.append(root)
            seen.add(root[2])
        fresh = iter(allocate_tree_ids(Comment, len(needing_ids)))
        changed = []
        for root in roots:
            tree_id = next(fresh) if root in needing_ids else root[2]
            for node, lft, rght, level in lay_out(root, lambda row: children.get(row[0], [])):
                if node[2:] != (tree_id, lft, rght, level):
                    changed.append(Comment(pk=node[0], tree_id=tree_id, lft=lft, rght=rght, level=level))
        Comment._tree_manager.bulk_update(changed, TREE_FIELDS, batch_size=1000)
        return len(changed)
