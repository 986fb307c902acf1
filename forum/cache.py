"""Django's Redis cache, keeping one client per connection pool and
incrementing in one round trip.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for
every cache call; with redis-py 8 that costs about 1.7 ms of CPU, and every
member's vote calls the cache, so most of a vote's CPU went there. A client
is safe to share between threads (it takes connections from its pool), so
one per pool is enough.

Django's ``incr`` asks whether the key exists, then increments it: two round
trips, and a key that expires in between comes back with no expiry. A rate
limit increments on every counted request, so here both steps run in Redis
as one script.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

INCREMENT_IF_PRESENT = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end"


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client

    def incr(self, key, delta):
        value = self.get_client(key, write=True).eval(INCREMENT_IF_PRESENT, 1, key, delta)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
