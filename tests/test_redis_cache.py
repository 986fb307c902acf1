"""The project's Redis cache backend, against the Redis server at REDIS_TEST_URL
(default redis://127.0.0.1:6379/15; CI and these machines run one)."""

import os
import uuid

import pytest
import redis

from forum.cache import RedisCache
from threads import ratelimit

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_cache():
    try:
        redis.Redis.from_url(REDIS_TEST_URL).ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    cache = RedisCache(REDIS_TEST_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.clear()


def test_incr_of_a_missing_key_raises_and_creates_nothing(redis_cache):
    with pytest.raises(ValueError):
        redis_cache.incr("absent")
    assert redis_cache.get("absent") is None


def test_incr_keeps_the_keys_expiry(redis_cache):
    redis_cache.add("hits", 1, timeout=60)
    assert redis_cache.incr("hits") == 2
    assert redis_cache.incr("hits", 5) == 7
    assert redis_cache.get("hits") == 7
    raw = redis_cache._cache.get_client()
    assert 0 < raw.ttl(redis_cache.make_key("hits")) <= 60


def test_one_client_serves_every_call(redis_cache):
    assert redis_cache._cache.get_client() is redis_cache._cache.get_client(write=True)


def test_rate_limit_counts_on_redis(redis_cache, settings, monkeypatch):
    monkeypatch.setattr(ratelimit, "cache", redis_cache)
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {**settings.RATELIMITS, "vote": "3/m"}
    assert [ratelimit.allow("vote", "user:1") for _ in range(5)] == [True, True, True, False, False]
    assert ratelimit.allow("vote", "user:2")
