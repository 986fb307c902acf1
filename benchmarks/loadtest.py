"""Load-test the forum under gunicorn on 127.0.0.1, then stop by itself.

    python benchmarks/loadtest.py [--seconds 60] [--clients 24] [--members 200]

Needs PostgreSQL (``DATABASE_URL``, default postgres://postgres@127.0.0.1:5432/forum)
and uses Redis for the cache when ``REDIS_URL`` is set. It creates a scratch
database ``<name>_load``, imports the seed dumps, a 1,000-comment and a
10,000-comment synthetic thread, logs in ``--members`` members (sessions made
directly, so logins are not what is measured), starts ``gunicorn forum.wsgi``
with 2 workers bound to 127.0.0.1, and runs these phases:

1. mixed: page views (home, thread pages, comment pages), votes and replies
   by many members, for ``--seconds``;
2. votes against a trivial view: ``--compare-seconds`` of only ``GET /healthz/``,
   then as long of only votes, at the same concurrency;
3. a flood of ``--flood-clients`` logged-out readers on the 10,000-comment
   thread (its first page, and ``?all=1`` one time in ten) beside the
   members' mix on the other threads, for ``--flood-seconds``: first with
   the visitors' page cache off (gunicorn restarted with
   ``DJANGO_VISITOR_PAGE_SECONDS=0``), then on; then on again with the
   members voting and replying on the big thread too, which retires its
   cached pages at every vote.

It prints requests per second and p50/p95/p99 latency per request kind,
counts every error (status >= 400 or a failed connection), and says where
the machine's CPU went per request: gunicorn, PostgreSQL, Redis and this
load generator, read from ``/proc`` before and after each phase. Traffic goes to
loopback only; every loop is bounded in time.
"""

import argparse
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIX = (("page", 70), ("vote", 20), ("reply", 10))


def prepare(database_url, members, suffix="_load"):
    """Create the scratch database ``<name><suffix>``, data and sessions;
    return what clients need."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(database_url)
    name = f"{config['NAME']}{suffix}"
    with psycopg.connect(
        host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"], dbname="postgres", autocommit=True
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url.rsplit("/", 1)[0] + f"/{name}"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.middleware.csrf import _get_new_csrf_string

    from tests.synthetic_dumps import generate_dump
    from threads.importer import import_dump, import_dump_file
    from threads.models import Comment, Thread

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    captured = "2024-11-19T12:00:00+00:00"
    for path in sorted((ROOT / "fixtures" / "dumps").glob("*.txt")):
        import_dump_file(path, captured_at=django.utils.dateparse.parse_datetime(captured))
    import_dump(
        generate_dump(1000, seed=5), source="load.txt", captured_at=django.utils.dateparse.parse_datetime(captured)
    )
    big = import_dump(
        generate_dump(10_000, seed=6), source="big.txt", captured_at=django.utils.dateparse.parse_datetime(captured)
    ).thread_id
    sessions = []
    for number in range(members):
        user = User.objects.create_user(f"loader{number}", password=None)
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append((store.session_key, _get_new_csrf_string()))
    threads = [(thread.pk, thread.get_absolute_url()) for thread in Thread.objects.exclude(pk=big)]
    # Comments that take votes and replies; the big thread's apart, for the flood.
    votable = Comment.objects.visible_on_profile()
    comments = list(votable.exclude(thread_id=big).values_list("pk", flat=True))
    big_comments = list(votable.filter(thread_id=big).values_list("pk", flat=True))
    return url, sessions, threads, comments, (Thread.objects.get(pk=big).get_absolute_url(), big_comments)


ROLES = ("gunicorn", "postgres", "redis", "load generator")


def cpu_seconds_by_role(server_pid):
    """CPU time used so far by each process of the setup, keyed by (role, pid)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                line = stat.read()
        except OSError:
            continue
        name = line[line.index("(") + 1 : line.rindex(")")]
        fields = line[line.rindex(")") + 2 :].split()
        pid, parent = int(entry), int(fields[1])
        if pid == os.getpid():
            role = "load generator"
        elif server_pid in (pid, parent):
            role = "gunicorn"
        elif name.startswith("postgres"):
            role = "postgres"
        elif name.startswith("redis-server"):
            role = "redis"
        else:
            continue
        used[role, pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def cpu_per_request(before, after, requests):
    """Milliseconds of CPU per request for each role between two readings;
    a process that started in between counts from zero, one that ended is
    missed (gunicorn and PostgreSQL keep theirs for the whole run). Every
    PostgreSQL process counts, autovacuum included: run on a quiet server."""
    spent = dict.fromkeys(ROLES, 0.0)
    for (role, pid), seconds in after.items():
        spent[role] += seconds - before.get((role, pid), 0.0)
    return {role: seconds * 1000 / max(requests, 1) for role, seconds in spent.items()}


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.errors = defaultdict(list)

    def add(self, kind, seconds, error=None):
        with self.lock:
            if error:
                self.errors[kind].append(error)
            else:
                self.latencies[kind].append(seconds)


def client_loop(port, deadline, recorder, choose_request, seed):
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < deadline:
        kind, method, path, body, headers = choose_request(rng)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            error = f"{response.status} {method} {path}" if response.status >= 400 else None
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__} {method} {path}"
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        recorder.add(kind, time.perf_counter() - started, error)
    connection.close()


def run_phase(port, seconds, groups, server_pid):
    """Run ``groups``, ``(clients, choose_request)`` pairs, side by side for ``seconds``."""
    recorder = Recorder()
    cpu_before = cpu_seconds_by_role(server_pid)
    deadline = time.monotonic() + seconds
    choosers = [choose for clients, choose in groups for _ in range(clients)]
    workers = [
        threading.Thread(target=client_loop, args=(port, deadline, recorder, choose, n))
        for n, choose in enumerate(choosers)
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    served = sum(len(values) for values in recorder.latencies.values())
    recorder.cpu = cpu_per_request(cpu_before, cpu_seconds_by_role(server_pid), served)
    return recorder, elapsed


def flood_chooser(big_url):
    """A logged-out reader of the big thread: its first page, and the whole
    thread one time in ten. No cookies: each request is a new visitor."""

    def choose(rng):
        if rng.random() < 0.1:
            return "visitor ?all=1", "GET", f"{big_url}?all=1", None, {}
        return "visitor page", "GET", big_url, None, {}

    return choose


def member_headers(session):
    session_key, csrf = session
    return {
        "Cookie": f"sessionid={session_key}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def request_chooser(sessions, threads, comments, mix):
    kinds = [kind for kind, weight in mix for _ in range(weight)]
    counter = iter(range(10**9))

    def choose(rng):
        kind = rng.choice(kinds)
        if kind == "trivial":
            return kind, "GET", "/healthz/", None, {}
        if kind == "page":
            page = rng.random()
            if page < 0.2:
                return kind, "GET", "/", None, {}
            if page < 0.8:
                return kind, "GET", rng.choice(threads)[1], None, {}
            return kind, "GET", f"/comments/{rng.choice(comments)}/", None, {}
        headers = member_headers(rng.choice(sessions))
        if kind == "vote":
            body = urlencode({"value": rng.choice([1, -1, 0, 1])})
            return kind, "POST", f"/comments/{rng.choice(comments)}/vote/", body, headers
        body = urlencode({"body": f"Load-test reply {next(counter)} with *Markdown* and a https://example.org link."})
        return kind, "POST", f"/comments/{rng.choice(comments)}/reply/", body, headers

    return choose


def summarise(title, recorder, elapsed):
    print(f"\n{title} ({elapsed:.0f} s)")
    print("| request | count | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    total = 0
    for kind in sorted(set(recorder.latencies) | set(recorder.errors)):
        values = sorted(recorder.latencies[kind])
        total += len(values)
        cut = statistics.quantiles(values, n=100) if len(values) > 1 else [values[0] * 1] * 99 if values else [0] * 99
        print(
            f"| {kind} | {len(values):,} | {len(values) / elapsed:,.0f} | {cut[49] * 1000:.1f} | "
            f"{cut[94] * 1000:.1f} | {cut[98] * 1000:.1f} | {len(recorder.errors[kind])} |"
        )
    errors = sum(len(values) for values in recorder.errors.values())
    print(f"| all | {total:,} | {total / elapsed:,.0f} | | | | {errors} |")
    for kind, values in recorder.errors.items():
        for sample in values[:5]:
            print(f"  error ({kind}): {sample}")
    shares = ", ".join(f"{role} {ms:.2f}" for role, ms in recorder.cpu.items())
    print(f"CPU ms per request: {shares}; total {sum(recorder.cpu.values()):.2f}")
    return total / elapsed, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--compare-seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=24)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--flood-clients", type=int, default=50, help="logged-out readers of the big thread")
    parser.add_argument("--flood-seconds", type=int, default=30, help="each flood phase")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="forum.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "load-test-only-secret-" + "k" * 40),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_RATELIMIT_REPLY="100000/m",
        DJANGO_RATELIMIT_VOTE="100000/m",
    )
    # Keys of this run's own, whatever else shares the Redis database.
    os.environ.setdefault("DJANGO_CACHE_PREFIX", f"forum-load-{os.getpid()}")
    database_url, sessions, threads, comments, (big_url, big_comments) = prepare(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/forum"), args.members
    )
    cache = "Redis" if os.environ.get("REDIS_URL") else "local memory"
    print(
        f"gunicorn, {args.workers} workers x {args.threads} threads, 127.0.0.1:{args.port}; "
        f"{args.clients} concurrent member clients ({args.members} members), {args.flood_clients} visitors "
        f"in the flood; PostgreSQL; cache: {cache}"
    )
    members = request_chooser(sessions, threads, comments, MIX)
    flood = [(args.clients, members), (args.flood_clients, flood_chooser(big_url))]
    errors, floods = 0, {}
    with serving(args, database_url, DJANGO_VISITOR_PAGE_SECONDS="0") as server:
        recorder, elapsed = run_phase(args.port, args.flood_seconds, flood, server.pid)
        errors += summarise("Flood on the big thread beside the members' mix, visitors' cache OFF", recorder, elapsed)[
            1
        ]
        floods["off"] = (recorder, elapsed)
    with serving(args, database_url) as server:
        recorder, elapsed = run_phase(args.port, args.flood_seconds, flood, server.pid)
        errors += summarise("Flood on the big thread beside the members' mix, visitors' cache ON", recorder, elapsed)[1]
        floods["on"] = (recorder, elapsed)
        voting = request_chooser(sessions, threads, comments + big_comments, MIX)
        recorder, elapsed = run_phase(args.port, args.flood_seconds, [(args.clients, voting), flood[1]], server.pid)
        errors += summarise("Flood, cache ON, members voting and replying on the big thread too", recorder, elapsed)[1]
        floods["on, big thread voted on"] = (recorder, elapsed)
        compare_floods(floods)
        if args.seconds:
            mixed = run_phase(args.port, args.seconds, [(args.clients, members)], server.pid)
            errors += summarise("Mixed load: page views, votes and replies", *mixed)[1]
        if args.compare_seconds:
            only = [(args.clients, request_chooser(sessions, threads, comments, (("trivial", 1),)))]
            trivial_rps, trivial_errors = summarise(
                "Trivial view only (GET /healthz/)", *run_phase(args.port, args.compare_seconds, only, server.pid)
            )
            only = [(args.clients, request_chooser(sessions, threads, comments, (("vote", 1),)))]
            vote_rps, vote_errors = summarise(
                "Votes only (POST /comments/<id>/vote/)", *run_phase(args.port, args.compare_seconds, only, server.pid)
            )
            errors += trivial_errors + vote_errors
            print(f"\nVote throughput / trivial view throughput: {vote_rps / trivial_rps:.2f} (target >= 0.5)")
    print(f"Errors in all phases: {errors}")


def compare_floods(floods):
    """Visitors' requests per second and latencies in each flood, side by side."""
    print("\nVisitors in the flood, by cache (req/s, p50 / p95 / p99 ms):")
    print("| request | " + " | ".join(floods) + " |")
    print("|---|" + "---:|" * len(floods))
    for kind in ("visitor page", "visitor ?all=1", "page", "vote", "reply"):
        cells = []
        for recorder, elapsed in floods.values():
            values = sorted(recorder.latencies[kind])
            if len(values) < 2:
                cells.append("-")
                continue
            cut = statistics.quantiles(values, n=100)
            cells.append(
                f"{len(values) / elapsed:,.1f}/s, {cut[49] * 1000:.0f} / {cut[94] * 1000:.0f} / {cut[98] * 1000:.0f}"
            )
        print(f"| {kind} | " + " | ".join(cells) + " |")


@contextmanager
def serving(args, database_url, **environment):
    """gunicorn on 127.0.0.1 with ``environment`` on top of ours, stopped on the way out."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "forum.wsgi",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, **environment},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request("GET", "/healthz/")
                break
            except OSError:
                time.sleep(0.2)
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
