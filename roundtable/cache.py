"""Django's Redis cache backend, with one redis client kept per connection pool instead of one per call.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` around the (shared) connection pool on
every cache operation. Building one sets up its table of response callbacks: about 170 dictionary writes,
47 µs here, more than a GET's own round trip to a local Redis (35 µs). A kept page makes one round trip
(alliances/access.py), so this was a fifth of what a page costs beyond the ceiling's work. A `redis.Redis`
holds no connection of its own (each command takes one from the pool and gives it back), so one client
per pool serves every call, and the pool still notices a fork (gunicorn's workers) by its pid.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _KeptClientCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # private in the stubs
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _KeptClientCacheClient
