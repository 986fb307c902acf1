"""The tree check and repair command, and tree-id allocation."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from tests.conftest import CAPTURED_AT, SEED_FULL, assert_trees_intact
from threads.db import allocate_tree_ids
from threads.exporter import export_thread
from threads.importer import import_dump_file
from threads.models import Comment, Thread
from threads.trees import find_tree_problems, rebuild_thread_trees, tree_write

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread():
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    return Thread.objects.get()


def test_sound_trees_pass_the_check(thread):
    stdout = StringIO()
    call_command("check_trees", stdout=stdout)
    assert "All comment trees are sound." in stdout.getvalue()


def test_each_top_level_comment_roots_its_own_tree(thread):
    roots = Comment.objects.filter(parent=None)
    assert len({root.tree_id for root in roots}) == roots.count() == 6
    rubber_duck = roots.get(author__name="RubberDuck")
    assert set(Comment.objects.filter(tree_id=rubber_duck.tree_id).values_list("pk", flat=True)) == set(
        rubber_duck.get_descendants(include_self=True).values_list("pk", flat=True)
    )


def test_corrupted_tree_is_reported_and_repaired_under_the_lock(thread):
    exported = export_thread(thread, as_of=CAPTURED_AT)
    tal = Comment.objects.get(author__name="tal")
    Comment._tree_manager.filter(pk=tal.pk).update(lft=F("lft") + 40, rght=F("rght") + 40)
    assert any(f"comment {tal.pk} lies outside its parent" in str(problem) for problem in find_tree_problems())
    stderr = StringIO()
    with pytest.raises(CommandError, match="run with --repair"):
        call_command("check_trees", stdout=StringIO(), stderr=stderr)
    assert f"thread {thread.pk}:" in stderr.getvalue()
    stdout = StringIO()
    call_command("check_trees", repair=True, stdout=stdout, stderr=StringIO())
    assert "Repaired 1 threads." in stdout.getvalue()
    assert_trees_intact()
    assert export_thread(thread, as_of=CAPTURED_AT) == exported


def test_roots_sharing_a_tree_id_are_split_apart_by_the_repair(thread):
    first, second = Comment.objects.filter(parent=None).order_by("position")[:2]
    Comment._tree_manager.filter(tree_id=second.tree_id).update(tree_id=first.tree_id)
    problems = [str(problem) for problem in find_tree_problems()]
    assert any(f"tree {first.tree_id} has 2 roots" in problem for problem in problems)
    call_command("check_trees", repair=True, stdout=StringIO(), stderr=StringIO())
    assert_trees_intact()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.tree_id != second.tree_id


def test_allocated_tree_ids_are_new(thread):
    used = set(Comment.objects.values_list("tree_id", flat=True))
    fresh = allocate_tree_ids(Comment, 3)
    assert len(set(fresh)) == 3 and not used & set(fresh)


def test_every_tree_write_bumps_the_threads_tree_version(thread):
    before = thread.tree_version
    with tree_write(thread.pk):
        pass
    rebuild_thread_trees(thread.pk)
    thread.refresh_from_db()
    assert thread.tree_version == before + 2
