"""The Redis cache backend the settings name when REDIS_URL is set (roundtable/cache.py), on a real Redis.

Redis defaults to redis://127.0.0.1:6379/5; set REDIS_URL_FOR_TESTS to use another one.
"""

import os

import pytest

URL = os.environ.get("REDIS_URL_FOR_TESTS", "redis://127.0.0.1:6379/5")

pytestmark = pytest.mark.integration


@pytest.fixture
def cache(redis_cache):
    return redis_cache


def test_the_settings_name_it_when_redis_is_configured(monkeypatch):
    import importlib

    from roundtable import settings as settings_module

    monkeypatch.setenv("REDIS_URL", URL)
    try:
        reloaded = importlib.reload(settings_module)
        assert reloaded.CACHES["default"]["BACKEND"] == "roundtable.cache.RedisCache"
    finally:
        monkeypatch.delenv("REDIS_URL")
        importlib.reload(settings_module)


def test_it_stores_and_answers_as_djangos_redis_cache_does(cache):
    cache.set("page", (b"<html>", "text/html"), 60)
    assert cache.add("version", "a1", None)
    assert not cache.add("version", "b2", None)
    assert cache.get_many(["page", "version", "missing"]) == {"page": (b"<html>", "text/html"), "version": "a1"}
    cache.set_many({"version": "c3"}, None)
    assert cache.get("version") == "c3"
    cache.delete("page")
    assert cache.get("page") is None
    cache.set("count", 1)
    assert cache.incr("count") == 2


def test_one_redis_client_serves_every_call(cache):
    cache.set("key", "value")

    assert cache._cache.get_client("key") is cache._cache.get_client("other", write=True)
