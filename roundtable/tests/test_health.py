from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_without_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_healthz_is_503_when_the_database_cannot_connect(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


def test_healthz_is_503_when_the_query_fails(client):
    cursor = mock.MagicMock()
    cursor.__enter__.return_value.execute.side_effect = OperationalError("server closed the connection")
    with mock.patch.object(connection, "cursor", return_value=cursor):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_healthz_is_not_redirected_to_https(client, settings):
    # Load balancers probe over plain HTTP behind the TLS terminator.
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/healthz",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/signup/done/",
        "/accounts/signup/resend/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/password/reset/complete/",
    ],
)
def test_public_pages_answer_without_login(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/alliances/", "/accounts/profile/", "/accounts/password/change/"])
def test_private_pages_send_anonymous_readers_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={path}"


def test_home_sends_signed_in_readers_to_their_alliances(client):
    client.force_login(UserFactory())

    response = client.get("/")

    assert response.status_code == 302
    assert response.url == reverse("alliances:alliance_list")


def test_home_invites_anonymous_readers_to_sign_up_or_in(client):
    response = client.get("/")

    assert reverse("accounts:signup").encode() in response.content
    assert reverse("accounts:login").encode() in response.content
