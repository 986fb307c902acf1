"""Lemmy's ranking formulas, as pure functions over counts and times.

Imported threads carry the source's counts, so ranking them with Lemmy's own
formulas (lemmy ``crates/db_schema/src/utils`` and ``migrations/..._ranks``)
keeps our order close to the one readers saw on the source. Counts are
imported plus local (models.py). Ties keep the dump's order (``position``),
which is the source's own order at capture time.
"""

import math

HOT = "hot"
TOP = "top"
NEW = "new"
OLD = "old"
CONTROVERSIAL = "controversial"
SORTS = (HOT, TOP, NEW, OLD, CONTROVERSIAL)
DEFAULT_SORT = HOT

HOT_RANK_GRAVITY = 1.8
HOT_RANK_MAX_HOURS = 24 * 7


def hot_rank(score, created_at, now):
    """Lemmy's ``hot_rank``: log10(max(2, score + 2)) / (hours + 2) ** 1.8,
    and 0 once an item is a week old (or its age is unknown)."""
    if created_at is None:
        return 0.0
    hours = (now - created_at).total_seconds() / 3600
    if hours >= HOT_RANK_MAX_HOURS:
        return 0.0
    return math.log10(max(2, score + 2)) / (max(hours, 0) + 2) ** HOT_RANK_GRAVITY


def controversy_rank(upvotes, downvotes):
    """Lemmy's ``controversy_rank``: many votes, evenly split, rank highest."""
    if upvotes <= 0 or downvotes <= 0:
        return 0.0
    balance = min(upvotes, downvotes) / max(upvotes, downvotes)
    return float(upvotes + downvotes) ** balance


def _timestamp(moment):
    return moment.timestamp() if moment is not None else 0.0


def sort_key(sort, now):
    """Return ``key(upvotes, downvotes, created_at, position)`` for ``sorted``.

    Items sort ascending by the key, so "best first" negates the rank; an
    unknown creation time sorts last under both new and old.
    """
    if sort == TOP:
        return lambda up, down, created, position: (down - up, position)
    if sort == NEW:
        return lambda up, down, created, position: (created is None, -_timestamp(created), position)
    if sort == OLD:
        return lambda up, down, created, position: (created is None, _timestamp(created), position)
    if sort == CONTROVERSIAL:
        return lambda up, down, created, position: (-controversy_rank(up, down), position)
    return lambda up, down, created, position: (-hot_rank(up - down, created, now), position)


def parse_sort(value):
    """The sort a query string asks for; anything unknown means the default."""
    return value if value in SORTS else DEFAULT_SORT
