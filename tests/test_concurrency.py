"""Many writers at once: replies, votes and imports racing in the same threads.

Runs on whichever database the suite runs on (CI: SQLite, then PostgreSQL).
Each worker is a Python thread with its own database connection and its own
test client, so the requests really interleave; afterwards every tree, vote
row and counter must be exactly what the requests asked for.
"""

import random
import threading
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Q
from django.test import Client, override_settings

from tests.conftest import CAPTURED_AT, SEED_CONTEXT, SEED_FULL, assert_trees_intact
from tests.synthetic_dumps import generate_dump
from threads.importer import import_dump, import_dump_file
from threads.models import Comment, Thread, Vote

REPLIERS = 8
REPLIES_EACH = 12
VOTERS = 4
VOTES_EACH = 40
IMPORTERS = 2
JSON = {"HTTP_ACCEPT": "application/json"}

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_rate_limits")]


@pytest.fixture
def no_rate_limits():
    with override_settings(RATELIMIT_ENABLED=False):
        yield


class Outcome:
    """What the workers saw, collected across threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.failures = []
        self.replies = []

    def fail(self, what):
        with self.lock:
            self.failures.append(what)


def run_worker(outcome, body):
    try:
        body()
    except Exception as error:  # every failure, whatever its kind, is reported below
        outcome.fail(f"{type(error).__name__}: {error}")
    finally:
        connection.close()


def replier(outcome, user, thread_ids, seed):
    client = Client()
    client.force_login(user)
    rng = random.Random(seed)
    for index in range(REPLIES_EACH):
        thread_id = rng.choice(thread_ids)
        # Deleted and removed comments take no replies; the rest all do.
        targets = list(
            Comment.objects.filter(thread_id=thread_id, is_placeholder=False, status=Comment.Status.NORMAL).values_list(
                "pk", flat=True
            )
        )
        body = f"reply {user.username} {index}"
        if rng.random() < 0.2 or not targets:
            response = client.post(f"/threads/{thread_id}/reply/", {"body": body}, **JSON)
        else:
            response = client.post(f"/comments/{rng.choice(targets)}/reply/", {"body": body}, **JSON)
        if response.status_code != 201:
            outcome.fail(f"reply got {response.status_code}: {response.content[:200]!r}")
        else:
            with outcome.lock:
                outcome.replies.append(body)


def voter(outcome, user, comment_ids, thread_ids, seed):
    client = Client()
    client.force_login(user)
    rng = random.Random(seed)
    for _ in range(VOTES_EACH):
        value = rng.choice([1, -1, 0, 1])
        if rng.random() < 0.2:
            response = client.post(f"/threads/{rng.choice(thread_ids)}/vote/", {"value": value}, **JSON)
        else:
            response = client.post(f"/comments/{rng.choice(comment_ids)}/vote/", {"value": value}, **JSON)
        if response.status_code != 200:
            outcome.fail(f"vote got {response.status_code}: {response.content[:200]!r}")


def importer(seed):
    def work():
        import_dump(
            generate_dump(150, seed=seed, gap_rate=0.05), source=f"synthetic-{seed}.txt", captured_at=CAPTURED_AT
        )
        import_dump_file(SEED_CONTEXT, captured_at=CAPTURED_AT)

    return work


def test_concurrent_replies_votes_and_imports_keep_every_tree_and_counter_exact():
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    import_dump(generate_dump(80, seed=2), source="second.txt", captured_at=CAPTURED_AT)
    thread_ids = list(Thread.objects.values_list("pk", flat=True))
    hot_comments = list(Comment.objects.filter(is_placeholder=False).order_by("pk").values_list("pk", flat=True)[:6])
    imported_counts = dict(Comment.objects.values_list("pk", "imported_upvotes").filter(is_placeholder=False))
    members = [User.objects.create_user(f"member{n}", password="pw-for-tests-only") for n in range(REPLIERS + VOTERS)]

    outcome = Outcome()
    jobs = [lambda u=u, n=n: replier(outcome, u, thread_ids, n) for n, u in enumerate(members[:REPLIERS])]
    jobs += [
        lambda u=u, n=n: voter(outcome, u, hot_comments, thread_ids, 100 + n) for n, u in enumerate(members[REPLIERS:])
    ]
    jobs += [importer(seed) for seed in range(40, 40 + IMPORTERS)]
    workers = [threading.Thread(target=run_worker, args=(outcome, job)) for job in jobs]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)

    assert not any(worker.is_alive() for worker in workers), "a worker hung"
    assert outcome.failures == []
    assert len(outcome.replies) == REPLIERS * REPLIES_EACH
    stored = Counter(Comment.objects.filter(origin=Comment.Origin.LOCAL).values_list("body", flat=True))
    assert stored == Counter(outcome.replies)

    assert_trees_intact()
    shared = (
        Comment._tree_manager.values("tree_id").annotate(threads=Count("thread", distinct=True)).filter(threads__gt=1)
    )
    assert list(shared) == []
    assert Thread.objects.count() == len(thread_ids) + IMPORTERS

    for thread in Thread.objects.all():
        assert thread.comment_count == Comment.objects.filter(thread=thread, is_placeholder=False).count()
    tallied = Comment.objects.annotate(
        ups=Count("votes", filter=Q(votes__value=1)), downs=Count("votes", filter=Q(votes__value=-1))
    )
    for comment in tallied.filter(pk__in=hot_comments):
        assert (comment.local_upvotes, comment.local_downvotes) == (comment.ups, comment.downs)
        assert comment.imported_upvotes == imported_counts[comment.pk]
    thread_votes = Thread.objects.annotate(
        ups=Count("votes", filter=Q(votes__value=1, votes__comment=None)),
        downs=Count("votes", filter=Q(votes__value=-1, votes__comment=None)),
    )
    for thread in thread_votes:
        assert (thread.local_upvotes, thread.local_downvotes) == (thread.ups, thread.downs)
    doubled = Vote.objects.values("user", "thread", "comment").annotate(n=Count("pk")).filter(n__gt=1)
    assert list(doubled) == []


def test_two_imports_of_one_link_post_at_once_make_one_thread():
    """A link post is found by its comments, so each import could miss the
    other's new thread; they take turns instead."""
    text = generate_dump(400, seed=21, article_paragraphs=0)
    outcome = Outcome()
    start = threading.Barrier(2)

    def importer_of(name):
        def work():
            start.wait()
            import_dump(text, source=name, captured_at=CAPTURED_AT)

        return work

    workers = [threading.Thread(target=run_worker, args=(outcome, importer_of(f"{n}.txt"))) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert outcome.failures == []
    assert Thread.objects.count() == 1
    assert Comment.objects.filter(is_placeholder=False).count() == 400
    assert_trees_intact()
