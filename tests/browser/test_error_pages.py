"""A newcomer in Spanish on a phone follows a wrong alliance link and a link to an alliance that is not
theirs: both get the product's own page, translated, with a way back, and nothing wider than the screen."""

import re

import pytest

from accounts.tests.factories import PASSWORD, UserFactory
from alliances.tests.factories import AllianceFactory, MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def spanish_phone(browser, site):
    """A signed-in Spanish reader's phone, and another alliance they do not belong to."""
    lucia = UserFactory(email="lucia@example.org", display_name="Lucía", language="es")
    MemberFactory(alliance=AllianceFactory(name="Vecinos de Cataño", slug="vecinos"), user=lucia)
    AllianceFactory(name="Otra Alianza", slug="otra-alianza")
    context = browser.new_context(viewport=PHONE, locale="es-ES", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("Correo electrónico").fill("lucia@example.org")
    page.get_by_label(re.compile(r"^\s*Contraseña\*?\s*$")).fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(f"{site.url}/alliances/")
    yield page
    context.close()


def _assert_the_products_not_found_page(page) -> None:
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_role("heading", name="Página no encontrada").wait_for()
    assert "URLconf" not in page.content()
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll_width <= client_width, "the page scrolls sideways on a phone"


@pytest.mark.parametrize("path", ["/alliances/vecinoz/", "/alliances/otra-alianza/charter/"])
def test_a_wrong_or_foreign_alliance_link_shows_the_translated_page_with_a_way_back(spanish_phone, site, path):
    page = spanish_phone

    response = page.goto(f"{site.url}{path}")

    assert response.status == 404
    _assert_the_products_not_found_page(page)
    assert "Otra Alianza" not in page.content()
    page.get_by_role("link", name="Volver al inicio").click()
    page.get_by_role("link", name="Vecinos de Cataño").wait_for()
    assert page.url == f"{site.url}/alliances/"
