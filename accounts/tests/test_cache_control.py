"""Pages for a signed-in reader stay out of shared caches."""

import pytest
from django.urls import reverse
from django.utils.cache import get_max_age

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


@pytest.mark.parametrize("url_name", ["alliances:alliance_list", "accounts:profile", "home"])
def test_signed_in_pages_are_private(client, url_name):
    client.force_login(UserFactory())

    response = client.get(reverse(url_name), follow=True)

    assert response.status_code == 200
    assert "private" in directives(response)
    assert "public" not in directives(response)


def test_a_signed_in_readers_error_page_is_private_too(client):
    client.force_login(UserFactory())

    response = client.get("/alliances/no-such-alliance/")

    assert response.status_code == 404
    assert "private" in directives(response)


def test_pages_for_visitors_are_not_marked_private(client):
    response = client.get(reverse("accounts:signup"))

    assert "private" not in directives(response)


def test_a_page_that_is_never_cached_keeps_no_store_when_signed_in(client):
    # The password-reset page sets no-store itself (never_cache); being signed in must not weaken it.
    client.force_login(UserFactory())

    response = client.get(reverse("accounts:password_reset_confirm", kwargs={"uidb64": "MQ", "token": "bad"}))

    assert response.status_code == 200
    assert {"no-store", "private"} <= directives(response)
    assert get_max_age(response) == 0
