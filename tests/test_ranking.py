"""Stored ranks: the front page's orders are threads.ranking's, read from indexes."""

from datetime import UTC, datetime, timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from tests.factories import make_thread, make_user
from threads.models import HotRank, HotRankEpoch, Thread
from threads.ranking import HOT, NEW, TOP, hot_rank, sort_key
from threads.voting import cast_vote

EPOCH = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FRONT_SORTS = (HOT, NEW, TOP)


def formula_order(sort, now):
    """Thread ids as ``threads.ranking.sort_key`` orders them, from the counts stored now."""
    key = sort_key(sort, now)
    rows = Thread.objects.values_list(
        "pk", "imported_upvotes", "local_upvotes", "imported_downvotes", "local_downvotes", "created_at"
    )
    return [row[0] for row in sorted(rows, key=lambda r: key(r[1] + r[2], r[3] + r[4], r[5], -r[0]))]


def stored_order(sort):
    return list(Thread.objects.ranked(sort).values_list("pk", flat=True))


# Ages in microseconds around the week's edge and into the future, and counts
# that tie, so that near-ties and the cut-off are tried.
AGES = st.one_of(
    st.integers(-3_600 * 10**6, 8 * 24 * 3_600 * 10**6),
    st.sampled_from([0, 168 * 3_600 * 10**6, 168 * 3_600 * 10**6 - 1, 3_600 * 10**6]),
)
THREADS = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), AGES), min_size=1, max_size=12)


class StoredOrderIsTheFormulasTests(HypothesisTestCase):
    @settings(max_examples=40, deadline=None)
    @given(threads=THREADS, votes=st.lists(st.tuples(st.integers(0, 11), st.sampled_from([1, -1, 0])), max_size=8))
    def test_every_sort_equals_sort_key_as_of_the_epoch_through_votes_and_refreshes(self, threads, votes):
        made = [
            make_thread(
                f"T{n}", imported_upvotes=up, imported_downvotes=down, created_at=EPOCH - timedelta(microseconds=age)
            )
            for n, (up, down, age) in enumerate(threads)
        ]
        Thread.objects.refresh_hot_ranks(EPOCH)
        for sort in FRONT_SORTS:
            self.assertEqual(stored_order(sort), formula_order(sort, EPOCH), sort)
        voters = [make_user(f"voter{n}") for n in range(3)]
        for number, (target, value) in enumerate(votes):
            cast_vote(voters[number % 3], Thread, made[target % len(made)].pk, value)
        # Between refreshes votes are ranked as of the same epoch.
        for sort in FRONT_SORTS:
            self.assertEqual(stored_order(sort), formula_order(sort, EPOCH), sort)
        later = EPOCH + timedelta(hours=30)
        Thread.objects.refresh_hot_ranks(later)
        for sort in FRONT_SORTS:
            self.assertEqual(stored_order(sort), formula_order(sort, later), sort)


class HotRankSqlTests(TestCase):
    def test_sql_function_gives_the_python_formula_exactly(self):
        created = EPOCH - timedelta(hours=5, microseconds=7)
        cases = [
            (score, created + shift)
            for score in (-50, -2, -1, 0, 1, 7, 1000)
            for shift in (
                timedelta(0),
                timedelta(hours=-163),
                timedelta(hours=-163, microseconds=1),
                timedelta(hours=6),
                timedelta(days=-30),
            )
        ]
        for score, moment in cases:
            with self.subTest(score=score, created=moment), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT threads_hot_rank(%s, %s, %s)",
                    [
                        score,
                        connection.ops.adapt_datetimefield_value(moment),
                        connection.ops.adapt_datetimefield_value(EPOCH),
                    ],
                )
                self.assertEqual(cursor.fetchone()[0], hot_rank(score, moment, EPOCH))

    def test_writers_rank_as_of_the_epoch_and_the_refresh_moves_it(self):
        HotRankEpoch.objects.update_or_create(pk=HotRankEpoch.ONLY, defaults={"ranked_at": EPOCH})
        thread = make_thread(imported_upvotes=9, created_at=EPOCH - timedelta(hours=2))
        thread.refresh_from_db()
        self.assertEqual(thread.hot_rank, hot_rank(9, thread.created_at, EPOCH))
        cast_vote(make_user(), Thread, thread.pk, 1)
        thread.refresh_from_db()
        self.assertEqual(thread.hot_rank, hot_rank(10, thread.created_at, EPOCH))
        Thread.objects.filter(pk=thread.pk).update(imported_upvotes=20)
        thread.refresh_from_db()
        self.assertEqual(thread.hot_rank, hot_rank(21, thread.created_at, EPOCH))
        call_command("refresh_ranks", stdout=StringIO())
        epoch = HotRankEpoch.objects.get().ranked_at
        thread.refresh_from_db()
        self.assertGreater(epoch, EPOCH)
        self.assertEqual(thread.hot_rank, hot_rank(21, thread.created_at, epoch))

    def test_a_refresh_reads_only_the_last_weeks_threads(self):
        make_thread("Old", created_at=EPOCH - timedelta(days=30), imported_upvotes=100)
        make_thread("New", created_at=EPOCH - timedelta(days=1))
        self.assertEqual(Thread.objects.refresh_hot_ranks(EPOCH), 1)
        self.assertEqual(Thread.objects.get(title="Old").hot_rank, 0)

    def test_the_func_is_the_triggers_function(self):
        thread = make_thread(imported_upvotes=3, created_at=EPOCH)
        value = Thread.objects.annotate(rank=HotRank(3, "created_at", EPOCH)).get(pk=thread.pk).rank
        self.assertEqual(value, hot_rank(3, EPOCH, EPOCH))


class FrontPageIndexTests(TestCase):
    """Each sort is read in index order: no sort of all threads per page."""

    def plan(self, queryset):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Small test tables make a scan and a sort cheapest; make them
                # dear, so that the plan shows whether an index gives the order.
                for method in ("seqscan", "bitmapscan", "sort"):
                    cursor.execute(f"SET LOCAL enable_{method} = off")
            return queryset.explain()

    def test_every_sort_and_the_api_order_come_from_an_index(self):
        for number in range(40):
            make_thread(f"Filler {number}", imported_upvotes=number % 7, created_at=EPOCH - timedelta(hours=number))
        querysets = {sort: Thread.objects.for_listing().ranked(sort)[25:50] for sort in FRONT_SORTS}
        querysets["api"] = Thread.objects.filter(created_at__lte=EPOCH).order_by("-created_at", "-pk")[:51]
        for name, queryset in querysets.items():
            with self.subTest(order=name):
                plan = self.plan(queryset)
                if connection.vendor == "postgresql":
                    self.assertNotIn("Sort", plan)
                    self.assertIn("Index", plan)
                else:
                    self.assertNotIn("TEMP B-TREE", plan)
