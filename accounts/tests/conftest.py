import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Django's default hasher is slow on purpose; the rate-limit tests check dozens of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
