"""The product's own error pages: translated, with a way back, never Django's technical pages.

Tests run with DEBUG off, as `make run` and production do (tests/test_make_run.py checks `make run`
itself).
"""

from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from roundtable.tests.helpers import page_text

pytestmark = pytest.mark.django_db


def _spanish(client: Client, user: User | None = None) -> None:
    """Spanish for an anonymous reader (the language cookie) or a signed-in one (their profile)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    if user is not None:
        User.objects.filter(pk=user.pk).update(language="es")
        client.force_login(user)


def test_a_wrong_alliance_link_shows_the_products_404_in_spanish(client, outsider):
    _spanish(client, outsider)

    response = client.get("/alliances/no-such-alliance/charter/")

    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "Página no encontrada" in page_text(response)
    assert 'href="/">Volver al inicio</a>' in html
    # Not Django's technical page, which lists the URL patterns.
    assert "URLconf" not in html
    assert "alliances/&lt;slug:slug&gt;" not in html
    assert 'name="viewport"' in html


def test_a_foreign_alliances_link_looks_exactly_like_a_missing_one(client, alliance, outsider):
    client.force_login(outsider)

    foreign = client.get(reverse("alliances:alliance_detail", args=[alliance.slug]))
    missing = client.get(reverse("alliances:alliance_detail", args=["no-such-alliance"]))

    assert foreign.status_code == missing.status_code == 404
    assert page_text(foreign) == page_text(missing)
    assert alliance.name not in foreign.content.decode()
    assert "Page not found" in page_text(foreign)


def test_the_404_page_works_for_an_anonymous_reader(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Page not found" in page_text(response)
    assert reverse("accounts:login") in response.content.decode()


def test_a_member_on_a_stewards_page_gets_the_products_403_in_spanish(client, alliance, member_user):
    _spanish(client, member_user)

    response = client.get(reverse("alliances:charter_purpose_edit", args=[alliance.slug]))

    assert response.status_code == 403
    assert "No puede hacer esto" in page_text(response)
    assert f'href="{reverse("home")}"' in response.content.decode()


def test_a_crash_shows_the_products_500_page_in_the_readers_language(client):
    _spanish(client)
    client.raise_request_exception = False

    with mock.patch("roundtable.views.render", side_effect=RuntimeError("boom")):
        response = client.get(reverse("home"))

    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "Algo salió mal" in page_text(response)
    assert 'href="/">Volver al inicio</a>' in html
    assert "boom" not in html
    # Styled like every page, although Django renders it without the request.
    assert "css/app.css" in html


def test_a_request_for_another_host_gets_the_products_400_page(client):
    response = client.get("/", HTTP_HOST="attacker.example")

    assert response.status_code == 400
    assert "This address cannot be read" in page_text(response)
    assert 'href="/"' in response.content.decode()


def test_an_expired_form_gets_a_page_that_says_what_to_do():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("accounts:login"), {"username": "a@example.org", "password": "x"})

    assert response.status_code == 403
    assert "The form has expired" in page_text(response)
    assert "reload the page" in page_text(response)
    assert 'href="/"' in response.content.decode()
