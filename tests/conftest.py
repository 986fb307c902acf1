"""Shared fixtures: the seed dumps, and the tree-integrity check every
writing test ends with."""

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from threads.models import Comment
from threads.trees import TREE_FIELDS, find_tree_problems

DUMPS = Path(__file__).resolve().parent.parent / "fixtures" / "dumps"
SEED_FULL = DUMPS / "000_057a36c12905d7f9.txt"
SEED_CONTEXT = DUMPS / "001_458d5b64a4503857.txt"
SEED_DUMPS = (SEED_FULL, SEED_CONTEXT)
# Invented pages in the shapes real captures come in (docs/dump-format.md,
# "Renderings met in the wild"); *_chromeless.txt and *_bare.txt are the
# same posts as the converter's own dumps.
VARIANTS = Path(__file__).resolve().parent / "dumps"


def variant(name):
    return (VARIANTS / name).read_text(encoding="utf-8")


# When the seeds were captured (their ages, "5 months ago", count back from it); make run uses the same.
CAPTURED_AT = datetime(2024, 11, 19, 12, 0, tzinfo=UTC)


def tree_snapshot():
    return sorted(Comment._tree_manager.values_list("pk", *TREE_FIELDS))


def assert_trees_intact():
    """Fail unless every tree is sound: the aggregate checks find nothing and
    django-mptt's own rebuild of each tree changes no tree field."""
    assert find_tree_problems() == []
    before = tree_snapshot()
    # django-mptt's rebuild recurses once per level; imports allow deep trees.
    depth = max((row[4] for row in before), default=0)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 3 * depth + 200))
    try:
        for tree_id in sorted({row[1] for row in before}):
            Comment._tree_manager.partial_rebuild(tree_id)
    finally:
        sys.setrecursionlimit(limit)
    assert tree_snapshot() == before


@pytest.fixture
def trees_stay_intact(db):
    yield
    assert_trees_intact()


@pytest.fixture
def seed_text():
    return SEED_FULL.read_text(encoding="utf-8")


@pytest.fixture
def context_text():
    return SEED_CONTEXT.read_text(encoding="utf-8")


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Hash test passwords with MD5: PBKDF2's million rounds cost about half a
    second per test user and check nothing the tests are about."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with no rate-limit counters from the tests before it."""
    from django.core.cache import cache

    cache.clear()
    yield
