"""The cache every worker shares (Redis in production), and how the site keeps
serving while it is down.

Nothing in the cache is the only copy: sessions are stored in the database,
users are rows, layouts are recomputed and rate-limit counters start again.
So a cache outage may cost speed and rate limits, never a request. Callers
reach the cache through ``shared``, which turns a Redis failure into
``CacheUnavailable``, and each says what a missing cache means for it
(docs/operations.md):

- sessions come from the database (``SessionCache``, the cache behind
  Django's ``cached_db`` sessions);
- members' user rows come from the database (threads/auth.py);
- rate limits let requests through and say so in the log (threads/ratelimit.py);
- a thread's layout is recomputed (threads/pages.py);
- visitors' pages are rendered for each request (threads/page_cache.py).

A Redis that refuses connections fails a call at once, but one that does not
answer (a hung server, a lost network) holds each call for the socket
timeout, and a member's request makes several. So after a failure the
process stops asking Redis for ``RETRY_SECONDS`` (``Breaker``); then one
call tries again, and when it succeeds every caller is back on the cache,
without a restart.
"""

import logging
import threading
import time
from contextlib import suppress

import redis
from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

logger = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
# How often a consequence of a long outage is logged again (``warn_during_outage``).
REPEAT_LOG_SECONDS = 60
# Sessions stay in the cache at most this long, so that a logout or a new
# session key the cache missed while it was down counts once it is back
# (when it comes back with its data; a restarted Redis comes back empty).
SESSION_CACHE_SECONDS = 300
# What redis-py raises when Redis cannot be reached or refuses a command.
REDIS_ERRORS = (redis.RedisError, OSError)


class CacheUnavailable(Exception):
    """The cache failed, or was not asked because it failed a moment ago."""


class Breaker:
    """Skips the cache for ``RETRY_SECONDS`` after a failure, per process.

    While it is open one call at a time tries Redis again; the others are
    refused at once. Logs when an outage starts and ends, and lets callers
    log what the outage means for them once, not on every request."""

    def __init__(self):
        self._lock = threading.Lock()
        self._retry_at = None  # None: the cache is answering
        self._down_since = None
        self._logged = {}

    def call(self, method, *args, **kwargs):
        if self._retry_at is not None:
            self._before_retry()
        try:
            result = method(*args, **kwargs)
        except REDIS_ERRORS as error:
            self._failed(error)
            raise CacheUnavailable(str(error)) from error
        except Exception:
            self._answered()  # the cache answered, with an error for the caller (``incr`` of a missing key)
            raise
        self._answered()
        return result

    def _before_retry(self):
        with self._lock:
            now = time.monotonic()
            if self._retry_at is not None:
                if now < self._retry_at:
                    raise CacheUnavailable("the cache failed a moment ago")
                self._retry_at = now + RETRY_SECONDS  # this call tries; the others keep skipping

    def _failed(self, error):
        with self._lock:
            starting = self._down_since is None
            now = time.monotonic()
            self._retry_at = now + RETRY_SECONDS
            if starting:
                self._down_since = now
        if starting:
            logger.warning("Cache unavailable (%s): serving without it, trying again every %s s", error, RETRY_SECONDS)

    def _answered(self):
        if self._retry_at is None:
            return
        with self._lock:
            if self._down_since is None:
                return
            down_for = time.monotonic() - self._down_since
            self._retry_at = self._down_since = None
            self._logged.clear()
        logger.info("Cache back after %.1f s", down_for)

    def warn_during_outage(self, logger, message, *args):
        """Log ``message`` on ``logger`` the first time it applies in an
        outage, then at most every ``REPEAT_LOG_SECONDS`` while it lasts."""
        now = time.monotonic()
        with self._lock:
            last = self._logged.get((logger.name, message))
            if last is not None and now - last < REPEAT_LOG_SECONDS:
                return
            self._logged[logger.name, message] = now
        logger.warning(message, *args)

    def reset(self):
        """Forget an outage: for tests that end one on purpose."""
        with self._lock:
            self._retry_at = self._down_since = None
            self._logged.clear()


breaker = Breaker()


class SharedCache:
    """Django's default cache behind the breaker: each method raises
    ``CacheUnavailable`` instead of a Redis error."""

    def get(self, key, default=None):
        return breaker.call(cache.get, key, default)

    def get_many(self, keys):
        return breaker.call(cache.get_many, keys)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT):
        return breaker.call(cache.set, key, value, timeout)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT):
        return breaker.call(cache.set_many, data, timeout)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT):
        return breaker.call(cache.add, key, value, timeout)

    def incr(self, key):
        return breaker.call(cache.incr, key)

    def delete(self, key):
        return breaker.call(cache.delete, key)


shared = SharedCache()


def cache_is_available():
    """Whether the shared cache takes a write and answers: for /readyz/."""
    try:
        shared.set("readyz", 1, 10)
    except CacheUnavailable:
        return False
    return True


class SessionCache(BaseCache):
    """The cache behind Django's ``cached_db`` sessions (``SESSION_CACHE_ALIAS``).

    The shared cache, answering a miss while it is unavailable, so that
    sessions are read from and written to the database alone (``cached_db``
    keeps every session there), and holding a session at most
    ``SESSION_CACHE_SECONDS``. Keys go to the default cache as they are: it
    adds its own prefix."""

    def __init__(self, location, params):
        super().__init__(params)

    def get(self, key, default=None, version=None):
        try:
            return shared.get(key, default)
        except CacheUnavailable:
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        if timeout is DEFAULT_TIMEOUT or timeout is None:
            timeout = SESSION_CACHE_SECONDS
        with suppress(CacheUnavailable):
            shared.set(key, value, min(timeout, SESSION_CACHE_SECONDS))

    def delete(self, key, version=None):
        try:
            return shared.delete(key)
        except CacheUnavailable:
            return False
