"""Hostile values in every accounts form and URL get a form error or a 4xx, never a 500.

PostgreSQL refuses NUL in text with an error, and a column refuses what is longer than it: CI runs
these against PostgreSQL, where a value that reached the database unchecked would be a 500.
"""

import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = {
    "nul": "a\x00b",
    "nul-address": "pat\x00@example.org",
    "line-break": "Pat\r\nBcc: many@example.org",
    "long": "x" * 400,
    "long-address": "a" * 64 + "@" + "b" * 250 + ".org",
}
VISITOR_FORMS = {
    "accounts:login": ["username", "password", "next"],
    "accounts:signup": ["display_name", "email", "password1", "password2", "language", "time_zone"],
    "accounts:signup_resend": ["email"],
    "accounts:password_reset": ["email"],
    "accounts:language_set": ["language", "next"],
}
READER_FORMS = {
    "accounts:profile": ["display_name", "language", "time_zone"],
    "accounts:password_change": ["old_password", "new_password1", "new_password2"],
}
GOOD = {
    "username": "pat@example.org",
    "password": PASSWORD,
    "display_name": "Pat",
    "email": "pat@example.org",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "language": "en",
    "time_zone": "UTC",
    "next": "/",
    "old_password": PASSWORD,
    "new_password1": "a brand new long passphrase",
    "new_password2": "a brand new long passphrase",
}


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("url_name", VISITOR_FORMS)
def test_visitor_forms_answer_hostile_values_without_a_server_error(client, url_name, value):
    UserFactory(email="pat@example.org")
    for field in VISITOR_FORMS[url_name]:
        assert client.post(reverse(url_name), {**GOOD, field: value}).status_code < 500, field
        assert client.get(reverse(url_name), {field: value}).status_code < 500, field


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("url_name", READER_FORMS)
def test_signed_in_forms_answer_hostile_values_without_a_server_error(client, url_name, value):
    user = UserFactory(email="pat@example.org", display_name="Pat")
    client.force_login(user)
    for field in READER_FORMS[url_name]:
        assert client.post(reverse(url_name), {**GOOD, field: value}).status_code < 500, field
    user.refresh_from_db()
    assert user.display_name.isprintable()
    assert len(user.display_name) <= 150


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/confirm/%00/",
        "/accounts/confirm/a%0D%0Ab/",
        "/accounts/password/reset/%00/%00/",
        "/accounts/password/reset/MQ/%00/",
        "/accounts/password/reset/AA%00/set-password/",
        "/accounts/login/?next=%00",
        "/accounts/login/?next=foo",
        "/admin/login/?next=foo",
        "/admin/login/?next=%00",
    ],
)
def test_accounts_urls_answer_hostile_values_without_a_server_error(client, path):
    for method in (client.get, client.post):
        assert method(path).status_code < 500
