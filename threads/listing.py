"""The front page's threads: one indexed read of a page, counted without ``COUNT(*)``.

Each sort is an index (``ThreadQuerySet.ranked``), so a page is one query
of ``THREADS_PER_PAGE`` rows at any forum size (later pages skip rows of
that index with ``OFFSET``). The page count comes from
``threads.page_cache.thread_count``, which counts only after threads were
added or deleted.
"""

from functools import cached_property

from django.core.paginator import Paginator

from threads.models import Thread
from threads.page_cache import thread_count

THREADS_PER_PAGE = 25


class CountedPaginator(Paginator):
    """Django's paginator with the row count given instead of counted."""

    def __init__(self, object_list, per_page, count):
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self):
        return self.known_count


def front_page(sort, number):
    """Page ``number`` (any text, as ``Paginator.get_page`` takes it) of the
    threads in ``sort`` order; its rows are read when first iterated."""
    threads = Thread.objects.for_listing().ranked(sort)
    return CountedPaginator(threads, THREADS_PER_PAGE, thread_count()).get_page(number)
