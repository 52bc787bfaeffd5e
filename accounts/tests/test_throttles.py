"""Account emails go to addresses anyone can type: the site must not be usable to flood an inbox."""

from unittest import mock

import pytest
from django.db import IntegrityError
from django.urls import reverse

from accounts import ratelimit, services
from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _sign_up(client, email="flood@example.org", **extra):
    return client.post(
        reverse("accounts:signup"),
        {
            "display_name": "Someone",
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "language": "en",
            "time_zone": "UTC",
        },
        **extra,
    )


def test_one_address_gets_at_most_the_hourly_number_of_account_emails(
    client, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.ACCOUNT_EMAIL_RATE_LIMIT = 3
    for n in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            # Different IPs, so that only the per-address limit is at work.
            response = _sign_up(client, REMOTE_ADDR=f"10.0.0.{n}")
        # The page looks the same either way: it does not tell what happened.
        assert response.status_code == 302

    assert len(mailoutbox) == 3
    assert User.objects.filter(email="flood@example.org").count() == 1


def test_password_reset_links_to_one_address_are_limited_too(
    client, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.ACCOUNT_EMAIL_RATE_LIMIT = 2
    UserFactory(email="owner@example.org")
    for n in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("accounts:password_reset"), {"email": "owner@example.org"}, REMOTE_ADDR=f"10.0.1.{n}"
            )
        assert response.status_code == 302

    assert len(mailoutbox) == 2


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("accounts:signup", None),
        ("accounts:signup_resend", {"email": "someone@example.org"}),
        ("accounts:password_reset", {"email": "someone@example.org"}),
    ],
)
def test_too_many_account_requests_from_one_ip_get_a_clear_429(client, settings, url_name, data):
    settings.ACCOUNT_REQUEST_RATE_LIMIT = 2
    for n in range(2):
        if data is None:
            assert _sign_up(client, email=f"person{n}@example.org").status_code == 302
        else:
            assert client.post(reverse(url_name), data).status_code == 302

    response = _sign_up(client, email="late@example.org") if data is None else client.post(reverse(url_name), data)

    assert response.status_code == 429
    assert b"Too many requests from your network" in response.content
    assert not User.objects.filter(email="late@example.org").exists()


def test_two_sign_ups_of_one_address_at_the_same_moment_make_one_account_and_no_error(db):
    # The other request created the account between our look-up and our insert.
    with mock.patch.object(User.objects, "create_user", side_effect=IntegrityError("duplicate key")):
        result = services.user_sign_up(
            email="race@example.org", display_name="Race", password=PASSWORD, language="en", time_zone="UTC"
        )

    assert result is None


def test_admin_stores_a_new_users_address_in_lower_case(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "Mixed.Case@Example.ORG",
            "display_name": "Mixed Case",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.filter(email="mixed.case@example.org").exists()


def test_behind_a_trusted_proxy_account_requests_are_counted_per_visitor(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_REQUEST_RATE_LIMIT = 2
    for n in range(3):
        _sign_up(client, email=f"busy{n}@example.org", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66")

    response = _sign_up(client, email="late@example.org", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert response.status_code == 302
    assert User.objects.filter(email="late@example.org").exists()


@pytest.mark.parametrize(
    ("proxies", "remote_addr", "forwarded_for", "expected"),
    [
        (0, "203.0.113.5", None, "203.0.113.5"),
        (0, "203.0.113.5", "198.51.100.7", "203.0.113.5"),
        (1, "10.0.0.1", "198.51.100.7", "198.51.100.7"),
        (1, "10.0.0.1", "192.0.2.1, 192.0.2.2, 198.51.100.7", "198.51.100.7"),
        (2, "10.0.0.2", "192.0.2.1, 198.51.100.7, 10.0.0.1", "198.51.100.7"),
        (1, "10.0.0.1", "2001:DB8::1", "2001:db8::1"),
        # Not through every proxy, or nonsense in the header: the direct address, never a made-up one.
        (2, "10.0.0.2", "198.51.100.7", "10.0.0.2"),
        (1, "10.0.0.1", None, "10.0.0.1"),
        (1, "10.0.0.1", "unknown", "10.0.0.1"),
        (1, "10.0.0.1", "198.51.100.7, \x00", "10.0.0.1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(rf, settings, proxies, remote_addr, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for

    assert ratelimit.client_ip(rf.get("/", **meta)) == expected
