import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # The real hasher costs about 0.2 s per user; the query-count tests make dozens of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
