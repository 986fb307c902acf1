"""The Redis cache as production configures it (``forum.settings.cache_settings``),
against the Redis server at REDIS_TEST_URL (default redis://127.0.0.1:6379/15;
CI and these machines run one)."""

import os
import socket
import threading
import uuid

import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_redis import get_redis_connection

from forum.settings import cache_settings
from tests.factories import make_comment, make_thread, make_user
from threads import ratelimit

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_cache(settings):
    """The default cache, on Redis under a key prefix of this test's own."""
    try:
        redis.Redis.from_url(REDIS_TEST_URL).ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    settings.CACHES = cache_settings(REDIS_TEST_URL, f"test-{uuid.uuid4().hex}", socket_timeout=1)
    yield cache
    cache.delete_pattern("*")


def test_incr_of_a_missing_key_raises_and_creates_nothing(redis_cache):
    with pytest.raises(ValueError):
        redis_cache.incr("absent")
    assert redis_cache.get("absent") is None


def test_incr_keeps_the_keys_expiry(redis_cache):
    redis_cache.add("hits", 1, timeout=60)
    assert redis_cache.incr("hits") == 2
    assert redis_cache.incr("hits", 5) == 7
    assert redis_cache.get("hits") == 7
    assert 0 < redis_cache.ttl("hits") <= 60


def test_one_client_serves_every_call(redis_cache):
    assert get_redis_connection("default") is get_redis_connection("default", write=False)


def test_rate_limit_counts_on_redis(redis_cache, settings):
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {**settings.RATELIMITS, "vote": "3/m"}
    assert [ratelimit.allow("vote", "user:1") for _ in range(5)] == [True, True, True, False, False]
    assert ratelimit.allow("vote", "user:2")


def test_members_user_row_is_read_once_through_redis(redis_cache, client, db):
    """The cached user (a pickled model instance) survives the trip through Redis."""
    client.force_login(make_user("rosa"))
    for expected_user_queries in (1, 0):
        with CaptureQueriesContext(connection) as queries:
            assert '<a class="username" href="/u/rosa">' in client.get("/").content.decode()
        assert len([query for query in queries if '"auth_user"' in query["sql"]]) == expected_user_queries


def test_a_redis_that_never_answers_fails_the_call_at_the_socket_timeout(settings):
    """A stuck Redis must not hold a worker thread for ever: the connection is
    accepted (the listen backlog does that) but no answer ever comes."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host, port = silent.getsockname()
        settings.CACHES = cache_settings(f"redis://{host}:{port}/0", "silent", socket_timeout=0.2)
        outcome = []

        def call():
            try:
                cache.get("anything")
            except Exception as error:  # the assertion below says which it was
                outcome.append(error)

        caller = threading.Thread(target=call, daemon=True)
        caller.start()
        caller.join(timeout=30)
        assert not caller.is_alive(), "the cache call is still waiting"
        assert len(outcome) == 1 and isinstance(outcome[0], redis.TimeoutError), outcome


def test_visitors_pages_come_from_redis_and_a_vote_retires_them(redis_cache, client, db):
    """Pages (bytes) and generations survive the trip through Redis, and a
    write in one client is seen by a visitor in another."""
    thread = make_thread()
    comment = make_comment(thread, up=1)
    url = f"{thread.get_absolute_url()}?all=1"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert '<span class="score" data-score>1</span>' in client.get(url).content.decode()
    assert len(queries) == 1  # the thread row; the page came from Redis
    member = Client()
    member.force_login(make_user("rosa"))
    member.post(f"/comments/{comment.pk}/vote/", {"value": "1"})
    assert '<span class="score" data-score>2</span>' in client.get(url).content.decode()
