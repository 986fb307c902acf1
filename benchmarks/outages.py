"""Take Redis and PostgreSQL connections away under load, and count what members get.

    python benchmarks/outages.py [--clients 16] [--members 200]

Needs PostgreSQL (``DATABASE_URL``, default postgres://postgres@127.0.0.1:5432/forum)
and ``redis-server``. It creates the scratch database ``<name>_outage`` (seeds, a
1,000-comment thread, members with sessions, as ``benchmarks/loadtest.py``),
starts a Redis server of its own on a free port and ``gunicorn forum.wsgi``
(2 workers x 4 threads) on 127.0.0.1, and keeps a mixed load running (page
views, votes, replies, as members' scripts send them, each retried once after
a 503 as the page's script does) through two experiments:

1. Redis: served normally, then its own Redis stopped for ``--redis-seconds``,
   then started again (empty, as a restarted cache is);
2. PostgreSQL: every connection to the scratch database ended with
   ``pg_terminate_backend`` every 50 ms for ``--terminate-seconds``. This
   stands in for a restart of the server, which is shared with others here
   and is never restarted: a restart ends every connection the same way.

It prints the answers by status in each period, latencies, how long the site
took to recover, what the workers logged, and checks that every reply
answered 201 (or 200 as a duplicate of a stored one) is in the database.
Traffic goes to loopback only; every loop is bounded in time.
"""

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.loadtest import prepare, request_chooser  # noqa: E402
from tests.servers import RedisServer, free_port  # noqa: E402

MIX = (("page", 60), ("vote", 25), ("reply", 15))
RETRY_AFTER_CAP = 10
RECONNECT_EVERY = 50
GUNICORN_OPTIONS = ("--workers", "2", "--worker-class", "gthread", "--threads", "4", "--log-level", "warning")


class Log:
    """Every answer, as (start, end, kind, status or exception name, retried)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers = []
        self.acknowledged = []  # reply ids answered 201, or 200 as a duplicate

    def add(self, *answer):
        with self.lock:
            self.answers.append(answer)


def client_loop(port, deadline, log, choose, seed):
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = 0
    while time.monotonic() < deadline:
        sent += 1
        if sent % RECONNECT_EVERY == 0:
            # As browsers do now and then; it also spreads the clients over both workers.
            connection.close()
        kind, method, path, body, headers = choose(rng)
        for retried in (False, True):
            started = time.monotonic()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status, answer = type(error).__name__, b""
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            log.add(started, time.monotonic(), kind, status, retried)
            if kind == "reply" and status in (200, 201):
                with log.lock:
                    log.acknowledged.append(json.loads(answer)["id"])
            if status != 503 or retried:
                break
            # Wait as asked, on a new connection: gunicorn closes idle keep-alive ones after 2 s.
            connection.close()
            time.sleep(min(int(response.getheader("Retry-After") or 1), RETRY_AFTER_CAP))
    connection.close()


def readiness_monitor(port, deadline, seen):
    """Poll /readyz/ every 50 ms: [(time, database, cache)]."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while time.monotonic() < deadline:
        try:
            connection.request("GET", "/readyz/")
            body = json.loads(connection.getresponse().read())
            seen.append((time.monotonic(), body["database"], body["cache"]))
        except (OSError, http.client.HTTPException, ValueError):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        time.sleep(0.05)
    connection.close()


def terminate_connections(database_url, seconds):
    """End every other connection to the scratch database, every 50 ms; return
    how many were ended and when the last call returned."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(database_url)
    ended = 0
    with psycopg.connect(
        host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"], dbname=config["NAME"], autocommit=True
    ) as killer:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rows = killer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
            ended += sum(1 for (done,) in rows if done)
            time.sleep(0.05)
    return ended, time.monotonic()


def period_table(log, periods):
    print("| period | answers | by status | p50 ms | p99 ms | max ms |")
    print("|---|---:|---|---:|---:|---:|")
    for name, start, end in periods:
        inside = [answer for answer in log.answers if start <= answer[0] < end]
        latencies = sorted(answer[1] - answer[0] for answer in inside)
        statuses = Counter(answer[3] for answer in inside)
        shown = ", ".join(f"{status}: {count:,}" for status, count in sorted(statuses.items(), key=str))
        cut = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
        print(
            f"| {name} | {len(inside):,} | {shown} | {cut[49] * 1000:.0f} | {cut[98] * 1000:.0f} | "
            f"{(latencies[-1] if latencies else 0) * 1000:.0f} |"
        )


def failures_by_kind(log, start, end):
    counts = Counter(
        (answer[2], answer[3], "retry" if answer[4] else "first")
        for answer in log.answers
        if start <= answer[0] < end and answer[3] not in (200, 201)
    )
    return ", ".join(
        f"{kind} {status} ({attempt}): {n}" for (kind, status, attempt), n in sorted(counts.items(), key=str)
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--calm-seconds", type=float, default=8)
    parser.add_argument("--redis-seconds", type=float, default=15)
    parser.add_argument("--terminate-seconds", type=float, default=5)
    parser.add_argument("--warm-up-seconds", type=float, default=5)
    parser.add_argument(
        "--conn-health-checks", action="store_true", help="run gunicorn with DJANGO_CONN_HEALTH_CHECKS=1"
    )
    args = parser.parse_args()

    redis_dir = Path(tempfile.mkdtemp(prefix="outage-redis-"))
    redis_server = RedisServer(redis_dir)
    redis_server.start()
    port = free_port()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="forum.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "outage-test-only-secret-" + "k" * 40),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_RATELIMIT_REPLY="100000/m",
        DJANGO_RATELIMIT_VOTE="100000/m",
        REDIS_URL=redis_server.url,
        DJANGO_CONN_HEALTH_CHECKS="1" if args.conn_health_checks else "0",
    )
    database_url, sessions, threads, comments = prepare(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/forum"), args.members, suffix="_outage"
    )
    server_log = redis_dir / "gunicorn.log"
    with open(server_log, "w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "forum.wsgi", "--bind", f"127.0.0.1:{port}", *GUNICORN_OPTIONS],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url},
            stderr=log_file,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz/")
                break
            except OSError:
                time.sleep(0.2)
        calm, outage, terminate = args.calm_seconds, args.redis_seconds, args.terminate_seconds
        total = args.warm_up_seconds + calm + outage + calm + calm + terminate + calm
        log, ready = Log(), []
        end = time.monotonic() + total
        choose = request_chooser(sessions, threads, comments, MIX)
        workers = [threading.Thread(target=client_loop, args=(port, end, log, choose, n)) for n in range(args.clients)]
        workers.append(threading.Thread(target=readiness_monitor, args=(port, end, ready)))
        for worker in workers:
            worker.start()
        print(
            f"gunicorn, 2 workers x 4 threads, 127.0.0.1:{port}; {args.clients} clients; {args.members} members; "
            f"PostgreSQL; own Redis on port {redis_server.port}; "
            f"DJANGO_CONN_HEALTH_CHECKS={os.environ['DJANGO_CONN_HEALTH_CHECKS']}"
        )
        time.sleep(args.warm_up_seconds)
        begin = time.monotonic()
        time.sleep(calm)
        redis_stopped = time.monotonic()
        redis_server.stop()
        time.sleep(outage)
        redis_server.start()
        redis_started = time.monotonic()
        time.sleep(calm)
        calm_again = time.monotonic()
        time.sleep(calm)
        terminating = time.monotonic()
        ended, last_termination = terminate_connections(database_url, terminate)
        for worker in workers:
            worker.join(timeout=total + 60)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        redis_server.stop()

    print("\nRedis outage")
    period_table(
        log,
        [
            ("before", begin, redis_stopped),
            (f"Redis stopped ({outage:.0f} s)", redis_stopped, redis_started),
            ("Redis back", redis_started, calm_again),
        ],
    )
    back = next((at for at, _, cache in ready if at > redis_started and cache == "ok"), None)
    down = next((at for at, _, cache in ready if at > redis_stopped and cache != "ok"), None)
    print(f"readyz: cache reported unavailable {(down - redis_stopped) * 1000:.0f} ms after the stop" if down else "")
    print(f"readyz: cache ok again {(back - redis_started) * 1000:.0f} ms after the start" if back else "never back")
    print("not 200/201:", failures_by_kind(log, redis_stopped, calm_again) or "none")

    print(f"\nPostgreSQL connections terminated every 50 ms for {terminate:.0f} s ({ended:,} ended)")
    period_table(
        log,
        [
            ("before", calm_again, terminating),
            ("terminating", terminating, last_termination),
            ("after", last_termination, end),
        ],
    )
    # Members' clients may be waiting out a Retry-After then; readyz is polled throughout.
    ready_again = next((at for at, database, _ in ready if at > last_termination and database == "ok"), None)
    last_failure = max(
        (answer[1] for answer in log.answers if answer[0] >= last_termination and answer[3] not in (200, 201)),
        default=None,
    )
    print(
        "after the last termination: readyz answered ok "
        + (f"{(ready_again - last_termination) * 1000:.0f} ms later" if ready_again else "never")
        + "; last answer not 2xx "
        + (f"{(last_failure - last_termination) * 1000:.0f} ms later" if last_failure else "none")
    )
    print("not 200/201:", failures_by_kind(log, terminating, end) or "none")

    from django.db import connection
    from django.db.models import Count

    from threads.models import Comment

    connection.close()  # terminated with the others

    acknowledged = set(log.acknowledged)
    stored = Comment.objects.filter(pk__in=acknowledged).count()
    twice = (
        Comment.objects.filter(body__startswith="Load-test reply")
        .values("body")
        .annotate(copies=Count("pk"))
        .filter(copies__gt=1)
        .count()
    )
    print(
        f"\nAcknowledged replies: {len(acknowledged):,}; stored: {stored:,}; lost: {len(acknowledged) - stored}; "
        f"replies stored twice: {twice}"
    )
    logged = Counter()
    for line in server_log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        logged[record["level"], record["message"].split(":")[0].split(" (")[0]] += 1
    print(f"Logged by the workers ({server_log}):")
    for (level, message), count in logged.most_common():
        print(f"  {count:5} {level} {message}")


if __name__ == "__main__":
    main()
