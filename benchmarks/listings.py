"""Time the front page, the thread-list API and profiles as the forum grows.

Run by ``benchmarks/run.py`` in its own process against a fresh database;
prints one JSON object. The forum grows to each of ``--sizes`` threads and
then shrinks back through them (1k, 10k, 100k, 10k, 1k), and every page is
timed on both passes: a shared machine that slows down for a minute then
weighs on a size's two passes alike, not on one size. Pages are uncached
renders (``VISITOR_PAGE_SECONDS = 0``), anonymous, through Django's test
client: the first page of each sort (hot, new, top) and of ``/api/threads/``,
and the API page a cursor from the end. Threads are created in bulk with
spread ages and counts, then re-ranked with ``refresh_ranks``.

Profiles: one author with ``--profile-comments`` comments and one with
1,000 (or a tenth as many), their first page and an ``older`` page from
the middle, timed in turn.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from threads.db import allocate_tree_ids  # noqa: E402
from threads.keyset import encode_cursor  # noqa: E402
from threads.models import Comment, Person, Thread  # noqa: E402

NOW = datetime.now(UTC)
SORTS = ("hot", "new", "top")
BATCH = 5000


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def add_threads(count, rng, authors):
    """Insert ``count`` threads: ages over the last 60 days (a tenth in the last week), counts skewed low."""
    made = Thread.objects.count()
    for start in range(0, count, BATCH):
        rows = []
        for number in range(made + start, made + min(count, start + BATCH)):
            age = rng.random() * (7 if rng.random() < 0.1 else 60)
            rows.append(
                Thread(
                    title=f"Benchmark thread {number}",
                    slug=f"benchmark-thread-{number}",
                    fingerprint=f"bench-{number}",
                    author=rng.choice(authors),
                    created_at=NOW - timedelta(days=age),
                    imported_upvotes=int(rng.paretovariate(1.2)) - 1,
                    imported_downvotes=rng.randrange(5),
                    comment_count=rng.randrange(200),
                )
            )
        Thread.objects.bulk_create(rows)


def remove_threads_to(count):
    keep = Thread.objects.order_by("pk").values_list("pk", flat=True)[count - 1]
    Thread.objects.filter(pk__gt=keep)._raw_delete(connection.alias)


def settle():
    """What autovacuum does on a live PostgreSQL after bulk writes: fresh
    statistics (a planner that thinks a table empty sorts instead of reading
    an index) and no dead rows from the folded karma changes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def timed(client, urls, runs):
    """Median milliseconds of each URL, the URLs timed in turn round after round."""
    times = {url: [] for url in urls}
    for url in urls:
        assert client.get(url).status_code == 200, url
    for _ in range(runs):
        for url in urls:
            started = time.perf_counter()
            client.get(url)
            times[url].append(time.perf_counter() - started)
    return {url: statistics.median(values) * 1000 for url, values in times.items()}


def queries(client, url):
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        client.get(url)
    return counter.count


def deep_api_url():
    """The API page whose cursor sits 50 threads from the end."""
    last = Thread.objects.order_by("created_at", "pk").values_list("created_at", "pk")[50]
    return f"/api/threads/?cursor={encode_cursor(*last)}"


def measure_listings(client, runs):
    urls = {sort: f"/?sort={sort}" for sort in SORTS}
    urls["api"] = "/api/threads/"
    urls["api_deep"] = deep_api_url()
    ms = timed(client, list(urls.values()), runs)
    return {name: {"ms": ms[url], "queries": queries(client, url)} for name, url in urls.items()}


def add_author_comments(person, count, rng):
    """``count`` top-level comments by ``person``, each its own tree, in bulk (ages over two years)."""
    thread = Thread.objects.create(title=f"Comments of {person.name}", fingerprint=f"bench-profile-{person.pk}")
    with transaction.atomic():
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            tree_ids = allocate_tree_ids(Comment, size)
            Comment.objects.bulk_create(
                Comment(
                    thread=thread,
                    author=person,
                    origin=Comment.Origin.IMPORTED,
                    position=start + n,
                    body=f"Comment {start + n} by {person.name}.",
                    body_html=f"<p>Comment {start + n} by {person.name}.</p>",
                    imported_upvotes=rng.randrange(20),
                    imported_downvotes=rng.randrange(3),
                    created_at=NOW - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
                    tree_id=tree_id,
                    lft=1,
                    rght=2,
                    level=0,
                )
                for n, tree_id in enumerate(tree_ids)
            )


def measure_profiles(client, big, runs):
    rng = random.Random(7)
    small = min(1000, max(1, big // 10))
    people = {size: Person.objects.create(name=f"writer{size}", instance="bench.example") for size in (small, big)}
    for size, person in people.items():
        add_author_comments(person, size, rng)
    call_command("refresh_ranks", stdout=StringIO())
    settle()
    urls = {}
    for size, person in people.items():
        middle = person.comments.order_by("-created_at", "-pk").values_list("created_at", "pk")[size // 2]
        urls[size] = (person.get_absolute_url(), f"{person.get_absolute_url()}?after={encode_cursor(*middle)}")
    ms = timed(client, [url for pair in urls.values() for url in pair], runs)
    return {
        size: {
            "first_ms": ms[first],
            "middle_ms": ms[middle],
            "queries": queries(client, first),
            "karma": Person.objects.with_karma().get(pk=people[size].pk).karma,
        }
        for size, (first, middle) in urls.items()
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--profile-comments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    rng = random.Random(16)
    authors = Person.objects.bulk_create(Person(name=f"poster{n}", instance="bench.example") for n in range(500))
    client = Client()
    passes = {size: [] for size in sizes}
    with override_settings(VISITOR_PAGE_SECONDS=0):
        for size in [*sizes, *reversed(sizes[:-1])]:
            current = Thread.objects.count()
            if size > current:
                add_threads(size - current, rng, authors)
            else:
                remove_threads_to(size)
            call_command("refresh_ranks", stdout=StringIO())
            settle()
            passes[size].append(measure_listings(client, args.runs))
            print(f"measured listings of {size:,} threads", file=sys.stderr, flush=True)
        listings = {
            size: {
                name: {
                    "ms": round(statistics.mean(run[name]["ms"] for run in runs), 2),
                    "passes_ms": [round(run[name]["ms"], 2) for run in runs],
                    "queries": runs[0][name]["queries"],
                }
                for name in runs[0]
            }
            for size, runs in passes.items()
        }
        profiles = measure_profiles(client, args.profile_comments, args.runs) if args.profile_comments else None
    json.dump({"listings": listings, "profiles": profiles, "database": connection.vendor}, sys.stdout)


if __name__ == "__main__":
    main()
