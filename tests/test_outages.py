"""The site keeps serving when Redis or the database connection goes away.

Redis outages are real: each test starts a ``redis-server`` of its own on a
free port (tests/servers.py), serves the site against it through the test
client, stops it and starts it again. On PostgreSQL, a test ends the live
server's connections with ``pg_terminate_backend`` (what a restart does to
them) while members post. Timings are sanity bounds only (each answer well
within a second), as the requirement states them; speed itself is measured
under load by ``benchmarks/outages.py``.
"""

import http.client
import json
import logging
import secrets
import socket
import threading
import time
from collections import Counter
from contextlib import contextmanager
from unittest import mock
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
from django.db import connection, connections
from django.db.utils import OperationalError
from django.test import Client
from django.test.utils import CaptureQueriesContext

from forum.cache import breaker
from forum.settings import cache_settings
from tests.conftest import assert_trees_intact
from tests.factories import PASSWORD, make_comment, make_thread, make_user
from tests.servers import RedisServer
from threads.models import Comment

JSON = {"HTTP_ACCEPT": "application/json"}
ANSWER_WITHIN = 1.0  # seconds: a sanity bound, not a measurement


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site_on_redis(redis_server, settings):
    """The site's caches on the test's own Redis, as production configures
    them, with a short socket timeout and a tight vote limit."""
    settings.CACHES = cache_settings(redis_server.url, prefix="outage", socket_timeout=0.2)
    settings.AUTH_USER_CACHE = True
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {**settings.RATELIMITS, "vote": "3/m"}
    yield redis_server
    breaker.reset()


@pytest.fixture
def thread(db):
    thread = make_thread()
    make_comment(thread, body="A comment to vote on and reply to.")
    return thread


def answered(call, path, *args, **kwargs):
    started = time.monotonic()
    response = call(path, *args, **kwargs)
    assert time.monotonic() - started < ANSWER_WITHIN, f"{path} took too long"
    return response


def signed_in(client):
    return '<a class="username"' in answered(client.get, "/").content.decode()


def queries_of(client, table, path="/"):
    with CaptureQueriesContext(connection) as queries:
        answered(client.get, path)
    return [query for query in queries if f'"{table}"' in query["sql"]]


def vote(client, comment):
    return answered(client.post, f"/comments/{comment.pk}/vote/", {"value": 1}, **JSON)


def wait_for_the_cache(client):
    """Poll /readyz/ until the site uses the cache again (bounded)."""
    deadline = time.monotonic() + 10
    while json.loads(answered(client.get, "/readyz/").content)["cache"] != "ok":
        assert time.monotonic() < deadline, "the site never went back to the cache"
        time.sleep(0.05)


# ---- Redis stopped ---------------------------------------------------------


def test_anonymous_pages_and_the_api_serve_while_redis_is_down(client, site_on_redis, thread):
    comment = thread.comments.get()
    paths = ["/", thread.get_absolute_url(), f"/comments/{comment.pk}/", "/api/threads/", f"/api/threads/{thread.pk}/"]
    for path in paths:
        assert answered(client.get, path).status_code == 200  # and the layout is cached
    site_on_redis.stop()
    for path in [*paths, "/healthz/", "/accounts/login/"]:
        assert answered(client.get, path).status_code == 200, path


def test_members_stay_signed_in_and_vote_and_reply_while_redis_is_down(client, site_on_redis, thread):
    comment = thread.comments.get()
    client.force_login(make_user("mona"))
    assert signed_in(client)  # the session and the user are now cached in Redis
    site_on_redis.stop()
    assert signed_in(client)  # the session comes from the database
    assert vote(client, comment).json()["vote"] == 1
    reply = answered(client.post, f"/comments/{comment.pk}/reply/", {"body": "Written in an outage."}, **JSON)
    assert reply.status_code == 201
    assert Comment.objects.get(pk=reply.json()["id"]).body == "Written in an outage."
    assert answered(client.post, "/accounts/logout/").status_code == 302
    assert not signed_in(client)
    login = answered(client.post, "/accounts/login/", {"username": "mona", "password": PASSWORD})
    assert login.status_code == 302
    assert signed_in(client)


def test_rate_limits_fail_open_and_say_so_once_while_redis_is_down(client, site_on_redis, thread, caplog):
    comment = thread.comments.get()
    client.force_login(make_user("rita"))
    site_on_redis.stop()
    assert [vote(client, comment).status_code for _ in range(6)] == [200] * 6  # the limit is 3 a minute
    failed_login = answered(client.post, "/accounts/login/", {"username": "rita", "password": "wrong"})
    assert failed_login.status_code == 200
    notices = [record for record in caplog.records if record.name == "threads.ratelimit"]
    assert len(notices) == 1, [record.getMessage() for record in notices]
    assert notices[0].levelname == "WARNING" and "not enforced" in notices[0].getMessage()


def test_readyz_reports_the_cache_without_failing_on_it(client, site_on_redis, db):
    ready = answered(client.get, "/readyz/")
    assert (ready.status_code, ready.json()) == (200, {"database": "ok", "cache": "ok"})
    site_on_redis.stop()
    ready = answered(client.get, "/readyz/")
    assert (ready.status_code, ready.json()) == (200, {"database": "ok", "cache": "unavailable"})


def test_everything_resumes_when_redis_returns(client, site_on_redis, thread, caplog):
    caplog.set_level(logging.INFO, logger="forum.cache")
    comment = thread.comments.get()
    client.force_login(make_user("rosa"))
    assert signed_in(client)
    site_on_redis.stop()
    assert [vote(client, comment).status_code for _ in range(4)] == [200] * 4
    site_on_redis.start()  # empty: nothing survived the restart
    wait_for_the_cache(client)
    assert signed_in(client)  # reads the session and the user once more, and caches them
    assert queries_of(client, "django_session") == []
    assert queries_of(client, "auth_user") == []
    assert [vote(client, comment).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert any("back" in record.getMessage() for record in caplog.records if record.name == "forum.cache")


def test_a_redis_that_never_answers_holds_no_request_for_long(client, settings, thread):
    """A Redis that accepts connections and never answers (a hung server, a
    lost network) costs one socket timeout, not one per cache call: the
    process stops asking it for a moment."""
    comment = thread.comments.get()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        settings.CACHES = cache_settings(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", "silent", 0.2)
        attempts = []
        accepting = threading.Event()
        accepting.set()

        def count_connections():
            silent.settimeout(0.05)
            while accepting.is_set():
                try:
                    attempts.append(silent.accept()[0])
                except TimeoutError:
                    continue

        counter = threading.Thread(target=count_connections, daemon=True)
        counter.start()
        try:
            client.force_login(make_user("sara"))
            for _ in range(4):
                assert signed_in(client)
                assert vote(client, comment).status_code == 200
        finally:
            accepting.clear()
            counter.join(timeout=5)
            breaker.reset()
        for accepted in attempts:
            accepted.close()
    # Without the pause, each request would have made five calls or more.
    assert len(attempts) <= 3, f"{len(attempts)} connections to a Redis that never answers"


# ---- The database connection lost ----------------------------------------


def lost_connection():
    """What Django raises when PostgreSQL ends the connection under a query
    (a restart, a terminated backend)."""
    error = OperationalError("server closed the connection unexpectedly")
    error.__cause__ = psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")
    return error


@contextmanager
def connection_lost_in(target):
    with mock.patch(target, side_effect=lost_connection()):
        yield


@pytest.fixture
def member_client(client, thread):
    client.force_login(make_user("dora"))
    return client


def test_a_lost_database_connection_answers_503_with_retry_after(member_client, thread):
    comment = thread.comments.get()
    with connection_lost_in("threads.views.cast_vote"):
        page = member_client.post(f"/comments/{comment.pk}/vote/", {"value": 1})
        script = member_client.post(f"/comments/{comment.pk}/vote/", {"value": 1}, **JSON)
    assert page.status_code == 503 and int(page["Retry-After"]) > 0
    assert "try again" in page.content.decode()
    assert script.status_code == 503 and script["Retry-After"] == page["Retry-After"]
    assert set(script.json()) == {"error", "retry_after"}


def test_other_database_errors_stay_errors(member_client, thread):
    """Only a lost connection is an outage: an error on a working connection
    is a bug, answered 500 and logged with its traceback."""
    comment = thread.comments.get()
    with (
        mock.patch("threads.views.cast_vote", side_effect=OperationalError("no such table")),
        pytest.raises(OperationalError),
    ):
        member_client.post(f"/comments/{comment.pk}/vote/", {"value": 1}, **JSON)


def test_a_reply_retried_after_a_503_is_posted_once_and_says_so(member_client, thread):
    """The reply commits, then the connection dies before the answer: the
    retry finds the stored reply instead of posting a copy."""
    comment = thread.comments.get()
    url, body = f"/comments/{comment.pk}/reply/", {"body": "Posted during a restart."}
    with connection_lost_in("threads.views._comment_item_html"):
        lost = member_client.post(url, body, **JSON)
    assert lost.status_code == 503
    stored = Comment.objects.get(body="Posted during a restart.")
    retried = member_client.post(url, body, **JSON)
    assert retried.status_code == 200
    assert (retried.json()["id"], retried.json()["duplicate"]) == (stored.pk, True)
    assert f'id="comment-{stored.pk}"' in retried.json()["html"]
    fresh = member_client.post(url, {"body": "Something new."}, **JSON)
    assert (fresh.status_code, fresh.json()["duplicate"]) == (201, False)
    assert Comment.objects.filter(body="Posted during a restart.").count() == 1


def test_without_javascript_the_503_page_tells_how_to_check_for_the_reply(member_client, thread):
    comment = thread.comments.get()
    url, body = (
        f"/comments/{comment.pk}/reply/",
        {"body": "Posted without a script.", "next": thread.get_absolute_url()},
    )
    with connection_lost_in("threads.views.new_comment_url"):
        lost = member_client.post(url, body)
    assert lost.status_code == 503 and int(lost["Retry-After"]) > 0
    page = lost.content.decode()
    assert "may already be posted" in page
    assert f'href="{thread.get_absolute_url()}"' in page
    stored = Comment.objects.get(body="Posted without a script.")
    retried = member_client.post(url, body)
    assert retried.status_code == 302 and retried["Location"].endswith(f"#comment-{stored.pk}")
    assert Comment.objects.filter(body="Posted without a script.").count() == 1


def test_readyz_fails_while_the_database_is_unreachable(client, db):
    with mock.patch.object(
        connections["default"], "ensure_connection", side_effect=OperationalError("connection refused")
    ):
        ready = client.get("/readyz/")
    assert (ready.status_code, ready.json()) == (503, {"database": "unavailable", "cache": "ok"})


# ---- PostgreSQL ends the site's connections --------------------------------


class Member:
    """A signed-in member talking to the live server over one keep-alive
    connection, as the page's script does: JSON, retried once after a 503."""

    def __init__(self, live_server, user):
        self.name = user.username
        signed_in = Client()
        signed_in.force_login(user)
        csrf = secrets.token_hex(16)
        self.headers = {
            "Cookie": f"sessionid={signed_in.cookies['sessionid'].value}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self.http = http.client.HTTPConnection(urlsplit(live_server.url).netloc, timeout=10)
        self.statuses = Counter()
        self.acknowledged = []  # ids of replies answered 201 (or 200 as a duplicate)

    def post(self, path, fields):
        for attempt in (1, 2):
            self.http.request("POST", path, body=urlencode(fields), headers=self.headers)
            response = self.http.getresponse()
            answer = response.read()
            self.statuses[response.status] += 1
            if response.status != 503 or attempt == 2:
                return response.status, answer
            assert int(response.getheader("Retry-After")) > 0
            time.sleep(0.02)  # the script waits Retry-After; a test need not

    def act(self, step, comment_ids):
        if step % 2:
            status, answer = self.post(f"/comments/{comment_ids[step % len(comment_ids)]}/vote/", {"value": 1})
        else:
            status, answer = self.post(f"/comments/{comment_ids[0]}/reply/", {"body": f"{self.name}'s reply {step}"})
            if status in (200, 201):
                self.acknowledged.append(json.loads(answer)["id"])
        return status


def terminate_backends_for(seconds, spare):
    """End every other connection to the test database, again and again,
    as a PostgreSQL restart does once."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as killer:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            killer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
                [spare],
            )
            time.sleep(0.03)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_terminate_backend needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_terminated_connections_answer_503_and_lose_no_acknowledged_reply(live_server, settings):
    settings.RATELIMIT_ENABLED = False
    thread = make_thread()
    comment_ids = [make_comment(thread, body=f"Comment {n}").pk for n in range(3)]
    members = [Member(live_server, make_user(f"member{n}")) for n in range(4)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_pid = cursor.fetchone()[0]
    killing = threading.Thread(target=terminate_backends_for, args=(1.5, own_pid))
    failures, last = [], {}

    def loop(member):
        try:
            step, deadline = 0, time.monotonic() + 2.5
            while time.monotonic() < deadline or killing.is_alive():
                step += 1
                last[member] = member.act(step, comment_ids)
            for _ in range(3):  # after the terminations: served again at once
                step += 1
                last[member] = member.act(step, comment_ids)
        except Exception as error:  # reported below, whatever its kind
            failures.append(repr(error))
        finally:
            member.http.close()  # so that the server's thread closes its database connection

    clients = [threading.Thread(target=loop, args=(member,)) for member in members]
    for client in clients:
        client.start()
    time.sleep(0.3)
    killing.start()
    for client in [killing, *clients]:
        client.join(timeout=60)
    assert failures == []
    statuses = sum((member.statuses for member in members), Counter())
    assert statuses[500] == 0 and set(statuses) <= {200, 201, 503}, statuses
    assert statuses[503] > 0, "no request met a terminated connection"
    assert all(status in (200, 201) for status in last.values()), last
    acknowledged = [pk for member in members for pk in member.acknowledged]
    assert Comment.objects.filter(pk__in=acknowledged).count() == len(set(acknowledged))
    bodies = Comment.objects.filter(parent_id=comment_ids[0]).values_list("body", flat=True)
    assert len(bodies) == len(set(bodies)), "a retried reply was posted twice"
    assert_trees_intact()
