"""Shared fixtures: for every alliance test, a steward, a member and an outsider (as healthchecks does).

Each of the three is a `User` (what a test signs in as), so the names say so: `steward_user`,
`member_user`, `outsider`. A test that needs the membership row gets it from the alliance.
"""

import os

import pytest
from django.db import connection
from django.utils import timezone, translation

from accounts.tests.factories import UserFactory
from alliances.tests.factories import AllianceFactory, MemberFactory
from roundtable.celery import app as celery_app


@pytest.fixture(autouse=True)
def _isolated_services(settings, tmp_path):
    """Unit tests touch no shared service: a private cache, mail in memory, jobs run in-process.

    Jobs enqueued on commit run inline when a test executes the on-commit callbacks
    (`django_capture_on_commit_callbacks(execute=True)`); the real-worker tests in
    outbox/tests/test_integration.py switch this off and use Redis.
    """
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"
    # Django's hasher is slow on purpose (about 0.2 s a password); tests make hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    previous = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    celery_app.conf.broker_url = "memory://"
    from django.core.cache import cache

    from alliances import access

    cache.clear()
    access.forget_slugs()  # each test starts as a fresh process would, whatever ids the last one used
    yield
    # A request leaves its reader's language and time zone active in this thread (as every request
    # does in Django); the next test must start from the defaults.
    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()
    celery_app.conf.task_always_eager, celery_app.conf.broker_url = previous


@pytest.fixture
def page_cache_off(settings):
    """Every request builds its page: for tests that count what building a page costs (its queries)."""
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture
def redis_cache(settings):
    """The cache production runs on (Redis through roundtable.cache, its get_many and its pickling), in a
    database of the tests' own, emptied before and after. Outside CI a machine without Redis skips; in CI
    it fails."""
    import redis
    from django.core.cache import caches

    url = os.environ.get("REDIS_URL_FOR_TESTS", "redis://127.0.0.1:6379/5")
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis not reachable at {url} ({exc})", pytrace=False)
        pytest.skip(f"Redis not reachable at {url} ({exc})")
    settings.CACHES = {"default": {"BACKEND": "roundtable.cache.RedisCache", "LOCATION": url}}
    yield caches["default"]
    client.flushdb()
    client.close()


@pytest.fixture
def alliance(db):
    return AllianceFactory(name="Barrio Readers", slug="barrio-readers")


@pytest.fixture
def steward_user(alliance):
    return MemberFactory(alliance=alliance, is_steward=True, user__display_name="Stella Steward").user


@pytest.fixture
def member_user(alliance):
    return MemberFactory(alliance=alliance, user__display_name="Mia Member").user


@pytest.fixture
def outsider(db):
    return UserFactory(display_name="Otto Outsider")


@pytest.fixture
def postgresql() -> None:
    """For tests of row locks and concurrent writers, which only PostgreSQL has.

    A developer's SQLite run skips them with the reason; CI runs on PostgreSQL, and there a run that is
    not on PostgreSQL fails instead of skipping them silently.
    """
    if connection.vendor == "postgresql":
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true: this test needs PostgreSQL (set DATABASE_URL=postgres://…)", pytrace=False)
    pytest.skip("Row locks and concurrent writers need PostgreSQL (set DATABASE_URL=postgres://…).")
