"""Time thread pages, replies and votes on synthetic threads of several sizes.

Run by ``benchmarks/run.py`` in its own process against a fresh database;
prints one JSON object. Pages go through Django's test client with the full
middleware stack: one warm-up, then the median of ``--runs`` requests; query
counts come from an uncapped ``execute_wrapper`` counter on one more request.
Pages are rendered uncached (``VISITOR_PAGE_SECONDS = 0``) except where a
visitor's cached page is timed against its uncached render, in turn.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import django

# The project root, for the tests package (its synthetic dumps) when run as a script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from tests.synthetic_dumps import generate_dump  # noqa: E402
from threads.importer import import_dump  # noqa: E402
from threads.models import Comment, Thread  # noqa: E402

CAPTURED_AT = datetime(2024, 11, 19, 12, 0, tzinfo=UTC)


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed_gets(client, urls, runs):
    """Time ``urls`` in turn, round after round, so that a slow spell of this
    shared machine falls on every variant alike; then count each one's queries."""
    times, sizes = {url: [] for url in urls}, {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    for _ in range(runs):
        for url in urls:
            started = time.perf_counter()
            response = client.get(url)
            times[url].append(time.perf_counter() - started)
            sizes[url] = len(response.content)
    results = {}
    for url in urls:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            client.get(url)
        results[url] = {
            "ms": round(statistics.median(times[url]) * 1000, 2),
            "queries": counter.count,
            "bytes": sizes[url],
        }
    return results


def cached_against_uncached(url, runs):
    """A visitor's page from the cache and rendered anew, timed in turn; the
    median of the rounds' cached / uncached ratios too."""
    visitor, cached, uncached = Client(), [], []
    with override_settings(VISITOR_PAGE_SECONDS=60):
        visitor.get(url)
    for _ in range(runs):
        with override_settings(VISITOR_PAGE_SECONDS=0):
            started = time.perf_counter()
            visitor.get(url)
            uncached.append(time.perf_counter() - started)
        with override_settings(VISITOR_PAGE_SECONDS=60):
            started = time.perf_counter()
            visitor.get(url)
            cached.append(time.perf_counter() - started)
    counter = QueryCounter()
    with override_settings(VISITOR_PAGE_SECONDS=60), connection.execute_wrapper(counter):
        visitor.get(url)
    return {
        "cached_ms": round(statistics.median(cached) * 1000, 2),
        "uncached_ms": round(statistics.median(uncached) * 1000, 2),
        "ratio": round(statistics.median(hit / miss for hit, miss in zip(cached, uncached)), 3),
        "cached_queries": counter.count,
    }


def timed_posts(client, requests):
    times = []
    for url, data in requests:
        started = time.perf_counter()
        response = client.post(url, data, HTTP_ACCEPT="application/json")
        times.append(time.perf_counter() - started)
        assert response.status_code in (200, 201), (url, response.status_code, response.content[:200])
    return round(statistics.median(times) * 1000, 2)


def measure_size(size, runs, member):
    report = import_dump(generate_dump(size, seed=1000 + size), source=f"synthetic-{size}", captured_at=CAPTURED_AT)
    thread = Thread.objects.get(pk=report.thread_id)
    url = thread.get_absolute_url()
    anonymous = Client()
    text_bytes = sum(
        len(body.encode()) for body in Comment.objects.filter(thread=thread).values_list("body_html", flat=True)
    )
    whole, lower, naive = url + "?all=1", f"/bench/lower-bound/{thread.pk}/", f"/bench/recursetree/{thread.pk}/"
    pages = timed_gets(anonymous, [whole, lower], runs)
    row = {
        "comments": size,
        "url": url,
        "all": pages[whole],
        "lower_bound": pages[lower],
        "recursetree": timed_gets(anonymous, [naive], runs)[naive],
        "text_bytes": text_bytes,
    }
    row["all_member"] = timed_gets(member, [whole], 1)[whole]
    row["visitor_cache"] = {
        "all": cached_against_uncached(whole, runs * 2),
        "default": cached_against_uncached(url, runs * 2),
    }
    rng = random.Random(size)
    # Deleted and removed comments take no replies or votes; every other one does.
    open_to_replies = Comment.objects.filter(thread=thread, is_placeholder=False, status=Comment.Status.NORMAL)
    comment_ids = list(open_to_replies.values_list("pk", flat=True))
    row["reply_ms"] = timed_posts(
        member, [(f"/comments/{rng.choice(comment_ids)}/reply/", {"body": f"Bench reply {n}"}) for n in range(30)]
    )
    row["vote_ms"] = timed_posts(
        member,
        [(f"/comments/{rng.choice(comment_ids)}/vote/", {"value": rng.choice([1, -1, 0])}) for n in range(60)],
    )
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    user = User.objects.create_user("bench-member", password="bench-only-password")
    with override_settings(ROOT_URLCONF="benchmarks.peers", RATELIMIT_ENABLED=False, VISITOR_PAGE_SECONDS=0):
        member = Client()
        member.force_login(user)
        rows = []
        for size in (int(size) for size in args.sizes.split(",")):
            rows.append(measure_size(size, args.runs, member))
            print(f"measured pages of {size:,} comments", file=sys.stderr, flush=True)
        first_pages = timed_gets(Client(), [row["url"] for row in rows], args.runs * 3)
        for row in rows:
            row["default"] = first_pages[row.pop("url")]
    json.dump({"pages": rows, "database": connection.vendor}, sys.stdout)


if __name__ == "__main__":
    main()
